package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/heraldhq/herald"
)

var (
	_ herald.PreferenceService = (*DB)(nil)
	_ herald.EndUserKeyService = (*DB)(nil)
)

// preferenceDoc is what user_preferences.document holds.
type preferenceDoc struct {
	Rules      []herald.PreferenceRule `json:"rules"`
	QuietHours []herald.QuietHours     `json:"quiet_hours"`
}

// policyDoc is what preference_policies.document holds.
type policyDoc struct {
	Categories []herald.Category       `json:"categories"`
	Required   []string                `json:"required"`
	Urgent     []string                `json:"urgent"`
	Defaults   []herald.PreferenceRule `json:"defaults"`
	QuietHours []herald.QuietHours     `json:"quiet_hours"`
}

func staleDocRevision(asked, current int64) error {
	return herald.Errorf(herald.ECONFLICT, "revision", "revision %d is not the current one (%d): read the document again", asked, current)
}

// userExists answers notFound unless id is a user of the tenant.
func (c conn) userExists(id int64) error {
	var n int
	if err := c.queryRow(`SELECT COUNT(*) FROM users WHERE tenant_id = ? AND id = ?`, c.tenantID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("user", id)
	}
	return nil
}

// userPreferences reads a person's preferences; empty ones at revision 0
// when they never set any.
func (c conn) userPreferences(userID int64) (*herald.UserPreferences, error) {
	p := &herald.UserPreferences{UserID: userID, Rules: []herald.PreferenceRule{}, QuietHours: []herald.QuietHours{}}
	var (
		raw     string
		updated int64
	)
	err := c.queryRow(`SELECT revision, document, updated_at FROM user_preferences WHERE tenant_id = ? AND user_id = ?`, c.tenantID, userID).
		Scan(&p.Revision, &raw, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	} else if err != nil {
		return nil, err
	}
	var d preferenceDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, err
	}
	p.Rules, p.QuietHours, p.UpdatedAt = d.Rules, d.QuietHours, fromMS(updated)
	return p, p.Validate() // fills empty lists
}

// FindUserPreferences returns a person's preferences.
func (db *DB) FindUserPreferences(ctx context.Context, userID int64) (*herald.UserPreferences, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.userExists(userID); err != nil {
		return nil, err
	}
	return c.userPreferences(userID)
}

// writeUserPreferences stores p as the next revision after current.
func (tx *Tx) writeUserPreferences(p *herald.UserPreferences, current int64) error {
	raw, err := json.Marshal(preferenceDoc{Rules: p.Rules, QuietHours: p.QuietHours})
	if err != nil {
		return err
	}
	c := tx.conn()
	p.Revision, p.UpdatedAt = current+1, fromMS(ms(tx.now))
	if current == 0 {
		_, err = c.exec(`INSERT INTO user_preferences (user_id, tenant_id, revision, document, updated_at) VALUES (?, ?, ?, ?, ?)`,
			p.UserID, tx.tenantID, p.Revision, string(raw), ms(tx.now))
		if isUniqueViolation(err) {
			return staleDocRevision(0, current+1)
		}
		return err
	}
	res, err := c.exec(`UPDATE user_preferences SET revision = ?, document = ?, updated_at = ? WHERE tenant_id = ? AND user_id = ? AND revision = ?`,
		p.Revision, string(raw), ms(tx.now), tx.tenantID, p.UserID, current)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return staleDocRevision(current, current+1)
	}
	return nil
}

// UpdateUserPreferences replaces a person's preferences.
func (db *DB) UpdateUserPreferences(ctx context.Context, p *herald.UserPreferences) (*herald.UserPreferences, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := *p
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.userExists(p.UserID); err != nil {
			return err
		}
		cur, err := c.userPreferences(p.UserID)
		if err != nil {
			return err
		}
		if p.Revision != herald.NoRevisionCheck && p.Revision != cur.Revision {
			return staleDocRevision(p.Revision, cur.Revision)
		}
		return tx.writeUserPreferences(&out, cur.Revision)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetUserPreference sets one rule, keeping the person's others.
func (db *DB) SetUserPreference(ctx context.Context, userID int64, r herald.PreferenceRule) (*herald.UserPreferences, error) {
	if err := r.Validate("rule"); err != nil {
		return nil, err
	}
	var out *herald.UserPreferences
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if err := c.userExists(userID); err != nil {
			return err
		}
		p, err := c.userPreferences(userID)
		if err != nil {
			return err
		}
		p.Set(r)
		if err := p.Validate(); err != nil {
			return err
		}
		out = p
		return tx.writeUserPreferences(p, p.Revision)
	})
	return out, err
}

