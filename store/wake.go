package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// An idle node is told of its work instead of polling for it.
//
//   - Jobs to run now. A transaction that enqueues them wakes, once it
//     commits, the River clients that work jobs: on PostgreSQL by a
//     pg_notify on River's insert channel, which every node's River hears
//     on a LISTEN connection (riverdatabasesql with a pgx listener); on
//     SQLite, where one process works the file, in-process (River's SQLite
//     listener would poll a table every 50 ms, so the driver here listens
//     to this process instead). Every such transaction notifies: River's
//     own insert notification is rate-limited per client, and a job
//     committed just after one would wait for the next poll.
//   - Work that falls due later. A transaction that writes a time at which
//     the dispatcher must act (a retry, a rate-limit slot, the end of quiet
//     hours, a scheduled job) tells this process's dispatchers (WatchDue)
//     once it commits; each Dispatch round also reads from the database
//     when the earliest work of any node falls due (Dispatched.Next).
//
// What neither reaches — a job another process writes into the SQLite
// file, a notification lost while a listener reconnects, a node that dies
// — is found by the engine's slow fallback polls (queue.Config).

// riverInsertTopic and riverInsertPayload are River's notification of new
// jobs in the default queue, the only queue Herald's jobs use.
const (
	riverInsertTopic   = "river_insert"
	riverInsertPayload = `{"queue": "` + river.QueueDefault + `"}`
)

// wakeHub holds the listeners and due-time watches of a DB's process. The
// zero value is ready.
type wakeHub struct {
	mu        sync.Mutex
	listeners map[*jobListener]struct{}
	watches   map[*DueWatch]struct{}
	jobs      map[chan struct{}]struct{}
}

// jobsAvailable wakes the in-process River listeners (SQLite) and the
// engines watching for jobs (WatchJobs).
func (h *wakeHub) jobsAvailable() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		wake(l.ch)
	}
	for ch := range h.jobs {
		wake(ch)
	}
}

// WakeJobs wakes the River workers as a commit that enqueued jobs does,
// for jobs that are waiting but told no one: River's periodic jobs (on
// SQLite), and scheduled jobs River's scheduler made available ahead of
// their time, which on PostgreSQL no producer fetches at that time but
// on this notification (or its slow poll).
func (db *DB) WakeJobs(ctx context.Context) error {
	if db.dialect == DialectPostgres {
		if _, err := db.write.ExecContext(ctx, notifyJobs); err != nil {
			return fmt.Errorf("store: notify waiting jobs: %w", err)
		}
	}
	db.wake.jobsAvailable()
	return nil
}

// notifyJobs is River's notification of new jobs, on the channel its
// listener LISTENs on: the schema of the search path, a dot, the topic.
const notifyJobs = `SELECT pg_notify(concat(current_schema(), '.` + riverInsertTopic + `'), '` + riverInsertPayload + `')`

// WatchJobs returns a channel that receives when a transaction of this
// process that enqueued jobs to run now has committed (an engine whose
// River client is stopped starts it then), and the func that ends the
// watch.
func (db *DB) WatchJobs() (<-chan struct{}, func()) {
	h, ch := &db.wake, make(chan struct{}, 1)
	h.mu.Lock()
	if h.jobs == nil {
		h.jobs = map[chan struct{}]struct{}{}
	}
	h.jobs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.jobs, ch)
	}
}

// due tells the watches that work falls due at at.
func (h *wakeHub) due(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watches {
		w.tell(at)
	}
}

// enqueued records that tx enqueued jobs to run now: River's workers are
// woken when it commits.
func (tx *Tx) enqueued() error {
	if tx.jobsNow {
		return nil
	}
	tx.jobsNow = true
	if tx.db.dialect == DialectPostgres {
		if _, err := tx.conn().exec(notifyJobs); err != nil {
			return fmt.Errorf("store: notify new jobs: %w", err)
		}
	}
	tx.committed = append(tx.committed, tx.db.wake.jobsAvailable)
	return nil
}

