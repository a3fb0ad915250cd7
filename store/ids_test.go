package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestIDs_NotReusedAfterDelete: an id, once handed out, is never handed out
// again, even after its row is deleted (SQLite reused the highest deleted
// rowid, so a new delivery could carry the id of a deleted one).
func TestIDs_NotReusedAfterDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		alice := &herald.User{Code: "alice", Name: "Alice"}
		must(t, db.CreateUser(ctx, alice))

		// history records an event of a new source with a webhook and an
		// inbox delivery, and returns the ids it created.
		type history struct{ source, event, delivery, inbox int64 }
		n := 0
		record := func() history {
			t.Helper()
			n++
			src := &herald.Source{ProjectID: f.project.ID, Kind: herald.SourceApp, ExternalID: fmt.Sprint(n), Name: "app"}
			must(t, db.CreateSource(ctx, src))
			ev := &herald.Event{SourceID: src.ID, Type: "record.added"}
			must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
			_, err := db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{
				{NotifierID: f.notifier.ID, Channel: "webhook", Target: "hooks.example.com", Status: herald.StatusPending, Message: []byte(`{}`)},
				{NotifierID: f.notifier.ID, Channel: "inbox", UserID: alice.ID, Target: "alice", Status: herald.StatusDelivered, Message: []byte(`{}`),
					Inbox: &herald.InboxMessage{UserID: alice.ID, Title: "Record added"}},
			}}})
			must(t, err)
			h := history{source: src.ID, event: ev.ID}
			ds, _, err := db.FindDeliveries(ctx, herald.DeliveryFilter{EventID: ev.ID}, herald.Page{})
			must(t, err)
			if len(ds) != 2 {
				t.Fatalf("%d deliveries, want 2", len(ds))
			}
			h.delivery = max(ds[0].ID, ds[1].ID)
			msgs, _, err := db.FindInbox(ctx, alice.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 1 {
				t.Fatalf("%d inbox messages, want 1", len(msgs))
			}
			h.inbox = msgs[0].ID
			return h
		}
		gone := record()
		// Deleting the source takes its events, their deliveries and their
		// inbox messages with it.
		must(t, db.DeleteSource(ctx, gone.source))
		if _, err := db.FindDeliveryByID(ctx, gone.delivery); herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Fatalf("the deleted source's delivery is still there: %v", err)
		}
		fresh := record()
		for _, c := range []struct {
			what       string
			gone, next int64
		}{
			{"source", gone.source, fresh.source},
			{"event", gone.event, fresh.event},
			{"delivery", gone.delivery, fresh.delivery},
			{"inbox message", gone.inbox, fresh.inbox},
		} {
			if c.next <= c.gone {
				t.Errorf("new %s id %d, want more than the deleted %d", c.what, c.next, c.gone)
			}
		}

		// The same holds for every row deleted on its own.
		for _, tt := range []struct {
			what   string
			create func() int64
			delete func(id int64) error
		}{
			{"project", func() int64 {
				p := &herald.Project{Name: "Spare"}
				must(t, db.CreateProject(ctx, p))
				return p.ID
			}, func(id int64) error { return db.DeleteProject(ctx, id, false) }},
			{"notifier", func() int64 {
				n := &herald.Notifier{ProjectID: f.project.ID, Type: herald.NotifierInbox, Name: "inbox"}
				must(t, db.CreateNotifier(ctx, n))
				return n.ID
			}, func(id int64) error { return db.DeleteNotifier(ctx, id) }},
			{"user", func() int64 {
				u := &herald.User{Code: "bob", Name: "Bob"}
				must(t, db.CreateUser(ctx, u))
				return u.ID
			}, func(id int64) error { return db.DeleteUser(ctx, id) }},
		} {
			first := tt.create()
			must(t, tt.delete(first))
			if next := tt.create(); next <= first {
				t.Errorf("new %s id %d, want more than the deleted %d", tt.what, next, first)
			}
		}
	})
}