// preferencePolicy reads a project's policy (projectID 0: the tenant's);
// an empty one at revision 0 when none was written.
func (c conn) preferencePolicy(projectID int64) (*herald.PreferencePolicy, error) {
	p := &herald.PreferencePolicy{ProjectID: projectID}
	var (
		raw     string
		updated int64
	)
	q := `SELECT revision, document, updated_at, updated_by FROM preference_policies WHERE tenant_id = ? AND project_id = ?`
	args := []any{c.tenantID, projectID}
	if projectID == 0 {
		q, args = `SELECT revision, document, updated_at, updated_by FROM preference_policies WHERE tenant_id = ? AND project_id IS NULL`, args[:1]
	}
	err := c.queryRow(q, args...).Scan(&p.Revision, &raw, &updated, &p.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return p, p.Validate()
	} else if err != nil {
		return nil, err
	}
	var d policyDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, err
	}
	p.Categories, p.Required, p.Urgent, p.Defaults, p.QuietHours = d.Categories, d.Required, d.Urgent, d.Defaults, d.QuietHours
	p.UpdatedAt = fromMS(updated)
	return p, p.Validate()
}

// FindPreferencePolicy returns a project's policy, or the tenant's.
func (db *DB) FindPreferencePolicy(ctx context.Context, projectID int64) (*herald.PreferencePolicy, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	if projectID != 0 {
		if _, err := c.findProject(projectID); err != nil {
			return nil, err
		}
	}
	return c.preferencePolicy(projectID)
}

