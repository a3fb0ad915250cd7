package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/riverqueue/river"
)

var _ herald.PushService = (*DB)(nil)

// PushArgs is the job that sends a push at its send_at. It is inserted in
// the transaction that schedules the push, so whichever node is up at
// send_at sends it; the push's status makes a second run a no-op.
type PushArgs struct {
	TenantID int64 `json:"tenant_id"`
	PushID   int64 `json:"push_id"`
}

// Kind names the job for River.
func (PushArgs) Kind() string { return "herald.push" }

// PushNewStaffArgs is the job that sends an active new-staff push to the
// users created since the last run; it schedules its next run itself.
type PushNewStaffArgs struct {
	TenantID int64 `json:"tenant_id"`
	PushID   int64 `json:"push_id"`
}

// Kind names the job for River.
func (PushNewStaffArgs) Kind() string { return "herald.push_new_staff" }

const pushCols = `id, job_name, content_type, content, push_type, scope_type, new_staff_scope_type, new_staff_department_ids,
	user_ids, department_ids, chat_ids, send_at, ext, status, reason, reject_reason, read_user_count,
	created_by_name, created_by_user_id, updated_by_name, updated_by_user_id, created_at, updated_at, started_at, sent_at,
	submitted_by_token_id, submitted_by_user_id`

// pushRow is a push as stored, with the read count kept after a recall.
type pushRow struct {
	*herald.Push
	keptRead sql.NullInt64
}

func scanPush(row scanner) (*pushRow, error) {
	var (
		p                            herald.Push
		r                            pushRow
		newStaff                     sql.NullInt64
		nsDepts, users, depts, chats string
		sendAt, started, sent        sql.NullInt64
		createdBy, updatedBy         sql.NullInt64
		subToken, subUser            sql.NullInt64
		created, updated             int64
		status                       string
	)
	if err := row.Scan(&p.ID, &p.JobName, &p.ContentType, &p.Content, &p.PushType, &p.ScopeType, &newStaff, &nsDepts,
		&users, &depts, &chats, &sendAt, &p.Ext, &status, &p.Reason, &p.RejectReason, &r.keptRead,
		&p.CreatedBy.Name, &createdBy, &p.UpdatedBy.Name, &updatedBy, &created, &updated, &started, &sent,
		&subToken, &subUser); err != nil {
		return nil, err
	}
	if newStaff.Valid {
		v := int(newStaff.Int64)
		p.NewStaffScopeType = &v
	}
	for _, l := range []struct {
		raw string
		dst *[]int64
	}{{nsDepts, &p.NewStaffDepartmentIDs}, {users, &p.UserIDs}, {depts, &p.DepartmentIDs}, {chats, &p.ChatIDs}} {
		*l.dst = []int64{}
		if err := json.Unmarshal([]byte(l.raw), l.dst); err != nil {
			return nil, err
		}
	}
	p.Status = herald.PushStatus(status)
	p.CreatedBy.UserID, p.UpdatedBy.UserID = createdBy.Int64, updatedBy.Int64
	p.Submitter = herald.PushSubmitter{TokenID: subToken.Int64, UserID: subUser.Int64}
	p.SendAt, p.StartedAt, p.SentAt = fromNullMS(sendAt), fromNullMS(started), fromNullMS(sent)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	r.Push = &p
	return &r, nil
}

