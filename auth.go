package herald

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Permission is a named right a token carries. Each has a stable numeric
// code; settings:write is 1037 as the project-settings vendor page names it.
type Permission string

// The permissions Herald knows.
const (
	PermAdmin          Permission = "admin"
	PermSettingsRead   Permission = "settings:read"
	PermSettingsWrite  Permission = "settings:write"
	PermDirectoryRead  Permission = "directory:read"
	PermDirectoryWrite Permission = "directory:write"
	PermNotifiersRead  Permission = "notifiers:read"
	PermNotifiersWrite Permission = "notifiers:write"
	PermEventsWrite    Permission = "events:write"
	PermPushRead       Permission = "push:read"
	PermPushWrite      Permission = "push:write"
	PermOTPSend        Permission = "otp:send"
	PermInboxRead      Permission = "inbox:read"
)

// PermissionCodes gives every permission its stable numeric code.
var PermissionCodes = map[Permission]int{
	PermAdmin:          1000,
	PermSettingsRead:   1036,
	PermSettingsWrite:  1037,
	PermDirectoryRead:  1039,
	PermDirectoryWrite: 1040,
	PermNotifiersWrite: 1041,
	PermNotifiersRead:  1042,
	PermEventsWrite:    1050,
	PermPushRead:       1060,
	PermPushWrite:      1061,
	PermPushApprove:    1062,
	PermOTPSend:        1070,
	PermInboxRead:      1080,
}

// ParsePermission validates a permission name.
func ParsePermission(s string) (Permission, error) {
	p := Permission(s)
	if _, ok := PermissionCodes[p]; !ok {
		return "", Errorf(EINVALID, "permissions", "unknown permission %q", s)
	}
	return p, nil
}

// Principal is who a request acts as: a token of one tenant, optionally
// scoped to one project, or an end-user token acting for one person.
type Principal struct {
	TenantID    int64
	TokenID     int64
	TokenName   string
	ProjectID   int64 // 0: every project of the tenant
	Permissions []Permission
	// UserID, when set, makes the principal an end-user token of that
	// person (of project ProjectID): it holds no permission and may do
	// only what Policy admits for oneself (Rule.Self), on that person's
	// data (AuthorizeUser).
	UserID int64
}

// EndUser reports whether the principal is an end-user token.
func (p *Principal) EndUser() bool { return p != nil && p.UserID != 0 }

// implied lists what each permission brings with it: a writer may read
// what it writes, and whoever reads settings may read the directory their
// recipients come from and the notifiers (redacted) their channels use.
var implied = map[Permission][]Permission{
	PermSettingsWrite:  {PermSettingsRead, PermDirectoryRead, PermNotifiersRead},
	PermSettingsRead:   {PermDirectoryRead, PermNotifiersRead},
	PermNotifiersWrite: {PermNotifiersRead},
	PermDirectoryWrite: {PermDirectoryRead},
	PermPushWrite:      {PermPushRead},
	PermPushApprove:    {PermPushRead}, // an approver sees what it approves
}

// Has reports whether the principal holds perm: itself, admin (which holds
// every one) or a permission that implies it.
func (p *Principal) Has(perm Permission) bool {
	if p == nil || p.EndUser() {
		return false
	}
	for _, q := range p.Permissions {
		if q == perm || q == PermAdmin || slices.Contains(implied[q], perm) {
			return true
		}
	}
	return false
}

// Require returns a forbidden error unless the principal holds perm.
func (p *Principal) Require(perm Permission) error {
	if !p.Has(perm) {
		return Errorf(EFORBIDDEN, "", "this token lacks the %s permission (code %d)", perm, PermissionCodes[perm])
	}
	return nil
}

// CanSeeProject reports whether the principal's project scope admits id.
func (p *Principal) CanSeeProject(id int64) bool {
	return p != nil && (p.ProjectID == 0 || p.ProjectID == id)
}

type principalKey struct{}

// NewContextWithPrincipal returns ctx acting as p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal ctx acts as, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

type authErrorKey struct{}