// UpdatePreferencePolicy replaces a project's policy, or the tenant's.
func (db *DB) UpdatePreferencePolicy(ctx context.Context, p *herald.PreferencePolicy) (*herald.PreferencePolicy, error) {
	if p.ProjectID < 0 {
		return nil, herald.Errorf(herald.EINVALID, "project_id", "project_id must be a project id, or 0 for the tenant")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := *p
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if p.ProjectID != 0 {
			if _, err := c.findProject(p.ProjectID); err != nil {
				return err
			}
		}
		cur, err := c.preferencePolicy(p.ProjectID)
		if err != nil {
			return err
		}
		if p.Revision != herald.NoRevisionCheck && p.Revision != cur.Revision {
			return staleDocRevision(p.Revision, cur.Revision)
		}
		raw, err := json.Marshal(policyDoc{Categories: p.Categories, Required: p.Required, Urgent: p.Urgent, Defaults: p.Defaults, QuietHours: p.QuietHours})
		if err != nil {
			return err
		}
		out.Revision, out.UpdatedAt, out.UpdatedBy = cur.Revision+1, fromMS(ms(tx.now)), actor(tx.ctx)
		if cur.Revision == 0 {
			_, err := c.exec(`INSERT INTO preference_policies (tenant_id, project_id, revision, document, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)`,
				tx.tenantID, nullID(p.ProjectID), out.Revision, string(raw), ms(tx.now), out.UpdatedBy)
			if isUniqueViolation(err) {
				return staleDocRevision(p.Revision, 1)
			}
			return err
		}
		scope, args := `project_id = ?`, []any{p.ProjectID}
		if p.ProjectID == 0 {
			scope, args = `project_id IS NULL`, nil
		}
		res, err := c.exec(`UPDATE preference_policies SET revision = ?, document = ?, updated_at = ?, updated_by = ? WHERE tenant_id = ? AND `+scope+` AND revision = ?`,
			append(append([]any{out.Revision, string(raw), ms(tx.now), out.UpdatedBy, tx.tenantID}, args...), cur.Revision)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return staleDocRevision(cur.Revision, cur.Revision+1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PreferenceScopes reads, for the engine, what the resolutions of users
// in a project are made from: the project's and the tenant's policies,
// and each user's preferences (nil for one who set none).
func (db *DB) PreferenceScopes(ctx context.Context, projectID int64, userIDs []int64) (map[int64]herald.PreferenceScope, error) {
	project, tenant, err := db.PreferencePolicies(ctx, projectID)
	if err != nil {
		return nil, err
	}
	persons, err := db.UserPreferencesOf(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]herald.PreferenceScope, len(userIDs))
	for _, id := range userIDs {
		out[id] = herald.PreferenceScope{Person: persons[id], Project: project, Tenant: tenant}
	}
	return out, nil
}

// PreferencePolicies reads a project's policy and its tenant's.
func (db *DB) PreferencePolicies(ctx context.Context, projectID int64) (project, tenant *herald.PreferencePolicy, err error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, nil, err
	}
	if project, err = c.preferencePolicy(projectID); err != nil {
		return nil, nil, err
	}
	tenant, err = c.preferencePolicy(0)
	return project, tenant, err
}

// UserPreferencesOf reads the preferences of users, by id; a user who set
// none is absent.
func (db *DB) UserPreferencesOf(ctx context.Context, userIDs []int64) (map[int64]*herald.UserPreferences, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	persons := map[int64]*herald.UserPreferences{}
	ids := slices.Compact(slices.Sorted(slices.Values(userIDs)))
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := c.query(`SELECT user_id, document FROM user_preferences WHERE tenant_id = ? AND user_id IN (`+placeholders(len(chunk))+`)`,
			append([]any{c.tenantID}, toAny(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				id  int64
				raw string
				d   preferenceDoc
			)
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return nil, err
			}
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				rows.Close()
				return nil, err
			}
			persons[id] = &herald.UserPreferences{UserID: id, Rules: d.Rules, QuietHours: d.QuietHours}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return persons, nil
}

// RotateEndUserKey gives a project a new end-user key.
func (db *DB) RotateEndUserKey(ctx context.Context, projectID int64) (string, error) {
	key := herald.NewEndUserKey()
	err := db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if _, err := c.findProject(projectID); err != nil {
			return err
		}
		sealed := db.box.seal(sealedEndUserKey, []byte(key))
		res, err := c.exec(`UPDATE end_user_keys SET sealed = ?, created_at = ? WHERE tenant_id = ? AND project_id = ?`, sealed, ms(tx.now), tx.tenantID, projectID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = c.exec(`INSERT INTO end_user_keys (project_id, tenant_id, sealed, created_at) VALUES (?, ?, ?, ?)`, projectID, tx.tenantID, sealed, ms(tx.now))
		return err
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// DeleteEndUserKey removes a project's end-user key.
func (db *DB) DeleteEndUserKey(ctx context.Context, projectID int64) error {
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if _, err := c.findProject(projectID); err != nil {
			return err
		}
		_, err := c.exec(`DELETE FROM end_user_keys WHERE tenant_id = ? AND project_id = ?`, tx.tenantID, projectID)
		return err
	})
}

// authenticateEndUser resolves an end-user token: the project it names
// must have a key that signed it, and the person it names must exist.
func (db *DB) authenticateEndUser(ctx context.Context, token string) (*herald.Principal, error) {
	claims, err := herald.ParseEndUserToken(token)
	if err != nil {
		return nil, err
	}
	c := conn{q: db.read, db: db, ctx: ctx}
	var (
		tenantID int64
		sealed   string
	)
	err = c.queryRow(`SELECT tenant_id, sealed FROM end_user_keys WHERE project_id = ?`, claims.ProjectID).Scan(&tenantID, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid end-user token")
	} else if err != nil {
		return nil, err
	}
	version, key, err := db.box.open(sealed)
	if err != nil || version != sealedEndUserKey {
		return nil, errors.Join(errors.New("store: cannot open a project's end-user key"), err)
	}
	if _, err := herald.VerifyEndUserToken(string(key), token, db.now()); err != nil {
		return nil, err
	}
	p := &herald.Principal{TenantID: tenantID, ProjectID: claims.ProjectID, TokenName: "end user " + claims.UserCode}
	err = c.queryRow(`SELECT id FROM users WHERE tenant_id = ? AND code = ?`, tenantID, claims.UserCode).Scan(&p.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "the end-user token names no person of the directory")
	} else if err != nil {
		return nil, err
	}
	return p, nil
}

// isEndUserToken reports whether secret is an end-user token rather than
// an API token.
func isEndUserToken(secret string) bool { return strings.HasPrefix(secret, herald.EndUserTokenPrefix) }

// FindPreferencePanel lays out a person's preferences for the panel of a
// project: its categories and the tenant's, over the channels the project
// has notifiers of.
func (db *DB) FindPreferencePanel(ctx context.Context, projectID, userID int64) (*herald.PreferencePanel, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.findProject(projectID); err != nil {
		return nil, err
	}
	if err := c.checkUser(userID); err != nil {
		return nil, err
	}
	var s herald.PreferenceScope
	if s.Project, err = c.preferencePolicy(projectID); err != nil {
		return nil, err
	}
	if s.Tenant, err = c.preferencePolicy(0); err != nil {
		return nil, err
	}
	if s.Person, err = c.userPreferences(userID); err != nil {
		return nil, err
	}
	rows, err := c.query(`SELECT DISTINCT type FROM notifiers WHERE tenant_id = ? AND project_id = ?`, c.tenantID, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var channels []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		channels = append(channels, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return herald.BuildPreferencePanel(s, channels), nil
}
