package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/heraldhq/herald"
)

const deliveryCols = `id, message_id, event_id, push_id, notifier_id, channel, user_id, target, status, attempts, last_error, reason, next_attempt_at, created_at, updated_at, delivered_at`

func scanDelivery(row scanner) (*herald.Delivery, error) {
	var (
		d                 herald.Delivery
		event, push, user sql.NullInt64
		next, delivered   sql.NullInt64
		created, updated  int64
	)
	if err := row.Scan(&d.ID, &d.MessageID, &event, &push, &d.NotifierID, &d.Channel, &user, &d.Target, &d.Status, &d.Attempts, &d.LastError,
		&d.Reason, &next, &created, &updated, &delivered); err != nil {
		return nil, err
	}
	d.EventID, d.PushID, d.UserID = event.Int64, push.Int64, user.Int64
	d.NextAttemptAt, d.DeliveredAt = fromNullMS(next), fromNullMS(delivered)
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return &d, nil
}

// FindDeliveryByID returns one delivery.
func (db *DB) FindDeliveryByID(ctx context.Context, id int64) (*herald.Delivery, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	d, err := scanDelivery(c.queryRow(`SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("delivery", id)
	}
	return d, err
}

// FindDeliveries lists deliveries by id, optionally of one event, notifier
// or status.
func (db *DB) FindDeliveries(ctx context.Context, f herald.DeliveryFilter, p herald.Page) ([]*herald.Delivery, string, error) {
	c, q, args, err := db.deliveryQuery(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return page(c, p, q, args, scanDeliveryRow)
}

// deliveryQuery builds the query of a filtered delivery list, kept to the
// principal's project when its token is scoped to one.
func (db *DB) deliveryQuery(ctx context.Context, f herald.DeliveryFilter) (conn, string, []any, error) {
	if err := f.Validate(); err != nil {
		return conn{}, "", nil, err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return conn{}, "", nil, err
	}
	q, args := deliveryWhere(ctx, `SELECT `+deliveryCols+` FROM deliveries`, c.tenantID, f)
	return c, q, args, nil
}

// deliveryWhere appends to q, a SELECT from deliveries, the WHERE clause
// of a filter, kept to the principal's project when its token is scoped
// to one.
func deliveryWhere(ctx context.Context, q string, tenantID int64, f herald.DeliveryFilter) (string, []any) {
	q, args := q+` WHERE tenant_id = ?`, []any{tenantID}
	if f.EventID != 0 {
		q, args = q+` AND event_id = ?`, append(args, f.EventID)
	}
	if f.NotifierID != 0 {
		q, args = q+` AND notifier_id = ?`, append(args, f.NotifierID)
	}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, f.Status)
	}
	if f.Channel != "" {
		q, args = q+` AND channel = ?`, append(args, f.Channel)
	}
	if f.SourceID != 0 {
		q, args = q+` AND event_id IN (SELECT id FROM events WHERE tenant_id = ? AND source_id = ?)`, append(args, tenantID, f.SourceID)
	}
	if !f.From.IsZero() {
		q, args = q+` AND created_at >= ?`, append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		q, args = q+` AND created_at < ?`, append(args, ms(f.To))
	}
	return projectScope(ctx, q, args)
}

func scanDeliveryRow(rows *sql.Rows) (*herald.Delivery, int64, error) {
	d, err := scanDelivery(rows)
	if err != nil {
		return nil, 0, err
	}
	return d, d.ID, nil
}

// RetryDelivery re-queues a dead or failed delivery for a new round of
// attempts, or a sending one whose claim is past its lease (its sender
// died): the resend keeps the delivery, and so its webhook-id.
func (db *DB) RetryDelivery(ctx context.Context, id int64) (*herald.Delivery, error) {
	var out *herald.Delivery
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		res, err := c.exec(`UPDATE deliveries SET status = ?, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND (status IN (?, ?) OR (status = ? AND (lease_until IS NULL OR lease_until <= ?)))`,
			herald.StatusPending, ms(tx.now), tx.tenantID, id, herald.StatusDead, herald.StatusFailed, herald.StatusSending, ms(tx.now))
		if err != nil {
			return err
		}
		d, err := scanDelivery(c.queryRow(`SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`, tx.tenantID, id))
		if err == sql.ErrNoRows {
			return notFound("delivery", id)
		} else if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return herald.Errorf(herald.ENOTALLOWED, "", "delivery %d is %s: only dead or failed deliveries, or sending ones whose sender is gone, can be retried", id, d.Status)
		}
		out = d
		return tx.insertJobs(deliverJobs(tx.tenantID, []int64{id}, time.Time{}))
	})
	return out, err
}

// NewDelivery is a delivery the fan-out creates. Message is the rendered
// channel message as JSON; Inbox, for the inbox channel, is written at once
// and the delivery created delivered.
type NewDelivery struct {
	NotifierID int64
	Channel    string
	UserID     int64
	Target     string
	Status     string // pending, skipped, deferred or delivered
	LastError  string // why a delivery was skipped, in words
	Reason     string // the same as a code (herald.ReasonPreference …)
	// DueAt is when a deferred delivery is sent.
	DueAt   time.Time
	Message []byte
	Inbox   *herald.InboxMessage
}

// rowsPerInsert bounds a multi-row INSERT's values.
const rowsPerInsert = 400

// Fanout is the deliveries of one event (or, with EventID 0, of a push).
type Fanout struct {
	EventID    int64
	PushID     int64
	Deliveries []NewDelivery
	// Reminders, when the event carries a Kintone record, are the
	// record's reminders from now on (see RecordReminders).
	Reminders *RecordReminders
}

// RecordFanouts writes the deliveries of several events in one
// transaction: the rows, the inbox messages, the jobs that send the pending
// ones (DeliverBatch to a job, across events), and each event's fanned-out
// mark, so a fan-out job that runs twice records its deliveries once. It
// returns how many fan-outs it recorded.
func (db *DB) RecordFanouts(ctx context.Context, fs []Fanout) (int, error) {
	recorded := 0
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		// Mark the events fanned out in one statement; those already marked
		// were recorded by an earlier run of the job.
		var eventIDs []int64
		for _, f := range fs {
			if f.EventID != 0 {
				eventIDs = append(eventIDs, f.EventID)
			}
		}
		fresh := map[int64]bool{}
		for chunk := range slices.Chunk(eventIDs, 500) {
			args := append(append([]any{ms(tx.now)}, toAny(chunk)...), tx.tenantID)
			ids, err := c.ids(`UPDATE events SET fanned_out_at = ? WHERE `+byIDs(len(chunk))+
				` AND COALESCE(fanned_out_at, 0) = 0 RETURNING id`, args...)
			if err != nil {
				return err
			}
			for _, id := range ids {
				fresh[id] = true
			}
		}
		var rows []deliveryRow
		recorded = 0
		for _, f := range fs {
			if f.EventID != 0 && !fresh[f.EventID] {
				continue
			}
			recorded++
			if f.Reminders != nil {
				if err := tx.setRecordReminders(f.Reminders); err != nil {
					return err
				}
			}
			for _, d := range f.Deliveries {
				rows = append(rows, deliveryRow{eventID: f.EventID, pushID: f.PushID, NewDelivery: d})
			}
		}
		pending, err := tx.insertDeliveries(rows)
		if err != nil {
			return err
		}
		return tx.insertJobs(deliverJobs(tx.tenantID, pending, time.Time{}))
	})
	return recorded, err
}

// deliveryRow is a delivery with the event or push it belongs to.
type deliveryRow struct {
	eventID, pushID int64
	NewDelivery
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insertDeliveries writes delivery rows and their inbox messages in
// multi-row INSERTs and returns the ids of the pending deliveries.
func (tx *Tx) insertDeliveries(rows []deliveryRow) ([]int64, error) {
	c := tx.conn()
	var pending []int64
	for chunk := range slices.Chunk(rows, rowsPerInsert) {
		var q strings.Builder
		q.WriteString(`INSERT INTO deliveries (tenant_id, message_id, event_id, push_id, notifier_id, channel, user_id, target, status, last_error, reason,
			message, created_at, updated_at, delivered_at, next_attempt_at, lease_until) VALUES `)
		args := make([]any, 0, 17*len(chunk))
		for i, d := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			var delivered, due any
			switch d.Status {
			case herald.StatusDelivered:
				delivered = ms(tx.now)
			case herald.StatusDeferred:
				// The dispatcher takes it at its due time, as a retry.
				due = ms(d.DueAt)
				tx.fallsDue(d.DueAt)
			}
			msgID, err := newMessageID()
			if err != nil {
				return nil, err
			}
			args = append(args, tx.tenantID, msgID, nullID(d.eventID), nullID(d.pushID), d.NotifierID, d.Channel, nullID(d.UserID),
				d.Target, d.Status, d.LastError, d.Reason, string(d.Message), ms(tx.now), ms(tx.now), delivered, due, due)
		}
		// Only pending deliveries' ids are needed (their jobs name them):
		// a chunk of none (an inbox fan-out) reads nothing back.
		hasPending := slices.ContainsFunc(chunk, func(d deliveryRow) bool { return d.Status == herald.StatusPending })
		if !hasPending {
			if _, err := c.exec(q.String(), args...); err != nil {
				return nil, err
			}
		} else {
			q.WriteString(" RETURNING id")
			ids, err := c.insertedIDs(q.String(), args...)
			if err != nil {
				return nil, err
			}
			if len(ids) != len(chunk) {
				return nil, fmt.Errorf("store: inserted %d deliveries, got %d ids", len(chunk), len(ids))
			}
			for i, d := range chunk {
				if d.Status == herald.StatusPending {
					pending = append(pending, ids[i])
				}
			}
		}
		if err := tx.insertInbox(chunk); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

// newMessageID returns a new delivery message id: "msg_" and a UUIDv7 in
// hex, unique across deliveries, tenants and databases, and in time order,
// so the unique index on it grows at its end.
func newMessageID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("store: delivery message id: %w", err)
	}
	return "msg_" + hex.EncodeToString(u[:]), nil
}

func (tx *Tx) insertInbox(rows []deliveryRow) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO inbox_messages (tenant_id, user_id, event_id, push_id, title, body, created_at) VALUES `)
	var args []any
	var users []int64
	for _, d := range rows {
		if d.Inbox == nil {
			continue
		}
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, tx.tenantID, d.Inbox.UserID, nullID(d.eventID), nullID(d.pushID), d.Inbox.Title, d.Inbox.Body, ms(tx.now))
		users = append(users, d.Inbox.UserID)
	}
	if len(args) == 0 {
		return nil
	}
	if err := tx.announceInbox(users); err != nil {
		return err
	}
	_, err := tx.conn().exec(q.String(), args...)
	return err
}

