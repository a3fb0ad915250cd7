package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/heraldhq/herald"
	"github.com/riverqueue/river"
)

// ReminderArgs is the job that sends a reminder at its due time. It names
// the reminder's seq at scheduling: a reminder moved to another time since
// has another seq, and its own job.
type ReminderArgs struct {
	TenantID   int64 `json:"tenant_id"`
	ReminderID int64 `json:"reminder_id"`
	Seq        int64 `json:"seq"`
}

// Kind names the job for River.
func (ReminderArgs) Kind() string { return "herald.reminder" }

// Reminder is one record's reminder from one reminder notification.
type Reminder struct {
	ID        int64
	ProjectID int64
	SourceID  int64
	RecordID  string
	// RuleKey is the reminder notification's key
	// (herald.RecordNotifications.ReminderKeys).
	RuleKey string
	// EventID is the event that last set the reminder: its record is the
	// one the reminder is about.
	EventID int64
	DueAt   time.Time
	Seq     int64
	FiredAt *time.Time
	// CancelledAt is set when an event of the record cancelled it.
	CancelledAt *time.Time
}

// RecordReminders are the reminders an event sets for its record: Due
// maps the key of each reminder notification the record meets to the time
// it falls due. The record's other reminders are cancelled; an empty Due
// (a record deleted, or meeting no notification) cancels them all.
type RecordReminders struct {
	ProjectID int64
	SourceID  int64
	RecordID  string
	EventID   int64
	Due       map[string]time.Time
}

const reminderCols = `id, project_id, source_id, record_id, rule_key, event_id, due_at, seq, fired_at, cancelled_at`

func scanReminder(row scanner) (*Reminder, error) {
	var (
		r                Reminder
		due              int64
		fired, cancelled sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.ProjectID, &r.SourceID, &r.RecordID, &r.RuleKey, &r.EventID, &due, &r.Seq, &fired, &cancelled); err != nil {
		return nil, err
	}
	r.DueAt, r.FiredAt, r.CancelledAt = fromMS(due), fromNullMS(fired), fromNullMS(cancelled)
	return &r, nil
}

// setRecordReminders makes the record's reminders those rr names: new
// ones are created and scheduled, moved (or cancelled, now due again) ones
// rescheduled (a new seq, a new job), unchanged ones left as they are
// (sent or not), the others cancelled. An event older than the one that
// last set one of the record's reminders changes nothing: events of one
// record may be fanned out out of order, and a cancelled reminder keeps
// its row to tell.
func (tx *Tx) setRecordReminders(rr *RecordReminders) error {
	c := tx.conn()
	rows, err := c.query(`SELECT `+reminderCols+` FROM reminders WHERE tenant_id = ? AND source_id = ? AND record_id = ?`,
		tx.tenantID, rr.SourceID, rr.RecordID)
	if err != nil {
		return err
	}
	var existing []*Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			rows.Close()
			return err
		}
		existing = append(existing, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range existing {
		if r.EventID > rr.EventID {
			return nil
		}
	}
	var jobs []river.InsertManyParams
	schedule := func(id, seq int64, due time.Time) {
		jobs = append(jobs, river.InsertManyParams{Args: ReminderArgs{TenantID: tx.tenantID, ReminderID: id, Seq: seq},
			InsertOpts: &river.InsertOpts{ScheduledAt: due}})
	}
	now := ms(tx.now)
	seen := map[string]bool{}
	for _, r := range existing {
		due, keep := rr.Due[r.RuleKey]
		seen[r.RuleKey] = true
		switch {
		case !keep && r.CancelledAt != nil:
			_, err = c.exec(`UPDATE reminders SET event_id = ? WHERE id = ?`, rr.EventID, r.ID)
		case !keep:
			// The new seq leaves the scheduled job nothing to send.
			_, err = c.exec(`UPDATE reminders SET event_id = ?, seq = ?, cancelled_at = ?, updated_at = ? WHERE id = ?`,
				rr.EventID, r.Seq+1, now, now, r.ID)
		case due.Equal(r.DueAt) && r.CancelledAt == nil:
			_, err = c.exec(`UPDATE reminders SET event_id = ?, updated_at = ? WHERE id = ?`, rr.EventID, now, r.ID)
		default:
			_, err = c.exec(`UPDATE reminders SET event_id = ?, due_at = ?, seq = ?, fired_at = NULL, cancelled_at = NULL, updated_at = ? WHERE id = ?`,
				rr.EventID, ms(due), r.Seq+1, now, r.ID)
			schedule(r.ID, r.Seq+1, due)
		}
		if err != nil {
			return err
		}
	}
	for key, due := range rr.Due {
		if seen[key] {
			continue
		}
		id, err := c.insert(`INSERT INTO reminders (tenant_id, project_id, source_id, record_id, rule_key, event_id, due_at, seq, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, tx.tenantID, rr.ProjectID, rr.SourceID, rr.RecordID, key, rr.EventID, ms(due), now, now)
		if err != nil {
			return err
		}
		schedule(id, 1, due)
	}
	return tx.insertJobs(jobs)
}

// FindReminder returns one reminder.
func (db *DB) FindReminder(ctx context.Context, id int64) (*Reminder, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := scanReminder(c.queryRow(`SELECT `+reminderCols+` FROM reminders WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("reminder", id)
	}
	return r, err
}

// FindReminders lists a source's reminders, cancelled ones too, oldest
// first.
func (db *DB) FindReminders(ctx context.Context, sourceID int64, p herald.Page) ([]*Reminder, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	return page(c, p, `SELECT `+reminderCols+` FROM reminders WHERE tenant_id = ? AND source_id = ?`, []any{c.tenantID, sourceID},
		func(rows *sql.Rows) (*Reminder, int64, error) {
			r, err := scanReminder(rows)
			if err != nil {
				return nil, 0, err
			}
			return r, r.ID, nil
		})
}

// FireReminder records a reminder sent: its deliveries (of its event) and
// the jobs sending the pending ones, with the reminder marked fired, in
// one transaction. It reports false, writing nothing, when the reminder is
// gone, fired or cancelled already, or no longer at seq (moved since the
// job was scheduled), so a job run twice sends once.
func (db *DB) FireReminder(ctx context.Context, id, seq int64, ds []NewDelivery) (bool, error) {
	fired := false
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var eventID int64
		err := c.queryRow(`UPDATE reminders SET fired_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND seq = ?
			AND fired_at IS NULL AND cancelled_at IS NULL RETURNING event_id`, ms(tx.now), ms(tx.now), tx.tenantID, id, seq).Scan(&eventID)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		fired = true
		rows := make([]deliveryRow, len(ds))
		for i, d := range ds {
			rows[i] = deliveryRow{eventID: eventID, NewDelivery: d}
		}
		pending, err := tx.insertDeliveries(rows)
		if err != nil {
			return err
		}
		return tx.insertJobs(deliverJobs(tx.tenantID, pending, time.Time{}))
	})
	return fired, err
}
