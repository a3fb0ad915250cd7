package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

var (
	_ herald.TenantService = (*DB)(nil)
	_ herald.TokenService  = (*DB)(nil)
)

// DefaultTenant is the tenant Bootstrap creates.
const DefaultTenant = "default"

// Bootstrap creates the tenant "default" and an admin token when the
// database holds no tenant; it returns the token's secret, or "".
func (db *DB) Bootstrap(ctx context.Context) (string, error) {
	var secret string
	err := db.updateTenant(ctx, 0, func(tx *Tx) error {
		c := tx.conn()
		var n int
		if err := c.queryRow(`SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		id, err := c.insert(`INSERT INTO tenants (name, created_at) VALUES (?, ?)`, DefaultTenant, ms(tx.now))
		if err != nil {
			return err
		}
		tx.tenantID = id
		_, secret, err = tx.createToken(herald.TokenCreate{Name: "admin", Permissions: []herald.Permission{herald.PermAdmin}})
		return err
	})
	return secret, err
}

// CreateTenant creates a tenant; it needs no tenant in ctx.
func (db *DB) CreateTenant(ctx context.Context, name string) (*herald.Tenant, error) {
	t := &herald.Tenant{Name: name}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	err := db.updateTenant(ctx, 0, func(tx *Tx) error {
		t.CreatedAt = fromMS(ms(tx.now))
		id, err := tx.conn().insert(`INSERT INTO tenants (name, created_at) VALUES (?, ?)`, name, ms(tx.now))
		t.ID = id
		return uniqueErr(err, "name", "a tenant with this name")
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// FindTenantByName finds a tenant; it needs no tenant in ctx.
func (db *DB) FindTenantByName(ctx context.Context, name string) (*herald.Tenant, error) {
	if !herald.IsText(name) {
		return nil, herald.Errorf(herald.ENOTFOUND, "name", "tenant %q not found", name)
	}
	t := &herald.Tenant{}
	var created int64
	err := db.read.QueryRowContext(ctx, db.rebind(`SELECT id, name, created_at FROM tenants WHERE name = ?`), name).Scan(&t.ID, &t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.ENOTFOUND, "name", "tenant %q not found", name)
	} else if err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	return t, nil
}

// Authenticate resolves a token secret to its principal: an API token's,
// or an end-user token's (herald.EndUserClaims), which acts for one person.
func (db *DB) Authenticate(ctx context.Context, secret string) (*herald.Principal, error) {
	if isEndUserToken(secret) {
		return db.authenticateEndUser(ctx, secret)
	}
	if !strings.HasPrefix(secret, herald.TokenPrefix) || len(secret) > 200 {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid token")
	}
	hash := herald.HashToken(secret)
	gen, cached := db.cacheGen(ctx)
	var t *cachedToken
	if cached {
		t, _ = db.cache.token(hash)
	}
	if t == nil {
		var (
			perms    string
			project  sql.NullInt64
			lastUsed sql.NullInt64
		)
		t = &cachedToken{}
		p := &t.p
		// No tenant yet: the token names it.
		c := conn{q: db.read, db: db, ctx: ctx}
		err := c.queryRow(`SELECT id, tenant_id, name, permissions, project_id, last_used_at
			FROM tokens WHERE hash = ? AND revoked_at IS NULL`, hash).
			Scan(&p.TokenID, &p.TenantID, &p.TokenName, &perms, &project, &lastUsed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid or revoked token")
		} else if err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(perms), &p.Permissions); err != nil {
			return nil, err
		}
		p.ProjectID = project.Int64
		if lastUsed.Valid {
			t.lastUsed = fromMS(lastUsed.Int64)
		}
		if cached {
			db.cache.putToken(gen, hash, *t)
		}
	}
	// Record use at most once a minute, so reads do not all become writes.
	now := db.now()
	if t.lastUsed.IsZero() || now.Sub(t.lastUsed) > time.Minute {
		if _, err := db.write.ExecContext(ctx, db.rebind(`UPDATE tokens SET last_used_at = ? WHERE id = ?`), ms(now), t.p.TokenID); err != nil {
			db.logger.Warn("record token use", "err", err)
		} else {
			db.cache.usedToken(hash, now)
		}
	}
	return &t.p, nil
}

// CreateToken creates a token in ctx's tenant.
func (db *DB) CreateToken(ctx context.Context, c herald.TokenCreate) (*herald.Token, string, error) {
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	var (
		t      *herald.Token
		secret string
	)
	err := db.update(ctx, func(tx *Tx) error {
		if c.ProjectID != 0 {
			if _, err := tx.findProject(c.ProjectID); err != nil {
				return herald.Errorf(herald.EINVALID, "project_id", "project %d does not exist", c.ProjectID)
			}
		}
		var err error
		t, secret, err = tx.createToken(c)
		return err
	})
	return t, secret, err
}

func (tx *Tx) createToken(c herald.TokenCreate) (*herald.Token, string, error) {
	secret := herald.NewTokenSecret()
	perms, _ := json.Marshal(c.Permissions)
	t := &herald.Token{Name: c.Name, Prefix: secret[:8], Permissions: c.Permissions, ProjectID: c.ProjectID, CreatedAt: fromMS(ms(tx.now))}
	var project any
	if c.ProjectID != 0 {
		project = c.ProjectID
	}
	id, err := tx.conn().insert(`INSERT INTO tokens (tenant_id, name, prefix, hash, permissions, project_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tx.tenantID, t.Name, t.Prefix, herald.HashToken(secret), string(perms), project, ms(tx.now))
	if err != nil {
		return nil, "", err
	}
	t.ID = id
	return t, secret, nil
}

// FindTokens lists the tenant's tokens, revoked ones included.
func (db *DB) FindTokens(ctx context.Context, p herald.Page) ([]*herald.Token, string, error) {
	c, err := db.reader(ctx)
	if err != nil {
		return nil, "", err
	}
	return page(c, p, `SELECT id, name, prefix, permissions, project_id, created_at, last_used_at, revoked_at
		FROM tokens WHERE tenant_id = ?`, []any{c.tenantID}, func(rows *sql.Rows) (*herald.Token, int64, error) {
		var (
			t                 herald.Token
			perms             string
			project           sql.NullInt64
			created           int64
			lastUsed, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Prefix, &perms, &project, &created, &lastUsed, &revoked); err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal([]byte(perms), &t.Permissions); err != nil {
			return nil, 0, err
		}
		t.ProjectID, t.CreatedAt = project.Int64, fromMS(created)
		t.LastUsedAt, t.RevokedAt = fromNullMS(lastUsed), fromNullMS(revoked)
		return &t, t.ID, nil
	})
}

// RevokeToken revokes a token of ctx's tenant; it stops working at once.
func (db *DB) RevokeToken(ctx context.Context, id int64) error {
	return db.update(ctx, func(tx *Tx) error {
		tx.touchCache()
		res, err := tx.conn().exec(`UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?`, ms(tx.now), tx.tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("token", id)
		}
		return nil
	})
}
