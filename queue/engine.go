// Package queue is Herald's delivery engine on River: the fan-out worker
// turns an accepted event into deliveries (recipients resolved, one
// message rendered per channel), the deliver worker sends batches of them
// over the channels and retries failures with backoff, and any number of
// nodes on one database share the work.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel/senders"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config tunes the engine; zero values take the defaults.
type Config struct {
	// MaxAttempts is how many times a delivery is tried before it is dead
	// (default 5).
	MaxAttempts int
	// BackoffBase is the wait after the first failure; each further failure
	// doubles it, with ±20% jitter, up to BackoffMax (defaults 5 s, 1 h).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// AllowPrivateTargets lets webhooks, robots and SMTP relays reach loopback and
	// private addresses (HERALD_ALLOW_PRIVATE_TARGETS=true; tests).
	AllowPrivateTargets bool
	// Workers is how many jobs a node works at once (default 8), and
	// SendConcurrency how many sends one deliver job runs at once
	// (default 32).
	Workers         int
	SendConcurrency int
	// PollInterval is how often a node looks for jobs it was not told of
	// (default 5 s): a node is woken by the commits of this process that
	// enqueue jobs and, on PostgreSQL, by every node's (LISTEN/NOTIFY), so
	// this bounds only what neither reaches — a job another process wrote
	// into the SQLite file, a notification lost while the listener
	// reconnected.
	PollInterval time.Duration
	// HTTPClient overrides the guarded client every HTTP channel uses
	// (when Senders is nil).
	HTTPClient *http.Client
	// Senders is the sender factory shared with OTP and the console; nil
	// builds one over db's shared rate limiter.
	Senders *senders.Factory
	Logger  *slog.Logger
	// Metrics records deliveries, attempts, rate-limit waits and fan-out
	// sizes (package metrics); nil records nothing.
	Metrics Metrics
	// Tracer makes a span of each delivery attempt, under the deliver
	// job's (package tracing); nil makes none.
	Tracer trace.TracerProvider
	// ID names this node among those sharing the database.
	ID string
	// Lease is how long a claimed delivery or event belongs to the node
	// that claimed it without a heartbeat (default 10 s): a node that dies
	// holding work loses it to the others this long after its last
	// heartbeat. DispatchGrace is how long a new delivery or event waits
	// for the job enqueued with it before any node's dispatcher takes it
	// (default 10 s).
	Lease         time.Duration
	DispatchGrace time.Duration
	// IdleWait is the longest the dispatcher waits between rounds when it
	// is told of nothing (default the least of 5 s, Lease/2 and
	// DispatchGrace/2). A round reads when the earliest work of any node
	// falls due and the dispatcher sleeps until then, woken sooner by this
	// process's commits; IdleWait bounds how late it learns of what other
	// nodes wrote after that read, such as the claim of a node about to
	// die (found once its lease is past, as IdleWait is under the lease).
	IdleWait time.Duration
	// SuspendAfter is how long a node works no job before it stops
	// River's client, until there is work again (default 30 s; see
	// suspend.go).
	SuspendAfter time.Duration
	// NewStaffSweep is how often an active new-staff push looks for
	// users created since its last run (default 1 min).
	NewStaffSweep time.Duration
	// Now is the clock reminders are scheduled and sent by, River's too
	// (tests move it instead of waiting); nil means time.Now.
	Now func() time.Time
	// PublicURL is where people reach Herald (--public-url). With
	// UnsubscribeKey (herald.DeriveKey of the secret key, "unsubscribe"),
	// every email carries its recipient's one-click unsubscribe link
	// under it (RFC 8058); without either, no such link.
	PublicURL      string
	UnsubscribeKey []byte
}

// Engine works fan-out and deliver jobs.
type Engine struct {
	db      *store.DB
	cfg     Config
	client  *river.Client[*sql.Tx]
	senders *senders.Factory
	logger  *slog.Logger
	metrics Metrics
	tracer  trace.Tracer

	stop chan struct{}
	done chan struct{}

	// ctx is what Start was given, which the client is started with
	// again after a suspension (suspend.go); working says whether it
	// runs, activity counts its jobs, suspendedAt (the dispatcher's) is
	// when it last stopped.
	ctx         context.Context
	working     atomic.Bool
	activity    *activity
	suspendedAt time.Time
}

// New builds an engine over db; Start runs it.
func New(db *store.DB, cfg Config) (*Engine, error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 5 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.SendConcurrency <= 0 {
		cfg.SendConcurrency = 32
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.NewStaffSweep <= 0 {
		cfg.NewStaffSweep = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = store.DefaultLease
	}
	if cfg.DispatchGrace <= 0 {
		cfg.DispatchGrace = 10 * time.Second
	}
	if cfg.IdleWait <= 0 {
		cfg.IdleWait = min(5*time.Second, cfg.Lease/2, cfg.DispatchGrace/2)
	}
	if cfg.SuspendAfter <= 0 {
		cfg.SuspendAfter = 30 * time.Second
	}
	e := &Engine{db: db, cfg: cfg, logger: cfg.Logger, senders: cfg.Senders, metrics: cfg.Metrics, activity: &activity{}}
	if e.metrics == nil {
		e.metrics = noMetrics{}
	}
	tp := cfg.Tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	e.tracer = tp.Tracer("github.com/heraldhq/herald/queue")
	if e.senders == nil {
		e.senders = senders.New(senders.Options{AllowPrivateTargets: cfg.AllowPrivateTargets, HTTPClient: cfg.HTTPClient, Limiter: db})
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &fanoutWorker{e: e})
	river.AddWorker(workers, &deliverWorker{e: e})
	river.AddWorker(workers, &pushWorker{e: e})
	river.AddWorker(workers, &pushNewStaffWorker{e: e})
	river.AddWorker(workers, &otpPurgeWorker{e: e})
	river.AddWorker(workers, &reminderWorker{e: e})
	var test river.TestConfig
	if cfg.Now != nil {
		test.Time = riverClock(cfg.Now)
	}
	client, err := river.NewClient(db.RiverDriver(), &river.Config{
		Test:              test,
		PeriodicJobs:      []*river.PeriodicJob{otpPurgeJob()},
		Middleware:        append(slices.Clone(db.RiverMiddleware()), e.activity),
		ID:                cfg.ID,
		Logger:            cfg.Logger,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 100*time.Millisecond),
		// River's rescuer is not how Herald recovers from a crash: leases
		// and the dispatcher are (see dispatch). A job rescued late finds
		// its work done or leased and does nothing; these bound how long a
		// dead node's job rows stay running.
		JobTimeout:           5 * time.Minute,
		RescueStuckJobsAfter: 6 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	e.client = client
	return e, nil
}

// Start starts working jobs and the dispatcher; it returns at once.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.client.Start(ctx); err != nil {
		return err
	}
	e.ctx = ctx
	e.working.Store(true)
	e.activity.last.Store(time.Now().UnixNano())
	e.suspendedAt = time.Now()
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go e.dispatch(context.WithoutCancel(ctx))
	return nil
}

