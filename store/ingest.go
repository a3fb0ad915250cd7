package store

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/heraldhq/herald"
	"github.com/riverqueue/river"
)

// Group commit for ingestion. Every CreateEvents call used to be a write
// transaction of its own: on SQLite one writer runs them one after the
// other, and each pays for its BEGIN, its commit and River's job insert,
// however few events it holds. Now concurrent calls share a transaction:
//
//   - A call joins a queue. If no batch is being written, the call leads:
//     it opens a transaction (on SQLite, once the writer is free), takes
//     the queued calls — up to ingestMaxEvents events, itself among them —
//     writes them, their fan-out jobs in one insert, and commits. A lone
//     call is thus written at once, as before.
//   - Calls that arrive while a batch is written wait for it to end; the
//     leader then hands the lead to the oldest of them, which writes them
//     all in the next batch. The window a batch gathers in is the time the
//     previous one took: longer under load, none when idle.
//   - A call returns when the transaction holding its events has
//     committed (or failed): every 202 still means durable.
//   - Each call keeps its own semantics. It is staged with its own
//     principal, in its own tenant (a batch may hold several tenants; every
//     row and job carries its call's tenant), and an idempotency key used
//     by an earlier call of the same batch answers with that call's event.
//     A call refused for its own reason (an unknown source, a key of
//     another project) before it wrote anything fails alone and the batch
//     goes on. Any other failure — a row the database rejects, a failed
//     commit — rolls the batch back, and every call of it is then written
//     in a transaction of its own, as before, so only the faulty call
//     fails.
//   - A call whose context ends while it waits in the queue leaves it;
//     once taken into a batch it waits for the batch's outcome.
//
// The transaction runs without the leader's cancellation: a client that
// goes away must not roll back the others' events.

// ingestMaxEvents bounds the events of one shared transaction (a call of
// more events is written in a batch of its own).
const ingestMaxEvents = herald.MaxEventBatch

type ingestState int8

const (
	ingestQueued ingestState = iota
	ingestTaken              // in a batch being written
	ingestDone
)

// ingestCall is one CreateEvents call.
type ingestCall struct {
	ctx    context.Context
	tenant int64
	// events are the caller's; the batch writes to copies (work) and copies
	// them back only once it has committed.
	events []*herald.Event
	work   []*herald.Event

	// state and lead are guarded by ingester.mu.
	state ingestState
	lead  bool          // the lead was handed to this call
	wake  chan struct{} // receives once when the lead is handed over
	done  chan struct{} // closed once err and alone are final

	err   error
	alone bool // the batch failed: write the call in a transaction of its own
}

// ingester queues CreateEvents calls into shared transactions.
type ingester struct {
	mu      sync.Mutex
	queue   []*ingestCall
	leading bool // a call leads: it writes batches until its own is written
}

// errNoBatch rolls back a transaction opened for calls that all left.
var errNoBatch = errors.New("store: no calls to write")

