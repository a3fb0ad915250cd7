package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/riverqueue/river"
)

var (
	_ herald.EventService    = (*DB)(nil)
	_ herald.DeliveryService = (*DB)(nil)
	_ herald.InboxService    = (*DB)(nil)
)

// fanoutBatch is how many events one fan-out job carries.
const fanoutBatch = herald.MaxEventBatch

// CreateEvents stores events and enqueues their fan-out in one
// transaction, so an accepted event is never lost. Concurrent calls share
// that transaction (ingest.go): it returns once the transaction holding
// its events has committed.
func (db *DB) CreateEvents(ctx context.Context, events []*herald.Event) error {
	if len(events) == 0 || len(events) > herald.MaxEventBatch {
		return herald.Errorf(herald.EINVALID, "events", "send 1 to %d events", herald.MaxEventBatch)
	}
	for i, e := range events {
		if err := e.Validate(); err != nil {
			if len(events) > 1 {
				return herald.Errorf(herald.ErrorCode(err), "events["+itoa(i)+"]."+herald.ErrorField(err), "%s", herald.ErrorMessage(err))
			}
			return err
		}
	}
	tenantID, err := herald.TenantFromContext(ctx)
	if err != nil {
		return err
	}
	return db.ingest.submit(ctx, db, tenantID, events)
}

// createEventsAlone stores one call's events in a transaction of their
// own: the path of a call whose shared transaction failed.
func (db *DB) createEventsAlone(ctx context.Context, events []*herald.Event) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		plain, fresh, err := stageEvents(ctx, c, tx.now, &sourceMemo{}, events)
		if err != nil {
			return err
		}
		rows := make([]eventRow, len(plain))
		for i, e := range plain {
			rows[i] = eventRow{tenantID: tx.tenantID, e: e}
		}
		if err := insertEvents(c, tx.now, rows); err != nil {
			return err
		}
		for _, r := range rows {
			fresh = append(fresh, r.e.ID)
		}
		return tx.insertJobs(fanoutJobs(nil, tx.tenantID, fresh))
	})
}

// stageEvents resolves the sources of events within the principal's scope
// (ctx's; c is the transaction, scoped to the principal's tenant), sets
// their project and time, and stores those with an idempotency key,
// answering a key used before with the first event. It returns the events
// still to insert (those without a key) and the ids of the keyed events it
// stored; it stored a row if and only if fresh is not empty.
func stageEvents(ctx context.Context, c conn, now time.Time, sources *sourceMemo, events []*herald.Event) (plain []*herald.Event, fresh []int64, err error) {
	p := herald.PrincipalFromContext(ctx)
	for i, e := range events {
		if e.SourceID == 0 {
			src, err := sources.byExternalID(c, e.SourceKind, e.SourceExternalID)
			if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
				return nil, fresh, err
			}
			if err != nil || !p.CanSeeProject(src.ProjectID) {
				return nil, fresh, herald.Errorf(herald.EINVALID, "source", "no %s with external_id %q", e.SourceKind, e.SourceExternalID)
			}
			e.SourceID = src.ID
		}
		src, err := sources.byID(c, e.SourceID)
		if err != nil {
			if herald.ErrorCode(err) != herald.ENOTFOUND {
				return nil, fresh, err
			}
			return nil, fresh, herald.Errorf(herald.EINVALID, "source_id", "source %d does not exist", e.SourceID)
		}
		if p != nil && !p.CanSeeProject(src.ProjectID) {
			return nil, fresh, herald.Errorf(herald.EINVALID, "source_id", "source %d does not exist", e.SourceID)
		}
		e.ProjectID, e.CreatedAt = src.ProjectID, fromMS(ms(now))
		if e.IdempotencyKey == "" {
			plain = append(plain, e)
			continue
		}
		roles, _ := json.Marshal(e.Roles)
		id, err := c.insert(`INSERT INTO events (tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key <> '' DO NOTHING`,
			c.tenantID, e.ProjectID, e.SourceID, e.Type, e.Actor, string(roles), string(e.Payload), e.IdempotencyKey, ms(now))
		if err == sql.ErrNoRows {
			// The key was used before: answer with the first event.
			first, err := c.findEventByKey(e.IdempotencyKey)
			if err != nil {
				return nil, fresh, err
			}
			if p != nil && !p.CanSeeProject(first.ProjectID) {
				// Keys are unique per tenant; never show another
				// project's event to a token scoped elsewhere.
				return nil, fresh, herald.Errorf(herald.ECONFLICT, "idempotency_key", "idempotency_key is already used by another project's event")
			}
			*events[i] = *first
			events[i].Duplicate = true
			continue
		} else if err != nil {
			return nil, fresh, err
		}
		e.ID = id
		fresh = append(fresh, id)
	}
	return plain, fresh, nil
}