// fallsDue records that tx makes work due at at: the dispatchers of this
// process are told when it commits.
func (tx *Tx) fallsDue(at time.Time) {
	if at.IsZero() {
		return
	}
	if tx.dueAt.IsZero() {
		tx.committed = append(tx.committed, func() { tx.db.wake.due(tx.dueAt) })
	}
	if tx.dueAt.IsZero() || at.Before(tx.dueAt) {
		tx.dueAt = at
	}
}

// DueWatch tells a dispatcher when work falls due, as transactions of this
// process write it.
type DueWatch struct {
	hub *wakeHub
	c   chan struct{}
	mu  sync.Mutex
	at  time.Time
}

// WatchDue starts a watch; Close ends it.
func (db *DB) WatchDue() *DueWatch {
	w := &DueWatch{hub: &db.wake, c: make(chan struct{}, 1)}
	db.wake.mu.Lock()
	if db.wake.watches == nil {
		db.wake.watches = map[*DueWatch]struct{}{}
	}
	db.wake.watches[w] = struct{}{}
	db.wake.mu.Unlock()
	return w
}

// C receives when a time was told since the last Take.
func (w *DueWatch) C() <-chan struct{} { return w.c }

// Take returns the earliest time told since the last Take, or zero.
func (w *DueWatch) Take() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := w.at
	w.at = time.Time{}
	return at
}

func (w *DueWatch) tell(at time.Time) {
	w.mu.Lock()
	if w.at.IsZero() || at.Before(w.at) {
		w.at = at
	}
	w.mu.Unlock()
	wake(w.c)
}

// Close ends the watch.
func (w *DueWatch) Close() {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	delete(w.hub.watches, w)
}

// riverDriver builds the River driver over db's write pool (see
// RiverDriver).
func (db *DB) riverDriver(ctx context.Context) (riverdriver.Driver[*sql.Tx], error) {
	if db.dialect == DialectPostgres {
		cfg, err := pgxpool.ParseConfig(db.dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		// River takes the connection it listens on out of the pool for
		// good; the pool connects only then.
		cfg.MinConns, cfg.MaxConns = 0, 1
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db.listenPool = pool
		return riverdatabasesql.NewWithPgxListener(db.write, pool), nil
	}
	return sqliteRiver{Driver: riversqlite.New(db.write), hub: &db.wake}, nil
}

// sqliteRiver is River's SQLite driver with an in-process listener: River
// hears of new jobs from this process's commits (wakeHub) rather than
// from a notification table it would poll. River's own notifications (of
// its rate-limited inserts, its scheduler's moves) are not written: the
// commits and the dispatcher wake it instead.
type sqliteRiver struct {
	*riversqlite.Driver
	hub *wakeHub
}

func (d sqliteRiver) SupportsListener() bool     { return true }
func (d sqliteRiver) SupportsListenNotify() bool { return false }

func (d sqliteRiver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &jobListener{hub: d.hub, schema: params.Schema, ch: make(chan struct{}, 1), topics: map[string]bool{}}
}

// jobListener is a River listener fed by this process's commits.
type jobListener struct {
	hub    *wakeHub
	schema string
	ch     chan struct{}

	mu     sync.Mutex
	topics map[string]bool
}

func (l *jobListener) Connect(context.Context) error {
	l.hub.mu.Lock()
	defer l.hub.mu.Unlock()
	if l.hub.listeners == nil {
		l.hub.listeners = map[*jobListener]struct{}{}
	}
	l.hub.listeners[l] = struct{}{}
	return nil
}

func (l *jobListener) Close(context.Context) error {
	l.hub.mu.Lock()
	defer l.hub.mu.Unlock()
	delete(l.hub.listeners, l)
	return nil
}

func (l *jobListener) Listen(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.topics[topic] = true
	return nil
}

func (l *jobListener) Unlisten(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.topics, topic)
	return nil
}

func (l *jobListener) Ping(context.Context) error     { return nil }
func (l *jobListener) Schema() string                 { return l.schema }
func (l *jobListener) SetAfterConnectExec(sql string) {}

func (l *jobListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.ch:
		}
		l.mu.Lock()
		listening := l.topics[riverInsertTopic]
		l.mu.Unlock()
		if listening {
			return &riverdriver.Notification{Topic: riverInsertTopic, Payload: riverInsertPayload}, nil
		}
	}
}
