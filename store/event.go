package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"

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
// transaction, so an accepted event is never lost.
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
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		sources := map[int64]*herald.Source{}
		var fresh []int64
		for i, e := range events {
			if e.SourceID == 0 {
				src, err := c.findSourceByExternalID(e.SourceKind, e.SourceExternalID)
				if err != nil || !herald.PrincipalFromContext(ctx).CanSeeProject(src.ProjectID) {
					return herald.Errorf(herald.EINVALID, "source", "no %s with external_id %q", e.SourceKind, e.SourceExternalID)
				}
				e.SourceID = src.ID
			}
			src, ok := sources[e.SourceID]
			if !ok {
				var err error
				if src, err = c.findSource(e.SourceID); err != nil {
					return herald.Errorf(herald.EINVALID, "source_id", "source %d does not exist", e.SourceID)
				}
				sources[e.SourceID] = src
			}
			if p := herald.PrincipalFromContext(ctx); p != nil && !p.CanSeeProject(src.ProjectID) {
				return herald.Errorf(herald.EINVALID, "source_id", "source %d does not exist", e.SourceID)
			}
			e.ProjectID, e.CreatedAt = src.ProjectID, fromMS(ms(tx.now))
			if e.IdempotencyKey == "" {
				continue
			}
			roles, _ := json.Marshal(e.Roles)
			id, err := c.insert(`INSERT INTO events (tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key <> '' DO NOTHING`,
				tx.tenantID, e.ProjectID, e.SourceID, e.Type, e.Actor, string(roles), string(e.Payload), e.IdempotencyKey, ms(tx.now))
			if err == sql.ErrNoRows {
				// The key was used before: answer with the first event.
				first, err := c.findEventByKey(e.IdempotencyKey)
				if err != nil {
					return err
				}
				if p := herald.PrincipalFromContext(ctx); p != nil && !p.CanSeeProject(first.ProjectID) {
					// Keys are unique per tenant; never show another
					// project's event to a token scoped elsewhere.
					return herald.Errorf(herald.ECONFLICT, "idempotency_key", "idempotency_key is already used by another project's event")
				}
				*events[i] = *first
				events[i].Duplicate = true
				continue
			} else if err != nil {
				return err
			}
			e.ID = id
			fresh = append(fresh, id)
		}
		// Events without a key go in multi-row INSERTs.
		var plain []*herald.Event
		for _, e := range events {
			if e.IdempotencyKey == "" {
				plain = append(plain, e)
			}
		}
		for chunk := range slices.Chunk(plain, 200) {
			var q strings.Builder
			q.WriteString(`INSERT INTO events (tenant_id, project_id, source_id, type, actor, roles, payload, idempotency_key, created_at) VALUES `)
			args := make([]any, 0, 9*len(chunk))
			for i, e := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, '', ?)")
				roles, _ := json.Marshal(e.Roles)
				args = append(args, tx.tenantID, e.ProjectID, e.SourceID, e.Type, e.Actor, string(roles), string(e.Payload), ms(tx.now))
			}
			q.WriteString(" RETURNING id")
			ids, err := c.insertedIDs(q.String(), args...)
			if err != nil {
				return err
			}
			for i, e := range chunk {
				e.ID = ids[i]
			}
			fresh = append(fresh, ids...)
		}
		var jobs []river.InsertManyParams
		for chunk := range slices.Chunk(fresh, fanoutBatch) {
			jobs = append(jobs, river.InsertManyParams{Args: FanoutArgs{TenantID: tx.tenantID, EventIDs: chunk}})
		}
		return tx.insertJobs(jobs)
	})
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
