package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// binary is the herald command built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "herald")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build herald: %v\n%s", err, out)
		os.Exit(1)
	}
	_, statErr := os.Stat("herald-data")
	existed := statErr == nil
	code := m.Run()
	// A test that forgets --data writes a secret key into the source tree,
	// where it would be committed (it once was).
	if _, err := os.Stat("herald-data"); err == nil && !existed {
		fmt.Fprintln(os.Stderr, "a test wrote cmd/herald/herald-data: give every command --data t.TempDir()")
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var reToken = regexp.MustCompile(`hld_[0-9A-Za-z]{43}`)

// startServe runs `herald serve` as the README says, with env, and returns
// its base URL, the printed admin token and the process.
func startServe(t *testing.T, env ...string) (string, string, *exec.Cmd) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--addr", addr)
	cmd.Dir = t.TempDir()
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
	var (
		token     string
		listening bool
	)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("herald serve exited early:\n%s", stderr.String())
			}
			if strings.Contains(line, "listening on") {
				listening = true
			}
			if m := reToken.FindString(line); m != "" {
				if !listening {
					t.Fatal("herald serve printed its admin token before it listened")
				}
				token = m
				go func() {
					for range lines {
					}
				}()
				return "http://" + addr, token, cmd
			}
		case <-deadline:
			t.Fatalf("herald serve did not start:\n%s", stderr.String())
		}
	}
}

