package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

// The web console's sign-ins live here, not in the cookie alone, so that
// signing out ends a session for whoever holds a copy of its cookie. A
// session is known by the SHA-256 of the random secret its cookie carries
// and acts as the token it was opened with, which every look-up checks
// again: revoking the token ends its sessions at once.

// CreateConsoleSession records a console session of ctx's principal, known
// by secret and lasting until expires. The principal's token must be of
// ctx's tenant and not revoked; a principal without a token is
// EUNAUTHORIZED. Sessions that have expired, in every tenant, are purged
// on the way: sign-ins are rare enough to carry that cost.
func (db *DB) CreateConsoleSession(ctx context.Context, secret string, expires time.Time) error {
	p := herald.PrincipalFromContext(ctx)
	if p == nil || p.TokenID == 0 {
		return herald.Errorf(herald.EUNAUTHORIZED, "", "a console session needs a token")
	}
	return db.update(ctx, func(tx *Tx) error {
		c := tx.conn()
		if _, err := c.exec(`DELETE FROM console_sessions WHERE expires_at <= ?`, ms(tx.now)); err != nil {
			return err
		}
		_, err := c.insert(`INSERT INTO console_sessions (hash, tenant_id, token_id, created_at, expires_at)
			SELECT ?, tenant_id, id, ?, ? FROM tokens WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`,
			herald.HashToken(secret), ms(tx.now), ms(expires), tx.tenantID, p.TokenID)
		if errors.Is(err, sql.ErrNoRows) {
			return herald.Errorf(herald.EUNAUTHORIZED, "", "invalid or revoked token")
		}
		return err
	})
}

// AuthenticateConsoleSession resolves a console session's secret to the
// principal of its token and the session's expiry. An unknown, revoked or
// expired session, or one whose token is revoked, is EUNAUTHORIZED. Like
// Authenticate it needs no tenant in ctx: the session names it.
func (db *DB) AuthenticateConsoleSession(ctx context.Context, secret string) (*herald.Principal, time.Time, error) {
	var (
		p                 herald.Principal
		perms             string
		project, lastUsed sql.NullInt64
		expires           int64
	)
	now := db.now()
	c := conn{q: db.read, db: db, ctx: ctx}
	err := c.queryRow(`SELECT t.id, t.tenant_id, t.name, t.permissions, t.project_id, t.last_used_at, s.expires_at
		FROM console_sessions s JOIN tokens t ON t.id = s.token_id AND t.tenant_id = s.tenant_id
		WHERE s.hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND t.revoked_at IS NULL`,
		herald.HashToken(secret), ms(now)).
		Scan(&p.TokenID, &p.TenantID, &p.TokenName, &perms, &project, &lastUsed, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, herald.Errorf(herald.EUNAUTHORIZED, "", "no such session, or it has ended")
	} else if err != nil {
		return nil, time.Time{}, err
	}
	if err := json.Unmarshal([]byte(perms), &p.Permissions); err != nil {
		return nil, time.Time{}, err
	}
	p.ProjectID = project.Int64
	// A console session is a use of its token: record it as Authenticate
	// does, at most once a minute.
	if !lastUsed.Valid || now.Sub(fromMS(lastUsed.Int64)) > time.Minute {
		if _, err := db.write.ExecContext(ctx, db.rebind(`UPDATE tokens SET last_used_at = ? WHERE id = ?`), ms(now), p.TokenID); err != nil {
			db.logger.Warn("record token use", "err", err)
		}
	}
	return &p, fromMS(expires), nil
}

// RevokeConsoleSession ends the session of ctx's tenant known by secret.
// Ending a session that has already ended, or that does not exist, is no
// error: signing out twice signs out.
func (db *DB) RevokeConsoleSession(ctx context.Context, secret string) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.conn().exec(`UPDATE console_sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND hash = ?`,
			ms(tx.now), tx.tenantID, herald.HashToken(secret))
		return err
	})
}
