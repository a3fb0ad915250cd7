// Package bench holds Herald's performance scenarios, shared by the
// `herald bench` command and the Go benchmarks. Each scenario runs a
// baseline in the same process and reports Herald's figure as a ratio to
// it, since these machines are too noisy for absolute numbers to compare
// across runs.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
)

// Result is one scenario's figures.
type Result struct {
	Name     string
	Dialect  string
	N        int
	Elapsed  time.Duration
	Baseline time.Duration // the same amount of work done the bare way
	// P50 and P99 are request latencies, for the HTTP scenarios; BaseP50
	// and BaseP99 the baseline's.
	P50, P99, BaseP50, BaseP99 time.Duration
	// PeakRSS is the process's peak resident memory during the scenario,
	// in bytes, where the command could measure it (0: not measured).
	PeakRSS int64
}

// PerSecond is Herald's throughput.
func (r Result) PerSecond() float64 { return float64(r.N) / r.Elapsed.Seconds() }

// Ratio is Herald's time over the baseline's (1 = as fast as the bare way).
func (r Result) Ratio() float64 { return r.Elapsed.Seconds() / r.Baseline.Seconds() }

func (r Result) String() string {
	s := fmt.Sprintf("%-22s %-8s n=%-6d %9.1f ms  %9.0f/s  baseline %8.1f ms  ratio %.2f",
		r.Name, r.Dialect, r.N, msOf(r.Elapsed), r.PerSecond(), msOf(r.Baseline), r.Ratio())
	if r.P99 > 0 {
		s += fmt.Sprintf("  p50 %.2f ms p99 %.2f ms (baseline p50 %.2f p99 %.2f, p99 ratio %.2f)",
			msOf(r.P50), msOf(r.P99), msOf(r.BaseP50), msOf(r.BaseP99), r.P99.Seconds()/r.BaseP99.Seconds())
	}
	if r.PeakRSS > 0 {
		s += fmt.Sprintf("  peak RSS %d MB", r.PeakRSS>>20)
	}
	return s
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Progress receives a line per step of a long run.
type Progress func(format string, args ...any)

func tenant(ctx context.Context, db *store.DB, name string) (context.Context, error) {
	t, err := db.CreateTenant(ctx, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err != nil {
		return nil, err
	}
	return herald.NewContextWithPrincipal(ctx, &herald.Principal{TenantID: t.ID, TokenName: "bench", Permissions: []herald.Permission{herald.PermAdmin}}), nil
}

// project creates a project with one generic source and one notifier
// switched on for build.failed with recipients rs, deployed.
func project(ctx context.Context, db *store.DB, n *herald.Notifier, rs []herald.Recipient) (*herald.Source, error) {
	p := &herald.Project{Name: "bench"}
	if err := db.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceGeneric, ExternalID: "bench", Name: "bench job"}
	if err := db.CreateSource(ctx, src); err != nil {
		return nil, err
	}
	n.ProjectID = p.ID
	if err := db.CreateNotifier(ctx, n); err != nil {
		return nil, err
	}
	scope := herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}
	s := &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: n.ID, Enabled: true,
		Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: rs}}}}}
	if _, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, s); err != nil {
		return nil, err
	}
	_, err := db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: herald.NoRevisionCheck}}, false)
	return src, err
}

// waitDelivered polls until want deliveries of the tenant are delivered.
// Call it once the work is known to be done, or nearly: each poll counts
// the tenant's deliveries, and on PostgreSQL it also walks the index
// entries of rows not yet committed, so polling it throughout a run (as
// the harness did) cost the run itself a good part of a core.
func waitDelivered(ctx context.Context, db *store.DB, want int) error {
	return waitFor(func() (bool, error) {
		n, err := db.CountDeliveries(ctx, herald.StatusDelivered)
		return n >= want, err
	}, func() string { return fmt.Sprintf("%d deliveries delivered", want) })
}

