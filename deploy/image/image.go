package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's shape. The Dockerfile at the repository root says the same
// (TestDockerfile_MatchesImage).
const (
	uid        = 65532 // distroless's and Chainguard's nonroot
	user       = "65532:65532"
	binaryPath = "/herald"
	dataDir    = "/data"
	port       = "8080/tcp"
)

var (
	entrypoint  = []string{binaryPath}
	cmd         = []string{"serve"}
	env         = []string{"HERALD_ADDR=:8080", "HERALD_DATA_DIR=" + dataDir}
	healthcheck = []string{"CMD", binaryPath, "healthcheck"}
)

// build assembles the image from a static linux binary: one layer on
// scratch holding the binary, a passwd entry for the nonroot user, /data
// owned by it, and /tmp. Every time in it is epoch, so the same binary
// gives the same image digest.
func build(binary []byte, goarch string, epoch time.Time) (v1.Image, error) {
	if err := checkStatic(binary); err != nil {
		return nil, err
	}
	layer, err := rootfs(binary, epoch)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "deploy/image: " + binaryPath + ", /etc/passwd, " + dataDir + ", /tmp", Comment: "herald"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch
	cf.Created = v1.Time{Time: epoch}
	cf.Author = "The Herald Authors"
	labels := map[string]string{
		"org.opencontainers.image.title":       "Herald",
		"org.opencontainers.image.description": "Self-hosted notification settings and delivery",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     epoch.UTC().Format(time.RFC3339),
	}
	if bi, err := buildinfo.Read(bytes.NewReader(binary)); err == nil {
		labels["org.opencontainers.image.version"] = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				labels["org.opencontainers.image.revision"] = s.Value
			}
		}
	}
	cf.Config = v1.Config{
		User:         user,
		Entrypoint:   entrypoint,
		Cmd:          cmd,
		Env:          env,
		ExposedPorts: map[string]struct{}{port: {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		WorkingDir:   "/",
		StopSignal:   "SIGTERM",
		Labels:       labels,
		// OCI configs have no health check; Docker's field is what Docker
		// and Podman (in docker format) read. Kubernetes uses its probes.
		Healthcheck: &v1.HealthConfig{
			Test:        healthcheck,
			Interval:    30 * time.Second,
			Timeout:     5 * time.Second,
			StartPeriod: 15 * time.Second,
			Retries:     3,
		},
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the image's one layer.
func rootfs(binary []byte, epoch time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) error {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		h.Size = int64(len(body))
		if h.Typeflag == tar.TypeDir {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	passwd := "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group := "root:x:0:\nnonroot:x:65532:\n"
	for _, e := range []struct {
		h    tar.Header
		body string
	}{
		{tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, passwd},
		{tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644}, group},
		// The volume's mount point, owned by the user: a new volume takes
		// its owner and mode from it.
		{tar.Header{Name: strings.TrimPrefix(dataDir, "/") + "/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: uid, Gid: uid}, ""},
		{tar.Header{Name: "home/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "home/nonroot/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: uid, Gid: uid}, ""},
		{tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, ""},
	} {
		if err := add(&e.h, []byte(e.body)); err != nil {
			return nil, err
		}
	}
	// The binary belongs to root: the user runs it but cannot change it.
	if err := add(&tar.Header{Name: strings.TrimPrefix(binaryPath, "/"), Typeflag: tar.TypeReg, Mode: 0o755}, binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// checkStatic refuses a binary that needs a dynamic loader: scratch has
// none (a cgo build would not start).
func checkStatic(binary []byte) error {
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		return fmt.Errorf("not a linux binary: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return errors.New("the binary is dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// verify checks an image's config and files against the shape above, and
// returns the binary it holds.
func verify(img v1.Image) ([]byte, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	c := cf.Config
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cf.OS != "linux" || cf.Architecture == "" {
		fail("platform %s/%s, want linux/<arch>", cf.OS, cf.Architecture)
	}
	if c.User != user {
		fail("user %q, want %q (non-root)", c.User, user)
	}
	if !slices.Equal(c.Entrypoint, entrypoint) {
		fail("entrypoint %q, want %q", c.Entrypoint, entrypoint)
	}
	if !slices.Equal(c.Cmd, cmd) {
		fail("cmd %q, want %q", c.Cmd, cmd)
	}
	if _, ok := c.ExposedPorts[port]; !ok || len(c.ExposedPorts) != 1 {
		fail("exposed ports %v, want %s alone", keys(c.ExposedPorts), port)
	}
	if _, ok := c.Volumes[dataDir]; !ok || len(c.Volumes) != 1 {
		fail("volumes %v, want %s alone", keys(c.Volumes), dataDir)
	}
	for _, e := range env {
		if !slices.Contains(c.Env, e) {
			fail("env %q lacks %s", c.Env, e)
		}
	}
	if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, healthcheck) || c.Healthcheck.Interval <= 0 {
		fail("healthcheck %+v, want %q with an interval", c.Healthcheck, healthcheck)
	}

	files := map[string]*tar.Header{}
	var binary []byte
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := path.Clean("/" + h.Name)
		files[name] = h
		if name == binaryPath {
			if binary, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
	switch h := files[binaryPath]; {
	case h == nil:
		fail("no %s in the image", binaryPath)
	case h.Mode&0o111 == 0 || h.Uid != 0 || h.Mode&0o022 != 0:
		fail("%s mode %o owner %d: want executable, owned by root, writable by root alone", binaryPath, h.Mode, h.Uid)
	default:
		if err := checkStatic(binary); err != nil {
			fail("%s: %v", binaryPath, err)
		}
	}
	if h := files[dataDir]; h == nil || h.Typeflag != tar.TypeDir || h.Uid != uid || h.Mode&0o777 != 0o700 {
		fail("%s must be a directory owned by %d, mode 0700: %+v", dataDir, uid, h)
	}
	if h := files["/tmp"]; h == nil || h.Mode&0o1777 != 0o1777 {
		fail("/tmp must be a sticky, world-writable directory")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return binary, nil
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// readImage loads the one image of a docker-archive tarball.
func readImage(file string) (v1.Image, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, err
	}
	return tarball.ImageFromPath(file, nil)
}
