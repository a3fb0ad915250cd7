package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// logFixture is a tenant with two projects: A has two webhooks to the
// same host (one a chat's robot), an email notifier and two sources; B
// has one webhook. Its deliveries, by name:
//
//	e1 (Checkout, t0):      ops1 dead, dev1 dead, mail1 failed (to Alice)
//	e2 (Billing, t0+1h):    ops2 dead, mail2 delivered
//	eB (B's source, t0+2h): b dead
type logFixture struct {
	db                   *store.DB
	ctx                  context.Context // the tenant's unscoped admin
	t0                   time.Time
	a, b                 *herald.Project
	checkout, billing    *herald.Source
	ops, dev, mail, hook *herald.Notifier
	d                    map[string]int64
}

func newLogFixture(t *testing.T, dialect string) *logFixture {
	t.Helper()
	clk := &clock{t: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)}
	db, err := store.Open(context.Background(), store.Config{URL: storetest.NewURL(t, dialect), SecretKey: storetest.Key(), Now: clk.now})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	must(t, db.Migrate(context.Background()))
	f := &logFixture{db: db, ctx: storetest.NewTenant(t, db, "acme"), t0: clk.now(), d: map[string]int64{}}
	ctx := f.ctx
	f.a, f.b = &herald.Project{Name: "A"}, &herald.Project{Name: "B"}
	must(t, db.CreateProject(ctx, f.a))
	must(t, db.CreateProject(ctx, f.b))
	f.checkout = &herald.Source{ProjectID: f.a.ID, Kind: herald.SourceGeneric, ExternalID: "checkout", Name: "Checkout"}
	f.billing = &herald.Source{ProjectID: f.a.ID, Kind: herald.SourceGeneric, ExternalID: "billing", Name: "Billing"}
	srcB := &herald.Source{ProjectID: f.b.ID, Kind: herald.SourceGeneric, ExternalID: "other", Name: "Other"}
	for _, s := range []*herald.Source{f.checkout, f.billing, srcB} {
		must(t, db.CreateSource(ctx, s))
	}
	f.ops = &herald.Notifier{ProjectID: f.a.ID, Type: herald.NotifierWebhook, Name: "Ops hook", Config: herald.NotifierConfig{URL: "https://hooks.example.com:18510/ops"}}
	f.dev = &herald.Notifier{ProjectID: f.a.ID, Type: herald.NotifierWebhook, Name: "Dev hook", Config: herald.NotifierConfig{URL: "https://hooks.example.com:18510/dev"}}
	f.mail = &herald.Notifier{ProjectID: f.a.ID, Type: herald.NotifierEmail, Name: "Mail", Config: herald.NotifierConfig{Host: "smtp.example.com", Port: 25, From: "herald@example.com"}}
	f.hook = &herald.Notifier{ProjectID: f.b.ID, Type: herald.NotifierWebhook, Name: "B hook", Config: herald.NotifierConfig{URL: "https://hooks.example.com:18510/b"}}
	for _, n := range []*herald.Notifier{f.ops, f.dev, f.mail, f.hook} {
		must(t, db.CreateNotifier(ctx, n))
	}
	alice := &herald.User{Code: "alice", Name: "Alice Liddell", Email: "alice@example.com"}
	must(t, db.CreateUser(ctx, alice))
	must(t, db.CreateChat(ctx, &herald.Chat{Code: "oc_team", Name: "Team room", NotifierID: &f.dev.ID}))

	type out struct {
		name   string
		n      *herald.Notifier
		user   int64
		target string
		status string
	}
	record := func(src *herald.Source, outs ...out) {
		ev := &herald.Event{SourceID: src.ID, Type: "build.failed"}
		must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
		var nds []store.NewDelivery
		for _, o := range outs {
			nds = append(nds, store.NewDelivery{NotifierID: o.n.ID, Channel: o.n.Type, UserID: o.user, Target: o.target, Status: herald.StatusPending, Message: []byte(`{}`)})
		}
		_, err := db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: nds}})
		must(t, err)
		e, err := db.FindEventByID(ctx, ev.ID)
		must(t, err)
		var res []store.DeliveryResult
		for i, d := range e.Deliveries {
			f.d[outs[i].name] = d.ID
			res = append(res, store.DeliveryResult{ID: d.ID, Status: outs[i].status, Error: "boom"})
		}
		must(t, db.FinishDeliveries(ctx, res))
	}
	record(f.checkout, out{"ops1", f.ops, 0, "hooks.example.com:18510", herald.StatusDead}, out{"dev1", f.dev, 0, "hooks.example.com:18510", herald.StatusDead},
		out{"mail1", f.mail, alice.ID, alice.Email, herald.StatusFailed})
	clk.add(time.Hour)
	record(f.billing, out{"ops2", f.ops, 0, "hooks.example.com:18510", herald.StatusDead}, out{"mail2", f.mail, alice.ID, alice.Email, herald.StatusDelivered})
	clk.add(time.Hour)
	record(srcB, out{"b", f.hook, 0, "hooks.example.com:18510", herald.StatusDead})
	return f
}

