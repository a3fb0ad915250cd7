package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// clock is an injected, settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// A delivery stuck in sending (its sender died) can be retried by hand
// once its lease is past, and not before; and the dispatcher takes it
// back on its own then.
func TestRetryDelivery_StuckSendingAfterItsLease(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			db, ctx, id := leaseFixture(t, dialect, clk)

			claimed, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 10 * time.Second})
			must(t, err)
			if len(claimed) != 1 {
				t.Fatalf("claimed %d deliveries, want 1", len(claimed))
			}
			if _, err := db.RetryDelivery(ctx, id); herald.ErrorCode(err) != herald.ENOTALLOWED {
				t.Fatalf("retrying a delivery under a live claim: %v, want %s", err, herald.ENOTALLOWED)
			}
			// A second claim while the lease holds takes nothing.
			if again, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: 10 * time.Second}); err != nil || len(again) != 0 {
				t.Fatalf("a second claim under the lease took %d (%v), want none", len(again), err)
			}

			clk.add(11 * time.Second) // the sender died: no heartbeat
			d, err := db.RetryDelivery(ctx, id)
			if err != nil {
				t.Fatalf("retrying a delivery past its lease: %v", err)
			}
			if d.Status != herald.StatusPending || d.Attempts != 0 {
				t.Errorf("retried delivery is %s with %d attempts, want pending with 0", d.Status, d.Attempts)
			}
		})
	}
}

// The dispatcher takes back a claim past its lease: the delivery is
// pending again and a job is enqueued for it, with no new delivery made.
func TestDispatch_TakesBackExpiredClaims(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Now()}
			db, ctx, id := leaseFixture(t, dialect, clk)
			_, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: time.Second})
			must(t, err)

			if got, err := db.Dispatch(context.Background(), 10*time.Second); err != nil || got.Deliveries != 0 {
				t.Fatalf("dispatch under a live lease: %+v %v, want nothing", got, err)
			}
			clk.add(2 * time.Second)
			got, err := db.Dispatch(context.Background(), 10*time.Second)
			must(t, err)
			if got.Deliveries != 1 {
				t.Fatalf("dispatch past the lease took %d deliveries, want 1", got.Deliveries)
			}
			d, err := db.FindDeliveryByID(ctx, id)
			must(t, err)
			if d.Status != herald.StatusPending {
				t.Errorf("the taken-back delivery is %s, want pending", d.Status)
			}
			claimed, err := db.ClaimDeliveries(ctx, []int64{id}, store.ClaimOptions{Lease: time.Second})
			must(t, err)
			if len(claimed) != 1 || claimed[0].Attempts != 2 {
				t.Fatalf("the resend claimed %d, want the same delivery on its second attempt", len(claimed))
			}
		})
	}
}

// leaseFixture opens a migrated database of dialect on clk's time with one
// pending webhook delivery, and returns it, a tenant context and the
// delivery's id.
func leaseFixture(t *testing.T, dialect string, clk *clock) (*store.DB, context.Context, int64) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: storetest.NewURL(t, dialect), SecretKey: storetest.Key(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	must(t, db.Migrate(context.Background()))
	ctx := storetest.NewTenant(t, db, "acme")
	p := &herald.Project{Name: "p"}
	must(t, db.CreateProject(ctx, p))
	src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("a1", 16), Name: "s"}
	must(t, db.CreateSource(ctx, src))
	n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "hook", Config: herald.NotifierConfig{URL: "https://example.com/hook"}}
	must(t, db.CreateNotifier(ctx, n))
	ev := &herald.Event{SourceID: src.ID, Type: "build.failed"}
	must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
	_, err = db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{{
		NotifierID: n.ID, Channel: n.Type, Target: "example.com", Status: herald.StatusPending, Message: []byte(`{"text":"hi"}`)}}}})
	must(t, err)
	e, err := db.FindEventByID(ctx, ev.ID)
	must(t, err)
	id := e.Deliveries[0].ID
	return db, ctx, id
}