// NewContextWithAuthError records why the token a request carried did not
// authenticate, for surfaces to answer in their own envelope.
func NewContextWithAuthError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authErrorKey{}, err)
}

// AuthErrorFromContext returns why the request's token did not
// authenticate, or nil (no token, or a valid one). An EINTERNAL error means
// the check itself failed (the database is down), not that the token is bad.
func AuthErrorFromContext(ctx context.Context) error {
	err, _ := ctx.Value(authErrorKey{}).(error)
	return err
}

// TenantFromContext returns the tenant ctx acts for, or an unauthorized
// error: every store query is scoped by it.
func TenantFromContext(ctx context.Context) (int64, error) {
	p := PrincipalFromContext(ctx)
	if p == nil || p.TenantID == 0 {
		return 0, Errorf(EUNAUTHORIZED, "", "no tenant in context")
	}
	return p.TenantID, nil
}

// Token is an API token. The secret itself is shown once, at creation, and
// stored only as its SHA-256 hash.
type Token struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Prefix      string       `json:"prefix"` // the first characters, to recognise it
	Permissions []Permission `json:"permissions"`
	ProjectID   int64        `json:"project_id,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	LastUsedAt  *time.Time   `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time   `json:"revoked_at,omitempty"`
}

// TokenCreate is the input to create a token.
type TokenCreate struct {
	Name        string       `json:"name"`
	Permissions []Permission `json:"permissions"`
	ProjectID   int64        `json:"project_id,omitempty"`
}

// Validate checks a token creation request.
func (c *TokenCreate) Validate() error {
	if err := checkText(c); err != nil {
		return err
	}
	if err := validateName("name", c.Name); err != nil {
		return err
	}
	if c.ProjectID < 0 {
		return Errorf(EINVALID, "project_id", "project_id must be a project id, or 0 for every project")
	}
	if len(c.Permissions) == 0 {
		return Errorf(EINVALID, "permissions", "at least one permission is required")
	}
	for i, p := range c.Permissions {
		if _, err := ParsePermission(string(p)); err != nil {
			return Errorf(EINVALID, indexField("permissions", i), "unknown permission %q", p)
		}
	}
	slices.Sort(c.Permissions)
	c.Permissions = slices.Compact(c.Permissions)
	return nil
}

// TokenPrefix starts every Herald token, so secret scanners recognise them.
const TokenPrefix = "hld_"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewTokenSecret returns a fresh token: the prefix and 32 random bytes in
// base62 (43 characters).
func NewTokenSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	n := new(big.Int).SetBytes(b[:])
	var sb strings.Builder
	sb.WriteString(TokenPrefix)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := 0; i < 43; i++ {
		n.DivMod(n, base, mod)
		sb.WriteByte(base62[mod.Int64()])
	}
	return sb.String()
}

// HashToken is how a token secret is stored and looked up.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenService manages API tokens.
type TokenService interface {
	// Authenticate resolves a token secret to its principal; a revoked or
	// unknown token is EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*Principal, error)
	// CreateToken creates a token in the context's tenant and returns it
	// with its secret, which is never available again.
	CreateToken(ctx context.Context, c TokenCreate) (*Token, string, error)
	FindTokens(ctx context.Context, page Page) ([]*Token, string, error)
	RevokeToken(ctx context.Context, id int64) error
}

// Tenant is the isolation boundary: every row belongs to one.
type Tenant struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a tenant's name.
func (t *Tenant) Validate() error {
	if err := checkText(t); err != nil {
		return err
	}
	if t.Name == "" || len(t.Name) > 100 {
		return Errorf(EINVALID, "name", "a tenant name of 1-100 characters is required")
	}
	return nil
}

// TenantService creates tenants; used by bootstrap and the CLI.
type TenantService interface {
	// Bootstrap creates the tenant "default" and an admin token when the
	// database has no tenant yet; it returns the token's secret, or "" when
	// a tenant already existed.
	Bootstrap(ctx context.Context) (secret string, err error)
	CreateTenant(ctx context.Context, name string) (*Tenant, error)
	FindTenantByName(ctx context.Context, name string) (*Tenant, error)
}
