package store

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/heraldhq/herald"
)

var _ herald.OriginService = (*DB)(nil)

// originsJSON is the allowed_origins column of a project's list.
func originsJSON(origins []string) string {
	if origins == nil {
		origins = []string{}
	}
	b, _ := json.Marshal(origins)
	return string(b)
}

// ProjectAllowsOrigin reports whether project projectID lists origin.
// It acts for the system: the HTTP layer asks it for an authenticated
// end-user token's project.
func (db *DB) ProjectAllowsOrigin(ctx context.Context, projectID int64, origin string) (bool, error) {
	return db.originListed(ctx, `SELECT allowed_origins FROM projects WHERE id = ? AND allowed_origins LIKE ?`, projectID, origin)
}

// AnyProjectAllowsOrigin reports whether some project lists origin (a
// preflight names no project).
func (db *DB) AnyProjectAllowsOrigin(ctx context.Context, origin string) (bool, error) {
	return db.originListed(ctx, `SELECT allowed_origins FROM projects WHERE allowed_origins LIKE ?`, origin)
}

// originListed runs q (its last argument the LIKE pattern, which only
// narrows the rows) and reads the lists it returns for origin itself.
func (db *DB) originListed(ctx context.Context, q string, args ...any) (bool, error) {
	origin, err := herald.NormalizeOrigin(args[len(args)-1].(string))
	if err != nil {
		return false, nil
	}
	// A normalized origin holds no %; its _ (LIKE's one-character
	// wildcard) can only widen the match, which the check below narrows.
	args[len(args)-1] = `%"` + origin + `"%`
	c := conn{q: db.read, db: db, ctx: ctx}
	rows, err := c.query(q+` LIMIT 100`, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return false, err
		}
		var list []string
		if json.Unmarshal([]byte(raw), &list) == nil && slices.Contains(list, origin) {
			return true, nil
		}
	}
	return false, rows.Err()
}