func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestServe_README starts the binary as a newcomer would and does a
// settings round trip with the token it printed.
func TestServe_README(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var env []string
			if dialect == store.DialectPostgres {
				env = append(env, "HERALD_DATABASE_URL="+storetest.NewURL(t, dialect))
			}
			base, token, cmd := startServe(t, env...)

			if st, _ := call(t, "GET", base+"/healthz", "", nil); st != 200 {
				t.Fatalf("/healthz = %d", st)
			}
			if st, _ := call(t, "GET", base+"/readyz", "", nil); st != 200 {
				t.Fatalf("/readyz = %d", st)
			}
			if dialect == store.DialectSQLite {
				fi, err := os.Stat(filepath.Join(cmd.Dir, "herald-data", "admin.token"))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("admin.token: %v mode %v, want 0600", err, fi.Mode().Perm())
				}
			}
			st, project := call(t, "POST", base+"/api/v1/projects", token, map[string]any{"name": "demo"})
			if st != 201 {
				t.Fatalf("create project = %d %v", st, project)
			}
			pid := int64(project["id"].(float64))
			st, notifier := call(t, "POST", fmt.Sprintf("%s/api/v1/projects/%d/notifiers", base, pid), token,
				map[string]any{"type": "inbox", "name": "inbox"})
			if st != 201 {
				t.Fatalf("create notifier = %d %v", st, notifier)
			}
			doc := map[string]any{"revision": 1, "channels": []any{map[string]any{
				"notifier_id": notifier["id"], "enabled": true,
				"events": []any{map[string]any{"type": "build.failed", "enabled": true,
					"recipients": []any{map[string]any{"type": "USER", "code": "alice"}}}},
			}}}
			settings := fmt.Sprintf("%s/api/v1/projects/%d/settings", base, pid)
			if st, out := call(t, "PUT", settings, token, doc); st != 200 {
				t.Fatalf("PUT settings = %d %v", st, out)
			}
			if st, out := call(t, "POST", settings+"/deploy", token, map[string]any{"revision": 2}); st != 200 {
				t.Fatalf("deploy = %d %v", st, out)
			}
			st, live := call(t, "GET", settings+"?version=live", token, nil)
			channels, _ := live["channels"].([]any)
			if st != 200 || len(channels) != 1 || live["revision"].(float64) != 2 {
				t.Fatalf("live settings = %d %v", st, live)
			}

			// Every vendor surface is mounted: each answers an unknown object
			// in its own envelope, not the mux's plain 404.
			for _, c := range []struct{ path, key, want string }{
				{"/v1/job/" + strings.Repeat("a", 32) + "/notice", "error_code", "CB."},
				{"/v2/projects/" + strings.Repeat("b", 32) + "/applications/" + strings.Repeat("c", 32) + "/messages", "error_code", "Deploy."},
				{"/k/v1/app/notifications/general.json?app=4242", "code", "GAIA_AP01"},
				{"/open-apis/helpdesk/v1/notifications/4242", "code", ""},
				{"/api/settings/notifications", "detail", ""}, // the only project is "demo": a DRF answer
			} {
				st, out := call(t, "GET", base+c.path, token, nil)
				if c.key == "detail" {
					if _, ok := out["notifications_otp_code_len"]; st != 200 || !ok {
						t.Errorf("GET %s = %d %v, want the project's notification settings", c.path, st, out)
					}
					continue
				}
				if c.path == "/open-apis/helpdesk/v1/notifications/4242" {
					if code, _ := out["code"].(float64); st != 404 || code != 154004 {
						t.Errorf("GET %s = %d %v, want 404 with code 154004", c.path, st, out)
					}
					continue
				}
				if got, _ := out[c.key].(string); st != 404 || !strings.HasPrefix(got, c.want) {
					t.Errorf("GET %s = %d %v, want 404 with %s %s…", c.path, st, out, c.key, c.want)
				}
			}

			// The console is served from the binary: unsigned, it shows the
			// sign-in form.
			resp, err := http.Get(base + "/console/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), "<form") || !strings.Contains(strings.ToLower(string(page)), "token") {
				t.Errorf("GET /console/ = %d, want the sign-in page:\n%.300s", resp.StatusCode, page)
			}

			// SIGTERM shuts it down cleanly.
			terminate(t, cmd, 30*time.Second, "")
		})
	}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(&out, &errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

func TestCLI_Tokens(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if _, err := run(t, "token", "list", "--data", data); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("token list before any serve: %v", err)
	}
	// Bootstrap the default tenant the way serve does.
	c := Config{DataDir: data, LogLevel: "info"}
	db, err := c.openStore(context.Background(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, err := run(t, "token", "create", "--data", data, "--name", "ci", "--permission", "settings:write", "--permission", "events:write")
	if err != nil || !reToken.MatchString(out) {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	if _, err := run(t, "token", "create", "--data", data, "--name", "x", "--permission", "bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown permission: %v", err)
	}
	if _, err := run(t, "token", "create", "--data", data, "--permission", "admin"); err == nil {
		t.Fatal("token create without --name succeeded")
	}
	out, err = run(t, "token", "list", "--data", data)
	if err != nil || !strings.Contains(out, "events:write,settings:write") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if reToken.MatchString(out) {
		t.Fatalf("token list shows a secret:\n%s", out)
	}
	if out, err := run(t, "token", "revoke", "--data", data, "2"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if _, err := run(t, "token", "revoke", "--data", data, "99"); err == nil {
		t.Fatal("revoking an unknown token succeeded")
	}
	if out, err := run(t, "migrate", "status", "--data", data); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate status: %v %s", err, out)
	}
	if _, err := run(t, "migrate", "up", "--data", t.TempDir(), "--database-url", "postgres://nobody@127.0.0.1:1/none"); err == nil {
		t.Fatal("migrate against an unreachable database succeeded")
	}
	if _, err := run(t, "serve", "--bogus-flag"); err == nil {
		t.Fatal("a bad flag succeeded")
	}
}

func TestCLI_Events(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c := Config{DataDir: data, LogLevel: "info"}
	db, err := c.openStore(context.Background(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	tenant, err := db.FindTenantByName(context.Background(), store.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	ctx := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: tenant.ID, Permissions: []herald.Permission{herald.PermAdmin}})
	p := &herald.Project{Name: "demo"}
	if err := db.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("ab", 16), Name: "nightly"}
	if err := db.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	db.Close()

	post := []string{"event", "post", "--data", data, "--kind", "build_job", "--external-id", src.ExternalID, "--type", "build.failed",
		"--actor", "alice", "--role", "creator=alice", "--role", "followers=bob,carol", "--payload", `{"branch":"main"}`, "--idempotency-key", "k1"}
	out, err := run(t, post...)
	var id int64
	if err != nil || !strings.Contains(out, "accepted") {
		t.Fatalf("event post: %v\n%s", err, out)
	}
	fmt.Sscanf(out, "event %d", &id)
	if out, err := run(t, post...); err != nil || !strings.Contains(out, fmt.Sprintf("event %d accepted (the idempotency key", id)) {
		t.Fatalf("a repeated key: %v\n%s", err, out)
	}
	out, err = run(t, "event", "show", "--data", data, fmt.Sprint(id))
	var ev herald.Event
	if err != nil || json.Unmarshal([]byte(out), &ev) != nil {
		t.Fatalf("event show: %v\n%s", err, out)
	}
	var payload map[string]string
	_ = json.Unmarshal(ev.Payload, &payload)
	if ev.Type != "build.failed" || ev.SourceID != src.ID || strings.Join(ev.Roles["followers"], ",") != "bob,carol" || payload["branch"] != "main" {
		t.Fatalf("event shown = %+v", ev)
	}
	for _, bad := range [][]string{
		{"--source-id", fmt.Sprint(src.ID), "--type", "build.exploded"},
		{"--source-id", fmt.Sprint(src.ID), "--type", "build.failed", "--role", "creator"},
		{"--source-id", fmt.Sprint(src.ID), "--type", "build.failed", "--payload", "{"},
		{"--kind", "build_job", "--external-id", "nope", "--type", "build.failed"},
		{"--source-id", fmt.Sprint(src.ID)},
	} {
		if out, err := run(t, append([]string{"event", "post", "--data", data}, bad...)...); err == nil {
			t.Errorf("event post %v succeeded:\n%s", bad, out)
		}
	}
	if _, err := run(t, "event", "show", "--data", data, "999"); err == nil {
		t.Error("showing an unknown event succeeded")
	}
}

func TestConfig_KeyFileExposed(t *testing.T) {
	t.Setenv("HERALD_SECRET_KEY", "")
	c := Config{DataDir: t.TempDir()}
	if _, err := c.secretKey(); err != nil {
		t.Fatal(err)
	}
	if mode, exposed := c.keyFileExposed(); exposed {
		t.Fatalf("a freshly written key (mode %v) is reported exposed", mode)
	}
	if err := os.Chmod(filepath.Join(c.DataDir, "secret.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, exposed := c.keyFileExposed(); !exposed {
		t.Fatal("a 0644 key file is not reported exposed")
	}
}

// TestServe_SIGTERMWithAnOpenStream: an open inbox stream does not hold up
// shutdown; serve ends it and exits 0 promptly.
func TestServe_SIGTERMWithAnOpenStream(t *testing.T) {
	t.Parallel()
	base, token, cmd := startServe(t)
	st, user := call(t, "POST", base+"/api/v1/users", token, map[string]any{"code": "alice", "name": "Alice"})
	if st != 201 {
		t.Fatalf("create user = %d %v", st, user)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/users/%d/inbox/stream", base, int64(user["id"].(float64))), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if resp.StatusCode != 200 || !sc.Scan() {
		t.Fatalf("stream answered %d", resp.StatusCode)
	}
	streamEnded := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(streamEnded)
	}()

	terminate(t, cmd, 5*time.Second, " with a stream open")
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's stream did not end with the server")
	}
}

// terminate sends SIGTERM to a running herald serve and fails unless it
// exits 0 within d; what says what else was going on.
func terminate(t *testing.T, cmd *exec.Cmd, d time.Duration, what string) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("herald serve exited with %v after SIGTERM%s", err, what)
		}
	case <-time.After(d):
		t.Fatalf("herald serve is still running %v after SIGTERM%s", d, what)
	}
}
