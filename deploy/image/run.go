package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// runImage starts the image as a container runtime would, short of
// namespaces: its files unpacked with their owners, its entrypoint and cmd
// run chrooted there as its user with its environment (the address moved
// to a free loopback port). It passes when the image's own health check
// passes, then stops the server with SIGTERM and expects a clean exit.
// It needs root (chroot, another user).
func runImage(ctx context.Context, img v1.Image) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	c := cf.Config
	uidS, gidS, _ := strings.Cut(c.User, ":")
	uid, err1 := strconv.Atoi(uidS)
	gid, err2 := strconv.Atoi(gidS)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("user %q is not numeric uid:gid", c.User)
	}
	root, err := os.MkdirTemp("", "herald-image-root")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	if err := unpack(img, root); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	env := slices.DeleteFunc(slices.Clone(c.Env), func(e string) bool { return strings.HasPrefix(e, "HERALD_ADDR=") })
	env = append(env, "HERALD_ADDR="+addr)
	start := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env, cmd.Dir = env, "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		return cmd
	}

	var log strings.Builder
	serve := start(append(slices.Clone(c.Entrypoint), c.Cmd...)...)
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		return fmt.Errorf("start %q: %w", serve.Args, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() { _ = serve.Process.Kill() }()

	// The image's health check, run in the image, until it passes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		check := start(c.Healthcheck.Test[1:]...)
		out, err := check.CombinedOutput()
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%q exited: %v\n%s", serve.Args, err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("health check %q still failing after 30 s: %v %s\n%s", c.Healthcheck.Test, err, out, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Reached from outside too, as through the exposed port.
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz answered %s", resp.Status)
	}
	// It wrote its database into the volume as its user.
	fi, err := os.Stat(filepath.Join(root, dataDir, "herald.db"))
	if err != nil {
		return fmt.Errorf("no database in %s: %w\n%s", dataDir, err, log.String())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("%s/herald.db belongs to %d, want %d", dataDir, st.Uid, uid)
	}

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		return fmt.Errorf("still running 30 s after SIGTERM\n%s", log.String())
	}
	return nil
}

// unpack writes the image's files under root with their modes and owners.
func unpack(img v1.Image, root string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(root, filepath.Clean("/"+h.Name))
		mode := os.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %c", h.Name, h.Typeflag)
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			return err
		}
		// Chmod after chown, which clears set-id bits; the sticky bit of
		// /tmp needs os.ModeSticky.
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
}
