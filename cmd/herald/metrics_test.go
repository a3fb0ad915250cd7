package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/logging"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// syncBuffer is a log sink written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// TestMetrics_ScriptedRun wires the server, the engine and the metrics
// as serve does, runs one delivery of each kind — delivered, dead after a
// retry, skipped (no address), rate-limited (held back for a robot's slot)
// — and scrapes /metrics: each series has the right count, and the page
// passes promtool's lint (promlint, what `promtool check metrics` runs).
// The log says why the dead one died, at WARN, with its ids, the peer's
// answer and no secret.
func TestMetrics_ScriptedRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		secret, err := db.Bootstrap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tenant, err := db.FindTenantByName(ctx, store.DefaultTenant)
		if err != nil {
			t.Fatal(err)
		}
		admin := herald.NewContextWithPrincipal(ctx, &herald.Principal{TenantID: tenant.ID, Permissions: []herald.Permission{herald.PermAdmin}})
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(ok.Close)
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream is down", http.StatusInternalServerError)
		}))
		t.Cleanup(down.Close)
		robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		t.Cleanup(robot.Close)

		p := &herald.Project{Name: "demo"}
		must(db.CreateProject(admin, p))
		src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("c3", 16), Name: "nightly"}
		must(db.CreateSource(admin, src))
		must(db.CreateUser(admin, &herald.User{Code: "alice", Name: "Alice"})) // no email: skipped
		notifier := func(typ, name string, cfg herald.NotifierConfig) *herald.Notifier {
			n := &herald.Notifier{ProjectID: p.ID, Type: typ, Name: name, Config: cfg}
			must(db.CreateNotifier(admin, n))
			return n
		}
		okN := notifier(herald.NotifierWebhook, "ok", herald.NotifierConfig{URL: ok.URL + "/hook"})
		deadN := notifier(herald.NotifierWebhook, "down", herald.NotifierConfig{URL: down.URL + "/hook?token=s3cr3t-t0ken"})
		mailN := notifier(herald.NotifierEmail, "mail", herald.NotifierConfig{Host: "127.0.0.1", Port: 1, From: "herald@example.com", TLS: "none"})
		robotN := notifier(herald.NotifierDingTalk, "robot", herald.NotifierConfig{URL: robot.URL + "/robot/send?access_token=t0ken",
			RateLimit: &herald.RateLimit{Count: 1, Seconds: 600}}) // one send, then the next waits
		on := func(n *herald.Notifier, types ...string) herald.ChannelSettings {
			cs := herald.ChannelSettings{NotifierID: n.ID, Enabled: true}
			for _, typ := range types {
				cs.Events = append(cs.Events, herald.EventSettings{Type: typ, Enabled: true,
					Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "alice"}}})
			}
			return cs
		}
		ref := herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}, Revision: herald.NoRevisionCheck}
		_, err = db.UpdateSettings(admin, ref, &herald.Settings{Channels: []herald.ChannelSettings{
			on(okN, "build.failed"), on(deadN, "build.failed"), on(mailN, "build.failed"), on(robotN, "build.failed", "build.succeeded"),
		}})
		must(err)
		_, err = db.DeploySettings(admin, []herald.SettingsRef{ref}, false)
		must(err)

		logs := &syncBuffer{}
		logger, err := logging.New(logs, logging.FormatJSON, "info")
		must(err)
		reg, stats := newMetrics(db, logger)
		engine, err := queue.New(db, queue.Config{AllowPrivateTargets: true, MaxAttempts: 2, BackoffBase: 20 * time.Millisecond,
			PollInterval: 20 * time.Millisecond, Logger: logger, Metrics: stats})
		must(err)
		must(engine.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = engine.Stop(stopCtx)
		})
		srv := newServer(db, nil, surfaceOptions{SessionKey: storetest.Key(), AllowPrivateTargets: true, Registry: reg}, logger)
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)

		var failed int64
		for _, typ := range []string{"build.failed", "build.succeeded"} {
			st, ev := call(t, "POST", hs.URL+"/api/v1/events", secret, map[string]any{"source_id": src.ID, "type": typ})
			if st != http.StatusAccepted {
				t.Fatalf("POST /api/v1/events %s = %d %v", typ, st, ev)
			}
			if typ == "build.failed" {
				failed = int64(ev["id"].(float64))
			}
		}

		robotID := fmt.Sprint(robotN.ID)
		want := []string{
			`herald_deliveries_total{channel="webhook",outcome="delivered"} 1`,
			`herald_deliveries_total{channel="webhook",outcome="dead"} 1`,
			`herald_deliveries_total{channel="email",outcome="skipped"} 1`,
			`herald_deliveries_total{channel="dingtalk",outcome="delivered"} 1`,
			`herald_deliveries_total{channel="dingtalk",outcome="deferred"} 1`,
			`herald_delivery_attempts_total{channel="webhook",result="ok"} 1`,
			`herald_delivery_attempts_total{channel="webhook",result="error"} 2`,
			`herald_delivery_attempts_total{channel="dingtalk",result="ok"} 1`,
			`herald_delivery_retries_total{channel="webhook"} 1`,
			`herald_delivery_attempt_duration_seconds_count{channel="webhook"} 3`,
			`herald_delivery_attempt_duration_seconds_count{channel="dingtalk"} 1`,
			`herald_delivery_latency_seconds_count{channel="webhook"} 1`,
			`herald_delivery_latency_seconds_count{channel="dingtalk"} 1`,
			`herald_ratelimit_waits_total{channel="dingtalk",notifier="` + robotID + `"} 1`,
			// Two events: one to four notifiers, one to the robot alone.
			`herald_fanout_deliveries_count{kind="event"} 2`,
			`herald_fanout_deliveries_sum{kind="event"} 5`,
			`herald_fanout_deliveries_bucket{kind="event",le="1"} 1`,
			`herald_http_requests_total{method="POST",route="/api/v1/events",status="202"} 2`,
			`herald_sse_streams_open 0`,
		}
		var page []byte
		var missing []string
		for deadline := time.Now().Add(30 * time.Second); ; {
			resp, err := http.Get(hs.URL + "/metrics")
			must(err)
			page, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			must(err)
			lines := strings.Split(string(page), "\n")
			missing = missing[:0]
			for _, w := range want {
				if !slices.Contains(lines, w) {
					missing = append(missing, w)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(missing) > 0 {
			var got []string
			for _, l := range strings.Split(string(page), "\n") {
				if strings.HasPrefix(l, "herald_") {
					got = append(got, l)
				}
			}
			t.Fatalf("/metrics lacks:\n%s\nits herald series:\n%s", strings.Join(missing, "\n"), strings.Join(got, "\n"))
		}
		// The wait is the robot's window, about ten minutes.
		if !slices.ContainsFunc(strings.Split(string(page), "\n"), func(l string) bool {
			var v float64
			_, err := fmt.Sscanf(l, `herald_ratelimit_wait_seconds_total{channel="dingtalk",notifier="`+robotID+`"} %g`, &v)
			return err == nil && v > 500 && v <= 700
		}) {
			t.Errorf("herald_ratelimit_wait_seconds_total lacks the robot's ~600 s wait")
		}

		problems, err := promlint.New(bytes.NewReader(page)).Lint()
		must(err)
		for _, p := range problems {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}

		// The dead delivery's WARN line says which, where, and what the
		// peer answered, without the hook's token.
		var dead map[string]any
		for _, l := range logs.lines(t) {
			if l["level"] == "WARN" && l["msg"] == "delivery dead" {
				dead = l
			}
		}
		if dead == nil {
			t.Fatalf("no WARN line for the dead delivery in:\n%s", logs.buf.String())
		}
		answer, _ := dead["answer"].(string)
		if dead["event"] != float64(failed) || dead["notifier"] != float64(deadN.ID) || dead["channel"] != "webhook" ||
			dead["attempt"] != float64(2) || dead["delivery"] == nil || !strings.Contains(answer, "500") || !strings.Contains(answer, "upstream is down") {
			t.Errorf("the dead delivery's line = %v", dead)
		}
		if strings.Contains(logs.buf.String(), "s3cr3t-t0ken") || strings.Contains(logs.buf.String(), "access_token=t0ken") {
			t.Errorf("a notifier's token reached the log:\n%s", logs.buf.String())
		}
	})
}
