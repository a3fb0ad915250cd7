package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/heraldhq/herald"
)

var _ herald.DirectoryService = (*DB)(nil)

const userCols = `id, code, name, email, mobile, locale, avatar_url, open_id, union_id, lark_user_id, dingtalk_id, wecom_id, time_zone, created_at, updated_at`

func scanUser(row scanner) (*herald.User, error) {
	var (
		u                herald.User
		created, updated int64
	)
	if err := row.Scan(&u.ID, &u.Code, &u.Name, &u.Email, &u.Mobile, &u.Locale, &u.AvatarURL, &u.OpenID, &u.UnionID,
		&u.LarkUserID, &u.DingTalkID, &u.WeComID, &u.TimeZone, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	u.DepartmentIDs = []int64{}
	return &u, nil
}

// ids loads a list of ids, e.g. a user's departments.
func (c conn) ids(q string, args ...any) ([]int64, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// checkIDs returns an invalid error naming field unless every id is a row
// of table in the tenant.
func (c conn) checkIDs(table, field string, ids []int64) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		args := append([]any{c.tenantID}, toAny(chunk)...)
		var n int
		if err := c.queryRow(`SELECT COUNT(*) FROM `+table+` WHERE tenant_id = ? AND id IN (`+placeholders(len(chunk))+`)`, args...).Scan(&n); err != nil {
			return err
		}
		if n != len(chunk) {
			return herald.Errorf(herald.EINVALID, field, "%s names an id that does not exist", field)
		}
	}
	return nil
}