// dispatchGap is the least time between two rounds of a node's
// dispatcher: while work is due but left to River's waiting jobs, rounds
// come this often.
const dispatchGap = 200 * time.Millisecond

// dispatchRetry is the wait after a round failed (the database is away).
const dispatchRetry = time.Second

// dispatch runs the node's dispatcher until Stop. Each round enqueues the
// deliveries that are due or whose claim or job was lost, and the events
// whose fan-out job was lost (store.DB.Dispatch), and learns when the
// earliest work left falls due; the dispatcher sleeps until then, or until
// this process's commits tell it of earlier work (store.DB.WatchDue), or
// for IdleWait at most.
func (e *Engine) dispatch(ctx context.Context) {
	defer close(e.done)
	watch := e.db.WatchDue()
	defer watch.Close()
	jobs, unwatch := e.db.WatchJobs()
	defer unwatch()
	var (
		next  time.Time // on the database's clock; zero: nothing known
		last  time.Time // the last round, on the monotonic clock
		timer = time.NewTimer(0)
	)
	defer timer.Stop()
	// arm sets the timer for next, IdleWait at most, dispatchGap after
	// the last round at least.
	arm := func() {
		wait := e.cfg.IdleWait
		if !next.IsZero() {
			wait = min(wait, next.Sub(e.db.Now()))
		}
		if at := e.suspendAt(); !at.IsZero() {
			wait = min(wait, time.Until(at))
		} else if !e.working.Load() {
			wait = min(wait, time.Until(e.suspendedAt.Add(maintainEvery)))
		}
		wait = max(wait, dispatchGap-time.Since(last))
		timer.Stop()
		select {
		case <-timer.C:
		default:
		}
		timer.Reset(wait)
	}
	for {
		select {
		case <-e.stop:
			return
		case <-watch.C():
			if at := watch.Take(); !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
				arm()
			}
			continue
		case <-jobs:
			if !e.working.Load() {
				e.resume()
				arm()
			}
			continue
		case <-timer.C:
		}
		if !e.working.Load() && time.Since(e.suspendedAt) >= maintainEvery {
			e.resume()
		}
		last = time.Now()
		d, err := e.db.Dispatch(ctx, e.cfg.DispatchGrace)
		if err != nil {
			e.logger.Warn("dispatch", "err", err)
			next = e.db.Now().Add(dispatchRetry)
			arm()
			continue
		}
		if d.Deliveries > 0 || d.Events > 0 {
			e.logger.Debug("dispatched", "deliveries", d.Deliveries, "events", d.Events)
		}
		if at := watch.Take(); !at.IsZero() && (d.Next.IsZero() || at.Before(d.Next)) {
			d.Next = at
		}
		next = d.Next
		if d.Waiting {
			// Jobs River enqueued itself (a periodic job on SQLite, a
			// scheduled job it made available early) told no one: wake
			// the workers, or start them.
			if err := e.db.WakeJobs(ctx); err != nil {
				e.logger.Warn("wake the job queue", "err", err)
			}
			e.resume()
		} else {
			e.maybeSuspend()
		}
		arm()
	}
}

// Stop finishes the jobs in hand and stops.
func (e *Engine) Stop(ctx context.Context) error {
	if e.stop != nil {
		close(e.stop)
		<-e.done
		e.stop = nil
	}
	if !e.working.Load() {
		return nil
	}
	e.working.Store(false)
	err := e.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return e.client.StopAndCancel(context.Background())
	}
	return err
}

// tenantContext acts as the engine inside one tenant.
func tenantContext(ctx context.Context, tenantID int64) context.Context {
	return herald.NewContextWithPrincipal(ctx, &herald.Principal{
		TenantID: tenantID, TokenName: "engine", Permissions: []herald.Permission{herald.PermAdmin},
	})
}

// backoff is the wait before attempt n+1 after n failures.
func (e *Engine) backoff(n int) time.Duration {
	d := e.cfg.BackoffBase
	for i := 1; i < n && d < e.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, e.cfg.BackoffMax)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}

// riverClock is Config.Now as River's clock: a scheduled job (a
// reminder) becomes due when the engine's clock says so.
type riverClock func() time.Time

func (c riverClock) Now() time.Time { return c() }

func (c riverClock) NowOrNil() *time.Time {
	t := c()
	return &t
}
