package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// ingestCall is one CreateEvents call of a test.
type ingestCall struct {
	ctx    context.Context
	events []*herald.Event
	err    error
}

// one returns a call of a single event.
func one(ctx context.Context, e *herald.Event) *ingestCall {
	return &ingestCall{ctx: ctx, events: []*herald.Event{e}}
}

// ingestTogether makes calls concurrently while the ingester is held, so
// that they queue, then lets them go: they are written in one batch.
func ingestTogether(t *testing.T, db *store.DB, calls ...*ingestCall) {
	t.Helper()
	release := store.HoldIngest(db)
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() { c.err = db.CreateEvents(c.ctx, c.events) })
	}
	waitQueued(t, db, len(calls))
	release()
	wg.Wait()
}

func waitQueued(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); store.QueuedIngest(db) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", store.QueuedIngest(db), n)
		}
	}
}

// fanouts returns the fan-out jobs enqueued so far.
func fanouts(t *testing.T, db *store.DB) []store.FanoutArgs {
	t.Helper()
	args := "CAST(args AS TEXT)"
	if db.Dialect() == store.DialectSQLite {
		args = "json(args)" // River keeps JSONB there
	}
	rows, err := db.SQL().Query(`SELECT ` + args + ` FROM river_job WHERE kind = 'herald.fanout' ORDER BY id`)
	must(t, err)
	defer rows.Close()
	var out []store.FanoutArgs
	for rows.Next() {
		var raw string
		must(t, rows.Scan(&raw))
		var a store.FanoutArgs
		must(t, json.Unmarshal([]byte(raw), &a))
		out = append(out, a)
	}
	must(t, rows.Err())
	return out
}

// fannedOut returns the ids of the events that have a fan-out job, by
// tenant.
func fannedOut(t *testing.T, db *store.DB) map[int64][]int64 {
	t.Helper()
	out := map[int64][]int64{}
	for _, a := range fanouts(t, db) {
		out[a.TenantID] = append(out[a.TenantID], a.EventIDs...)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

func sorted(ids []int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func countEvents(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	must(t, db.SQL().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n))
	return n
}

// TestCreateEvents_GroupCommit: concurrent calls share one transaction and
// one fan-out job, and each gets its own event back.
func TestCreateEvents_GroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		var calls []*ingestCall
		for i := range 40 {
			calls = append(calls, one(ctx, &herald.Event{SourceID: f.source.ID, Type: "build.failed", Actor: fmt.Sprintf("user%d", i)}))
		}
		ingestTogether(t, db, calls...)

		var ids []int64
		for i, c := range calls {
			must(t, c.err)
			e := c.events[0]
			if e.ID == 0 || e.ProjectID != f.project.ID || e.CreatedAt.IsZero() {
				t.Fatalf("call %d answered %+v", i, e)
			}
			got, err := db.FindEventByID(ctx, e.ID)
			must(t, err)
			if got.Actor != fmt.Sprintf("user%d", i) {
				t.Fatalf("call %d: event %d is %q's", i, e.ID, got.Actor)
			}
			ids = append(ids, e.ID)
		}
		if len(slices.Compact(sorted(ids))) != len(calls) {
			t.Fatalf("ids %v are not distinct", ids)
		}
		jobs := fanouts(t, db)
		if len(jobs) != 1 || !slices.Equal(sorted(jobs[0].EventIDs), sorted(ids)) {
			t.Fatalf("fan-out jobs %+v, want one of the %d events", jobs, len(ids))
		}
	})
}

// TestCreateEvents_ConcurrentCalls: many concurrent callers, unheld, each
// get their own event, stored and fanned out; callers that share an
// idempotency key get one event.
func TestCreateEvents_ConcurrentCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		const n = 300
		// Every third call has a key; two calls share each key.
		key := func(i int) string {
			if i%3 != 0 {
				return ""
			}
			return fmt.Sprintf("key-%d", i/6)
		}
		events := make([]*herald.Event, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			events[i] = &herald.Event{SourceID: f.source.ID, Type: "build.failed", Actor: fmt.Sprintf("user%d", i), IdempotencyKey: key(i)}
			wg.Go(func() { errs[i] = db.CreateEvents(ctx, []*herald.Event{events[i]}) })
		}
		wg.Wait()
		var ids []int64
		byKey := map[string][]*herald.Event{}
		for i, e := range events {
			must(t, errs[i])
			got, err := db.FindEventByID(ctx, e.ID)
			must(t, err)
			if got.Actor != e.Actor || got.IdempotencyKey != key(i) {
				t.Fatalf("call %d answered %+v, stored %+v", i, e, got)
			}
			if key(i) == "" {
				if e.Actor != fmt.Sprintf("user%d", i) || e.Duplicate {
					t.Fatalf("call %d answered %+v", i, e)
				}
			} else {
				byKey[key(i)] = append(byKey[key(i)], e)
			}
			if !e.Duplicate {
				ids = append(ids, e.ID)
			}
		}
		for k, es := range byKey {
			if len(es) != 2 || es[0].ID != es[1].ID || es[0].Duplicate == es[1].Duplicate {
				t.Fatalf("key %s answered %+v and %+v, want one event, once marked duplicate", k, es[0], es[1])
			}
		}
		const want = n - n/3/2
		if len(slices.Compact(sorted(ids))) != want || countEvents(t, db) != want {
			t.Fatalf("%d distinct ids, %d events stored, want %d", len(slices.Compact(sorted(ids))), countEvents(t, db), want)
		}
		tenant := herald.PrincipalFromContext(ctx).TenantID
		if got := fannedOut(t, db); len(got) != 1 || !slices.Equal(got[tenant], sorted(ids)) {
			t.Fatalf("fanned out %v, want the %d events", got, want)
		}
	})
}