// findPush reads a push with its counts.
func (c conn) findPush(id int64) (*herald.Push, error) {
	r, err := scanPush(c.queryRow(`SELECT `+pushCols+` FROM pushes WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("push", id)
	} else if err != nil {
		return nil, err
	}
	return r.Push, c.pushCounts(r)
}

// pushCounts fills the true counts: the recorded recipients, the users
// whose delivery succeeded, and the users who read it (kept at recall,
// which removes the messages it counts).
func (c conn) pushCounts(r *pushRow) error {
	p := r.Push
	if unsent(p.Status) {
		if err := c.unsentTargetCount(p); err != nil {
			return err
		}
	} else if err := c.queryRow(`SELECT COUNT(*) FROM push_recipients WHERE tenant_id = ? AND push_id = ?`, c.tenantID, p.ID).Scan(&p.TargetUserCount); err != nil {
		return err
	}
	if err := c.queryRow(`SELECT COUNT(DISTINCT user_id) FROM deliveries WHERE tenant_id = ? AND push_id = ? AND status = ? AND user_id IS NOT NULL`,
		c.tenantID, p.ID, herald.StatusDelivered).Scan(&p.SentUserCount); err != nil {
		return err
	}
	if r.keptRead.Valid {
		p.ReadUserCount = int(r.keptRead.Int64)
		return nil
	}
	return c.queryRow(`SELECT COUNT(DISTINCT user_id) FROM inbox_messages WHERE tenant_id = ? AND push_id = ? AND read_at IS NOT NULL`,
		c.tenantID, p.ID).Scan(&p.ReadUserCount)
}

// FindPushByID returns a push with its counts.
func (db *DB) FindPushByID(ctx context.Context, id int64) (*herald.Push, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findPush(id)
}

// FindPushes lists pushes by id, optionally in one status.
func (db *DB) FindPushes(ctx context.Context, f herald.PushFilter, p herald.Page) ([]*herald.Push, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	q, args := `SELECT `+pushCols+` FROM pushes WHERE tenant_id = ?`, []any{c.tenantID}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, string(f.Status))
	}
	rows, next, err := page(c, p, q, args, func(rows *sql.Rows) (*pushRow, int64, error) {
		r, err := scanPush(rows)
		if err != nil {
			return nil, 0, err
		}
		return r, r.ID, nil
	})
	if err != nil {
		return nil, "", err
	}
	if err := c.pageCounts(rows); err != nil {
		return nil, "", err
	}
	out := make([]*herald.Push, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Push)
	}
	return out, next, nil
}

// pageCounts fills the counts of a page of pushes in three grouped
// queries, as pushCounts does for one.
func (c conn) pageCounts(rows []*pushRow) error {
	if len(rows) == 0 {
		return nil
	}
	byID := make(map[int64]*pushRow, len(rows))
	ids := make([]any, 0, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	in := `push_id IN (` + placeholders(len(ids)) + `)`
	for _, q := range []struct {
		sql  string
		args []any
		set  func(r *pushRow, n int)
	}{
		// Read, then sent, then target: each query sees what committed
		// before it, and a send records its recipients with its
		// deliveries, so the counts never show read > sent > target
		// (on PostgreSQL each statement has its own snapshot).
		{`SELECT push_id, COUNT(DISTINCT user_id) FROM inbox_messages WHERE tenant_id = ? AND ` + in + ` AND read_at IS NOT NULL GROUP BY push_id`,
			nil, func(r *pushRow, n int) { r.ReadUserCount = n }},
		{`SELECT push_id, COUNT(DISTINCT user_id) FROM deliveries WHERE tenant_id = ? AND ` + in + ` AND status = ? AND user_id IS NOT NULL GROUP BY push_id`,
			[]any{herald.StatusDelivered}, func(r *pushRow, n int) { r.SentUserCount = n }},
		{`SELECT push_id, COUNT(*) FROM push_recipients WHERE tenant_id = ? AND ` + in + ` GROUP BY push_id`,
			nil, func(r *pushRow, n int) { r.TargetUserCount = n }},
	} {
		args := append(append([]any{c.tenantID}, ids...), q.args...)
		res, err := c.query(q.sql, args...)
		if err != nil {
			return err
		}
		for res.Next() {
			var id int64
			var n int
			if err := res.Scan(&id, &n); err != nil {
				res.Close()
				return err
			}
			q.set(byID[id], n)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if r.keptRead.Valid {
			r.ReadUserCount = int(r.keptRead.Int64)
		}
		if unsent(r.Status) {
			if err := c.unsentTargetCount(r.Push); err != nil {
				return err
			}
		}
	}
	return nil
}

// actor is the context's token as a push actor: its name, and the user
// whose code is that name, if any.
func (c conn) actor() (herald.PushActor, error) {
	p := herald.PrincipalFromContext(c.ctx)
	a := herald.PushActor{}
	if p == nil {
		return a, nil
	}
	a.Name = p.TokenName
	err := c.queryRow(`SELECT id, name, avatar_url FROM users WHERE tenant_id = ? AND code = ?`, c.tenantID, p.TokenName).Scan(&a.UserID, &a.Name, &a.AvatarURL)
	if err == sql.ErrNoRows {
		return herald.PushActor{Name: p.TokenName}, nil
	}
	return a, err
}

func (c conn) checkPushRefs(p *herald.Push) error {
	for _, ref := range []struct {
		table, field string
		ids          []int64
	}{
		{"users", "user_ids", p.UserIDs}, {"departments", "department_ids", p.DepartmentIDs},
		{"departments", "new_staff_department_ids", p.NewStaffDepartmentIDs}, {"chats", "chat_ids", p.ChatIDs},
	} {
		if err := c.checkIDs(ref.table, ref.field, ref.ids); err != nil {
			return err
		}
	}
	return nil
}

func jsonIDs(ids []int64) string {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if ids == nil {
		ids = []int64{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func nullInt(v *int) any {
	if v == nil {
		return nil
	}
	return *v
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// CreatePush creates a push in draft, created by the context's token.
func (db *DB) CreatePush(ctx context.Context, p *herald.Push) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkPushRefs(p); err != nil {
			return err
		}
		a, err := c.actor()
		if err != nil {
			return err
		}
		id, err := c.insert(`INSERT INTO pushes (tenant_id, job_name, content_type, content, push_type, scope_type, new_staff_scope_type,
			new_staff_department_ids, user_ids, department_ids, chat_ids, send_at, ext, status, created_by_name, created_by_user_id,
			updated_by_name, updated_by_user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tx.tenantID, p.JobName, p.ContentType, p.Content, p.PushType, p.ScopeType, nullInt(p.NewStaffScopeType),
			jsonIDs(p.NewStaffDepartmentIDs), jsonIDs(p.UserIDs), jsonIDs(p.DepartmentIDs), jsonIDs(p.ChatIDs), nullTime(p.SendAt), p.Ext,
			string(herald.PushDraft), a.Name, nullID(a.UserID), a.Name, nullID(a.UserID), ms(tx.now), ms(tx.now))
		if err != nil {
			return err
		}
		saved, err := c.findPush(id)
		if err != nil {
			return err
		}
		*p = *saved
		return nil
	})
}