func toAny[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// replaceLinks rewrites a link table's rows for one owner.
func (tx *Tx) replaceLinks(table, ownerCol, otherCol string, owner int64, others []int64) error {
	c := tx.conn()
	if _, err := c.exec(`DELETE FROM `+table+` WHERE tenant_id = ? AND `+ownerCol+` = ?`, tx.tenantID, owner); err != nil {
		return err
	}
	others = slices.Compact(slices.Sorted(slices.Values(others)))
	for chunk := range slices.Chunk(others, 300) {
		q := `INSERT INTO ` + table + ` (tenant_id, ` + ownerCol + `, ` + otherCol + `) VALUES `
		args := make([]any, 0, 3*len(chunk))
		for i, o := range chunk {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?, ?)"
			args = append(args, tx.tenantID, owner, o)
		}
		if _, err := c.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (c conn) findUser(id int64) (*herald.User, error) {
	u, err := scanUser(c.queryRow(`SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("user", id)
	} else if err != nil {
		return nil, err
	}
	u.DepartmentIDs, err = c.ids(`SELECT department_id FROM user_departments WHERE tenant_id = ? AND user_id = ? ORDER BY department_id`, c.tenantID, id)
	return u, err
}

// FindUserByID returns a user with their departments.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*herald.User, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findUser(id)
}

// FindUsers lists users by id, each with their departments.
func (db *DB) FindUsers(ctx context.Context, p herald.Page) ([]*herald.User, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	users, next, err := page(c, p, `SELECT `+userCols+` FROM users WHERE tenant_id = ?`, []any{c.tenantID},
		func(rows *sql.Rows) (*herald.User, int64, error) {
			u, err := scanUser(rows)
			if err != nil {
				return nil, 0, err
			}
			return u, u.ID, nil
		})
	if err != nil || len(users) == 0 {
		return users, next, err
	}
	// One query for the page's memberships.
	byID := make(map[int64]*herald.User, len(users))
	ids := make([]any, 0, len(users)+1)
	ids = append(ids, c.tenantID)
	for _, u := range users {
		byID[u.ID] = u
		ids = append(ids, u.ID)
	}
	rows, err := c.query(`SELECT user_id, department_id FROM user_departments WHERE tenant_id = ? AND user_id IN (`+
		placeholders(len(users))+`) ORDER BY user_id, department_id`, ids...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, did int64
		if err := rows.Scan(&uid, &did); err != nil {
			return nil, "", err
		}
		byID[uid].DepartmentIDs = append(byID[uid].DepartmentIDs, did)
	}
	return users, next, rows.Err()
}

func userArgs(u *herald.User) []any {
	return []any{u.Code, u.Name, u.Email, u.Mobile, u.Locale, u.AvatarURL, u.OpenID, u.UnionID, u.LarkUserID, u.DingTalkID, u.WeComID, u.TimeZone}
}

// CreateUser creates a user and their department memberships.
func (db *DB) CreateUser(ctx context.Context, u *herald.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkIDs("departments", "department_ids", u.DepartmentIDs); err != nil {
			return err
		}
		args := append([]any{tx.tenantID}, userArgs(u)...)
		id, err := c.insert(`INSERT INTO users (tenant_id, code, name, email, mobile, locale, avatar_url, open_id, union_id,
			lark_user_id, dingtalk_id, wecom_id, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append(args, ms(tx.now), ms(tx.now))...)
		if err != nil {
			return uniqueErr(err, "code", "a user with this code")
		}
		u.ID, u.CreatedAt, u.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
		return tx.replaceLinks("user_departments", "user_id", "department_id", id, u.DepartmentIDs)
	})
}

// UpdateUser saves a user and replaces their department memberships.
func (db *DB) UpdateUser(ctx context.Context, u *herald.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkIDs("departments", "department_ids", u.DepartmentIDs); err != nil {
			return err
		}
		args := append(userArgs(u), ms(tx.now), tx.tenantID, u.ID)
		res, err := c.exec(`UPDATE users SET code = ?, name = ?, email = ?, mobile = ?, locale = ?, avatar_url = ?, open_id = ?,
			union_id = ?, lark_user_id = ?, dingtalk_id = ?, wecom_id = ?, time_zone = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, args...)
		if err != nil {
			return uniqueErr(err, "code", "a user with this code")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("user", u.ID)
		}
		u.UpdatedAt = fromMS(ms(tx.now))
		return tx.replaceLinks("user_departments", "user_id", "department_id", u.ID, u.DepartmentIDs)
	})
}

// DeleteUser deletes a user with their memberships and inbox (which on
// PostgreSQL no foreign key takes with them: migration 00019).
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error {
		if err := tx.deleteRow("users", "user", id); err != nil {
			return err
		}
		_, err := tx.conn().exec(`DELETE FROM inbox_messages WHERE tenant_id = ? AND user_id = ?`, tx.tenantID, id)
		return err
	})
}

const groupCols = `id, code, name, created_at, updated_at`

func scanGroup(row scanner) (*herald.Group, error) {
	var (
		g                herald.Group
		created, updated int64
	)
	if err := row.Scan(&g.ID, &g.Code, &g.Name, &created, &updated); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMS(created), fromMS(updated)
	return &g, nil
}

func (c conn) findGroup(id int64) (*herald.Group, error) {
	g, err := scanGroup(c.queryRow(`SELECT `+groupCols+` FROM user_groups WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("group", id)
	} else if err != nil {
		return nil, err
	}
	g.MemberIDs, err = c.ids(`SELECT user_id FROM group_members WHERE tenant_id = ? AND group_id = ? ORDER BY user_id`, c.tenantID, id)
	return g, err
}

// FindGroupByID returns a group with its members.
func (db *DB) FindGroupByID(ctx context.Context, id int64) (*herald.Group, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findGroup(id)
}

// FindGroups lists groups by id, each with its members.
func (db *DB) FindGroups(ctx context.Context, p herald.Page) ([]*herald.Group, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	groups, next, err := page(c, p, `SELECT `+groupCols+` FROM user_groups WHERE tenant_id = ?`, []any{c.tenantID},
		func(rows *sql.Rows) (*herald.Group, int64, error) {
			g, err := scanGroup(rows)
			if err != nil {
				return nil, 0, err
			}
			return g, g.ID, nil
		})
	if err != nil {
		return nil, "", err
	}
	for _, g := range groups {
		if g.MemberIDs, err = c.ids(`SELECT user_id FROM group_members WHERE tenant_id = ? AND group_id = ? ORDER BY user_id`, c.tenantID, g.ID); err != nil {
			return nil, "", err
		}
	}
	return groups, next, nil
}

// CreateGroup creates a group with its members.
func (db *DB) CreateGroup(ctx context.Context, g *herald.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkIDs("users", "member_ids", g.MemberIDs); err != nil {
			return err
		}
		id, err := c.insert(`INSERT INTO user_groups (tenant_id, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			tx.tenantID, g.Code, g.Name, ms(tx.now), ms(tx.now))
		if err != nil {
			return uniqueErr(err, "code", "a group with this code")
		}
		g.ID, g.CreatedAt, g.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
		return tx.replaceLinks("group_members", "group_id", "user_id", id, g.MemberIDs)
	})
}

// UpdateGroup saves a group and replaces its members.
func (db *DB) UpdateGroup(ctx context.Context, g *herald.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkIDs("users", "member_ids", g.MemberIDs); err != nil {
			return err
		}
		res, err := c.exec(`UPDATE user_groups SET code = ?, name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			g.Code, g.Name, ms(tx.now), tx.tenantID, g.ID)
		if err != nil {
			return uniqueErr(err, "code", "a group with this code")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("group", g.ID)
		}
		g.UpdatedAt = fromMS(ms(tx.now))
		return tx.replaceLinks("group_members", "group_id", "user_id", g.ID, g.MemberIDs)
	})
}

