package queue_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// fastRecovery is the engine configuration of the recovery tests: leases
// and dispatch grace of a second, so a crash costs a second, not an hour.
func fastRecovery() queue.Config {
	c := testConfig()
	c.Lease, c.DispatchGrace = time.Second, time.Second
	return c
}

// hangingTransport never answers: a node whose sends hang stands for a node
// that died holding its jobs. It lets go when release is closed.
type hangingTransport struct{ release chan struct{} }

func (h hangingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-h.release
	return nil, context.Canceled
}

// waitStatus polls until the delivery has status, or fails at the deadline.
func waitStatus(t *testing.T, b *testBundle, id int64, status string, within time.Duration) *herald.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, err := b.db.FindDeliveryByID(b.ctx, id)
		must(t, err)
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d is %s after %s, want %s (attempts %d, %q)", id, d.Status, within, status, d.Attempts, d.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventDeliveries polls until the event has been fanned out.
func eventDeliveries(t *testing.T, b *testBundle, id int64, within time.Duration) []*herald.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ev, err := b.db.FindEventByID(b.ctx, id)
		must(t, err)
		if len(ev.Deliveries) > 0 {
			return ev.Deliveries
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %d not fanned out within %s", id, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A node that dies holding a claimed delivery (its River job running, the
// delivery sending, its heartbeat stopped) costs seconds: another node takes
// the delivery once its lease is past, and sends it with the same
// webhook-id.
func TestEngine_ClaimOfADeadNodeIsTakenOver(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db, b, s, d := claimOfADeadNode(t, dialect, 10*time.Second)

			survivor := fastRecovery()
			survivor.ID = "survivor"
			startEngine(t, db, survivor)
			got := waitStatus(t, b, d.ID, herald.StatusDelivered, 8*time.Second)
			if got.Attempts != 2 {
				t.Errorf("delivered after %d attempts, want 2 (the lost one and the resend)", got.Attempts)
			}
			if n := s.count(dlvID(d)); n != 1 {
				t.Errorf("the receiver saw webhook-id %s %d times, want 1", dlvID(d), n)
			}
		})
	}
}

// claimOfADeadNode sets up a delivery claimed by a node that died holding
// it (its River job running, the delivery sending, its heartbeats
// stopped), waiting up to within for each step; it returns the database
// handle a surviving node uses, the bundle, the webhook's receiver and the
// delivery.
func claimOfADeadNode(t *testing.T, dialect string, within time.Duration) (*store.DB, *testBundle, *sink, *herald.Delivery) {
	t.Helper()
	url, key := storetest.NewURL(t, dialect), storetest.Key()
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{URL: url, SecretKey: key})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := open()
	must(t, db.Migrate(context.Background()))
	b := setup(t, db)
	s := newSink(t, 200)
	b.deploy(t, on(b.webhook(t, "hook", s.srv.URL), "build.failed"))

	// The doomed node has a database handle of its own, closed when it
	// "dies": its heartbeats stop as a killed process's do.
	doomedDB := open()
	dead := fastRecovery()
	release := make(chan struct{})
	dead.HTTPClient, dead.ID = &http.Client{Transport: hangingTransport{release}}, "dead"
	doomed, err := queue.New(doomedDB, dead)
	must(t, err)
	must(t, doomed.Start(context.Background()))
	t.Cleanup(func() {
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = doomed.Stop(ctx)
	})

	ev := b.post(t, &herald.Event{Type: "build.failed"})
	d := eventDeliveries(t, b, ev.ID, within)[0]
	waitStatus(t, b, d.ID, herald.StatusSending, within)
	doomedDB.Close()
	return db, b, s, d
}

// Jobs a killed process left running (River would rescue them only after
// an hour) are recovered within seconds of a restart: an accepted event
// whose fan-out job was running is fanned out and delivered.
func TestEngine_RestartRecoversJobsLeftRunning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, 200)
		b.deploy(t, on(b.webhook(t, "hook", s.srv.URL), "build.failed"))
		var evs []*herald.Event
		for range 3 {
			evs = append(evs, b.post(t, &herald.Event{Type: "build.failed"}))
		}
		// The killed process had taken every job.
		_, err := db.SQL().Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = '{killed}'`)
		if db.Dialect() == store.DialectSQLite {
			_, err = db.SQL().Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now'), attempted_by = '["killed"]'`)
		}
		must(t, err)
		time.Sleep(1100 * time.Millisecond) // the events are older than the dispatch grace

		startEngine(t, db, fastRecovery())
		for _, ev := range evs {
			d := eventDeliveries(t, b, ev.ID, 8*time.Second)[0]
			waitStatus(t, b, d.ID, herald.StatusDelivered, 8*time.Second)
		}
	})
}

