package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// FanoutArgs is the job that turns accepted events into deliveries.
type FanoutArgs struct {
	TenantID int64   `json:"tenant_id"`
	EventIDs []int64 `json:"event_ids"`
}

// Kind names the job for River.
func (FanoutArgs) Kind() string { return "herald.fanout" }

// DeliverArgs is the job that sends a batch of pending deliveries. One job
// carries many deliveries; a delivery gets a job of its own only when it
// must be retried.
type DeliverArgs struct {
	TenantID    int64   `json:"tenant_id"`
	DeliveryIDs []int64 `json:"delivery_ids"`
}

// Kind names the job for River.
func (DeliverArgs) Kind() string { return "herald.deliver" }

// DeliverBatch is how many deliveries one deliver job carries.
const DeliverBatch = 500

// RiverDriver returns the River driver over db's write pool: riversqlite on
// SQLite, riverdatabasesql on PostgreSQL (the pool is pgx through
// database/sql, so a job joins the very *sql.Tx that writes its event).
// Either listens for new jobs instead of polling (wake.go).
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] { return db.river }

// RiverMiddleware is the middleware every River client over db uses (the
// engine's too): the store's Config.RiverMiddleware.
func (db *DB) RiverMiddleware() []rivertype.Middleware { return db.riverMiddleware }

// jobs returns the insert-only River client the store enqueues through.
func (db *DB) jobs() (*river.Client[*sql.Tx], error) {
	db.jobsOnce.Do(func() {
		db.jobClient, db.jobErr = river.NewClient(db.RiverDriver(), &river.Config{Logger: db.logger, Middleware: db.riverMiddleware})
	})
	return db.jobClient, db.jobErr
}

// insertJobs enqueues jobs in tx: they run only if tx commits, and River
// is woken then (or told when a scheduled one falls due).
func (tx *Tx) insertJobs(params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	c, err := tx.db.jobs()
	if err != nil {
		return err
	}
	if _, err = c.InsertManyTx(tx.ctx, tx.tx, params); err != nil {
		return err
	}
	now := false
	for _, p := range params {
		if p.InsertOpts != nil && p.InsertOpts.ScheduledAt.After(tx.now) {
			tx.fallsDue(p.InsertOpts.ScheduledAt)
		} else {
			now = true
		}
	}
	if now {
		return tx.enqueued()
	}
	return nil
}

// deliverJobs builds the jobs that send ids, DeliverBatch at a time.
func deliverJobs(tenantID int64, ids []int64, at time.Time) []river.InsertManyParams {
	var out []river.InsertManyParams
	for len(ids) > 0 {
		n := min(len(ids), DeliverBatch)
		p := river.InsertManyParams{Args: DeliverArgs{TenantID: tenantID, DeliveryIDs: ids[:n:n]}}
		if !at.IsZero() {
			p.InsertOpts = &river.InsertOpts{ScheduledAt: at}
		}
		out = append(out, p)
		ids = ids[n:]
	}
	return out
}

// migrateRiver applies River's own migrations.
func (db *DB) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	return nil
}