// UpdatePush saves a draft push's fields.
func (db *DB) UpdatePush(ctx context.Context, p *herald.Push) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		cur, err := c.findPush(p.ID)
		if err != nil {
			return err
		}
		if _, err := herald.PushTransition(cur.Status, herald.PushActionEdit); err != nil {
			return err
		}
		if err := c.checkPushRefs(p); err != nil {
			return err
		}
		a, err := c.actor()
		if err != nil {
			return err
		}
		res, err := c.exec(`UPDATE pushes SET job_name = ?, content_type = ?, content = ?, push_type = ?, scope_type = ?, new_staff_scope_type = ?,
			new_staff_department_ids = ?, user_ids = ?, department_ids = ?, chat_ids = ?, send_at = ?, ext = ?,
			updated_by_name = ?, updated_by_user_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ?`,
			p.JobName, p.ContentType, p.Content, p.PushType, p.ScopeType, nullInt(p.NewStaffScopeType),
			jsonIDs(p.NewStaffDepartmentIDs), jsonIDs(p.UserIDs), jsonIDs(p.DepartmentIDs), jsonIDs(p.ChatIDs), nullTime(p.SendAt), p.Ext,
			a.Name, nullID(a.UserID), ms(tx.now), tx.tenantID, p.ID, string(herald.PushDraft))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return herald.Errorf(herald.ENOTALLOWED, "status", "push %d is no longer a draft", p.ID)
		}
		saved, err := c.findPush(p.ID)
		if err != nil {
			return err
		}
		*p = *saved
		return nil
	})
}