// A retry is sent within about a second of its due time, not on River's
// five-second scheduler tick.
func TestEngine_RetryOnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		var mu sync.Mutex
		var at []time.Time
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			if len(at) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		t.Cleanup(srv.Close)
		b.deploy(t, on(b.webhook(t, "hook", srv.URL), "build.failed"))
		cfg := testConfig()
		cfg.BackoffBase = 300 * time.Millisecond
		startEngine(t, db, cfg)
		d := eventDeliveries(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID, 10*time.Second)[0]
		waitStatus(t, b, d.ID, herald.StatusDelivered, 10*time.Second)
		mu.Lock()
		defer mu.Unlock()
		// Backoff 300 ms ± 20 %: the retry is due within 360 ms.
		if gap := at[1].Sub(at[0]); gap > 360*time.Millisecond+500*time.Millisecond {
			t.Errorf("the retry came %s after the failure, want within a second of its 300 ms backoff", gap)
		}
	})
}

// robot is a DingTalk robot enforcing a limit of count messages in any
// window of per, answering 130101 beyond it, as DingTalk does.
type robot struct {
	srv   *httptest.Server
	count int
	per   time.Duration

	mu       sync.Mutex
	sent     []time.Time
	tooFast  int
	accepted int
}

func newRobot(t *testing.T, count int, per time.Duration) *robot {
	t.Helper()
	r := &robot{count: count, per: per}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		now := time.Now()
		n := 0
		for _, s := range r.sent {
			if now.Sub(s) < r.per {
				n++
			}
		}
		if n >= r.count {
			r.tooFast++
			_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
			return
		}
		r.sent = append(r.sent, now)
		r.accepted++
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok"})
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *robot) stats() (accepted, tooFast int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted, r.tooFast
}

func (r *robot) url() string { return r.srv.URL + "/robot/send?access_token=t0ken" }

// A throttled robot does not hold the workers: while 40 events wait out a
// robot's 20 a minute, a healthy webhook's event is delivered within
// seconds, not after the robot's minute (the bound is loose because a
// loaded 2-core CI machine takes over a second for any delivery).
func TestEngine_ThrottledRobotDoesNotStallOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		rb := newRobot(t, 20, time.Minute)
		robotN := b.notifier(t, herald.NotifierDingTalk, "robot", herald.NotifierConfig{URL: rb.url()}, "")
		s := newSink(t, 200)
		hook := b.webhook(t, "hook", s.srv.URL)
		b.deploy(t, on(robotN, "build.failed"), on(hook, "build.succeeded"))
		startEngine(t, db, testConfig())
		for range 40 {
			b.post(t, &herald.Event{Type: "build.failed"})
		}
		deadline := time.Now().Add(20 * time.Second)
		for a, _ := rb.stats(); a < 20; a, _ = rb.stats() {
			if time.Now().After(deadline) {
				t.Fatalf("the robot got %d messages, want its 20 a minute", a)
			}
			time.Sleep(20 * time.Millisecond)
		}
		posted := time.Now()
		ev := b.post(t, &herald.Event{Type: "build.succeeded"})
		d := eventDeliveries(t, b, ev.ID, 5*time.Second)[0]
		got := waitStatus(t, b, d.ID, herald.StatusDelivered, 20*time.Second)
		if took := got.DeliveredAt.Sub(posted); took > 15*time.Second {
			t.Errorf("the healthy webhook was delivered %s after its event, want well before the robot's minute", took)
		}
		if _, tooFast := rb.stats(); tooFast != 0 {
			t.Errorf("the robot answered 130101 %d times", tooFast)
		}
	})
}

// Two nodes share one robot's limit through the database: together they
// keep to it, and the robot never answers "too fast".
func TestEngine_TwoNodesShareARobotsLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		rb := newRobot(t, 4, 2*time.Second)
		robotN := b.notifier(t, herald.NotifierDingTalk, "robot",
			herald.NotifierConfig{URL: rb.url(), RateLimit: &herald.RateLimit{Count: 4, Seconds: 2}}, "")
		b.deploy(t, on(robotN, "build.failed"))
		for _, id := range []string{"a", "b"} {
			c := testConfig()
			c.ID = id
			startEngine(t, db, c)
		}
		const n = 12
		for range n {
			b.post(t, &herald.Event{Type: "build.failed"})
		}
		deadline := time.Now().Add(30 * time.Second)
		for a, _ := rb.stats(); a < n; a, _ = rb.stats() {
			if time.Now().After(deadline) {
				rows, err := db.SQL().Query(`SELECT id, status, attempts, COALESCE(next_attempt_at,0), COALESCE(lease_until,0), last_error FROM deliveries`)
				must(t, err)
				for rows.Next() {
					var id, att, next, lease int64
					var st, le string
					_ = rows.Scan(&id, &st, &att, &next, &lease, &le)
					t.Logf("d%d %s att=%d next=%d lease=%d now=%d %s", id, st, att, next, lease, time.Now().UnixMilli(), le)
				}
				rows.Close()
				rows, err = db.SQL().Query(`SELECT id, state, CAST(args AS TEXT), COALESCE(CAST(errors AS TEXT), '') FROM river_job`)
				must(t, err)
				for rows.Next() {
					var id int64
					var st, a, e string
					_ = rows.Scan(&id, &st, &a, &e)
					t.Logf("job%d %s %s %s", id, st, a, e)
				}
				rows.Close()
				t.Fatalf("the robot got %d of %d messages", a, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, tooFast := rb.stats(); tooFast != 0 {
			t.Errorf("the robot answered 130101 %d times: the nodes overran its limit", tooFast)
		}
	})
}