// sourceMemo keeps the sources a transaction has read, by tenant: the
// calls of a batch often name the same ones. Who may see them is still
// checked per call.
type sourceMemo struct {
	byKey map[tenantKey]*herald.Source
	byExt map[sourceExtKey]*herald.Source
}

type sourceExtKey struct {
	tenant           int64
	kind, externalID string
}

func (m *sourceMemo) byID(c conn, id int64) (*herald.Source, error) {
	k := tenantKey{c.tenantID, id}
	if s, ok := m.byKey[k]; ok {
		return s, nil
	}
	s, err := c.findSource(id)
	if err != nil {
		return nil, err
	}
	if m.byKey == nil {
		m.byKey = map[tenantKey]*herald.Source{}
	}
	m.byKey[k] = s
	return s, nil
}

func (m *sourceMemo) byExternalID(c conn, kind, externalID string) (*herald.Source, error) {
	k := sourceExtKey{c.tenantID, kind, externalID}
	if s, ok := m.byExt[k]; ok {
		return s, nil
	}
	s, err := c.findSourceByExternalID(kind, externalID)
	if err != nil {
		return nil, err
	}
	if m.byExt == nil {
		m.byExt = map[sourceExtKey]*herald.Source{}
	}
	m.byExt[k] = s
	return s, nil
}

// eventRow is an event without an idempotency key to insert, in its
// tenant.
type eventRow struct {
	tenantID int64
	e        *herald.Event
}

// insertEvents stores rows in multi-row INSERTs, each row in its own
// tenant, and sets their ids.
func insertEvents(c conn, now time.Time, rows []eventRow) error {
	for chunk := range slices.Chunk(rows, 200) {
		var q strings.Builder
		q.WriteString(`INSERT INTO events (tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at) VALUES `)
		args := make([]any, 0, 8*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, '', ?)")
			roles, _ := json.Marshal(r.e.Roles)
			args = append(args, r.tenantID, r.e.ProjectID, r.e.SourceID, r.e.Type, r.e.Actor, string(roles), string(r.e.Payload), ms(now))
		}
		q.WriteString(" RETURNING id")
		ids, err := c.insertedIDs(q.String(), args...)
		if err != nil {
			return err
		}
		if len(ids) != len(chunk) {
			return fmt.Errorf("store: %d events inserted, %d ids returned", len(chunk), len(ids))
		}
		for i, r := range chunk {
			r.e.ID = ids[i]
		}
	}
	return nil
}

// fanoutJobs appends to jobs the fan-out of a tenant's fresh events,
// fanoutBatch events a job.
func fanoutJobs(jobs []river.InsertManyParams, tenantID int64, fresh []int64) []river.InsertManyParams {
	for chunk := range slices.Chunk(fresh, fanoutBatch) {
		jobs = append(jobs, river.InsertManyParams{Args: FanoutArgs{TenantID: tenantID, EventIDs: chunk}})
	}
	return jobs
}

const eventCols = `id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at`

func scanEvent(row scanner) (*herald.Event, error) {
	var (
		e              herald.Event
		roles, payload string
		created        int64
	)
	if err := row.Scan(&e.ID, &e.ProjectID, &e.SourceID, &e.Type, &e.Actor, &roles, &payload, &e.IdempotencyKey, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &e.Roles); err != nil {
		return nil, err
	}
	e.Payload, e.CreatedAt = json.RawMessage(payload), fromMS(created)
	return &e, nil
}

func (c conn) findEventByKey(key string) (*herald.Event, error) {
	return scanEvent(c.queryRow(`SELECT `+eventCols+` FROM events WHERE tenant_id = ? AND idempotency_key = ?`, c.tenantID, key))
}

func (c conn) findEvent(id int64) (*herald.Event, error) {
	e, err := scanEvent(c.queryRow(`SELECT `+eventCols+` FROM events WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("event", id)
	}
	return e, err
}

// FindEventByID returns an event with every delivery it caused.
func (db *DB) FindEventByID(ctx context.Context, id int64) (*herald.Event, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	e, err := c.findEvent(id)
	if err != nil {
		return nil, err
	}
	rows, err := c.query(`SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = ? AND event_id = ? ORDER BY id`, c.tenantID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	e.Deliveries = []*herald.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		e.Deliveries = append(e.Deliveries, d)
	}
	return e, rows.Err()
}

// EventsToFanOut returns those of ids not fanned out yet, with their
// sources.
func (db *DB) EventsToFanOut(ctx context.Context, ids []int64) ([]*herald.Event, map[int64]*herald.Source, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, nil, err
	}
	args := append(toAny(ids), c.tenantID)
	rows, err := c.query(`SELECT `+eventCols+` FROM events WHERE `+byIDs(len(ids))+` AND COALESCE(fanned_out_at, 0) = 0 ORDER BY id`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []*herald.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	sources := map[int64]*herald.Source{}
	for _, e := range out {
		if sources[e.SourceID] == nil {
			if sources[e.SourceID], err = c.findSource(e.SourceID); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, sources, nil
}
