package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/heraldhq/herald"
)

// The queries in this file serve the web console's delivery log, which
// shows the newest first: the native list endpoints page oldest first,
// which would bury today's deliveries behind every page of history.

// projectScope narrows a delivery query to the notifiers of the
// principal's project, when its token is scoped to one.
func projectScope(ctx context.Context, q string, args []any) (string, []any) {
	if p := herald.PrincipalFromContext(ctx); p != nil && p.ProjectID != 0 {
		return q + ` AND notifier_id IN (SELECT id FROM notifiers WHERE tenant_id = ? AND project_id = ?)`, append(args, p.TenantID, p.ProjectID)
	}
	return q, args
}

// FindDeliveriesNewest lists deliveries like FindDeliveries, newest first.
func (db *DB) FindDeliveriesNewest(ctx context.Context, f herald.DeliveryFilter, p herald.Page) ([]*herald.Delivery, string, error) {
	c, q, args, err := db.deliveryQuery(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return newestPage(c, p, q, args, scanDeliveryRow)
}

// FindEventsNewest lists the tenant's events newest first (without their
// deliveries), optionally of one project.
func (db *DB) FindEventsNewest(ctx context.Context, projectID int64, p herald.Page) ([]*herald.Event, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	if pr := herald.PrincipalFromContext(ctx); pr != nil && pr.ProjectID != 0 {
		if projectID != 0 && projectID != pr.ProjectID {
			return []*herald.Event{}, "", nil
		}
		projectID = pr.ProjectID
	}
	q, args := `SELECT `+eventCols+` FROM events WHERE tenant_id = ?`, []any{c.tenantID}
	if projectID != 0 {
		q, args = q+` AND project_id = ?`, append(args, projectID)
	}
	return newestPage(c, p, q, args, func(rows *sql.Rows) (*herald.Event, int64, error) {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, 0, err
		}
		return e, e.ID, nil
	})
}

// CountDeliveriesByMinute counts the tenant's deliveries created since
// since, by the minute they were created in (UTC, truncated) and their
// current status.
func (db *DB) CountDeliveriesByMinute(ctx context.Context, since time.Time) (map[time.Time]map[string]int, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	q, args := `SELECT (created_at / 60000) * 60000 AS minute, status, COUNT(*) FROM deliveries WHERE tenant_id = ? AND created_at >= ?`,
		[]any{c.tenantID, ms(since)}
	q, args = projectScope(ctx, q, args)
	rows, err := c.query(q+` GROUP BY minute, status`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[time.Time]map[string]int{}
	for rows.Next() {
		var (
			minute int64
			status string
			n      int
		)
		if err := rows.Scan(&minute, &status, &n); err != nil {
			return nil, err
		}
		t := fromMS(minute)
		if out[t] == nil {
			out[t] = map[string]int{}
		}
		out[t][status] += n
	}
	return out, rows.Err()
}