// scoped acts as a token of project p holding perms.
func (f *logFixture) scoped(p *herald.Project, perms ...herald.Permission) context.Context {
	tenant, _ := herald.TenantFromContext(f.ctx)
	return herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: tenant, ProjectID: p.ID, TokenName: "scoped", Permissions: perms})
}

// names returns the fixture's names of ds, sorted.
func (f *logFixture) names(ds []*herald.Delivery) []string {
	var out []string
	for _, d := range ds {
		for name, id := range f.d {
			if id == d.ID {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestFindDeliveries_Filter(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			f := newLogFixture(t, dialect)
			hour := time.Hour
			cases := []struct {
				name string
				ctx  context.Context
				f    herald.DeliveryFilter
				want []string
			}{
				{"everything", f.ctx, herald.DeliveryFilter{}, []string{"b", "dev1", "mail1", "mail2", "ops1", "ops2"}},
				{"channel", f.ctx, herald.DeliveryFilter{Channel: herald.NotifierWebhook}, []string{"b", "dev1", "ops1", "ops2"}},
				{"source", f.ctx, herald.DeliveryFilter{SourceID: f.checkout.ID}, []string{"dev1", "mail1", "ops1"}},
				{"notifier", f.ctx, herald.DeliveryFilter{NotifierID: f.ops.ID}, []string{"ops1", "ops2"}},
				{"from", f.ctx, herald.DeliveryFilter{From: f.t0.Add(hour / 2)}, []string{"b", "mail2", "ops2"}},
				{"to", f.ctx, herald.DeliveryFilter{To: f.t0.Add(hour / 2)}, []string{"dev1", "mail1", "ops1"}},
				{"from and to", f.ctx, herald.DeliveryFilter{From: f.t0.Add(hour), To: f.t0.Add(2 * hour)}, []string{"mail2", "ops2"}},
				{"status, channel and source", f.ctx, herald.DeliveryFilter{Status: herald.StatusDead, Channel: herald.NotifierWebhook, SourceID: f.checkout.ID},
					[]string{"dev1", "ops1"}},
				{"a token of project A", f.scoped(f.a, herald.PermSettingsRead), herald.DeliveryFilter{Channel: herald.NotifierWebhook}, []string{"dev1", "ops1", "ops2"}},
				{"a token of project A naming B's notifier", f.scoped(f.a, herald.PermSettingsRead), herald.DeliveryFilter{NotifierID: f.hook.ID}, nil},
			}
			for _, c := range cases {
				ds, _, err := f.db.FindDeliveries(c.ctx, c.f, herald.Page{})
				must(t, err)
				if got := f.names(ds); !slices.Equal(got, c.want) {
					t.Errorf("%s: FindDeliveries = %v, want %v", c.name, got, c.want)
				}
				ds, _, err = f.db.FindDeliveriesNewest(c.ctx, c.f, herald.Page{})
				must(t, err)
				if got := f.names(ds); !slices.Equal(got, c.want) {
					t.Errorf("%s: FindDeliveriesNewest = %v, want %v", c.name, got, c.want)
				}
				n, err := f.db.CountDeliveriesUpTo(c.ctx, c.f, 100)
				must(t, err)
				if n != len(c.want) {
					t.Errorf("%s: CountDeliveriesUpTo = %d, want %d", c.name, n, len(c.want))
				}
			}
			if n, err := f.db.CountDeliveriesUpTo(f.ctx, herald.DeliveryFilter{}, 4); err != nil || n != 4 {
				t.Errorf("CountDeliveriesUpTo 4 of 6 = %d %v, want 4", n, err)
			}
			for name, bad := range map[string]herald.DeliveryFilter{
				"channel": {Channel: "fax"},
				"to":      {From: f.t0, To: f.t0},
			} {
				if _, _, err := f.db.FindDeliveries(f.ctx, bad, herald.Page{}); herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != name {
					t.Errorf("filter %+v: %v, want invalid naming %s", bad, err, name)
				}
			}
		})
	}
}

// The log tells two webhooks to the same host apart by their names, and
// names the source, event type and recipient, in one query; a token of
// another project learns no name.
func TestNameDeliveries(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			f := newLogFixture(t, dialect)
			ds, _, err := f.db.FindDeliveriesNewest(f.ctx, herald.DeliveryFilter{}, herald.Page{})
			must(t, err)
			es, err := f.db.NameDeliveries(f.ctx, ds)
			must(t, err)
			if len(es) != len(ds) {
				t.Fatalf("%d entries for %d deliveries", len(es), len(ds))
			}
			want := map[string]herald.DeliveryEntry{
				"ops1":  {ProjectID: f.a.ID, NotifierName: "Ops hook", SourceID: f.checkout.ID, SourceName: "Checkout", EventType: "build.failed"},
				"dev1":  {ProjectID: f.a.ID, NotifierName: "Dev hook", SourceID: f.checkout.ID, SourceName: "Checkout", EventType: "build.failed", Recipient: "Team room"},
				"mail1": {ProjectID: f.a.ID, NotifierName: "Mail", SourceID: f.checkout.ID, SourceName: "Checkout", EventType: "build.failed", Recipient: "Alice Liddell"},
				"mail2": {ProjectID: f.a.ID, NotifierName: "Mail", SourceID: f.billing.ID, SourceName: "Billing", EventType: "build.failed", Recipient: "Alice Liddell"},
				"ops2":  {ProjectID: f.a.ID, NotifierName: "Ops hook", SourceID: f.billing.ID, SourceName: "Billing", EventType: "build.failed"},
				"b":     {ProjectID: f.b.ID, NotifierName: "B hook", SourceName: "Other", EventType: "build.failed"},
			}
			for i, e := range es {
				if e.Delivery != ds[i] {
					t.Fatalf("entry %d is not delivery %d", i, ds[i].ID)
				}
				name := f.names(ds[i : i+1])[0]
				w := want[name]
				w.Delivery = e.Delivery
				if name == "b" {
					w.SourceID = e.SourceID
				}
				if *e != w {
					t.Errorf("%s: %+v, want %+v", name, *e, w)
				}
			}
			es, err = f.db.NameDeliveries(f.scoped(f.b, herald.PermSettingsRead), ds)
			must(t, err)
			for i, e := range es {
				if name := f.names(ds[i : i+1])[0]; name != "b" && (e.NotifierName != "" || e.SourceName != "" || e.Recipient != "") {
					t.Errorf("a token of project B named A's delivery %s: %+v", name, *e)
				}
			}
		})
	}
}

