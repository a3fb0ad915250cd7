package main

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion_FromBuildInfo(t *testing.T) {
	t.Parallel()
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/heraldhq/herald", Version: "v0.1.1-0.20261201180001-262b3cce7e24+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "262b3cce7e24e7954e7bfb844f043ef00de5864e"},
			{Key: "vcs.time", Value: "2026-12-01T18:00:01Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     string
	}{
		{name: "Stamped", bi: stamped, override: "dev", want: `herald v0.1.1-0.20261201180001-262b3cce7e24+dirty
revision  262b3cce7e24e7954e7bfb844f043ef00de5864e (modified)
committed 2026-12-01T18:00:01Z
go        go1.26.8 linux/arm64
`},
		{name: "ReleaseLdflags", bi: stamped, override: "v0.1.0", want: `herald v0.1.0
revision  262b3cce7e24e7954e7bfb844f043ef00de5864e (modified)
committed 2026-12-01T18:00:01Z
go        go1.26.8 linux/arm64
`},
		{name: "Tagged", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, want: `herald v0.2.0
revision  abc
go        go1.26.8 linux/amd64
`},
		{name: "NoVCS", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}}, override: "dev", want: `herald (devel)
revision  unknown (built outside a VCS checkout, or with -buildvcs=false)
go        go1.26.8 linux/amd64
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := versionFrom(tc.bi, tc.override).String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestVersion_Binary: the binary TestMain built (with -buildvcs=true) names
// the commit it was built from. A git worktree, whose .git is a file, is no
// checkout to the go command, which then records nothing: that case only
// checks that no "dev" is printed.
func TestVersion_Binary(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("herald version: %v\n%s", err, out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if first == "herald dev" || !strings.HasPrefix(first, "herald ") {
		t.Fatalf("first line %q; want herald and the module version", first)
	}
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		t.Skipf("not a git checkout the go command stamps (../../.git: %v); printed:\n%s", err, out)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	if !strings.Contains(string(out), "revision  "+strings.TrimSpace(string(head))) {
		t.Fatalf("herald version does not name HEAD %s:\n%s", head, out)
	}
	if first == "herald (devel)" {
		t.Fatalf("a stamped build has no module version:\n%s", out)
	}
}
