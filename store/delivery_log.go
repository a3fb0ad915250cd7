package store

import (
	"context"
	"slices"
	"time"

	"github.com/heraldhq/herald"
)

// The delivery log's bulk operations and names: what a person filtering
// the log sees, and re-queues, in one go.

// maxBulkRetry is herald.MaxBulkRetry; tests lower it.
var maxBulkRetry = herald.MaxBulkRetry

// RetryDeliveries re-queues the dead deliveries the filter matches (the
// failed ones when it asks for failed), at most herald.MaxBulkRetry,
// oldest first, in one transaction with their jobs; a scoped principal's
// filter is kept to its project.
func (db *DB) RetryDeliveries(ctx context.Context, f herald.DeliveryFilter) (herald.BulkRetry, error) {
	var out herald.BulkRetry
	st := f.RetryStatus()
	if st == "" {
		return out, herald.Errorf(herald.EINVALID, "status", "only dead or failed deliveries can be retried, not %s ones", f.Status)
	}
	f.Status = st
	if err := f.Validate(); err != nil {
		return out, err
	}
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		q, args := deliveryWhere(ctx, `SELECT id FROM deliveries`, tx.tenantID, f)
		ids, err := c.ids(q+` ORDER BY id LIMIT ?`, append(args, maxBulkRetry+1)...)
		if err != nil {
			return err
		}
		out = herald.BulkRetry{More: len(ids) > maxBulkRetry}
		ids = ids[:min(len(ids), maxBulkRetry)]
		var retried []int64
		for chunk := range slices.Chunk(ids, 500) {
			// The status is asked again: the rows are this
			// transaction's, but the filter's status is the contract.
			args := append(append([]any{herald.StatusPending, ms(tx.now)}, toAny(chunk)...), tx.tenantID, st)
			got, err := c.ids(`UPDATE deliveries SET status = ?, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = ?
				WHERE `+byIDs(len(chunk))+` AND status = ? RETURNING id`, args...)
			if err != nil {
				return err
			}
			retried = append(retried, got...)
		}
		slices.Sort(retried)
		out.Retried = len(retried)
		return tx.insertJobs(deliverJobs(tx.tenantID, retried, time.Time{}))
	})
	if err != nil {
		return herald.BulkRetry{}, err
	}
	return out, nil
}

// CountDeliveriesUpTo counts the deliveries the filter matches, up to limit:
// an answer of limit means "limit or more", so the count stays cheap on
// a log of millions.
func (db *DB) CountDeliveriesUpTo(ctx context.Context, f herald.DeliveryFilter, limit int) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return 0, err
	}
	q, args := deliveryWhere(ctx, `SELECT 1 FROM deliveries`, c.tenantID, f)
	var n int
	err = c.queryRow(`SELECT COUNT(*) FROM (`+q+` LIMIT ?) AS matched`, append(args, limit)...).Scan(&n)
	return n, err
}

// NameDeliveries returns ds with the names of their notifiers, sources,
// event types and recipients, read in one query; a delivery outside the
// principal's scope gets no names.
func (db *DB) NameDeliveries(ctx context.Context, ds []*herald.Delivery) ([]*herald.DeliveryEntry, error) {
	out := make([]*herald.DeliveryEntry, len(ds))
	byID := make(map[int64]*herald.DeliveryEntry, len(ds))
	ids := make([]int64, 0, len(ds))
	for i, d := range ds {
		out[i] = &herald.DeliveryEntry{Delivery: d}
		byID[d.ID] = out[i]
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(ids, 500) {
		// A person's name; else, for a post to a chat, the chat's (a
		// push names it in the target, as code or code@host); else the
		// chat whose robot the notifier is.
		q := `SELECT d.id, COALESCE(n.project_id, 0), COALESCE(n.name, ''), COALESCE(e.source_id, 0), COALESCE(s.name, ''), COALESCE(e.type, ''),
				COALESCE(NULLIF(u.name, ''),
					(SELECT MIN(ch.name) FROM chats ch WHERE ch.tenant_id = d.tenant_id AND d.user_id IS NULL
						AND (ch.code = d.target OR substr(d.target, 1, length(ch.code) + 1) = ch.code || '@')),
					(SELECT MIN(ch.name) FROM chats ch WHERE ch.tenant_id = d.tenant_id AND d.user_id IS NULL AND ch.notifier_id = d.notifier_id),
					'')
			FROM deliveries d
			LEFT JOIN notifiers n ON n.tenant_id = d.tenant_id AND n.id = d.notifier_id
			LEFT JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
			LEFT JOIN sources s ON s.tenant_id = e.tenant_id AND s.id = e.source_id
			LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
			WHERE d.tenant_id = ? AND d.id IN (` + placeholders(len(chunk)) + `)`
		args := append([]any{c.tenantID}, toAny(chunk)...)
		if p := herald.PrincipalFromContext(ctx); p != nil && p.ProjectID != 0 {
			q, args = q+` AND n.project_id = ?`, append(args, p.ProjectID)
		}
		rows, err := c.query(q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				id int64
				e  herald.DeliveryEntry
			)
			if err := rows.Scan(&id, &e.ProjectID, &e.NotifierName, &e.SourceID, &e.SourceName, &e.EventType, &e.Recipient); err != nil {
				rows.Close()
				return nil, err
			}
			if dst := byID[id]; dst != nil {
				e.Delivery = dst.Delivery
				*dst = e
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
