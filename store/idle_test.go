package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A dispatch round says when the earliest work it did not take falls due
// — a new delivery's grace, a claim's lease, a retry, a deferred send —
// so that an idle node sleeps until then instead of polling; with nothing
// pending it says nothing.
func TestDispatch_NextIsWhenWorkFallsDue(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			clk := &clock{t: t0}
			db, ctx, id := leaseFixture(t, dialect, clk)
			const grace = 10 * time.Second
			next := func(want time.Time) {
				t.Helper()
				got, err := db.Dispatch(context.Background(), grace)
				must(t, err)
				if got.Deliveries != 0 || got.Events != 0 {
					t.Fatalf("dispatch took %+v, want nothing yet", got)
				}
				if !got.Next.Equal(want) {
					t.Fatalf("next due %v, want %v", got.Next, want)
				}
			}
			// A new delivery: due for the dispatcher once its job had grace
			// to take it.
			next(t0.Add(grace))

			clk.add(time.Second)
			_, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 3 * time.Second})
			must(t, err)
			next(t0.Add(4 * time.Second)) // the claim's lease

			retry := t0.Add(time.Minute)
			must(t, db.FinishDeliveries(ctx, []store.DeliveryResult{{ID: id, Status: herald.StatusPending, Error: "503", RetryAt: retry}}))
			next(retry)

			_, err = db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 3 * time.Second})
			must(t, err) // not due yet: nothing claimed
			clk.add(time.Minute)
			claimed, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 3 * time.Second})
			must(t, err)
			if len(claimed) != 1 {
				t.Fatalf("claimed %d at the retry's time, want 1", len(claimed))
			}
			must(t, db.FinishDeliveries(ctx, []store.DeliveryResult{{ID: id, Status: herald.StatusDelivered}}))
			next(time.Time{}) // nothing pending

			// A new event: due for the dispatcher once its fan-out job had
			// grace to take it.
			first, err := db.FindEventByID(ctx, claimedEvent(t, db, ctx, id))
			must(t, err)
			ev := &herald.Event{SourceID: first.SourceID, Type: "build.failed"}
			must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
			next(clk.now().Add(grace))

			// A delivery deferred by quiet hours is due at their end.
			until := clk.now().Add(8 * time.Hour)
			_, err = db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{{
				NotifierID: first.Deliveries[0].NotifierID, Channel: herald.NotifierWebhook, Target: "example.com",
				Status: herald.StatusDeferred, DueAt: until, Message: []byte(`{"text":"later"}`)}}}})
			must(t, err)
			next(until)
		})
	}
}

func claimedEvent(t *testing.T, db *store.DB, ctx context.Context, id int64) int64 {
	t.Helper()
	d, err := db.FindDeliveryByID(ctx, id)
	must(t, err)
	return d.EventID
}

// A transaction that sets a time at which work falls due (here a retry)
// tells the dispatchers of this process that time once it commits.
func TestWatchDue_TellsWhenWorkFallsDue(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			db, ctx, id := leaseFixture(t, dialect, clk)
			w := db.WatchDue()
			defer w.Close()
			_, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 3 * time.Second})
			must(t, err)
			retry := clk.now().Add(42 * time.Second)
			must(t, db.FinishDeliveries(ctx, []store.DeliveryResult{{ID: id, Status: herald.StatusPending, Error: "503", RetryAt: retry}}))
			select {
			case <-w.C():
			case <-time.After(10 * time.Second):
				t.Fatal("no signal after a retry was recorded")
			}
			if got := w.Take(); !got.Equal(retry) {
				t.Errorf("told %v, want the retry's time %v", got, retry)
			}
			if got := w.Take(); !got.IsZero() {
				t.Errorf("a second Take gave %v, want nothing new", got)
			}
		})
	}
}
