package queue_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// recorder is a queue.Metrics that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Delivery(channel, outcome string) { r.add("delivery %s %s", channel, outcome) }
func (r *recorder) Attempt(channel string, took time.Duration, failed, retry bool) {
	r.add("attempt %s sent=%v failed=%v retry=%v", channel, took > 0, failed, retry)
}
func (r *recorder) Latency(channel string, d time.Duration) { r.add("latency %s", channel) }
func (r *recorder) RateLimitWait(channel string, notifierID int64, wait time.Duration) {
	r.add("wait %s %d", channel, notifierID)
}
func (r *recorder) Fanout(kind string, deliveries int) { r.add("fanout %s %d", kind, deliveries) }

func (r *recorder) has(e string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.events, e)
}

// A delivery the peer refuses for good is counted failed where the engine
// decides it, and logged at WARN with its event, notifier, channel,
// attempt and the peer's answer; the inbox delivery made at fan-out is
// counted delivered with its latency.
func TestEngine_CountsAndLogsAFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		bad := newSink(t, 400)
		hook := b.webhook(t, "bad", bad.srv.URL+"/hook")
		inbox := b.notifier(t, herald.NotifierInbox, "inbox", herald.NotifierConfig{}, "")
		b.user(t, &herald.User{Code: "alice", Name: "Alice"})
		b.deploy(t, on(hook, "build.failed"), on(inbox, "build.failed", userR("alice")))
		var logs syncLog
		m := &recorder{}
		cfg := testConfig()
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		cfg.Metrics = m
		startEngine(t, db, cfg)
		ev := settle(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID)
		d := one(t, ev, hook)
		if d.Status != herald.StatusFailed {
			t.Fatalf("the refused delivery is %s", d.Status)
		}
		for _, want := range []string{"fanout event 2", "delivery inbox delivered", "latency inbox",
			"attempt webhook sent=true failed=true retry=false", "delivery webhook failed"} {
			deadline := time.Now().Add(5 * time.Second)
			for !m.has(want) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !m.has(want) {
				t.Errorf("metrics lack %q: %q", want, m.events)
			}
		}
		var line map[string]any
		for _, l := range logs.lines() {
			var m map[string]any
			if json.Unmarshal(l, &m) == nil && m["msg"] == "delivery failed" {
				line = m
			}
		}
		if line == nil || line["level"] != "WARN" || line["event"] != float64(ev.ID) || line["delivery"] != float64(d.ID) ||
			line["notifier"] != float64(hook.ID) || line["channel"] != "webhook" || line["attempt"] != float64(1) || line["answer"] == "" {
			t.Errorf("the WARN line = %v", line)
		}
	})
}

// syncLog is a log sink written from many goroutines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncLog) lines() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Split(bytes.Clone(s.buf.Bytes()), []byte("\n"))
}
