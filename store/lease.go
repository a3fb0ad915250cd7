package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/heraldhq/herald"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
)

// Leases make the engine survive a kill -9 in seconds. A delivery a node
// claims (status sending) carries lease_until, which the node's heartbeat
// pushes forward while it sends; a new delivery or event waits up to a
// dispatch grace for the job enqueued with it. Past either, any node's
// dispatcher (Dispatch) takes the work again and enqueues a job for it. A
// pending delivery waiting for its retry or for a rate-limit slot has
// lease_until = its due time, so retries, too, are dispatched on time; so
// has a delivery deferred by quiet hours, which becomes pending then.

// DefaultLease is how long a claim holds without a heartbeat.
const DefaultLease = 10 * time.Second

// ClaimOptions tunes ClaimDeliveries.
type ClaimOptions struct {
	// Lease is how long the claim holds without a heartbeat (default
	// DefaultLease).
	Lease time.Duration
	// Pace names, for a notifier, the rate-limited target its sends go to;
	// a zero Pace sends without limit. A claimed delivery whose target has
	// no free slot goes back to pending until the slot frees, its attempt
	// uncounted, holding no worker. Nil paces nothing.
	Pace func(notifierID int64) (Pace, error)
	// Deferred, if set, is told of each claimed delivery sent back to
	// pending for want of a slot, and until when, once the claim commits
	// (the engine's metrics count rate-limit waits there).
	Deferred func(d *ClaimedDelivery, until time.Time)
}

func (o ClaimOptions) lease() time.Duration {
	if o.Lease > 0 {
		return o.Lease
	}
	return DefaultLease
}

