package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/heraldhq/herald"
)

// FindUserByCode returns the user with this code, with their departments.
func (db *DB) FindUserByCode(ctx context.Context, code string) (*herald.User, error) {
	if !herald.IsText(code) {
		return nil, herald.Errorf(herald.ENOTFOUND, "", "user %q not found", code)
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	var id int64
	err = c.queryRow(`SELECT id FROM users WHERE tenant_id = ? AND code = ?`, c.tenantID, code).Scan(&id)
	if err == sql.ErrNoRows {
		return nil, herald.Errorf(herald.ENOTFOUND, "", "user %q not found", code)
	} else if err != nil {
		return nil, err
	}
	return c.findUser(id)
}

// ImportUsers writes a checked import file in one transaction: users whose
// code exists are updated (the file's columns only), the others created.
// Unknown department codes and users the merged values make invalid
// answer FieldErrors naming each line, and nothing is written.
func (db *DB) ImportUsers(ctx context.Context, im *herald.UserImport) (herald.UserImportResult, error) {
	var res herald.UserImportResult
	err := db.update(ctx, func(tx *Tx) error {
		res = herald.UserImportResult{}
		c := tx.conn()
		// Department codes to ids.
		depts := map[string]int64{}
		if im.Has("departments") {
			var codes []string
			for _, row := range im.Rows {
				codes = append(codes, row.Departments...)
			}
			codes = slices.Compact(slices.Sorted(slices.Values(codes)))
			for chunk := range slices.Chunk(codes, 500) {
				rows, err := c.query(`SELECT id, code FROM departments WHERE tenant_id = ? AND code IN (`+placeholders(len(chunk))+`)`,
					append([]any{c.tenantID}, strAny(chunk)...)...)
				if err != nil {
					return err
				}
				for rows.Next() {
					var (
						id   int64
						code string
					)
					if err := rows.Scan(&id, &code); err != nil {
						rows.Close()
						return err
					}
					depts[code] = id
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
		}
		// The users that exist, by code.
		existing := map[string]*herald.User{}
		codes := make([]string, 0, len(im.Rows))
		for _, row := range im.Rows {
			codes = append(codes, row.User.Code)
		}
		for chunk := range slices.Chunk(codes, 500) {
			rows, err := c.query(`SELECT `+userCols+` FROM users WHERE tenant_id = ? AND code IN (`+placeholders(len(chunk))+`)`,
				append([]any{c.tenantID}, strAny(chunk)...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				u, err := scanUser(rows)
				if err != nil {
					rows.Close()
					return err
				}
				existing[u.Code] = u
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		// Every line checked before any is written.
		var problems herald.FieldErrors
		users := make([]*herald.User, len(im.Rows))
		for i := range im.Rows {
			row := &im.Rows[i]
			u := existing[row.User.Code]
			if u == nil {
				u = &herald.User{}
			}
			im.Apply(row, u)
			if im.Has("departments") {
				u.DepartmentIDs = []int64{}
				for _, code := range row.Departments {
					id, ok := depts[code]
					if !ok {
						problems = append(problems, herald.ImportUserError(row.Line, "departments", "there is no department with the code %s", code))
						continue
					}
					u.DepartmentIDs = append(u.DepartmentIDs, id)
				}
			}
			for _, fe := range herald.ErrorFields(u.Validate()) {
				col := fe.Field
				if col == "department_ids" {
					col = "departments"
				}
				problems = append(problems, herald.ImportUserError(row.Line, col, "%s", fe.Message))
			}
			users[i] = u
		}
		if len(problems) > 0 {
			return problems.Err()
		}
		for i, u := range users {
			if u.ID == 0 {
				args := append([]any{tx.tenantID}, userArgs(u)...)
				id, err := c.insert(`INSERT INTO users (tenant_id, code, name, email, mobile, locale, avatar_url, open_id, union_id,
					lark_user_id, dingtalk_id, wecom_id, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					append(args, ms(tx.now), ms(tx.now))...)
				if err != nil {
					return uniqueErr(err, herald.ImportCellField(im.Rows[i].Line, "code"), "a user with this code")
				}
				u.ID = id
				res.Created++
			} else {
				args := append(userArgs(u), ms(tx.now), tx.tenantID, u.ID)
				if _, err := c.exec(`UPDATE users SET code = ?, name = ?, email = ?, mobile = ?, locale = ?, avatar_url = ?, open_id = ?,
					union_id = ?, lark_user_id = ?, dingtalk_id = ?, wecom_id = ?, time_zone = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, args...); err != nil {
					return err
				}
				res.Updated++
			}
			if im.Has("departments") {
				if err := tx.replaceLinks("user_departments", "user_id", "department_id", u.ID, u.DepartmentIDs); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return herald.UserImportResult{}, err
	}
	return res, nil
}
