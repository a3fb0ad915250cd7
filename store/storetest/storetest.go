// Package storetest opens migrated test databases, one per dialect, so that
// every store test runs against SQLite and PostgreSQL alike.
//
// PostgreSQL comes from HERALD_TEST_POSTGRES_URL; each database is a fresh
// schema dropped when the test ends. Without the variable the PostgreSQL
// subtests skip, except under CI=true, where a missing database fails.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authz"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/templates"
)

// Dialects lists the dialects tests run on.
var Dialects = []string{store.DialectSQLite, store.DialectPostgres}

// Each runs fn as a subtest on a fresh database of every dialect.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, NewDB(t, d))
		})
	}
}

// PostgresURL returns the test database URL, skipping the test when there
// is none (failing it under CI=true).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HERALD_TEST_POSTGRES_URL is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Skip("HERALD_TEST_POSTGRES_URL is not set")
	}
	return u
}

// NewURL returns a database URL for a fresh, empty database of dialect,
// removed when the test ends.
func NewURL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == store.DialectSQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "herald.db")
	}
	base := PostgresURL(t)
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Key returns a random 32-byte secret key.
func Key() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// NewDB opens and migrates a fresh database of dialect.
func NewDB(t testing.TB, dialect string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: NewURL(t, dialect), SecretKey: Key()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// NewTenant creates a tenant and returns a context acting as an admin
// token of it.
func NewTenant(t testing.TB, db *store.DB, name string) context.Context {
	t.Helper()
	ctx := context.Background()
	tenant, err := db.CreateTenant(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return herald.NewContextWithPrincipal(ctx, &herald.Principal{
		TenantID: tenant.ID, TokenName: fmt.Sprintf("%s-admin", name), Permissions: []herald.Permission{herald.PermAdmin},
	})
}

// Guard returns db's services behind the access policy, as serve wires
// every entry point (OTP is left out: it needs a sender).
func Guard(db *store.DB) authz.Services {
	return authz.Guard(authz.Services{
		Projects: db, Sources: db, Notifiers: db, Settings: db, NotificationSettings: db, RecordNotifications: db, Templates: templates.New(db), Directory: db,
		Events: db, Deliveries: db, Inbox: db, Pushes: db, PushDirectory: db, Tokens: db, Log: db,
		Preferences: db, EndUserKeys: db,
	})
}