// TestIDs_EveryTableNeverReuses: every table with an integer id keeps a
// sequence that deleting rows does not wind back (SQLite AUTOINCREMENT,
// PostgreSQL identity), so a table added later cannot forget it.
func TestIDs_EveryTableNeverReuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'id' AND table_name NOT LIKE 'river%' AND table_name <> 'goose_db_version'
			AND is_identity = 'NO' AND COALESCE(column_default, '') NOT LIKE 'nextval(%'`
		if db.Dialect() == store.DialectSQLite {
			q = `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c ON c.name = 'id' AND c.pk = 1
				WHERE m.type = 'table' AND m.name NOT LIKE 'river%' AND m.name NOT LIKE 'goose%' AND m.name NOT LIKE 'sqlite%'
				AND UPPER(m.sql) NOT LIKE '%AUTOINCREMENT%'`
		}
		rows, err := db.SQL().Query(q)
		must(t, err)
		defer rows.Close()
		var reusing []string
		for rows.Next() {
			var name string
			must(t, rows.Scan(&name))
			reusing = append(reusing, name)
		}
		must(t, rows.Err())
		if len(reusing) > 0 {
			t.Fatalf("these tables can hand out the id of a deleted row again: %s", strings.Join(reusing, ", "))
		}
	})
}

// TestDeliveries_MessageID: each delivery gets a message id of its own when
// it is created, not derived from its row id: two databases with the same
// history give different ones; it stays the same on every attempt and
// after a manual retry.
func TestDeliveries_MessageID(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			// claim runs the same history on a fresh database and returns
			// the database, its tenant and the two deliveries claimed.
			claim := func() (*store.DB, context.Context, []*store.ClaimedDelivery) {
				db := storetest.NewDB(t, dialect)
				ctx := storetest.NewTenant(t, db, "acme")
				f := newFixture(t, ctx, db)
				ev := &herald.Event{SourceID: f.source.ID, Type: "build.failed"}
				must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
				nd := store.NewDelivery{NotifierID: f.notifier.ID, Channel: "webhook", Target: "hooks.example.com", Status: herald.StatusPending, Message: []byte(`{}`)}
				_, err := db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{nd, nd}}})
				must(t, err)
				ds, _, err := db.FindDeliveries(ctx, herald.DeliveryFilter{EventID: ev.ID}, herald.Page{})
				must(t, err)
				claimed, err := db.ClaimDeliveries(ctx, []int64{ds[0].ID, ds[1].ID}, store.ClaimOptions{})
				must(t, err)
				if len(claimed) != 2 {
					t.Fatalf("claimed %d deliveries, want 2", len(claimed))
				}
				for i, c := range claimed {
					if !strings.HasPrefix(c.MessageID, "msg_") || len(c.MessageID) != len("msg_")+32 {
						t.Fatalf("delivery %d has message id %q, want msg_ and 32 hex digits", c.ID, c.MessageID)
					}
					if ds[i].MessageID != c.MessageID {
						t.Fatalf("delivery %d reads back message id %q, was claimed with %q", c.ID, ds[i].MessageID, c.MessageID)
					}
				}
				return db, ctx, claimed
			}
			dbA, ctxA, a := claim()
			_, _, b := claim()
			if a[0].ID != b[0].ID || a[1].ID != b[1].ID {
				t.Fatalf("the two histories differ: ids %d,%d and %d,%d", a[0].ID, a[1].ID, b[0].ID, b[1].ID)
			}
			seen := map[string]bool{}
			for _, c := range append(a, b...) {
				if seen[c.MessageID] {
					t.Fatalf("message id %s is given to two deliveries", c.MessageID)
				}
				seen[c.MessageID] = true
			}

			// A failed attempt, the next one, and a manual retry of the
			// dead delivery carry the same id.
			d := a[0]
			must(t, dbA.FinishDeliveries(ctxA, []store.DeliveryResult{{ID: d.ID, Status: herald.StatusPending, Error: "503", RetryAt: time.Now()}}))
			again, err := dbA.ClaimDeliveries(ctxA, []int64{d.ID}, store.ClaimOptions{})
			must(t, err)
			if len(again) != 1 || again[0].MessageID != d.MessageID {
				t.Fatalf("second attempt claimed %+v, want message id %s", again, d.MessageID)
			}
			must(t, dbA.FinishDeliveries(ctxA, []store.DeliveryResult{{ID: d.ID, Status: herald.StatusDead, Error: "503"}}))
			retried, err := dbA.RetryDelivery(ctxA, d.ID)
			must(t, err)
			if retried.MessageID != d.MessageID {
				t.Fatalf("retried delivery has message id %q, want %s", retried.MessageID, d.MessageID)
			}
		})
	}
}