// pace takes a rate-limit slot, in the claiming transaction, for each
// claimed delivery to a limited target, and sends back to pending those
// that get none; it returns the deliveries to send now.
func (tx *Tx) pace(claimed []*ClaimedDelivery, o ClaimOptions) ([]*ClaimedDelivery, error) {
	if o.Pace == nil || len(claimed) == 0 {
		return claimed, nil
	}
	paces := map[int64]Pace{}
	full := map[string]time.Time{} // targets found without a slot
	kept := claimed[:0]
	for _, d := range claimed {
		p, ok := paces[d.NotifierID]
		if !ok {
			var err error
			if p, err = o.Pace(d.NotifierID); err != nil {
				p = Pace{} // the send fails on its own
			}
			paces[d.NotifierID] = p
		}
		if p.Key == "" {
			kept = append(kept, d)
			continue
		}
		d.PaceKey, d.SlotAt = p.Key, tx.now
		until, refused := full[p.Key]
		if !refused {
			granted, at, err := tx.takeSlot(p.Key, p.Limits)
			if err != nil {
				return nil, err
			}
			if granted {
				kept = append(kept, d)
				continue
			}
			until, full[p.Key] = at, at
		}
		if _, err := tx.conn().exec(`UPDATE deliveries SET status = ?, attempts = attempts - 1, next_attempt_at = ?, lease_until = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, herald.StatusPending, ms(until), ms(until), ms(tx.now), tx.tenantID, d.ID); err != nil {
			return nil, err
		}
		tx.fallsDue(until)
		if o.Deferred != nil {
			tx.committed = append(tx.committed, func() { o.Deferred(d, until) })
		}
	}
	return kept, nil
}

// HeartbeatDeliveries pushes forward the lease of deliveries still being
// sent, so that no other node takes them while this one works.
func (db *DB) HeartbeatDeliveries(ctx context.Context, ids []int64, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	return db.update(ctx, func(tx *Tx) error {
		for chunk := range slices.Chunk(ids, 500) {
			args := append(append([]any{ms(tx.now.Add(lease))}, toAny(chunk)...), tx.tenantID, herald.StatusSending)
			if _, err := tx.conn().exec(`UPDATE deliveries SET lease_until = ? WHERE `+byIDs(len(chunk))+` AND status = ?`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// Dispatched is what one Dispatch round found and enqueued.
type Dispatched struct {
	Deliveries int // deliveries due, or whose claim or job was lost
	Events     int // events whose fan-out job was lost
	Jobs       int // River jobs made available on time
	// Next is when the earliest work the round left falls due, on any
	// node: a claim's lease, a retry or a rate-limit slot, the end of
	// quiet hours, a new delivery's or event's dispatch grace, a scheduled
	// River job; zero when nothing is pending. It may be past when work is
	// due but left to the jobs River still has waiting.
	Next time.Time
	// Waiting: River has jobs to work now (an engine whose River client
	// is stopped starts it).
	Waiting bool
}

// dispatchMax bounds one round's work.
const dispatchMax = 2000

// dueTimes is when each kind of work the dispatcher takes falls due (zero
// when there is none).
type dueTimes struct {
	leased   time.Time // a pending delivery's due time, a claim's lease
	fresh    time.Time // a new delivery whose job has not taken it, plus grace
	deferred time.Time // the end of a delivery's quiet hours
	events   time.Time // an event not fanned out, plus grace
	jobs     time.Time // a scheduled or retryable River job
	waiting  bool      // River has jobs to work now
}

func (d dueTimes) earliest() time.Time {
	var at time.Time
	for _, t := range []time.Time{d.leased, d.fresh, d.deferred, d.events, d.jobs} {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	return at
}

// due reads, in one statement of cheap index look-ups across tenants,
// when each kind of work falls due.
func (db *DB) due(ctx context.Context, grace time.Duration, now time.Time) (dueTimes, error) {
	jobMS := `CAST(CEIL(EXTRACT(EPOCH FROM MIN(scheduled_at)) * 1000) AS BIGINT)`
	var jobNow any = now
	if db.dialect == DialectSQLite {
		jobMS = `CAST(CEIL((julianday(MIN(scheduled_at)) - 2440587.5) * 86400000.0) AS INTEGER)`
		jobNow = now.Format("2006-01-02 15:04:05.000") // as riversqlite writes times
	}
	// The literal statuses match the partial indexes' conditions. River's
	// scheduler makes jobs available up to five seconds ahead of their
	// time, and nothing fetches them at it: those count too.
	c := conn{q: db.read, db: db, ctx: ctx}
	var v [7]sql.NullInt64
	err := c.queryRow(`SELECT
		(SELECT MIN(lease_until) FROM deliveries WHERE status IN ('pending', 'sending') AND lease_until IS NOT NULL),
		(SELECT MIN(updated_at) FROM deliveries WHERE status IN ('pending', 'sending') AND lease_until IS NULL AND status = 'pending'),
		(SELECT MIN(lease_until) FROM deliveries WHERE status = 'deferred'),
		(SELECT MIN(created_at) FROM events WHERE fanned_out_at IS NULL AND (fanout_lease_until IS NULL OR fanout_lease_until <= ?)),
		(SELECT `+jobMS+` FROM river_job WHERE state IN ('scheduled', 'retryable')),
		(SELECT `+jobMS+` FROM river_job WHERE state = 'available' AND scheduled_at > ?),
		(SELECT COUNT(*) FROM (SELECT 1 FROM river_job WHERE state = 'available' AND scheduled_at <= ? LIMIT 1) w)`,
		ms(now), jobNow, jobNow).Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6])
	if err != nil {
		return dueTimes{}, err
	}
	at := func(n sql.NullInt64, plus time.Duration) time.Time {
		if !n.Valid {
			return time.Time{}
		}
		return fromMS(n.Int64).Add(plus)
	}
	jobs := at(v[4], 0)
	if ahead := at(v[5], 0); !ahead.IsZero() && (jobs.IsZero() || ahead.Before(jobs)) {
		jobs = ahead
	}
	return dueTimes{leased: at(v[0], 0), fresh: at(v[1], grace), deferred: at(v[2], 0), events: at(v[3], grace), jobs: jobs,
		waiting: v[6].Int64 > 0}, nil
}

// Dispatch is one round of a node's dispatcher, across tenants. It reads
// when work falls due (Dispatched.Next) and, when some is due now, in one
// transaction enqueues a deliver job for every delivery that is due (a
// retry or a rate-limited send whose time has come) or whose owner is gone
// (a claim past its lease, a new delivery whose job nobody took within
// grace), and a fan-out job for every event not fanned out within grace,
// leasing each for grace so that the next round leaves it to that job,
// and makes River's scheduled jobs whose time has come available (River
// itself looks only every five seconds), so a push's send_at is kept to
// the second too. Any number of nodes may dispatch at once. A round with
// nothing due writes nothing.
func (db *DB) Dispatch(ctx context.Context, grace time.Duration) (Dispatched, error) {
	var out Dispatched
	now := db.now().UTC()
	due, err := db.due(ctx, grace, now)
	if err != nil {
		return out, err
	}
	if next := due.earliest(); next.IsZero() || next.After(now) {
		out.Next, out.Waiting = next, due.waiting
		return out, nil
	}
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err = db.updateTenant(ctx, 0, func(tx *Tx) error {
		c := tx.conn()
		now, leased := ms(tx.now), ms(tx.now.Add(grace))
		type owned struct{ id, tenant int64 }
		scan := func(q string, args ...any) ([]owned, error) {
			rows, err := c.query(q, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []owned
			for rows.Next() {
				var o owned
				if err := rows.Scan(&o.id, &o.tenant); err != nil {
					return nil, err
				}
				out = append(out, o)
			}
			return out, rows.Err()
		}
		// The literal statuses match the partial indexes' conditions.
		ds, err := scan(`SELECT id, tenant_id FROM deliveries WHERE status IN ('pending', 'sending') AND lease_until <= ?
			ORDER BY lease_until LIMIT ?`+lock, now, dispatchMax)
		if err != nil {
			return err
		}
		// Deliveries deferred by quiet hours whose end has come: they
		// become pending, due now, like a retry.
		deferred, err := scan(`SELECT id, tenant_id FROM deliveries WHERE status = 'deferred' AND lease_until <= ?
			ORDER BY lease_until LIMIT ?`+lock, now, dispatchMax)
		if err != nil {
			return err
		}
		ds = append(ds, deferred...)
		// New work whose job is still waiting in River's queue is not
		// lost, only late: while any job waits to be fetched, the nodes are
		// alive and busy, and taking over would only duplicate work. A job
		// a dead node held is running, not waiting.
		var waiting int
		err = c.queryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM river_job WHERE state = 'available' LIMIT 1) w`).Scan(&waiting)
		if err != nil {
			return err
		}
		var evs []owned
		if waiting == 0 {
			fresh, err := scan(`SELECT id, tenant_id FROM deliveries WHERE status = 'pending' AND lease_until IS NULL AND updated_at <= ?
				ORDER BY updated_at LIMIT ?`+lock, ms(tx.now.Add(-grace)), dispatchMax)
			if err != nil {
				return err
			}
			ds = append(ds, fresh...)
			evs, err = scan(`SELECT id, tenant_id FROM events WHERE fanned_out_at IS NULL AND created_at <= ?
				AND (fanout_lease_until IS NULL OR fanout_lease_until <= ?) ORDER BY created_at LIMIT ?`+lock, ms(tx.now.Add(-grace)), now, dispatchMax)
			if err != nil {
				return err
			}
		}
		var jobs []river.InsertManyParams
		byTenant := func(os []owned) (map[int64][]int64, []int64) {
			m := map[int64][]int64{}
			var tenants, all []int64
			for _, o := range os {
				if _, ok := m[o.tenant]; !ok {
					tenants = append(tenants, o.tenant)
				}
				m[o.tenant] = append(m[o.tenant], o.id)
				all = append(all, o.id)
			}
			return m, all
		}
		m, all := byTenant(ds)
		for chunk := range slices.Chunk(all, 500) {
			// A claim past its lease lost its attempt: the delivery is
			// pending again, due now.
			args := append([]any{herald.StatusPending, now, leased, now}, toAny(chunk)...)
			if _, err := c.exec(`UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = ?, updated_at = ? WHERE id IN (`+
				placeholders(len(chunk))+`)`, args...); err != nil {
				return err
			}
		}
		for tenant, ids := range m {
			jobs = append(jobs, deliverJobs(tenant, ids, time.Time{})...)
		}
		em, eall := byTenant(evs)
		for chunk := range slices.Chunk(eall, 500) {
			args := append([]any{leased}, toAny(chunk)...)
			if _, err := c.exec(`UPDATE events SET fanout_lease_until = ? WHERE id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
				return err
			}
		}
		for tenant, ids := range em {
			for chunk := range slices.Chunk(ids, fanoutBatch) {
				jobs = append(jobs, river.InsertManyParams{Args: FanoutArgs{TenantID: tenant, EventIDs: chunk}})
			}
		}
		out.Deliveries, out.Events = len(ds), len(evs)
		if err := tx.insertJobs(jobs); err != nil {
			return err
		}
		if due.jobs.IsZero() || due.jobs.After(tx.now) {
			return nil
		}
		res, err := db.river.UnwrapExecutor(tx.tx).JobSchedule(tx.ctx, &riverdriver.JobScheduleParams{Max: dispatchMax, Now: &tx.now})
		if err != nil {
			return err
		}
		out.Jobs = len(res)
		// River's own scheduler may have moved them first, and told no
		// one on SQLite: wake the workers either way.
		return tx.enqueued()
	})
	if err != nil {
		return out, err
	}
	if due, err = db.due(ctx, grace, db.now().UTC()); err != nil {
		return out, err
	}
	if out.Events > 0 {
		// Events leased now are not in the read above: their lease ends
		// after grace.
		due.events = now.Add(grace)
		if again := due.earliest(); !again.IsZero() && again.Before(due.events) {
			due.events = again
		}
	}
	out.Next, out.Waiting = due.earliest(), due.waiting
	return out, nil
}