// ClaimedDelivery is a delivery taken for sending, with its message.
type ClaimedDelivery struct {
	ID         int64
	MessageID  string // the same on every attempt (herald.Delivery.MessageID)
	NotifierID int64
	Channel    string
	Target     string
	Attempts   int // including this one
	Message    json.RawMessage
	// EventID or PushID is what the delivery belongs to; EventAt is when
	// its event was accepted (zero for a push), for the metrics and logs.
	EventID, PushID int64
	EventAt         time.Time
	// PaceKey is the rate-limited target the send took a slot of, if any,
	// at SlotAt.
	PaceKey string
	SlotAt  time.Time
}

// ClaimDeliveries marks the deliveries among ids that are pending and due
// (or sending under a claim past its lease) as sending, leased to the
// caller for o.Lease, and counts the attempt; deliveries to a rate-limited
// target without a free slot go back to pending until it frees (see
// ClaimOptions.Pace).
func (db *DB) ClaimDeliveries(ctx context.Context, ids []int64, o ClaimOptions) ([]*ClaimedDelivery, error) {
	var out []*ClaimedDelivery
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		for chunk := range slices.Chunk(ids, 500) {
			args := append(append([]any{herald.StatusSending, ms(tx.now), ms(tx.now.Add(o.lease()))}, toAny(chunk)...),
				tx.tenantID, herald.StatusPending, ms(tx.now), herald.StatusSending, ms(tx.now))
			// A pending delivery due, or a claim whose lease ran out.
			rows, err := c.query(`UPDATE deliveries SET status = ?, attempts = attempts + 1, updated_at = ?, lease_until = ?
				WHERE `+byIDs(len(chunk))+` AND CASE status
					WHEN ? THEN next_attempt_at IS NULL OR next_attempt_at <= ?
					WHEN ? THEN lease_until IS NULL OR lease_until <= ?
					ELSE false END
				RETURNING id, message_id, notifier_id, channel, target, attempts, message, COALESCE(event_id, 0), COALESCE(push_id, 0),
					COALESCE((SELECT e.created_at FROM events e WHERE e.id = deliveries.event_id), 0)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var (
					d       ClaimedDelivery
					msg     string
					eventAt int64
				)
				if err := rows.Scan(&d.ID, &d.MessageID, &d.NotifierID, &d.Channel, &d.Target, &d.Attempts, &msg, &d.EventID, &d.PushID, &eventAt); err != nil {
					rows.Close()
					return err
				}
				d.Message = json.RawMessage(msg)
				if eventAt != 0 {
					d.EventAt = fromMS(eventAt)
				}
				out = append(out, &d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		var err error
		out, err = tx.pace(out, o)
		return err
	})
	slices.SortFunc(out, func(a, b *ClaimedDelivery) int { return int(a.ID - b.ID) })
	return out, err
}

// DeliveryResult is the outcome of one send.
type DeliveryResult struct {
	ID     int64
	Status string // delivered, failed, dead, or pending to retry at RetryAt
	Error  string
	// RetryAt is when a pending delivery is tried again.
	RetryAt time.Time
	// PaceKey and SlotAt are the claimed delivery's rate-limit slot: it is
	// moved to the time the send finished, which no vendor's clock
	// precedes. PauseUntil, when the target answered that it is rate
	// limited, holds it until then, for every node.
	PaceKey    string
	SlotAt     time.Time
	PauseUntil time.Time
}

// FinishDeliveries records outcomes in one transaction. A delivery to retry
// is pending with its lease at RetryAt: the dispatcher enqueues it then.
func (db *DB) FinishDeliveries(ctx context.Context, results []DeliveryResult) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var delivered []int64
		for _, r := range results {
			if err := tx.settleSlot(r); err != nil {
				return err
			}
			switch r.Status {
			case herald.StatusDelivered:
				delivered = append(delivered, r.ID)
			case herald.StatusPending:
				if _, err := c.exec(`UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = ?, lease_until = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
					r.Status, r.Error, ms(r.RetryAt), ms(r.RetryAt), ms(tx.now), tx.tenantID, r.ID); err != nil {
					return err
				}
				tx.fallsDue(r.RetryAt)
			default:
				if _, err := c.exec(`UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?`,
					r.Status, r.Error, ms(tx.now), tx.tenantID, r.ID); err != nil {
					return err
				}
			}
		}
		for chunk := range slices.Chunk(delivered, 500) {
			args := append(append([]any{herald.StatusDelivered, ms(tx.now), ms(tx.now)}, toAny(chunk)...), tx.tenantID)
			if _, err := c.exec(`UPDATE deliveries SET status = ?, last_error = '', next_attempt_at = NULL, updated_at = ?, delivered_at = ?
				WHERE `+byIDs(len(chunk)), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountDeliveries counts the tenant's deliveries in a status.
func (db *DB) CountDeliveries(ctx context.Context, status string) (int, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = c.queryRow(`SELECT COUNT(*) FROM deliveries WHERE tenant_id = ? AND status = ?`, c.tenantID, status).Scan(&n)
	return n, err
}