// PreviewPush renders a push as its recipients will see it: the job name
// as the title, the text (or the card) as the body.
func (db *DB) PreviewPush(ctx context.Context, id int64) (*herald.PushPreview, error) {
	p, err := db.FindPushByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return PreviewOf(p), nil
}

// PreviewOf renders a push for its recipients.
func PreviewOf(p *herald.Push) *herald.PushPreview {
	pv := &herald.PushPreview{Title: p.JobName, Body: p.Content, ContentType: p.ContentType}
	if p.ContentType == herald.PushContentCard {
		pv.Card = json.RawMessage(p.Content)
	}
	return pv
}

// transition moves push id by action in tx: it reads the status, asks the
// lifecycle where action leads, and writes the new status only if nobody
// changed it meanwhile. set adds columns to write.
func (tx *Tx) transition(id int64, action herald.PushAction, set map[string]any) (*herald.Push, error) {
	return tx.checkedTransition(id, action, set, nil)
}

// checkedTransition is transition with check run on the push as read,
// before it is written (the write is conditional on that read's status).
func (tx *Tx) checkedTransition(id int64, action herald.PushAction, set map[string]any, check func(cur *herald.Push) error) (*herald.Push, error) {
	c := tx.conn()
	cur, err := c.findPush(id)
	if err != nil {
		return nil, err
	}
	to, err := herald.PushTransition(cur.Status, action)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(cur); err != nil {
			return nil, err
		}
	}
	a, err := c.actor()
	if err != nil {
		return nil, err
	}
	q := `UPDATE pushes SET status = ?, updated_at = ?`
	args := []any{string(to), ms(tx.now)}
	if action != herald.PushActionStart && action != herald.PushActionFinish {
		q, args = q+`, updated_by_name = ?, updated_by_user_id = ?`, append(args, a.Name, nullID(a.UserID))
	}
	for _, col := range slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if !yield(k) {
				return
			}
		}
	}) {
		q, args = q+`, `+col+` = ?`, append(args, set[col])
	}
	res, err := c.exec(q+` WHERE tenant_id = ? AND id = ? AND status = ?`, append(args, tx.tenantID, id, string(cur.Status))...)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, herald.Errorf(herald.ENOTALLOWED, "status", "push %d changed status meanwhile; try again", id)
	}
	return c.findPush(id)
}

// move runs one transition in its own transaction.
func (db *DB) move(ctx context.Context, id int64, action herald.PushAction, set map[string]any, after func(tx *Tx, p *herald.Push) error) (*herald.Push, error) {
	var out *herald.Push
	err := db.update(ctx, func(tx *Tx) error {
		p, err := tx.transition(id, action, set)
		if err != nil {
			return err
		}
		if after != nil {
			if err := after(tx, p); err != nil {
				return err
			}
			if p, err = tx.conn().findPush(id); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	return out, err
}

// SubmitPush asks for approval and records the submitter; it approves at
// once only as herald.PushSubmitAction says.
func (db *DB) SubmitPush(ctx context.Context, id int64, reason string) (*herald.Push, error) {
	if err := herald.ValidatePushReason(reason, false); err != nil {
		return nil, err
	}
	var out *herald.Push
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		pol, err := c.pushPolicy()
		if err != nil {
			return err
		}
		a, err := c.actor()
		if err != nil {
			return err
		}
		pr := herald.PrincipalFromContext(ctx)
		out, err = tx.transition(id, herald.PushSubmitAction(pr, *pol), map[string]any{"reason": reason, "reject_reason": "",
			"submitted_by_token_id": nullID(pr.TokenID), "submitted_by_user_id": nullID(a.UserID)})
		return err
	})
	return out, err
}

// WithdrawPush takes a pending or rejected push back to draft.
func (db *DB) WithdrawPush(ctx context.Context, id int64) (*herald.Push, error) {
	return db.move(ctx, id, herald.PushActionWithdraw, nil, nil)
}

// ApprovePush approves a pending push, unless herald.CheckPushApprover
// refuses the approver.
func (db *DB) ApprovePush(ctx context.Context, id int64) (*herald.Push, error) {
	var out *herald.Push
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		pol, err := c.pushPolicy()
		if err != nil {
			return err
		}
		a, err := c.actor()
		if err != nil {
			return err
		}
		out, err = tx.checkedTransition(id, herald.PushActionApprove, nil, func(cur *herald.Push) error {
			return herald.CheckPushApprover(cur, tokenIDOf(ctx), a.UserID, *pol)
		})
		return err
	})
	return out, err
}

