package main

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveLines starts `herald serve` on a fresh data dir and returns its
// base URL and the lines it printed up to and with the admin token.
func serveLines(t *testing.T, env ...string) (string, []string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--addr", addr, "--data", t.TempDir())
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("herald serve exited early:\n%s", stderr.String())
			}
			got = append(got, line)
			if reToken.MatchString(line) {
				go func() {
					for range lines {
					}
				}()
				return "http://" + addr, got
			}
		case <-deadline:
			t.Fatalf("herald serve did not start; printed %q\n%s", got, stderr.String())
		}
	}
}

// TestServe_FirstLinesSayWhereTheConsoleIs: the first lines name the
// console and the API reference at the bound address, and / leads to the
// console.
func TestServe_FirstLinesSayWhereTheConsoleIs(t *testing.T) {
	t.Parallel()
	base, lines := serveLines(t)
	if len(lines) < 3 || !strings.Contains(lines[0], "listening on "+base) ||
		lines[1] != "Console:       "+base+"/console" || lines[2] != "API reference: "+base+"/api/v1/docs" {
		t.Fatalf("first lines:\n%s", strings.Join(lines, "\n"))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("GET / = %d Location %q, want 303 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}
	// And it arrives at the console's sign-in.
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/console/signin") {
		t.Fatalf("GET / ends at %d %s", resp.StatusCode, resp.Request.URL)
	}
}

// TestServe_PublicURLInFirstLines: with --public-url the console line names
// it, not the bound address.
func TestServe_PublicURLInFirstLines(t *testing.T) {
	t.Parallel()
	_, lines := serveLines(t, "HERALD_PUBLIC_URL=https://herald.example.com/")
	if lines[1] != "Console:       https://herald.example.com/console" {
		t.Fatalf("first lines:\n%s", strings.Join(lines, "\n"))
	}
}

// TestServe_BusyPortShowsNoToken: a port already taken fails before
// anything is created: no token printed, none written, no data dir.
func TestServe_BusyPortShowsNoToken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(binary, "serve", "--addr", ln.Addr().String(), "--data", data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err == nil {
		t.Fatal("herald serve on a busy port succeeded")
	}
	if reToken.Match(stdout.Bytes()) || reToken.Match(stderr.Bytes()) || strings.Contains(stdout.String(), "shown once") {
		t.Fatalf("a busy port printed a token:\n%s%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "--addr "+ln.Addr().String()) || !strings.Contains(stderr.String(), "address already in use") {
		t.Fatalf("stderr = %q, want the --addr and why", stderr.String())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a busy port created the data dir: %v", err)
	}
}
