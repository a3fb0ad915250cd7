package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestConsoleQueries: the delivery log's newest-first lists, the project
// scope, and the per-minute counts, on both databases.
func TestConsoleQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		a := newFixture(t, ctx, db)
		other := &herald.Project{Name: "Other"}
		must(t, db.CreateProject(ctx, other))
		otherSrc := &herald.Source{ProjectID: other.ID, Kind: herald.SourceApp, ExternalID: "9", Name: "app"}
		must(t, db.CreateSource(ctx, otherSrc))
		otherHook := &herald.Notifier{ProjectID: other.ID, Type: herald.NotifierInbox, Name: "inbox"}
		must(t, db.CreateNotifier(ctx, otherHook))

		var fanouts []store.Fanout
		for i := 0; i < 3; i++ {
			ev := []*herald.Event{{SourceID: a.source.ID, Type: "build.failed"}, {SourceID: otherSrc.ID, Type: "record.added"}}
			must(t, db.CreateEvents(ctx, ev))
			fanouts = append(fanouts,
				store.Fanout{EventID: ev[0].ID, Deliveries: []store.NewDelivery{{NotifierID: a.notifier.ID, Channel: "webhook", Target: "x", Status: herald.StatusPending, Message: []byte(`{}`)}}},
				store.Fanout{EventID: ev[1].ID, Deliveries: []store.NewDelivery{{NotifierID: otherHook.ID, Channel: "inbox", Target: "y", Status: herald.StatusSkipped, LastError: "no user", Message: []byte(`{}`)}}})
		}
		n, err := db.RecordFanouts(ctx, fanouts)
		must(t, err)
		if n != 6 {
			t.Fatalf("recorded %d fan-outs, want 6", n)
		}

		all, next, err := db.FindDeliveriesNewest(ctx, herald.DeliveryFilter{}, herald.Page{Limit: 4})
		must(t, err)
		if len(all) != 4 || next == "" || all[0].ID < all[3].ID {
			t.Fatalf("newest deliveries = %d items (next %q), first %d last %d", len(all), next, all[0].ID, all[3].ID)
		}
		rest, next, err := db.FindDeliveriesNewest(ctx, herald.DeliveryFilter{}, herald.Page{Limit: 4, Cursor: next})
		must(t, err)
		if len(rest) != 2 || next != "" || rest[0].ID >= all[3].ID {
			t.Fatalf("second page = %+v next %q", rest, next)
		}
		skipped, _, err := db.FindDeliveriesNewest(ctx, herald.DeliveryFilter{Status: herald.StatusSkipped}, herald.Page{})
		must(t, err)
		if len(skipped) != 3 {
			t.Fatalf("skipped = %d, want 3", len(skipped))
		}
		_, _, err = db.FindDeliveriesNewest(ctx, herald.DeliveryFilter{Status: "lost"}, herald.Page{})
		code(t, err, herald.EINVALID)

		// A token scoped to the first project sees only its deliveries and events.
		p := herald.PrincipalFromContext(ctx)
		scoped := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: p.TenantID, ProjectID: a.project.ID, Permissions: []herald.Permission{herald.PermSettingsRead}})
		mine, _, err := db.FindDeliveriesNewest(scoped, herald.DeliveryFilter{}, herald.Page{})
		must(t, err)
		native, _, err := db.FindDeliveries(scoped, herald.DeliveryFilter{}, herald.Page{})
		must(t, err)
		if len(mine) != 3 || len(native) != 3 {
			t.Fatalf("scoped token sees %d (newest) and %d (native) deliveries, want 3", len(mine), len(native))
		}
		events, _, err := db.FindEventsNewest(scoped, 0, herald.Page{})
		must(t, err)
		if len(events) != 3 || events[0].ProjectID != a.project.ID || events[0].ID < events[2].ID {
			t.Fatalf("scoped events = %+v", events)
		}
		none, _, err := db.FindEventsNewest(scoped, other.ID, herald.Page{})
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("a scoped token listed another project's events: %+v", none)
		}

		counts, err := db.CountDeliveriesByMinute(ctx, time.Now().Add(-time.Hour))
		must(t, err)
		total := map[string]int{}
		for minute, byStatus := range counts {
			if minute.Second() != 0 || minute.Nanosecond() != 0 {
				t.Fatalf("minute %v is not truncated", minute)
			}
			for s, n := range byStatus {
				total[s] += n
			}
		}
		if total[herald.StatusPending] != 3 || total[herald.StatusSkipped] != 3 {
			t.Fatalf("per-minute counts add up to %v", total)
		}
		later, err := db.CountDeliveriesByMinute(ctx, time.Now().Add(time.Hour))
		must(t, err)
		if len(later) != 0 {
			t.Fatalf("counts since the future = %v", later)
		}
	})
}