// tokenIDOf is the id of ctx's token, 0 when none.
func tokenIDOf(ctx context.Context) int64 {
	if p := herald.PrincipalFromContext(ctx); p != nil {
		return p.TokenID
	}
	return 0
}

// pushPolicy reads the tenant's push policy.
func (c conn) pushPolicy() (*herald.PushPolicy, error) {
	var self int64
	if err := c.queryRow(`SELECT push_self_approval FROM tenants WHERE id = ?`, c.tenantID).Scan(&self); err != nil {
		return nil, err
	}
	return &herald.PushPolicy{SelfApproval: self != 0}, nil
}

// FindPushPolicy returns the tenant's push policy.
func (db *DB) FindPushPolicy(ctx context.Context) (*herald.PushPolicy, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.pushPolicy()
}

// UpdatePushPolicy sets the tenant's push policy.
func (db *DB) UpdatePushPolicy(ctx context.Context, pol *herald.PushPolicy) error {
	self := 0
	if pol.SelfApproval {
		self = 1
	}
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.conn().exec(`UPDATE tenants SET push_self_approval = ? WHERE id = ?`, self, tx.tenantID)
		return err
	})
}

// PushActions lists what ctx's principal may do to each push now
// (herald.AllowedPushActions), reading the policy and the principal's user
// once.
func (db *DB) PushActions(ctx context.Context, ps []*herald.Push) (herald.PushActionsOf, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	pol, err := c.pushPolicy()
	if err != nil {
		return nil, err
	}
	a, err := c.actor()
	if err != nil {
		return nil, err
	}
	out := make(herald.PushActionsOf, len(ps))
	for _, p := range ps {
		out[p.ID] = herald.AllowedPushActions(ctx, p, a.UserID, *pol)
	}
	return out, nil
}

// RejectPush rejects a pending push with a reason.
func (db *DB) RejectPush(ctx context.Context, id int64, reason string) (*herald.Push, error) {
	if err := herald.ValidatePushReason(reason, true); err != nil {
		return nil, err
	}
	return db.move(ctx, id, herald.PushActionReject, map[string]any{"reject_reason": reason}, nil)
}

// ExecutePush schedules an approved push for sendAt (zero or past: now)
// and stores the River job that sends it in the same transaction.
func (db *DB) ExecutePush(ctx context.Context, id int64, sendAt time.Time) (*herald.Push, error) {
	now := db.now()
	if sendAt.Before(now) {
		sendAt = now
	}
	return db.move(ctx, id, herald.PushActionExecute, map[string]any{"send_at": ms(sendAt)}, func(tx *Tx, p *herald.Push) error {
		return tx.insertJobs([]river.InsertManyParams{{Args: PushArgs{TenantID: tx.tenantID, PushID: id},
			InsertOpts: &river.InsertOpts{ScheduledAt: sendAt}}})
	})
}