// A bulk retry re-queues exactly the dead deliveries of the filter, with
// their jobs, and none of another project's for a scoped token.
func TestRetryDeliveries(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			f := newLogFixture(t, dialect)
			status := func() map[string]string {
				out := map[string]string{}
				for name, id := range f.d {
					d, err := f.db.FindDeliveryByID(f.ctx, id)
					must(t, err)
					out[name] = d.Status
					if d.Status == herald.StatusPending && d.Attempts != 0 {
						t.Errorf("retried %s has %d attempts, want 0", name, d.Attempts)
					}
				}
				return out
			}
			check := func(step string, got herald.BulkRetry, err error, n int, want map[string]string) {
				t.Helper()
				must(t, err)
				if got.Retried != n || got.More {
					t.Errorf("%s: %+v, want %d retried and no more", step, got, n)
				}
				if st := status(); !mapsEqual(st, want) {
					t.Errorf("%s: statuses %v, want %v", step, st, want)
				}
			}
			before := deliverJobIDs(t, f.db) // the fan-out's
			r, err := f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{NotifierID: f.ops.ID})
			check("the ops hook's dead", r, err, 2, map[string]string{"ops1": "pending", "ops2": "pending", "dev1": "dead", "mail1": "failed", "mail2": "delivered", "b": "dead"})
			jobs := deliverJobIDs(t, f.db)
			for _, id := range before {
				if i := slices.Index(jobs, id); i >= 0 {
					jobs = slices.Delete(jobs, i, i+1)
				}
			}
			if !slices.Equal(jobs, []int64{f.d["ops1"], f.d["ops2"]}) {
				t.Errorf("deliver jobs carry %v, want ops1 and ops2 (%d, %d)", jobs, f.d["ops1"], f.d["ops2"])
			}

			// A token of project A retrying everything dead leaves B's.
			r, err = f.db.RetryDeliveries(f.scoped(f.a, herald.PermEventsWrite), herald.DeliveryFilter{})
			check("project A's token, everything dead", r, err, 1, map[string]string{"ops1": "pending", "ops2": "pending", "dev1": "pending", "mail1": "failed", "mail2": "delivered", "b": "dead"})

			r, err = f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{Status: herald.StatusFailed})
			check("failed", r, err, 1, map[string]string{"ops1": "pending", "ops2": "pending", "dev1": "pending", "mail1": "pending", "mail2": "delivered", "b": "dead"})

			for _, st := range []string{herald.StatusDelivered, herald.StatusPending} {
				if _, err := f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{Status: st}); herald.ErrorCode(err) != herald.EINVALID {
					t.Errorf("retrying %s deliveries: %v, want invalid", st, err)
				}
			}
			r, err = f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{})
			check("the rest", r, err, 1, map[string]string{"ops1": "pending", "ops2": "pending", "dev1": "pending", "mail1": "pending", "mail2": "delivered", "b": "pending"})
		})
	}
}