// TestCreateEvents_DuplicateKeyInBatch: two calls of one batch with the
// same idempotency key get one event; the same key in another tenant is
// another event; a later call with the key gets the stored one.
func TestCreateEvents_DuplicateKeyInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acme := storetest.NewTenant(t, db, "acme")
		globex := storetest.NewTenant(t, db, "globex")
		fa, fg := newFixture(t, acme, db), newFixture(t, globex, db)
		first := one(acme, &herald.Event{SourceID: fa.source.ID, Type: "build.failed", Actor: "first", IdempotencyKey: "k1"})
		second := one(acme, &herald.Event{SourceID: fa.source.ID, Type: "build.failed", Actor: "second", IdempotencyKey: "k1"})
		other := one(globex, &herald.Event{SourceID: fg.source.ID, Type: "build.failed", Actor: "other", IdempotencyKey: "k1"})
		plain := one(acme, &herald.Event{SourceID: fa.source.ID, Type: "build.failed", Actor: "plain"})
		ingestTogether(t, db, first, second, other, plain)
		for _, c := range []*ingestCall{first, second, other, plain} {
			must(t, c.err)
		}
		// Whichever was queued first is stored; the other answers with it.
		a, b, o := first.events[0], second.events[0], other.events[0]
		if a.Duplicate {
			a, b = b, a
		}
		if a.ID != b.ID || a.Duplicate || !b.Duplicate || b.Actor != a.Actor {
			t.Fatalf("same key in one batch: %+v and %+v, want one event twice, the second marked duplicate", a, b)
		}
		if o.ID == a.ID || o.Duplicate || o.ProjectID != fg.project.ID {
			t.Fatalf("the key in another tenant answered %+v", o)
		}
		if countEvents(t, db) != 3 {
			t.Fatalf("%d events stored, want 3", countEvents(t, db))
		}
		want := map[int64][]int64{
			herald.PrincipalFromContext(acme).TenantID:   sorted([]int64{a.ID, plain.events[0].ID}),
			herald.PrincipalFromContext(globex).TenantID: {o.ID},
		}
		got := fannedOut(t, db)
		if len(got) != len(want) {
			t.Fatalf("fanned out %v, want %v", got, want)
		}
		for tenant, ids := range want {
			if !slices.Equal(got[tenant], ids) {
				t.Fatalf("fanned out %v, want %v", got, want)
			}
		}

		// Across batches.
		again := &herald.Event{SourceID: fa.source.ID, Type: "build.failed", Actor: "again", IdempotencyKey: "k1"}
		must(t, db.CreateEvents(acme, []*herald.Event{again}))
		if again.ID != a.ID || !again.Duplicate || again.Actor != a.Actor {
			t.Fatalf("a later call with the key answered %+v", again)
		}
	})
}