// CancelPush cancels a scheduled or sending push: its pending robot posts
// are failed. With recall it also removes every inbox message it
// delivered (a sent push too), keeping the read count it had.
func (db *DB) CancelPush(ctx context.Context, id int64, recall bool) (*herald.Push, error) {
	action := herald.PushActionCancel
	if recall {
		action = herald.PushActionRecall
	}
	return db.move(ctx, id, action, nil, func(tx *Tx, p *herald.Push) error {
		c := tx.conn()
		if _, err := c.exec(`UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ?
			WHERE tenant_id = ? AND push_id = ? AND status = ?`, herald.StatusFailed, "the push was cancelled", ms(tx.now),
			tx.tenantID, id, herald.StatusPending); err != nil {
			return err
		}
		if !recall {
			return nil
		}
		if _, err := c.exec(`UPDATE pushes SET read_user_count = ? WHERE tenant_id = ? AND id = ?`, p.ReadUserCount, tx.tenantID, id); err != nil {
			return err
		}
		_, err := c.exec(`DELETE FROM inbox_messages WHERE tenant_id = ? AND push_id = ?`, tx.tenantID, id)
		return err
	})
}

// StartPush marks a scheduled push sending (a push already sending, after
// a crash, stays so) and returns it. A push in any other status (sent,
// cancelled) is ENOTALLOWED: the job that finds it so has nothing to do.
func (db *DB) StartPush(ctx context.Context, id int64) (*herald.Push, error) {
	return db.move(ctx, id, herald.PushActionStart, nil, func(tx *Tx, p *herald.Push) error {
		if p.StartedAt != nil {
			return nil
		}
		_, err := tx.conn().exec(`UPDATE pushes SET started_at = COALESCE(started_at, ?) WHERE tenant_id = ? AND id = ?`, ms(tx.now), tx.tenantID, id)
		return err
	})
}