// DeleteGroup deletes a group.
func (db *DB) DeleteGroup(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error { return tx.deleteRow("user_groups", "group", id) })
}

const departmentCols = `id, code, name, parent_id, created_at, updated_at`

func scanDepartment(row scanner) (*herald.Department, error) {
	var (
		d                herald.Department
		parent           sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&d.ID, &d.Code, &d.Name, &parent, &created, &updated); err != nil {
		return nil, err
	}
	if parent.Valid {
		d.ParentID = &parent.Int64
	}
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return &d, nil
}

func (c conn) findDepartment(id int64) (*herald.Department, error) {
	d, err := scanDepartment(c.queryRow(`SELECT `+departmentCols+` FROM departments WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("department", id)
	}
	return d, err
}

// FindDepartmentByID returns a department.
func (db *DB) FindDepartmentByID(ctx context.Context, id int64) (*herald.Department, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	return c.findDepartment(id)
}

// FindDepartments lists departments, optionally the children of one
// (ParentID 0: the roots).
func (db *DB) FindDepartments(ctx context.Context, f herald.DepartmentFilter, p herald.Page) ([]*herald.Department, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	q, args := `SELECT `+departmentCols+` FROM departments WHERE tenant_id = ?`, []any{c.tenantID}
	switch {
	case f.ParentID == nil:
	case *f.ParentID == 0:
		q += ` AND parent_id IS NULL`
	default:
		q, args = q+` AND parent_id = ?`, append(args, *f.ParentID)
	}
	return page(c, p, q, args, func(rows *sql.Rows) (*herald.Department, int64, error) {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, 0, err
		}
		return d, d.ID, nil
	})
}

// checkParent refuses a parent outside the tenant or one that would make
// the tree a cycle.
func (c conn) checkParent(d *herald.Department) error {
	for id, hops := d.ParentID, 0; id != nil; hops++ {
		if *id == d.ID || hops > 1000 {
			return herald.Errorf(herald.EINVALID, "parent_id", "parent_id would make the department its own ancestor")
		}
		p, err := c.findDepartment(*id)
		if err != nil {
			return herald.Errorf(herald.EINVALID, "parent_id", "parent department %d does not exist", *id)
		}
		id = p.ParentID
	}
	return nil
}

// CreateDepartment creates a department under an existing parent.
func (db *DB) CreateDepartment(ctx context.Context, d *herald.Department) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkParent(d); err != nil {
			return err
		}
		id, err := c.insert(`INSERT INTO departments (tenant_id, code, name, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			tx.tenantID, d.Code, d.Name, d.ParentID, ms(tx.now), ms(tx.now))
		if err != nil {
			return uniqueErr(err, "code", "a department with this code")
		}
		d.ID, d.CreatedAt, d.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
		return nil
	})
}

