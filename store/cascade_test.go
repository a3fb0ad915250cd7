package store_test

import (
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// Deliveries and inbox messages go with their event (a source or project
// deleted takes its events) and inbox messages with their person, on both
// databases, though on PostgreSQL no foreign key ties them any more
// (migration 00019): the store deletes them itself.
func TestDelete_TakesDeliveriesAndInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		count := func(table, where string) int {
			t.Helper()
			var n int
			must(t, db.SQL().QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", table, where)).Scan(&n))
			return n
		}
		users := map[string]*herald.User{}
		for _, code := range []string{"ann", "bob"} {
			users[code] = &herald.User{Code: code, Name: code}
			must(t, db.CreateUser(ctx, users[code]))
		}
		// event fans one event of a new source of p out to both people.
		event := func(p *herald.Project, name string) (*herald.Source, *herald.Event) {
			t.Helper()
			src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceGeneric, ExternalID: name, Name: name}
			must(t, db.CreateSource(ctx, src))
			ev := &herald.Event{SourceID: src.ID, Type: "build.failed"}
			must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
			var ds []store.NewDelivery
			for _, u := range users {
				ds = append(ds, store.NewDelivery{NotifierID: 1, Channel: herald.NotifierInbox, UserID: u.ID, Target: u.Code,
					Status: herald.StatusDelivered, Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: u.ID, Title: name, Body: name}},
					store.NewDelivery{NotifierID: 2, Channel: herald.NotifierWebhook, Target: "hook", Status: herald.StatusPending, Message: []byte(`{}`)})
			}
			_, err := db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: ds}})
			must(t, err)
			return src, ev
		}
		left := func(ev *herald.Event) (int, int) {
			t.Helper()
			where := fmt.Sprintf("event_id = %d", ev.ID)
			return count("deliveries", where), count("inbox_messages", where)
		}

		p := &herald.Project{Name: "Payments"}
		must(t, db.CreateProject(ctx, p))
		src, gone := event(p, "one")
		_, kept := event(p, "two")
		if d, i := left(gone); d != 4 || i != 2 {
			t.Fatalf("before: %d deliveries and %d inbox messages, want 4 and 2", d, i)
		}
		must(t, db.DeleteSource(ctx, src.ID))
		if d, i := left(gone); d != 0 || i != 0 {
			t.Errorf("a deleted source's event left %d deliveries and %d inbox messages", d, i)
		}
		if d, i := left(kept); d != 4 || i != 2 {
			t.Errorf("another source's event kept %d deliveries and %d inbox messages, want 4 and 2", d, i)
		}

		must(t, db.DeleteUser(ctx, users["bob"].ID))
		if n := count("inbox_messages", fmt.Sprintf("user_id = %d", users["bob"].ID)); n != 0 {
			t.Errorf("a deleted person kept %d inbox messages", n)
		}
		if n := count("inbox_messages", fmt.Sprintf("user_id = %d", users["ann"].ID)); n != 1 {
			t.Errorf("another person has %d inbox messages, want 1", n)
		}

		must(t, db.DeleteProject(ctx, p.ID, true))
		if d, i := left(kept); d != 0 || i != 0 {
			t.Errorf("a deleted project's event left %d deliveries and %d inbox messages", d, i)
		}
	})
}