// waitFor polls done every 5 ms until it reports true, 5 minutes at most.
func waitFor(done func() (bool, error), what func() string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: no %s after 5 minutes", what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FanoutInbox posts one event whose recipients are a department of n
// users, each told through the inbox, and times it from the event's
// acceptance until every inbox message is written. The baseline writes n
// rows of the same width in one transaction of multi-row INSERTs.
func FanoutInbox(ctx context.Context, db *store.DB, n int, progress Progress) (Result, error) {
	r := Result{Name: "fanout-inbox", Dialect: db.Dialect(), N: n}
	ctx, err := tenant(ctx, db, "fanout")
	if err != nil {
		return r, err
	}
	progress("fanout: creating %d users in one department", n)
	dept := &herald.Department{Code: "all", Name: "Everyone"}
	if err := db.CreateDepartment(ctx, dept); err != nil {
		return r, err
	}
	users := make([]*herald.User, n)
	for i := range users {
		users[i] = &herald.User{Code: fmt.Sprintf("user%06d", i), Name: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%06d@example.com", i), DepartmentIDs: []int64{dept.ID}}
	}
	if err := db.CreateUsers(ctx, users); err != nil {
		return r, err
	}
	src, err := project(ctx, db, &herald.Notifier{Type: herald.NotifierInbox, Name: "inbox"},
		[]herald.Recipient{{Type: herald.EntityOrganization, Code: "all", IncludeSubs: true}})
	if err != nil {
		return r, err
	}
	engine, err := queue.New(db, queue.Config{PollInterval: 5 * time.Millisecond, ID: "bench-fanout"})
	if err != nil {
		return r, err
	}
	if err := engine.Start(ctx); err != nil {
		return r, err
	}
	defer engine.Stop(context.Background())

	progress("fanout: posting the event")
	start := time.Now()
	if err := db.CreateEvents(ctx, []*herald.Event{{SourceID: src.ID, Type: "build.failed", Actor: "bench"}}); err != nil {
		return r, err
	}
	// The fan-out writes every inbox message and delivery in one
	// transaction: once the last user's message shows, all have.
	last := users[len(users)-1].ID
	if err := waitFor(func() (bool, error) {
		msgs, _, err := db.FindInbox(ctx, last, herald.InboxFilter{}, herald.Page{Limit: 1})
		return len(msgs) > 0, err
	}, func() string { return "inbox message" }); err != nil {
		return r, err
	}
	if err := waitDelivered(ctx, db, n); err != nil {
		return r, err
	}
	r.Elapsed = time.Since(start)

	progress("fanout: baseline (%d bare rows in one transaction)", n)
	r.Baseline, err = baselineInsert(ctx, db, n)
	return r, err
}

// Webhooks posts n events, each causing one signed webhook delivery to a
// loopback sink, and times them from acceptance until all are delivered.
// The baseline POSTs n bodies of the same size to the same sink with the
// same concurrency from a bare net/http client.
func Webhooks(ctx context.Context, db *store.DB, n int, progress Progress) (Result, error) {
	r := Result{Name: "webhook-deliveries", Dialect: db.Dialect(), N: n}
	ctx, err := tenant(ctx, db, "webhooks")
	if err != nil {
		return r, err
	}
	var received atomic.Int64
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go hs.Serve(sink)
	defer hs.Close()
	url := "http://" + sink.Addr().String() + "/hook"

	src, err := project(ctx, db, &herald.Notifier{Type: herald.NotifierWebhook, Name: "sink",
		Config: herald.NotifierConfig{URL: url}, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, nil)
	if err != nil {
		return r, err
	}
	engine, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 5 * time.Millisecond, ID: "bench-webhooks"})
	if err != nil {
		return r, err
	}
	if err := engine.Start(ctx); err != nil {
		return r, err
	}
	defer engine.Stop(context.Background())

	progress("webhooks: posting %d events in batches of %d", n, herald.MaxEventBatch)
	start := time.Now()
	for i := 0; i < n; i += herald.MaxEventBatch {
		batch := make([]*herald.Event, 0, herald.MaxEventBatch)
		for j := i; j < min(n, i+herald.MaxEventBatch); j++ {
			batch = append(batch, &herald.Event{SourceID: src.ID, Type: "build.failed", Actor: "bench"})
		}
		if err := db.CreateEvents(ctx, batch); err != nil {
			return r, err
		}
	}
	// The sink's count first (no database read), then the statuses the
	// last sends wrote.
	if err := waitFor(func() (bool, error) { return received.Load() >= int64(n), nil },
		func() string { return fmt.Sprintf("%d webhooks received", n) }); err != nil {
		return r, err
	}
	if err := waitDelivered(ctx, db, n); err != nil {
		return r, err
	}
	r.Elapsed = time.Since(start)

	progress("webhooks: baseline (%d bare POSTs)", n)
	body := strings.Repeat("x", 400)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	start = time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	r.Baseline = time.Since(start)
	select {
	case err := <-errs:
		return r, err
	default:
	}
	return r, nil
}

// baselineInsert times writing n inbox-sized rows into a scratch table in
// one transaction of 400-row INSERTs: the floor under any fan-out.
func baselineInsert(ctx context.Context, db *store.DB, n int) (time.Duration, error) {
	pool := db.SQL()
	table := fmt.Sprintf("bench_baseline_%d", time.Now().UnixNano())
	if _, err := pool.ExecContext(ctx, "CREATE TABLE "+table+" (id BIGINT, user_id BIGINT, title TEXT, body TEXT, created_at BIGINT)"); err != nil {
		return 0, err
	}
	defer pool.ExecContext(context.Background(), "DROP TABLE "+table)
	start := time.Now()
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for i := 0; i < n; i += 400 {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (id, user_id, title, body, created_at) VALUES ")
		var args []any
		for j := i; j < min(n, i+400); j++ {
			if j > i {
				b.WriteString(", ")
			}
			b.WriteString(placeholders(db.Dialect(), len(args), 5))
			args = append(args, j, j, "Build failed: bench job", "Build failed: bench job\nBy: bench\nTime: now\n", time.Now().UnixMilli())
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// placeholders writes one row's placeholders in the dialect's style.
func placeholders(dialect string, offset, n int) string {
	parts := make([]string, n)
	for i := range parts {
		if dialect == store.DialectPostgres {
			parts[i] = fmt.Sprintf("$%d", offset+i+1)
		} else {
			parts[i] = "?"
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
