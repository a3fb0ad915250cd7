package store

import (
	"context"
	"slices"

	"github.com/heraldhq/herald"
)

// The recipient look-ups the resolver uses. Each returns users without
// their department ids, deduplicated, ordered by id.

// FindUsersByCodes returns the users with these codes.
func (db *DB) FindUsersByCodes(ctx context.Context, codes []string) ([]*herald.User, error) {
	return db.usersWhere(ctx, codes, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND code IN (%s)`)
}

// FindGroupMembersByCodes returns the members of the groups with these codes.
func (db *DB) FindGroupMembersByCodes(ctx context.Context, codes []string) ([]*herald.User, error) {
	return db.usersWhere(ctx, codes, `SELECT `+prefixed("u.", userCols)+` FROM users u
		JOIN group_members m ON m.user_id = u.id JOIN user_groups g ON g.id = m.group_id
		WHERE g.tenant_id = ? AND g.code IN (%s)`)
}

// FindDepartmentMembersByCodes returns the members of the departments with
// these codes and, with includeSubs, of every department below them.
func (db *DB) FindDepartmentMembersByCodes(ctx context.Context, codes []string, includeSubs bool) ([]*herald.User, error) {
	if !includeSubs {
		return db.usersWhere(ctx, codes, `SELECT `+prefixed("u.", userCols)+` FROM users u
			JOIN user_departments ud ON ud.user_id = u.id JOIN departments d ON d.id = ud.department_id
			WHERE d.tenant_id = ? AND d.code IN (%s)`)
	}
	// UNION (not UNION ALL) also stops at any cycle.
	return db.usersWhere(ctx, codes, `WITH RECURSIVE tree(id) AS (
			SELECT id FROM departments WHERE tenant_id = ? AND code IN (%s)
			UNION SELECT d.id FROM departments d JOIN tree ON d.parent_id = tree.id
		)
		SELECT `+prefixed("u.", userCols)+` FROM users u JOIN user_departments ud ON ud.user_id = u.id
		WHERE ud.department_id IN (SELECT id FROM tree)`)
}

func prefixed(p, cols string) string {
	out := ""
	for i, c := range splitCols(cols) {
		if i > 0 {
			out += ", "
		}
		out += p + c
	}
	return out
}

func splitCols(cols string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(cols); i++ {
		if i == len(cols) || cols[i] == ',' {
			c := cols[start:i]
			for len(c) > 0 && c[0] == ' ' {
				c = c[1:]
			}
			out = append(out, c)
			start = i + 1
		}
	}
	return out
}

// usersWhere runs q (with %s for the code placeholders) chunk by chunk.
func (db *DB) usersWhere(ctx context.Context, codes []string, q string) ([]*herald.User, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	codes = slices.Compact(slices.Sorted(slices.Values(codes)))
	seen := map[int64]bool{}
	var out []*herald.User
	for chunk := range slices.Chunk(codes, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, c.tenantID)
		for _, code := range chunk {
			args = append(args, code)
		}
		rows, err := c.query(sprintf(q, placeholders(len(chunk))), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[u.ID] {
				seen[u.ID] = true
				out = append(out, u)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b *herald.User) int { return int(a.ID - b.ID) })
	return out, nil
}
