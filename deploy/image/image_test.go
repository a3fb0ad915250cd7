package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// staticBinary builds a small static linux program: the image is checked
// with it, the real binary is built and checked by .ci/run.
func staticBinary(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"herald test\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("go", "build", "-trimpath", "-o", "hello", ".")
	c.Dir, c.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var epoch = time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)

func TestImage_BuildAndVerify(t *testing.T) {
	t.Parallel()
	bin := staticBinary(t)
	img, err := build(bin, "amd64", epoch)
	if err != nil {
		t.Fatal(err)
	}
	got, err := verify(img)
	if err != nil {
		t.Fatalf("a freshly built image fails verification: %v", err)
	}
	if !slices.Equal(got, bin) {
		t.Fatal("the image's /herald is not the binary it was built from")
	}

	// Written and read back, it is the same image.
	file := filepath.Join(t.TempDir(), "herald.tar")
	if err := tarball.WriteToFile(file, name.MustParseReference("herald:test"), img); err != nil {
		t.Fatal(err)
	}
	back, err := readImage(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(back); err != nil {
		t.Fatalf("the tarball fails verification: %v", err)
	}
	d1, _ := img.Digest()
	d2, _ := back.Digest()
	if d1 != d2 {
		t.Fatalf("digest %s written, %s read back", d1, d2)
	}

	// The same binary and time give the same image, byte for byte.
	again, err := build(bin, "amd64", epoch)
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := again.Digest(); d3 != d1 {
		t.Fatalf("not reproducible: %s then %s", d1, d3)
	}
	cf, _ := img.ConfigFile()
	if !cf.Created.Time.Equal(epoch) {
		t.Fatalf("created %v, want the source date %v", cf.Created, epoch)
	}
}

// TestImage_VerifyRefuses: each way an image can stray from its shape is
// caught.
func TestImage_VerifyRefuses(t *testing.T) {
	t.Parallel()
	img, err := build(staticBinary(t), "amd64", epoch)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(c *v1.Config)
		want   string
	}{
		{"Root", func(c *v1.Config) { c.User = "" }, "user"},
		{"RootByName", func(c *v1.Config) { c.User = "0:0" }, "user"},
		{"Entrypoint", func(c *v1.Config) { c.Entrypoint = []string{"/bin/sh"} }, "entrypoint"},
		{"Cmd", func(c *v1.Config) { c.Cmd = nil }, "cmd"},
		{"Port", func(c *v1.Config) { c.ExposedPorts = map[string]struct{}{"80/tcp": {}} }, "exposed ports"},
		{"ExtraPort", func(c *v1.Config) { c.ExposedPorts["22/tcp"] = struct{}{} }, "exposed ports"},
		{"Volume", func(c *v1.Config) { c.Volumes = nil }, "volumes"},
		{"ListensOnLoopback", func(c *v1.Config) { c.Env = []string{"HERALD_DATA_DIR=/data"} }, "HERALD_ADDR"},
		{"Healthcheck", func(c *v1.Config) { c.Healthcheck = nil }, "healthcheck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf, _ := img.ConfigFile()
			cf = cf.DeepCopy()
			tc.change(&cf.Config)
			bad, err := mutate.ConfigFile(img, cf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verify(bad); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify = %v; want an error about %s", err, tc.want)
			}
		})
	}
}

func TestImage_RefusesADynamicBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"C\"\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/cgo\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("go", "build", "-o", "dyn", ".")
	c.Dir, c.Env = dir, append(os.Environ(), "CGO_ENABLED=1")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("a cgo build is needed for this test (gcc): %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "dyn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := build(b, "amd64", epoch); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("a dynamically linked binary: %v", err)
	}
}

// TestDockerfile_MatchesImage: the Dockerfile, built where a daemon is, gives
// the image the same user, environment, port, volume, health check and
// entrypoint as deploy/image.
func TestDockerfile_MatchesImage(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The final stage's instructions, continuation lines joined.
	got := map[string][]string{}
	sc := bufio.NewScanner(f)
	var line string
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		line += s
		if strings.HasSuffix(line, "\\") {
			line = strings.TrimSuffix(line, "\\") + " "
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		line = ""
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			got = map[string][]string{}
		}
		got[instr] = append(got[instr], strings.TrimSpace(args))
	}
	jsonArgs := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Errorf("%q is not in JSON (exec) form", s)
		}
		return v
	}
	one := func(instr string) string {
		if len(got[instr]) != 1 {
			t.Fatalf("the final stage has %d %s instructions, want 1", len(got[instr]), instr)
		}
		return got[instr][0]
	}
	if u := one("USER"); u != user {
		t.Errorf("USER %s, want %s", u, user)
	}
	if e := jsonArgs(one("ENTRYPOINT")); !slices.Equal(e, entrypoint) {
		t.Errorf("ENTRYPOINT %q, want %q", e, entrypoint)
	}
	if c := jsonArgs(one("CMD")); !slices.Equal(c, cmd) {
		t.Errorf("CMD %q, want %q", c, cmd)
	}
	if p := one("EXPOSE"); p != port {
		t.Errorf("EXPOSE %s, want %s", p, port)
	}
	if v := jsonArgs(one("VOLUME")); !slices.Equal(v, []string{dataDir}) {
		t.Errorf("VOLUME %q, want %q", v, dataDir)
	}
	if e := strings.Fields(one("ENV")); !slices.Equal(e, env) {
		t.Errorf("ENV %q, want %q", e, env)
	}
	hc := one("HEALTHCHECK")
	_, test, ok := strings.Cut(hc, " CMD ")
	if !ok || !slices.Equal(append([]string{"CMD"}, jsonArgs(test)...), healthcheck) {
		t.Errorf("HEALTHCHECK %s, want CMD %q", hc, healthcheck[1:])
	}
	if !strings.Contains(strings.Join(got["FROM"], ""), "nonroot") {
		t.Errorf("final stage FROM %q: want a nonroot base", got["FROM"])
	}
	data := false
	for _, c := range got["COPY"] {
		data = data || (strings.Contains(c, "--chown=65532:65532") && strings.HasSuffix(c, " "+dataDir))
	}
	if !data {
		t.Errorf("no COPY --chown=65532:65532 … %s: a new volume would belong to root", dataDir)
	}
}