// PushTargets returns the users a push's scope resolves to, distinct and
// by id: every user (scope 0), the given users and the members of the
// given departments and their sub-departments (scope 2), or the users
// created after since in the new-staff scope (scope 3; since is when the
// push started sending). Users already recorded as recipients are left
// out, so a run that repeats sends to nobody twice. Scope 1 targets no
// user.
func (db *DB) PushTargets(ctx context.Context, p *herald.Push, since time.Time) ([]*herald.User, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	where, args, ok := c.targetsWhere(p, since)
	if !ok {
		return nil, nil
	}
	notYet := ` AND u.id NOT IN (SELECT user_id FROM push_recipients WHERE tenant_id = ? AND push_id = ?)`
	rows, err := c.query(`SELECT `+prefixed("u.", userCols)+` FROM users u WHERE `+where+notYet+` ORDER BY u.id`, append(args, c.tenantID, p.ID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*herald.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// targetsWhere is the one rule of whom a push's scope reaches, as a
// condition on users u of the tenant (see PushTargets); ok is false when
// the scope reaches no user.
func (c conn) targetsWhere(p *herald.Push, since time.Time) (where string, args []any, ok bool) {
	subtree := func(ids []int64) (string, []any) {
		return `u.id IN (SELECT ud.user_id FROM user_departments ud WHERE ud.department_id IN (
			WITH RECURSIVE tree(id) AS (
				SELECT id FROM departments WHERE tenant_id = ? AND id IN (` + placeholders(len(ids)) + `)
				UNION SELECT d.id FROM departments d JOIN tree ON d.parent_id = tree.id
			) SELECT id FROM tree))`, append([]any{c.tenantID}, toAny(ids)...)
	}
	where, args = `u.tenant_id = ?`, []any{c.tenantID}
	switch p.ScopeType {
	case herald.PushScopeAll:
	case herald.PushScopeGiven:
		var parts []string
		if len(p.UserIDs) > 0 {
			parts = append(parts, `u.id IN (`+placeholders(len(p.UserIDs))+`)`)
			args = append(args, toAny(p.UserIDs)...)
		}
		if len(p.DepartmentIDs) > 0 {
			s, a := subtree(p.DepartmentIDs)
			parts, args = append(parts, s), append(args, a...)
		}
		if len(parts) == 0 {
			return "", nil, false
		}
		where += ` AND (` + strings.Join(parts, ` OR `) + `)`
	case herald.PushScopeNewStaff:
		where, args = where+` AND u.created_at > ?`, append(args, ms(since))
		if p.NewStaffScopeType != nil && *p.NewStaffScopeType == herald.NewStaffDepartments {
			if len(p.NewStaffDepartmentIDs) == 0 {
				return "", nil, false
			}
			s, a := subtree(p.NewStaffDepartmentIDs)
			where, args = where+` AND `+s, append(args, a...)
		}
	default:
		return "", nil, false
	}
	return where, args, true
}

// unsent reports whether a push in status st has not started sending and
// still may: its target count is then whom its scope would reach now
// rather than the recipients recorded.
func unsent(st herald.PushStatus) bool {
	switch st {
	case herald.PushDraft, herald.PushPendingApproval, herald.PushApproved, herald.PushRejected, herald.PushScheduled:
		return true
	}
	return false
}

// unsentTargetCount sets an unsent push's target count: the users its
// scope resolves to now, as the send would resolve them (new staff are
// those created after now: none yet).
func (c conn) unsentTargetCount(p *herald.Push) error {
	where, args, ok := c.targetsWhere(p, c.db.now())
	if !ok {
		p.TargetUserCount = 0
		return nil
	}
	return c.queryRow(`SELECT COUNT(*) FROM users u WHERE `+where, args...).Scan(&p.TargetUserCount)
}

// RecordPushSend records, in one transaction, what one run of a push's
// job sent: the recipients, their deliveries (with push_id) and inbox
// messages, and the jobs for the pending robot posts; with finish, the
// push becomes sent. It records nothing when the push is no longer
// sending (cancelled meanwhile) and reports whether it recorded.
func (db *DB) RecordPushSend(ctx context.Context, pushID int64, recipients []int64, ds []NewDelivery, finish bool) (bool, error) {
	recorded := false
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var status string
		if err := c.queryRow(`SELECT status FROM pushes WHERE tenant_id = ? AND id = ?`, tx.tenantID, pushID).Scan(&status); err != nil {
			if err == sql.ErrNoRows {
				return notFound("push", pushID)
			}
			return err
		}
		if herald.PushStatus(status) != herald.PushSending {
			return nil
		}
		for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(recipients))), rowsPerInsert) {
			q := `INSERT INTO push_recipients (tenant_id, push_id, user_id, created_at) VALUES `
			args := make([]any, 0, 4*len(chunk))
			for i, u := range chunk {
				if i > 0 {
					q += ", "
				}
				q += "(?, ?, ?, ?)"
				args = append(args, tx.tenantID, pushID, u, ms(tx.now))
			}
			if _, err := c.exec(q+` ON CONFLICT DO NOTHING`, args...); err != nil {
				return err
			}
		}
		rows := make([]deliveryRow, len(ds))
		for i, d := range ds {
			rows[i] = deliveryRow{pushID: pushID, NewDelivery: d}
		}
		pending, err := tx.insertDeliveries(rows)
		if err != nil {
			return err
		}
		if err := tx.insertJobs(deliverJobs(tx.tenantID, pending, time.Time{})); err != nil {
			return err
		}
		if finish {
			if _, err := c.exec(`UPDATE pushes SET status = ?, sent_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
				string(herald.PushSent), ms(tx.now), ms(tx.now), tx.tenantID, pushID); err != nil {
				return err
			}
		}
		recorded = true
		return nil
	})
	return recorded, err
}

// ScheduleNewStaffSweep stores the job that next sends an active new-staff
// push to the users created since its last run.
func (db *DB) ScheduleNewStaffSweep(ctx context.Context, pushID int64, at time.Time) error {
	return db.update(ctx, func(tx *Tx) error {
		return tx.insertJobs([]river.InsertManyParams{{Args: PushNewStaffArgs{TenantID: tx.tenantID, PushID: pushID},
			InsertOpts: &river.InsertOpts{ScheduledAt: at}}})
	})
}

// FindChatsByIDs returns the chats with these ids, by id.
func (db *DB) FindChatsByIDs(ctx context.Context, ids []int64) ([]*herald.Chat, error) {
	return findWhereIn(db, ctx, `SELECT `+chatCols+` FROM chats WHERE tenant_id = ? AND id IN (%s) ORDER BY id`, toAny(ids), scanChat)
}

// FindChatsByCodes returns the chats with these codes (the vendor's chat
// ids), by id.
func (db *DB) FindChatsByCodes(ctx context.Context, codes []string) ([]*herald.Chat, error) {
	return findWhereIn(db, ctx, `SELECT `+chatCols+` FROM chats WHERE tenant_id = ? AND code IN (%s) ORDER BY id`, strAny(codes), scanChat)
}

// FindDepartmentsByIDs returns the departments with these ids, by id.
func (db *DB) FindDepartmentsByIDs(ctx context.Context, ids []int64) ([]*herald.Department, error) {
	return findWhereIn(db, ctx, `SELECT `+departmentCols+` FROM departments WHERE tenant_id = ? AND id IN (%s) ORDER BY id`, toAny(ids), scanDepartment)
}

// FindDepartmentsByCodes returns the departments with these codes, by id.
func (db *DB) FindDepartmentsByCodes(ctx context.Context, codes []string) ([]*herald.Department, error) {
	return findWhereIn(db, ctx, `SELECT `+departmentCols+` FROM departments WHERE tenant_id = ? AND code IN (%s) ORDER BY id`, strAny(codes), scanDepartment)
}

// FindUsersByIDs returns the users with these ids, by id, without their
// departments.
func (db *DB) FindUsersByIDs(ctx context.Context, ids []int64) ([]*herald.User, error) {
	return findWhereIn(db, ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id IN (%s) ORDER BY id`, toAny(ids), scanUser)
}

// User id kinds FindUsersByIMIDs looks up, as Feishu names them.
const (
	IDOpenID  = "open_id"
	IDUnionID = "union_id"
	IDUserID  = "user_id" // Feishu's user_id: User.LarkUserID
)

// FindUsersByIMIDs returns the users whose Feishu id of kind (open_id,
// union_id or user_id) is one of ids, by id.
func (db *DB) FindUsersByIMIDs(ctx context.Context, kind string, ids []string) ([]*herald.User, error) {
	col, ok := map[string]string{IDOpenID: "open_id", IDUnionID: "union_id", IDUserID: "lark_user_id"}[kind]
	if !ok {
		return nil, herald.Errorf(herald.EINVALID, "user_id_type", "user_id_type must be open_id, union_id or user_id")
	}
	var nonEmpty []string
	for _, id := range ids {
		if id != "" {
			nonEmpty = append(nonEmpty, id)
		}
	}
	return findWhereIn(db, ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND `+col+` IN (%s) ORDER BY id`, strAny(nonEmpty), scanUser)
}

// strAny returns the values of a look-up by many codes or ids, leaving
// out those no row can hold (herald.IsText): they match nothing, and
// PostgreSQL would refuse the whole query for them.
func strAny(s []string) []any {
	out := make([]any, 0, len(s))
	for _, v := range s {
		if herald.IsText(v) {
			out = append(out, v)
		}
	}
	return out
}

// findWhereIn runs q (with %s for the values' placeholders) chunk by chunk.
func findWhereIn[T any](db *DB, ctx context.Context, q string, values []any, scan func(scanner) (*T, error)) ([]*T, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	var out []*T
	for chunk := range slices.Chunk(values, 500) {
		rows, err := c.query(sprintf(q, placeholders(len(chunk))), append([]any{c.tenantID}, chunk...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