// One call retries at most the bound and says there is more. Not
// parallel: it lowers the package's bound.
func TestRetryDeliveries_Bounded(t *testing.T) {
	restore := store.SetMaxBulkRetry(2)
	defer restore()
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newLogFixture(t, dialect)
			r, err := f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{})
			must(t, err)
			if r.Retried != 2 || !r.More {
				t.Fatalf("first call: %+v, want 2 and more", r)
			}
			r, err = f.db.RetryDeliveries(f.ctx, herald.DeliveryFilter{})
			must(t, err)
			if r.Retried != 2 || r.More {
				t.Fatalf("second call: %+v, want the last 2 and no more", r)
			}
			if ds, _, _ := f.db.FindDeliveries(f.ctx, herald.DeliveryFilter{Status: herald.StatusDead}, herald.Page{}); len(ds) != 0 {
				t.Fatalf("%d dead left", len(ds))
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// deliverJobIDs returns the delivery ids the deliver jobs carry, sorted.
func deliverJobIDs(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	args := "CAST(args AS TEXT)"
	if db.Dialect() == store.DialectSQLite {
		args = "json(args)"
	}
	rows, err := db.SQL().Query(`SELECT ` + args + ` FROM river_job WHERE kind = 'herald.deliver'`)
	must(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var raw string
		must(t, rows.Scan(&raw))
		var a store.DeliverArgs
		must(t, json.Unmarshal([]byte(raw), &a))
		out = append(out, a.DeliveryIDs...)
	}
	must(t, rows.Err())
	slices.Sort(out)
	return out
}