// UpdateDepartment saves a department; a parent making a cycle is refused.
func (db *DB) UpdateDepartment(ctx context.Context, d *herald.Department) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkParent(d); err != nil {
			return err
		}
		res, err := c.exec(`UPDATE departments SET code = ?, name = ?, parent_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			d.Code, d.Name, d.ParentID, ms(tx.now), tx.tenantID, d.ID)
		if err != nil {
			return uniqueErr(err, "code", "a department with this code")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("department", d.ID)
		}
		d.UpdatedAt = fromMS(ms(tx.now))
		return nil
	})
}

// DeleteDepartment deletes a department that has no sub-departments.
func (db *DB) DeleteDepartment(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.conn().queryRow(`SELECT COUNT(*) FROM departments WHERE tenant_id = ? AND parent_id = ?`, tx.tenantID, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return herald.Errorf(herald.ECONFLICT, "", "department %d still has %d sub-departments", id, n)
		}
		return tx.deleteRow("departments", "department", id)
	})
}

const chatCols = `id, code, name, notifier_id, created_at, updated_at`

func scanChat(row scanner) (*herald.Chat, error) {
	var (
		ch               herald.Chat
		notifier         sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&ch.ID, &ch.Code, &ch.Name, &notifier, &created, &updated); err != nil {
		return nil, err
	}
	if notifier.Valid {
		ch.NotifierID = &notifier.Int64
	}
	ch.CreatedAt, ch.UpdatedAt = fromMS(created), fromMS(updated)
	return &ch, nil
}

// FindChatByID returns a chat.
func (db *DB) FindChatByID(ctx context.Context, id int64) (*herald.Chat, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := scanChat(c.queryRow(`SELECT `+chatCols+` FROM chats WHERE tenant_id = ? AND id = ?`, c.tenantID, id))
	if err == sql.ErrNoRows {
		return nil, notFound("chat", id)
	}
	return ch, err
}

// FindChats lists chats by id.
func (db *DB) FindChats(ctx context.Context, p herald.Page) ([]*herald.Chat, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	return page(c, p, `SELECT `+chatCols+` FROM chats WHERE tenant_id = ?`, []any{c.tenantID},
		func(rows *sql.Rows) (*herald.Chat, int64, error) {
			ch, err := scanChat(rows)
			if err != nil {
				return nil, 0, err
			}
			return ch, ch.ID, nil
		})
}

func (c conn) checkChatNotifier(ch *herald.Chat) error {
	if ch.NotifierID == nil {
		return nil
	}
	return c.checkIDs("notifiers", "notifier_id", []int64{*ch.NotifierID})
}

// CreateChat creates a chat, optionally bound to a robot notifier.
func (db *DB) CreateChat(ctx context.Context, ch *herald.Chat) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkChatNotifier(ch); err != nil {
			return err
		}
		id, err := c.insert(`INSERT INTO chats (tenant_id, code, name, notifier_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			tx.tenantID, ch.Code, ch.Name, ch.NotifierID, ms(tx.now), ms(tx.now))
		if err != nil {
			return uniqueErr(err, "code", "a chat with this code")
		}
		ch.ID, ch.CreatedAt, ch.UpdatedAt = id, fromMS(ms(tx.now)), fromMS(ms(tx.now))
		return nil
	})
}

// UpdateChat saves a chat.
func (db *DB) UpdateChat(ctx context.Context, ch *herald.Chat) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.checkChatNotifier(ch); err != nil {
			return err
		}
		res, err := c.exec(`UPDATE chats SET code = ?, name = ?, notifier_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			ch.Code, ch.Name, ch.NotifierID, ms(tx.now), tx.tenantID, ch.ID)
		if err != nil {
			return uniqueErr(err, "code", "a chat with this code")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("chat", ch.ID)
		}
		ch.UpdatedAt = fromMS(ms(tx.now))
		return nil
	})
}

// DeleteChat deletes a chat.
func (db *DB) DeleteChat(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error { return tx.deleteRow("chats", "chat", id) })
}

// CreateUsers creates many users in one transaction (a directory import):
// all or none. Each is validated as by CreateUser.
func (db *DB) CreateUsers(ctx context.Context, users []*herald.User) error {
	for i, u := range users {
		if err := u.Validate(); err != nil {
			he := err.(*herald.Error)
			return herald.Errorf(he.Code, "users["+itoa(i)+"]."+he.Field, "%s", he.Message)
		}
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		var depts []int64
		for _, u := range users {
			depts = append(depts, u.DepartmentIDs...)
		}
		if err := c.checkIDs("departments", "department_ids", depts); err != nil {
			return err
		}
		for chunk := range slices.Chunk(users, 200) {
			q := `INSERT INTO users (tenant_id, code, name, email, mobile, locale, avatar_url, open_id, union_id,
				lark_user_id, dingtalk_id, wecom_id, time_zone, created_at, updated_at) VALUES `
			args := make([]any, 0, 15*len(chunk))
			for i, u := range chunk {
				if i > 0 {
					q += ", "
				}
				q += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				args = append(append(append(args, tx.tenantID), userArgs(u)...), ms(tx.now), ms(tx.now))
			}
			ids, err := c.insertedIDs(q+" RETURNING id", args...)
			if err != nil {
				return uniqueErr(err, "code", "a user with this code")
			}
			var links []any
			lq := `INSERT INTO user_departments (tenant_id, user_id, department_id) VALUES `
			for i, u := range chunk {
				u.ID, u.CreatedAt, u.UpdatedAt = ids[i], fromMS(ms(tx.now)), fromMS(ms(tx.now))
				for _, d := range slices.Compact(slices.Sorted(slices.Values(u.DepartmentIDs))) {
					if len(links) > 0 {
						lq += ", "
					}
					lq += "(?, ?, ?)"
					links = append(links, tx.tenantID, u.ID, d)
				}
			}
			if len(links) > 0 {
				if _, err := c.exec(lq, links...); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
