package store

import (
	"context"
	"database/sql"

	"github.com/heraldhq/herald"
)

const inboxCols = `id, user_id, event_id, push_id, title, body, created_at, read_at`

func scanInbox(row scanner) (*herald.InboxMessage, error) {
	var (
		m           herald.InboxMessage
		event, push sql.NullInt64
		created     int64
		read        sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.UserID, &event, &push, &m.Title, &m.Body, &created, &read); err != nil {
		return nil, err
	}
	m.EventID, m.PushID, m.CreatedAt, m.ReadAt = event.Int64, push.Int64, fromMS(created), fromNullMS(read)
	return &m, nil
}

// inboxScope narrows an inbox query to the messages of the principal's
// project's events when its token is scoped to one: pushes are the
// tenant's, and other projects' messages are theirs.
func inboxScope(ctx context.Context, q string, args []any) (string, []any) {
	if p := herald.PrincipalFromContext(ctx); p != nil && p.ProjectID != 0 {
		return q + ` AND event_id IN (SELECT id FROM events WHERE tenant_id = ? AND project_id = ?)`, append(args, p.TenantID, p.ProjectID)
	}
	return q, args
}

// FindInbox lists a user's messages newest first; with Oldest or AfterID,
// the messages newer than AfterID, oldest first (for the live stream).
// Both page with a cursor.
func (db *DB) FindInbox(ctx context.Context, userID int64, f herald.InboxFilter, p herald.Page) ([]*herald.InboxMessage, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := c.checkUser(userID); err != nil {
		return nil, "", err
	}
	p = p.Normalize()
	q, args := inboxScope(ctx, `SELECT `+inboxCols+` FROM inbox_messages WHERE tenant_id = ? AND user_id = ?`, []any{c.tenantID, userID})
	if f.UnreadOnly {
		q += ` AND read_at IS NULL`
	}
	from, err := p.After()
	if err != nil {
		return nil, "", err
	}
	if f.Oldest || f.AfterID > 0 {
		// Ids grow in commit order per tenant (lockInbox), so reading
		// forward from an id never skips a message committed later.
		q, args = q+` AND id > ? ORDER BY id LIMIT ?`, append(args, max(from, f.AfterID), p.Limit+1)
	} else {
		if from > 0 {
			q, args = q+` AND id < ?`, append(args, from)
		}
		q, args = q+` ORDER BY id DESC LIMIT ?`, append(args, p.Limit+1)
	}
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []*herald.InboxMessage{}
	next := ""
	for rows.Next() {
		if len(out) == p.Limit {
			next = herald.CursorAfter(out[len(out)-1].ID)
			break
		}
		m, err := scanInbox(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	return out, next, rows.Err()
}

func (c conn) checkUser(id int64) error {
	var n int
	if err := c.queryRow(`SELECT COUNT(*) FROM users WHERE tenant_id = ? AND id = ?`, c.tenantID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("user", id)
	}
	return nil
}

// MarkInboxRead marks one message of the user read (again is a no-op).
func (db *DB) MarkInboxRead(ctx context.Context, userID, messageID int64) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var n int
		q, args := inboxScope(ctx, `SELECT COUNT(*) FROM inbox_messages WHERE tenant_id = ? AND user_id = ? AND id = ?`, []any{tx.tenantID, userID, messageID})
		if err := c.queryRow(q, args...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("inbox message", messageID)
		}
		_, err := c.exec(`UPDATE inbox_messages SET read_at = ? WHERE tenant_id = ? AND id = ? AND read_at IS NULL`, ms(tx.now), tx.tenantID, messageID)
		return err
	})
}

// MarkAllInboxRead marks every unread message of the user read.
func (db *DB) MarkAllInboxRead(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkUser(userID); err != nil {
			return err
		}
		q, args := inboxScope(ctx, `UPDATE inbox_messages SET read_at = ? WHERE tenant_id = ? AND user_id = ? AND read_at IS NULL`, []any{ms(tx.now), tx.tenantID, userID})
		res, err := c.exec(q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// CountUnreadInbox returns how many of the user's messages are unread.
func (db *DB) CountUnreadInbox(ctx context.Context, userID int64) (int, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return 0, err
	}
	if err := c.checkUser(userID); err != nil {
		return 0, err
	}
	q, args := inboxScope(ctx, `SELECT COUNT(*) FROM inbox_messages WHERE tenant_id = ? AND user_id = ? AND read_at IS NULL`, []any{c.tenantID, userID})
	var n int
	err = c.queryRow(q, args...).Scan(&n)
	return n, err
}