// submit writes events in a shared transaction and returns once it has
// committed.
func (g *ingester) submit(ctx context.Context, db *DB, tenantID int64, events []*herald.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &ingestCall{ctx: ctx, tenant: tenantID, events: events, wake: make(chan struct{}, 1), done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.leading {
		g.leading, c.lead = true, true
		c.wake <- struct{}{}
	}
	g.mu.Unlock()

	select {
	case <-c.done:
	case <-c.wake:
		g.lead(db, c)
	case <-ctx.Done():
		g.mu.Lock()
		if c.state == ingestQueued {
			g.removeLocked(c)
			if c.lead {
				g.handOffLocked()
			}
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		<-c.done // taken into a batch: its outcome is ours
	}
	if c.alone {
		return db.createEventsAlone(ctx, events)
	}
	return c.err
}

// lead writes batches until c's is written, then hands the lead on.
func (g *ingester) lead(db *DB, c *ingestCall) {
	defer func() {
		if r := recover(); r != nil {
			g.mu.Lock()
			if c.state == ingestQueued {
				g.removeLocked(c)
			}
			g.handOffLocked()
			g.mu.Unlock()
			panic(r)
		}
	}()
	for {
		g.flush(db, c.ctx)
		g.mu.Lock()
		if c.state != ingestQueued {
			g.handOffLocked()
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
	}
}

// handOffLocked gives the lead to the oldest queued call, or ends it.
func (g *ingester) handOffLocked() {
	if len(g.queue) == 0 {
		g.leading = false
		return
	}
	next := g.queue[0]
	next.lead = true
	next.wake <- struct{}{}
}

func (g *ingester) removeLocked(c *ingestCall) {
	if i := slices.Index(g.queue, c); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
	}
}

// take removes the oldest queued calls, up to ingestMaxEvents events (at
// least one call), from the queue; calls whose context has ended are
// answered with its error instead.
func (g *ingester) take() []*ingestCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	var (
		batch []*ingestCall
		n, i  int
	)
	for ; i < len(g.queue); i++ {
		c := g.queue[i]
		if err := c.ctx.Err(); err != nil {
			c.err, c.state = err, ingestDone
			close(c.done)
			continue
		}
		if len(batch) > 0 && n+len(c.events) > ingestMaxEvents {
			break
		}
		n += len(c.events)
		c.state = ingestTaken
		batch = append(batch, c)
	}
	g.queue = slices.Delete(g.queue, 0, i)
	return batch
}

// flush writes one batch of queued calls in a transaction and answers
// them.
func (g *ingester) flush(db *DB, ctx context.Context) {
	var (
		batch    []*ingestCall
		took     bool
		finished bool
	)
	defer func() {
		if !finished {
			// A panic: let every call of the batch try alone.
			g.finish(batch, errors.New("store: ingestion batch aborted"))
		}
	}()
	err := db.updateTenant(context.WithoutCancel(ctx), 0, func(tx *Tx) error {
		batch, took = g.take(), true
		if len(batch) == 0 {
			return errNoBatch
		}
		return db.writeBatch(tx, batch)
	})
	if !took {
		// The transaction did not begin: each call will meet the same
		// fault on its own, and report it.
		batch = g.take()
	}
	finished = true
	g.finish(batch, err)
}

// finish answers the calls of a batch: err is the shared transaction's
// outcome.
func (g *ingester) finish(batch []*ingestCall, err error) {
	for _, c := range batch {
		switch {
		case err != nil:
			c.err, c.alone = nil, true
		case c.err == nil:
			for i, e := range c.work {
				*c.events[i] = *e
			}
		}
	}
	g.mu.Lock()
	for _, c := range batch {
		c.state = ingestDone
	}
	g.mu.Unlock()
	for _, c := range batch {
		close(c.done)
	}
}

// writeBatch stages every call of batch in tx, each with its principal and
// tenant, then inserts the events without a key of them all and their
// fan-out jobs. A call refused for its own reason before it wrote a row
// gets its error and is left out; any other error fails the batch.
func (db *DB) writeBatch(tx *Tx, batch []*ingestCall) error {
	var (
		rows    []eventRow
		tenants []int64
		sources sourceMemo
		fresh   = map[int64][]int64{}
	)
	for _, c := range batch {
		c.work = make([]*herald.Event, len(c.events))
		for i, e := range c.events {
			cp := *e
			c.work[i] = &cp
		}
		cn := conn{q: tx.tx, db: db, ctx: tx.ctx, tenantID: c.tenant}
		plain, keyed, err := stageEvents(c.ctx, cn, tx.now, &sources, c.work)
		if err != nil {
			if len(keyed) > 0 || herald.ErrorCode(err) == herald.EINTERNAL {
				return err
			}
			c.err = interpretError(err)
			continue
		}
		if _, ok := fresh[c.tenant]; !ok {
			tenants = append(tenants, c.tenant)
		}
		fresh[c.tenant] = append(fresh[c.tenant], keyed...)
		for _, e := range plain {
			rows = append(rows, eventRow{tenantID: c.tenant, e: e})
		}
	}
	if err := insertEvents(conn{q: tx.tx, db: db, ctx: tx.ctx}, tx.now, rows); err != nil {
		return err
	}
	for _, r := range rows {
		fresh[r.tenantID] = append(fresh[r.tenantID], r.e.ID)
	}
	var jobs []river.InsertManyParams
	for _, t := range tenants {
		jobs = fanoutJobs(jobs, t, fresh[t])
	}
	return tx.insertJobs(jobs)
}
