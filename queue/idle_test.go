package queue_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/riverqueue/river/riverdriver"
)

// An idle node does not poll for work: it is told of it. These tests give
// River's fetch poll a minute, so whatever happens within seconds
// happened because the node was woken — by its own commit, by a time it
// was told work falls due, or (on PostgreSQL) by another node's NOTIFY.

// idleConfig is testConfig without the quick polling.
func idleConfig() queue.Config {
	c := testConfig()
	c.PollInterval = time.Minute
	return c
}

// promptly bounds each wait below: far under the minute of the polls,
// generous for a loaded machine.
const promptly = 15 * time.Second

// Events posted one after another to an idle node are each delivered at
// once, not on the next poll.
func TestEngine_IdleNodeSendsNewWorkAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, 200)
		b.deploy(t, on(b.webhook(t, "hook", s.srv.URL), "build.failed"))
		startEngine(t, db, idleConfig())
		for range 3 {
			d := eventDeliveries(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID, promptly)[0]
			waitStatus(t, b, d.ID, herald.StatusDelivered, promptly)
		}
	})
}

// A retry falls due while the node is idle: it is sent then.
func TestEngine_IdleNodeRetriesOnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, http.StatusServiceUnavailable, 200)
		b.deploy(t, on(b.webhook(t, "hook", s.srv.URL), "build.failed"))
		cfg := idleConfig()
		cfg.BackoffBase = 300 * time.Millisecond
		startEngine(t, db, cfg)
		d := eventDeliveries(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID, promptly)[0]
		got := waitStatus(t, b, d.ID, herald.StatusDelivered, promptly)
		if got.Attempts != 2 {
			t.Errorf("delivered after %d attempts, want 2", got.Attempts)
		}
	})
}

// A push scheduled a second ahead on an idle node is sent at its time.
func TestEngine_IdleNodeSendsScheduledPush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		u := &herald.User{Code: "ann", Name: "Ann"}
		must(t, db.CreateUser(b.ctx, u))
		startEngine(t, db, idleConfig())
		p := approved(t, db, b.ctx, &herald.Push{JobName: "Reminder", Content: "Timesheets", ScopeType: herald.PushScopeAll})
		sendAt := time.Now().Add(time.Second)
		_, err := db.ExecutePush(b.ctx, p.ID, sendAt)
		must(t, err)
		waitPushSent(t, b, p.ID, sendAt)
	})
}

// River's scheduler makes a scheduled job available up to its interval
// ahead of its time, and nothing fetches it at that time but the
// dispatcher's wake-up: on PostgreSQL, where River hears of jobs only by
// NOTIFY, the push would wait for the minute's poll (it did, one run in
// ten, before the dispatcher notified for waiting jobs).
func TestEngine_IdleNodeSendsAPushRiverMadeAvailableEarly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		must(t, db.CreateUser(b.ctx, &herald.User{Code: "ann", Name: "Ann"}))
		p := approved(t, db, b.ctx, &herald.Push{JobName: "Reminder", Content: "Timesheets", ScopeType: herald.PushScopeAll})
		// Far enough ahead that River's start-up fetches (its periodic
		// job at start) are over.
		sendAt := time.Now().Add(3 * time.Second)
		_, err := db.ExecutePush(b.ctx, p.ID, sendAt)
		must(t, err)
		ahead := time.Now().Add(5 * time.Second) // as River's scheduler does
		res, err := db.RiverDriver().GetExecutor().JobSchedule(b.ctx, &riverdriver.JobScheduleParams{Max: 10, Now: &ahead})
		must(t, err)
		if len(res) != 1 {
			t.Fatalf("made %d jobs available ahead, want the push's", len(res))
		}
		startEngine(t, db, idleConfig())
		waitPushSent(t, b, p.ID, sendAt)
	})
}

// waitPushSent waits promptly for push id, scheduled for sendAt, to be
// sent.
func waitPushSent(t *testing.T, b *testBundle, id int64, sendAt time.Time) {
	t.Helper()
	deadline := time.Now().Add(promptly)
	for {
		p, err := b.db.FindPushByID(b.ctx, id)
		must(t, err)
		if p.Status == herald.PushSent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push scheduled for %s is %s %s later", sendAt.Format(time.TimeOnly), p.Status, promptly)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A node that starts while another holds a claim and then dies takes the
// delivery over once the lease is past, though it polls for nothing: it
// read when the lease ends.
func TestEngine_IdleNodeTakesOverAnExpiredClaim(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db, b, s, d := claimOfADeadNode(t, dialect, promptly)

			survivor := idleConfig()
			survivor.Lease, survivor.DispatchGrace, survivor.ID = time.Second, time.Second, "survivor"
			startEngine(t, db, survivor)
			got := waitStatus(t, b, d.ID, herald.StatusDelivered, promptly)
			if got.Attempts != 2 {
				t.Errorf("delivered after %d attempts, want 2", got.Attempts)
			}
			if n := s.count(dlvID(d)); n != 1 {
				t.Errorf("the receiver saw webhook-id %s %d times, want 1", dlvID(d), n)
			}
		})
	}
}

// A node that has worked no job for SuspendAfter stops River's client (its
// timers tick even with nothing to do) and starts it again when told of a
// job: new work, a retry falling due, a scheduled push.
func TestEngine_SuspendedNodeResumesForWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, http.StatusServiceUnavailable, 200)
		b.deploy(t, on(b.webhook(t, "hook", s.srv.URL), "build.failed"))
		cfg := idleConfig()
		cfg.SuspendAfter, cfg.BackoffBase = 300*time.Millisecond, 2*time.Second
		e := startEngine(t, db, cfg)
		suspended := func() {
			t.Helper()
			deadline := time.Now().Add(promptly)
			for e.Working() {
				if time.Now().After(deadline) {
					t.Fatalf("River still works %s after the last job", promptly)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		suspended()
		// New work wakes it; the retry, due two seconds after the first
		// attempt, falls due once it is suspended again.
		d := eventDeliveries(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID, promptly)[0]
		deadline := time.Now().Add(promptly)
		for {
			got, err := db.FindDeliveryByID(b.ctx, d.ID)
			must(t, err)
			if got.Attempts == 1 && got.Status == herald.StatusPending {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("delivery %d is %s after %d attempts, want pending after one", d.ID, got.Status, got.Attempts)
			}
			time.Sleep(20 * time.Millisecond)
		}
		suspended()
		got := waitStatus(t, b, d.ID, herald.StatusDelivered, promptly)
		if got.Attempts != 2 {
			t.Errorf("delivered after %d attempts, want 2", got.Attempts)
		}
	})
}
