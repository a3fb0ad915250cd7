// Command image builds Herald's container image without a container
// daemon or registry: a static binary on scratch, as a docker-archive
// tarball that `docker load`, `podman load` and registry tools take. It
// also verifies such a tarball (what CI runs).
//
//	go run ./deploy/image -o herald-image.tar            # build ./cmd/herald and the image
//	go run ./deploy/image -verify herald-image.tar       # check its config and files, run its binary;
//	                                                     # as root, start it chrooted as its user
//
// The image is reproducible: the binary is built with -trimpath, and every
// time in the image is the commit's time (or SOURCE_DATE_EPOCH).
package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	var (
		out    = flag.String("o", "herald-image.tar", "tarball to write")
		tag    = flag.String("tag", "herald:latest", "image name and tag recorded in the tarball")
		goarch = flag.String("arch", runtime.GOARCH, "GOARCH of the image")
		bin    = flag.String("binary", "", "use this static linux binary instead of building ./cmd/herald")
		check  = flag.String("verify", "", "verify this tarball instead of building one")
	)
	flag.Parse()
	ctx := context.Background()
	var err error
	if *check != "" {
		err = verifyFile(ctx, *check)
	} else {
		err = buildFile(ctx, *out, *tag, *goarch, *bin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func buildFile(ctx context.Context, out, tag, goarch, bin string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	if bin == "" {
		tmp, err := os.MkdirTemp("", "herald-image")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "herald")
		if err := goBuild(ctx, bin, goarch); err != nil {
			return err
		}
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	epoch, err := sourceDate(binary)
	if err != nil {
		return err
	}
	img, err := build(binary, goarch, epoch)
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s linux/%s %s\n", out, ref, goarch, digest)
	return nil
}

// goBuild builds ./cmd/herald of the module the go command is in: static
// (CGO_ENABLED=0; the SQLite driver is pure Go), without local paths, with
// the commit recorded (herald version prints it).
func goBuild(ctx context.Context, out, goarch string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	c := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=true", "-ldflags=-s -w", "-o", out, "./cmd/herald")
	c.Dir = root
	c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/herald: %w", err)
	}
	return nil
}

// sourceDate is the time stamped on every file and record of the image:
// SOURCE_DATE_EPOCH if set, else the commit time the binary records, else
// the Unix epoch.
func sourceDate(binary []byte) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if bi, err := buildinfo.Read(bytes.NewReader(binary)); err == nil {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				return time.Parse(time.RFC3339, s.Value)
			}
		}
	}
	return time.Unix(0, 0).UTC(), nil
}

// verifyFile checks the tarball's image and, where the image's platform is
// this machine's, runs its binary's `version`.
func verifyFile(ctx context.Context, file string) error {
	img, err := readImage(file)
	if err != nil {
		return err
	}
	binary, err := verify(img)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	c := cf.Config
	fmt.Printf("%s: %s linux/%s\n  user %s, entrypoint %q, cmd %q, port %v, volume %v, healthcheck %q every %v\n",
		file, digest, cf.Architecture, c.User, c.Entrypoint, c.Cmd, keys(c.ExposedPorts), keys(c.Volumes), c.Healthcheck.Test, c.Healthcheck.Interval)
	if runtime.GOOS != "linux" || cf.Architecture != runtime.GOARCH {
		fmt.Println("  (not run: another platform)")
		return nil
	}
	out, err := runVersion(ctx, binary)
	if err != nil {
		return err
	}
	if rev := c.Labels["org.opencontainers.image.revision"]; rev != "" && !strings.Contains(out, rev) {
		return fmt.Errorf("the image's binary does not name the revision %s its label does:\n%s", rev, out)
	}
	fmt.Printf("  %s version: %s\n", binaryPath, strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
	if os.Geteuid() != 0 {
		fmt.Println("  (not started: starting it chrooted as its user needs root)")
		return nil
	}
	if err := runImage(ctx, img); err != nil {
		return fmt.Errorf("the image does not serve: %w", err)
	}
	fmt.Printf("  started as %s: %q answered its health check and /readyz, wrote %s, stopped cleanly on SIGTERM\n", c.User, append(c.Entrypoint, c.Cmd...), dataDir)
	return nil
}

// runVersion runs binary's `version` from a scratch directory, with no
// HERALD_ variable of this machine's.
func runVersion(ctx context.Context, binary []byte) (string, error) {
	dir, err := os.MkdirTemp("", "herald-image-run")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	exe := filepath.Join(dir, "herald")
	if err := os.WriteFile(exe, binary, 0o755); err != nil {
		return "", err
	}
	c := exec.CommandContext(ctx, exe, "version")
	c.Dir, c.Env = dir, []string{"PATH=/nonexistent"}
	out, err := c.CombinedOutput()
	if err != nil {
		return "", errors.Join(fmt.Errorf("%s version: %w", binaryPath, err), errors.New(string(out)))
	}
	if !strings.HasPrefix(string(out), "herald ") {
		return "", fmt.Errorf("%s version printed %q", binaryPath, out)
	}
	return string(out), nil
}
