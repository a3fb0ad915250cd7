//go:build chaos

package main

// The chaos suite drives the real binary through crashes: kill -9 at a
// random point while 2,000 events are delivered, on SQLite and PostgreSQL,
// a two-node PostgreSQL cluster losing a node for good, and a private
// PostgreSQL cluster crashed and restarted under a running node. Each
// scenario ends with every accepted event delivered within 60 s of the restart (or
// of the loss), and any duplicate carrying the same webhook-id as the
// original. Run: go test -tags chaos -run Chaos ./cmd/herald/ (.ci/run
// does).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
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
			// The first admin token is printed after this line, and
			// written before it to the data directory.
			if b, err := os.ReadFile(filepath.Join(dir, "herald-data", "admin.token")); err == nil && token == "" {
				token = strings.TrimSpace(string(b))
			}
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

// pgCluster is a private PostgreSQL cluster: the scenario that restarts
// PostgreSQL must not restart the machine's shared one.
type pgCluster struct {
	bin, dir, data string
	port           int
	cred           *syscall.Credential // the postgres OS user when the test runs as root
}

const pgBin = "/usr/lib/postgresql/15/bin"

// startPrivatePostgres initdbs and starts a cluster in a temporary
// directory, listening on a free port of 127.0.0.1 with trust auth; it is
// stopped (immediately) when the test ends. Without the binaries it skips,
// except under CI=true, where that is a failure.
func startPrivatePostgres(t *testing.T) *pgCluster {
	t.Helper()
	unavailable := t.Skipf
	if os.Getenv("CI") == "true" {
		unavailable = t.Fatalf
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(pgBin, name)); err != nil {
			unavailable("a private PostgreSQL cluster needs %s: %v", filepath.Join(pgBin, name), err)
		}
	}
	pg := &pgCluster{bin: pgBin, dir: t.TempDir()}
	pg.data = filepath.Join(pg.dir, "data")
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable("initdb refuses root and there is no postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		must(t, os.Chown(pg.dir, uid, gid))
		// t.TempDir makes its directory and its parent 0700: open them
		// to the postgres user, and check the rest of the path lets it in.
		must(t, os.Chmod(pg.dir, 0o755))
		must(t, os.Chmod(filepath.Dir(pg.dir), 0o755))
		for p := filepath.Dir(filepath.Dir(pg.dir)); ; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o001 == 0 {
				t.Fatalf("the postgres user cannot traverse %s (set TMPDIR elsewhere): %v", p, err)
			}
			if p == filepath.Dir(p) {
				break
			}
		}
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	pg.port, _ = strconv.Atoi(port)
	pg.run(t, "initdb", "-D", pg.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	conf, err := os.OpenFile(filepath.Join(pg.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	// fsync=off: the scenario crashes the server process, never the
	// machine, so the page cache survives every restart.
	_, err = fmt.Fprintf(conf, "\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\n", pg.port, pg.dir)
	must(t, err)
	must(t, conf.Close())
	t.Cleanup(func() { _ = pg.pgCtl("stop", "-m", "immediate", "-w", "-t", "30") })
	pg.start(t)
	return pg
}

// url is the connection string of the cluster's postgres database.
func (pg *pgCluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// run runs one of the cluster's binaries as its owner, within 60 s.
func (pg *pgCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if err := pg.exec(name, args...); err != nil {
		t.Fatal(err)
	}
}

func (pg *pgCluster) exec(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, name), args...)
	cmd.Dir = pg.dir
	cmd.Env = []string{"PATH=" + pg.bin + ":/usr/bin:/bin", "LC_ALL=C"}
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// pgCtl runs pg_ctl on the cluster; the server's own output goes to its
// log file, so pg_ctl returns once it is up (or down).
func (pg *pgCluster) pgCtl(args ...string) error {
	return pg.exec("pg_ctl", append([]string{"-D", pg.data, "-l", filepath.Join(pg.dir, "log")}, args...)...)
}

func (pg *pgCluster) start(t *testing.T) {
	t.Helper()
	if err := pg.pgCtl("start", "-w", "-t", "30"); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
		t.Fatalf("%v\nserver log:\n%s", err, log)
	}
}

// crash stops the cluster the way a crash would: no checkpoint, every
// connection cut.
func (pg *pgCluster) crash(t *testing.T) {
	t.Helper()
	must(t, pg.pgCtl("stop", "-m", "immediate", "-w", "-t", "30"))
}

// postKeyed posts one batch whose events carry keys as idempotency keys.
// On 202 it returns the ids of the events; status 0 means no (whole)
// answer came back, so the batch may or may not be stored.
func postKeyed(c *http.Client, base, token, jobID string, keys []string) (ids []int64, status int) {
	evs := make([]any, len(keys))
	for i, k := range keys {
		evs[i] = map[string]any{"source": map[string]any{"kind": "build_job", "external_id": jobID},
			"type": "build.failed", "idempotency_key": k}
	}
	b, _ := json.Marshal(map[string]any{"events": evs})
	req, _ := http.NewRequest("POST", base+"/api/v1/events", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, resp.StatusCode
	}
	var out struct {
		Events []struct {
			ID int64 `json:"id"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Events) != len(keys) {
		return nil, 0
	}
	for _, e := range out.Events {
		ids = append(ids, e.ID)
	}
	return ids, resp.StatusCode
}

// tail is the end of a log.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// delivery is the part of a listed delivery the scenario checks.
type delivery struct {
	EventID   int64  `json:"event_id"`
	MessageID string `json:"message_id"`
	Status    string `json:"status"`
}

// listDeliveries pages through every delivery of the instance.
func listDeliveries(t *testing.T, base, token string) []delivery {
	t.Helper()
	var all []delivery
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", base+"/api/v1/deliveries?limit=500&cursor="+url.QueryEscape(cursor), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		must(t, err)
		var page struct {
			Items      []delivery `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("list deliveries: %d %v", resp.StatusCode, err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// PostgreSQL crashes (pg_ctl stop -m immediate) mid-run and comes back a
// few seconds later: herald keeps running, and every accepted event is
// delivered within 60 s of the restart, once per event (a resend carries
// the same webhook-id).
func TestChaos_PostgresRestart(t *testing.T) {
	pg := startPrivatePostgres(t)
	r := newReceiver(t)
	n, token := serveIn(t, t.TempDir(), "HERALD_DATABASE_URL="+pg.url())
	exited := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = n.cmd.Process.Kill(); <-exited }) // before serveIn's own cleanup
	alive := func(when string) {
		t.Helper()
		select {
		case <-exited:
			t.Fatalf("herald exited %s (%v):\n%s", when, n.cmd.ProcessState, tail(n.stderr.String(), 4000))
		default:
		}
	}
	jobID := configure(t, n.base, token, r.srv.URL)

	client := &http.Client{Timeout: 10 * time.Second}
	accepted := map[int64]bool{} // event ids answered 202
	var unanswered [][]string    // batches without an answer: resent with their keys
	refused, next := 0, 0
	post := func() int {
		keys := make([]string, chaosBatch)
		for i := range keys {
			keys[i] = fmt.Sprintf("pg-restart-%d", next)
			next++
		}
		ids, st := postKeyed(client, n.base, token, jobID, keys)
		switch st {
		case http.StatusAccepted:
			for _, id := range ids {
				accepted[id] = true
			}
		case 0:
			unanswered = append(unanswered, keys)
		default:
			refused += len(keys)
		}
		return st
	}

	stopAt := 200 + rand.IntN(chaosEvents-400)
	for len(accepted) < stopAt {
		if st := post(); st != http.StatusAccepted {
			t.Fatalf("a batch was answered %d before PostgreSQL stopped:\n%s", st, tail(n.stderr.String(), 4000))
		}
	}
	// Crash while deliveries are under way: once a random share of the
	// accepted events has reached the receiver.
	inFlight := 1 + rand.IntN(len(accepted)/2)
	for wait := time.Now(); r.distinct() < inFlight; time.Sleep(5 * time.Millisecond) {
		if time.Since(wait) > 30*time.Second {
			t.Fatalf("%d of %d accepted events delivered in 30 s before the crash:\n%s", r.distinct(), len(accepted), tail(n.stderr.String(), 4000))
		}
	}
	pg.crash(t)
	t.Logf("PostgreSQL stopped after %d accepted events, %d delivered", len(accepted), r.distinct())
	// Keep posting through a 3 s outage.
	statuses := map[int]int{}
	for down := time.Now(); time.Since(down) < 3*time.Second; time.Sleep(100 * time.Millisecond) {
		statuses[post()]++
	}
	t.Logf("answers while PostgreSQL was down: %v (status 0: no answer)", statuses)
	alive("while PostgreSQL was down")
	pg.start(t)
	back := time.Now()

	// Herald takes events again once PostgreSQL is back.
	for len(accepted) < chaosEvents {
		if st := post(); st != http.StatusAccepted {
			alive("after PostgreSQL came back")
			if time.Since(back) > 30*time.Second {
				t.Fatalf("herald still answers %d 30 s after PostgreSQL came back:\n%s", st, tail(n.stderr.String(), 4000))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, keys := range unanswered {
		for {
			ids, st := postKeyed(client, n.base, token, jobID, keys)
			if st == http.StatusAccepted {
				for _, id := range ids {
					accepted[id] = true
				}
				break
			}
			if time.Since(back) > 30*time.Second {
				t.Fatalf("resending an unanswered batch: %d", st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("%d events accepted, %d refused, %d in %d unanswered batches resent", len(accepted), refused, chaosBatch*len(unanswered), len(unanswered))

	// Every accepted event's delivery reaches the receiver within 60 s.
	deadline := back.Add(60 * time.Second)
	var ds []delivery
	undelivered := func() (missing []int64) {
		ds = listDeliveries(t, n.base, token)
		byEvent := map[int64]string{}
		for _, d := range ds {
			byEvent[d.EventID] = d.MessageID
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for id := range accepted {
			if _, ok := r.bodies[byEvent[id]]; !ok {
				missing = append(missing, id)
			}
		}
		slices.Sort(missing)
		return missing
	}
	for {
		alive("while delivering")
		if r.distinct() >= len(accepted) && len(undelivered()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			missing := undelivered()
			t.Fatalf("60 s after PostgreSQL came back, %d webhooks for %d accepted events; %d undelivered: %v\nend of herald's log:\n%s",
				r.distinct(), len(accepted), len(missing), missing[:min(len(missing), 20)], tail(n.stderr.String(), 4000))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("delivered %s after PostgreSQL came back", time.Since(back).Round(100*time.Millisecond))

	// Once per event: one delivery per event, and every webhook the
	// receiver saw is one of those deliveries, each id with one body.
	perEvent, known := map[int64]int{}, map[string]bool{}
	stray := 0 // events stored though their batch was refused
	for _, d := range ds {
		perEvent[d.EventID]++
		known[d.MessageID] = true
		if !accepted[d.EventID] {
			stray++
		}
	}
	for id, k := range perEvent {
		if k != 1 {
			t.Errorf("event %d has %d deliveries, want 1", id, k)
		}
	}
	r.mu.Lock()
	for id := range r.bodies {
		if !known[id] {
			t.Errorf("webhook-id %s is no delivery's message id", id)
		}
	}
	if len(r.bad) > 0 {
		t.Errorf("webhook-ids resent with another body: %v", r.bad)
	}
	t.Logf("%d accepted events, %d requests (%d resent with the same webhook-id); %d events of refused batches stored anyway",
		len(accepted), r.hits, r.hits-len(r.bodies), stray)
	r.mu.Unlock()
	if st, _ := call(t, "GET", n.base+"/readyz", "", nil); st != 200 {
		t.Errorf("/readyz = %d after PostgreSQL came back", st)
	}
	alive("at the end")
}