// TestCreateEvents_BadCallFailsAlone: a call refused for its own reason
// fails with that reason while the calls of its batch are stored.
func TestCreateEvents_BadCallFailsAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		other := &herald.Project{Name: "Other"}
		must(t, db.CreateProject(ctx, other))
		otherSrc := &herald.Source{ProjectID: other.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("b2", 16), Name: "other build"}
		must(t, db.CreateSource(ctx, otherSrc))
		p := *herald.PrincipalFromContext(ctx)
		p.ProjectID = f.project.ID
		scoped := herald.NewContextWithPrincipal(context.Background(), &p)
		must(t, db.CreateEvents(ctx, []*herald.Event{{SourceID: otherSrc.ID, Type: "build.failed", IdempotencyKey: "theirs"}}))
		before := countEvents(t, db)
		tenant := herald.PrincipalFromContext(ctx).TenantID
		stored := fannedOut(t, db)[tenant]

		good := func(actor string) *ingestCall {
			return one(ctx, &herald.Event{SourceID: f.source.ID, Type: "build.failed", Actor: actor})
		}
		cases := []struct {
			name string
			bad  func() *ingestCall
			code string
		}{
			{"unknown source", func() *ingestCall {
				return one(ctx, &herald.Event{SourceID: otherSrc.ID + 1000, Type: "build.failed"})
			}, herald.EINVALID},
			{"source out of the token's scope", func() *ingestCall {
				return one(scoped, &herald.Event{SourceID: otherSrc.ID, Type: "build.failed"})
			}, herald.EINVALID},
			{"key of another project's event", func() *ingestCall {
				return one(scoped, &herald.Event{SourceID: f.source.ID, Type: "build.failed", IdempotencyKey: "theirs"})
			}, herald.ECONFLICT},
			{"keyed event stored, then a later one refused", func() *ingestCall {
				return &ingestCall{ctx: ctx, events: []*herald.Event{
					{SourceID: f.source.ID, Type: "build.failed", IdempotencyKey: "half"},
					{SourceID: otherSrc.ID + 1000, Type: "build.failed"},
				}}
			}, herald.EINVALID},
			{"row the database rejects", func() *ingestCall {
				return one(ctx, &herald.Event{SourceID: f.source.ID, Type: "build.failed", Actor: "poison"})
			}, herald.EINTERNAL},
		}
		poison(t, db)
		for _, tc := range cases {
			calls := []*ingestCall{good("a"), good("b"), tc.bad(), good("c")}
			ingestTogether(t, db, calls...)
			if code := herald.ErrorCode(calls[2].err); code != tc.code {
				t.Fatalf("%s: the bad call answered %v, want %s", tc.name, calls[2].err, tc.code)
			}
			for _, c := range slices.Delete(slices.Clone(calls), 2, 3) {
				if c.err != nil {
					t.Fatalf("%s: a good call failed: %v", tc.name, c.err)
				}
				if _, err := db.FindEventByID(ctx, c.events[0].ID); err != nil {
					t.Fatalf("%s: event %+v: %v", tc.name, c.events[0], err)
				}
				stored = append(stored, c.events[0].ID)
			}
			before += 3
			if got := countEvents(t, db); got != before {
				t.Fatalf("%s: %d events stored, want %d", tc.name, got, before)
			}
			if got := fannedOut(t, db)[tenant]; !slices.Equal(got, sorted(stored)) {
				t.Fatalf("%s: fanned out %v, want %v", tc.name, got, sorted(stored))
			}
		}
	})
}

// poison makes the database refuse to store an event whose actor is
// "poison", as it would a row whose source was deleted meanwhile.
func poison(t *testing.T, db *store.DB) {
	t.Helper()
	var err error
	if db.Dialect() == store.DialectPostgres {
		_, err = db.SQL().Exec(`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.actor = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$`)
		if err == nil {
			_, err = db.SQL().Exec(`CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()`)
		}
	} else {
		_, err = db.SQL().Exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.actor = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`)
	}
	must(t, err)
}

// TestCreateEvents_DurableOnReturn: once CreateEvents returns, another
// handle on the database reads the event.
func TestCreateEvents_DurableOnReturn(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			url := storetest.NewURL(t, dialect)
			key := storetest.Key()
			open := func() *store.DB {
				db, err := store.Open(context.Background(), store.Config{URL: url, SecretKey: key})
				must(t, err)
				t.Cleanup(func() { db.Close() })
				return db
			}
			db, other := open(), open()
			must(t, db.Migrate(context.Background()))
			ctx := storetest.NewTenant(t, db, "acme")
			f := newFixture(t, ctx, db)
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i := range 64 {
				wg.Go(func() {
					e := &herald.Event{SourceID: f.source.ID, Type: "build.failed", Actor: fmt.Sprintf("user%d", i)}
					if err := db.CreateEvents(ctx, []*herald.Event{e}); err != nil {
						errs <- err
						return
					}
					if _, err := other.FindEventByID(ctx, e.ID); err != nil {
						errs <- fmt.Errorf("event %d answered, not readable elsewhere: %w", e.ID, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestCreateEvents_CanceledWhileQueued: a call whose context ends while it
// waits leaves the queue; nothing of it is stored.
func TestCreateEvents_CanceledWhileQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		release := store.HoldIngest(db)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() {
			done <- db.CreateEvents(cctx, []*herald.Event{{SourceID: f.source.ID, Type: "build.failed"}})
		}()
		waitQueued(t, db, 1)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled call answered %v", err)
		}
		if n := store.QueuedIngest(db); n != 0 {
			t.Fatalf("%d calls still queued", n)
		}
		release()
		e := &herald.Event{SourceID: f.source.ID, Type: "build.failed"}
		must(t, db.CreateEvents(ctx, []*herald.Event{e}))
		if n := countEvents(t, db); n != 1 {
			t.Fatalf("%d events stored, want 1", n)
		}
	})
}
