//go:build chaos

package main

// The chaos suite drives the real binary through crashes: kill -9 at a
// random point while 2,000 events are delivered, on SQLite and PostgreSQL,
// and a two-node PostgreSQL cluster losing a node for good. Each scenario
// ends with every accepted event delivered within 60 s of the restart (or
// of the loss), and any duplicate carrying the same webhook-id as the
// original. Run: go test -tags chaos -run Chaos ./cmd/herald/ (.ci/run
// does).

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// receiver records every webhook by webhook-id, with a hash of its body.
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies map[string][32]byte
	hits   int
	bad    []string // a webhook-id seen again with another body
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{bodies: map[string][32]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		id, sum := req.Header.Get("webhook-id"), sha256.Sum256(b)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.hits++
		if old, ok := r.bodies[id]; ok && old != sum {
			r.bad = append(r.bad, id)
		}
		r.bodies[id] = sum
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// node is one `herald serve` process.
type node struct {
	base   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// serveIn runs `herald serve` in dir with env, waiting until it listens.
func serveIn(t *testing.T, dir string, env ...string) (*node, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--addr", addr)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"HERALD_ALLOW_PRIVATE_TARGETS=true"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	token := ""
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		if m := reToken.FindString(sc.Text()); m != "" {
			token = m
		}
		if strings.Contains(sc.Text(), "listening on") {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return &node{base: "http://" + addr, cmd: cmd, stderr: &stderr}, token
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("herald serve did not start:\n%s", stderr.String())
	return nil, ""
}

func (n *node) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// configure makes a project whose source sends build.failed to the
// receiver's webhook, and returns the source's external id.
func configure(t *testing.T, base, token, url string) string {
	t.Helper()
	st, p := call(t, "POST", base+"/api/v1/projects", token, map[string]any{"name": "chaos"})
	if st != 201 {
		t.Fatalf("project: %d %v", st, p)
	}
	pid := int64(p["id"].(float64))
	jobID := strings.Repeat("c4", 16)
	st, s := call(t, "POST", fmt.Sprintf("%s/api/v1/projects/%d/sources", base, pid), token,
		map[string]any{"kind": "build_job", "external_id": jobID, "name": "chaos"})
	if st != 201 {
		t.Fatalf("source: %d %v", st, s)
	}
	st, n := call(t, "POST", fmt.Sprintf("%s/api/v1/projects/%d/notifiers", base, pid), token,
		map[string]any{"type": "webhook", "name": "receiver", "config": map[string]any{"url": url}})
	if st != 201 {
		t.Fatalf("notifier: %d %v", st, n)
	}
	settings := fmt.Sprintf("%s/api/v1/sources/%d/settings", base, int64(s["id"].(float64)))
	if st, out := call(t, "PUT", settings, token, map[string]any{"revision": -1, "channels": []any{map[string]any{
		"notifier_id": n["id"], "enabled": true, "events": []any{map[string]any{"type": "build.failed", "enabled": true}},
	}}}); st != 200 {
		t.Fatalf("settings: %d %v", st, out)
	}
	if st, out := call(t, "POST", settings+"/deploy", token, map[string]any{"revision": -1}); st != 200 {
		t.Fatalf("deploy: %d %v", st, out)
	}
	return jobID
}

// postBatch posts n events; it returns how many were accepted (0 when the
// node is gone).
func postBatch(base, token, jobID string, n int) int {
	evs := make([]any, n)
	for i := range evs {
		evs[i] = map[string]any{"source": map[string]any{"kind": "build_job", "external_id": jobID}, "type": "build.failed"}
	}
	b, _ := json.Marshal(map[string]any{"events": evs})
	req, _ := http.NewRequest("POST", base+"/api/v1/events", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return 0
	}
	return n
}

// awaitAll waits until the receiver has seen accepted distinct webhooks.
func awaitAll(t *testing.T, r *receiver, accepted int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for r.distinct() < accepted {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events delivered %s after the restart", r.distinct(), accepted, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Fatalf("webhook-ids resent with another body: %v", r.bad)
	}
	if len(r.bodies) != accepted {
		t.Fatalf("%d distinct webhook-ids for %d accepted events", len(r.bodies), accepted)
	}
	t.Logf("%d events, %d requests (%d resent with the same webhook-id)", accepted, r.hits, r.hits-len(r.bodies))
}

const chaosEvents, chaosBatch = 2000, 50

// kill -9 at a random point during 2,000 events, restart on the same data:
// every accepted event is delivered within 60 s of the restart.
func TestChaos_KillNineAndRestart(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			var env []string
			if dialect == store.DialectPostgres {
				env = append(env, "HERALD_DATABASE_URL="+storetest.NewURL(t, dialect))
			}
			dir := t.TempDir()
			r := newReceiver(t)
			n, token := serveIn(t, dir, env...)
			jobID := configure(t, n.base, token, r.srv.URL)
			killAt := 200 + rand.IntN(chaosEvents-400)
			accepted := 0
			var restarted time.Time
			for accepted < chaosEvents {
				accepted += postBatch(n.base, token, jobID, chaosBatch)
				if accepted >= killAt && restarted.IsZero() {
					n.kill()
					t.Logf("killed after %d accepted events, %d delivered", accepted, r.distinct())
					n, _ = serveIn(t, dir, env...)
					restarted = time.Now()
				}
			}
			awaitAll(t, r, accepted, 60*time.Second-time.Since(restarted))
		})
	}
}

// Two PostgreSQL nodes, one killed for good mid-run: the survivor delivers
// every accepted event within 60 s.
func TestChaos_TwoNodesOneKilled(t *testing.T) {
	// The nodes share the database and the key its secrets are sealed with.
	env := []string{"HERALD_DATABASE_URL=" + storetest.NewURL(t, store.DialectPostgres),
		"HERALD_SECRET_KEY=" + strings.Repeat("5e", 32)}
	r := newReceiver(t)
	a, token := serveIn(t, t.TempDir(), env...)
	jobID := configure(t, a.base, token, r.srv.URL)
	b, _ := serveIn(t, t.TempDir(), env...)
	killAt := 200 + rand.IntN(chaosEvents-400)
	accepted := 0
	for i := 0; accepted < chaosEvents; i++ {
		target := a
		if i%2 == 1 || a == nil {
			target = b
		}
		accepted += postBatch(target.base, token, jobID, chaosBatch)
		if a != nil && accepted >= killAt {
			a.kill()
			t.Logf("node a killed after %d accepted events, %d delivered", accepted, r.distinct())
			a = nil
		}
	}
	defer func() {
		if t.Failed() {
			t.Logf("survivor's log:\n%s", b.stderr.String())
		}
	}()
	awaitAll(t, r, accepted, 60*time.Second)
}
