package store_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/store"
)

// QueueStats counts the unfinished jobs by kind and state and says how
// long the oldest available one has waited.
func TestQueueStats(t *testing.T) {
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Now()}
			db, ctx, _ := leaseFixture(t, dialect, clk) // an event's fan-out job and a deliver job, nobody working them
			stats, err := db.QueueStats(ctx)
			must(t, err)
			got := map[string]store.QueueStat{}
			for _, s := range stats {
				got[s.Kind+"/"+s.State] = s
			}
			for _, kind := range []string{"herald.fanout", "herald.deliver"} {
				s, ok := got[kind+"/available"]
				if !ok || s.Jobs != 1 {
					t.Errorf("%s available = %+v, want 1 job (all: %+v)", kind, s, stats)
				}
				if s.OldestAge < 0 || s.OldestAge > time.Minute {
					t.Errorf("%s oldest age = %s, want a few milliseconds", kind, s.OldestAge)
				}
			}
			if len(stats) != 2 {
				t.Errorf("stats = %+v, want only the two available jobs", stats)
			}
		})
	}
}

// A claimed delivery says which event it belongs to and when that was
// accepted; one sent back for want of a rate-limit slot is told to
// Deferred with the time its slot frees.
func TestClaimDeliveries_EventAndDeferred(t *testing.T) {
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			db, ctx, id := leaseFixture(t, dialect, clk)
			d, err := db.FindDeliveryByID(ctx, id)
			must(t, err)
			ev, err := db.FindEventByID(ctx, d.EventID)
			must(t, err)

			limits := []store.RateLimit{{Count: 1, Per: time.Minute}}
			if ok, _, err := db.TakeRateSlot(ctx, "robot", limits); err != nil || !ok {
				t.Fatalf("take the only slot: %v %v", ok, err)
			}
			clk.add(time.Second)
			var deferred []int64
			var until time.Time
			pace := store.ClaimOptions{
				Pace:     func(int64) (store.Pace, error) { return store.Pace{Key: "robot", Limits: limits}, nil },
				Deferred: func(d *store.ClaimedDelivery, u time.Time) { deferred, until = append(deferred, d.ID), u },
			}
			claimed, err := db.ClaimDeliveries(ctx, []int64{id}, pace)
			must(t, err)
			if len(claimed) != 0 || len(deferred) != 1 || deferred[0] != id {
				t.Fatalf("claimed %d, deferred %v; want none claimed and delivery %d deferred", len(claimed), deferred, id)
			}
			if !until.After(clk.now()) {
				t.Errorf("deferred until %s, want after now (%s)", until, clk.now())
			}

			clk.add(2 * time.Minute)
			claimed, err = db.ClaimDeliveries(ctx, []int64{id}, pace)
			must(t, err)
			if len(claimed) != 1 || len(deferred) != 1 {
				t.Fatalf("claimed %d, deferred %d times; want it claimed once its slot freed", len(claimed), len(deferred))
			}
			c := claimed[0]
			if c.EventID != ev.ID || c.PushID != 0 || !c.EventAt.Equal(ev.CreatedAt.Truncate(time.Millisecond)) {
				t.Errorf("claimed event %d push %d accepted %s, want event %d accepted %s", c.EventID, c.PushID, c.EventAt, ev.ID, ev.CreatedAt)
			}
		})
	}
}
