package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// signedIn creates a token in ctx's tenant and returns a context acting as
// it, as the console has after a sign-in.
func signedIn(t *testing.T, db *store.DB, ctx context.Context, name string) context.Context {
	t.Helper()
	_, secret, err := db.CreateToken(ctx, herald.TokenCreate{Name: name, Permissions: []herald.Permission{herald.PermSettingsRead}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return herald.NewContextWithPrincipal(context.Background(), p)
}

func wantUnauthorized(t *testing.T, what string, err error) {
	t.Helper()
	if herald.ErrorCode(err) != herald.EUNAUTHORIZED {
		t.Fatalf("%s: %v, want unauthorized", what, err)
	}
}

func TestConsoleSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := signedIn(t, db, storetest.NewTenant(t, db, "acme"), "alice")
		otherCtx := signedIn(t, db, storetest.NewTenant(t, db, "globex"), "bob")
		bg := context.Background()
		expires := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()

		if err := db.CreateConsoleSession(ctx, "secret-1", expires); err != nil {
			t.Fatal(err)
		}
		p, exp, err := db.AuthenticateConsoleSession(bg, "secret-1")
		if err != nil {
			t.Fatal(err)
		}
		want := herald.PrincipalFromContext(ctx)
		if p.TokenID != want.TokenID || p.TenantID != want.TenantID || p.TokenName != "alice" ||
			len(p.Permissions) != 1 || p.Permissions[0] != herald.PermSettingsRead || !exp.Equal(expires) {
			t.Fatalf("session principal %+v until %v, want %+v until %v", p, exp, want, expires)
		}
		_, _, err = db.AuthenticateConsoleSession(bg, "secret-2")
		wantUnauthorized(t, "unknown session", err)

		t.Run("RevokeKeepsTenants", func(t *testing.T) {
			if err := db.CreateConsoleSession(ctx, "secret-3", expires); err != nil {
				t.Fatal(err)
			}
			// Another tenant cannot end this tenant's session.
			if err := db.RevokeConsoleSession(otherCtx, "secret-3"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.AuthenticateConsoleSession(bg, "secret-3"); err != nil {
				t.Fatalf("another tenant revoked the session: %v", err)
			}
			if err := db.RevokeConsoleSession(ctx, "secret-3"); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.AuthenticateConsoleSession(bg, "secret-3")
			wantUnauthorized(t, "revoked session", err)
			if err := db.RevokeConsoleSession(ctx, "secret-3"); err != nil {
				t.Fatalf("revoking twice: %v", err)
			}
			if _, _, err := db.AuthenticateConsoleSession(bg, "secret-1"); err != nil {
				t.Fatalf("revoking one session ended another: %v", err)
			}
		})

		t.Run("Expired", func(t *testing.T) {
			if err := db.CreateConsoleSession(ctx, "secret-4", time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.AuthenticateConsoleSession(bg, "secret-4")
			wantUnauthorized(t, "expired session", err)
		})

		t.Run("RevokedToken", func(t *testing.T) {
			tok := signedIn(t, db, storetest.NewTenant(t, db, "initech"), "carol")
			if err := db.CreateConsoleSession(tok, "secret-5", expires); err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeToken(tok, herald.PrincipalFromContext(tok).TokenID); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.AuthenticateConsoleSession(bg, "secret-5")
			wantUnauthorized(t, "session of a revoked token", err)
			err = db.CreateConsoleSession(tok, "secret-6", expires)
			wantUnauthorized(t, "new session of a revoked token", err)
		})

		t.Run("NoToken", func(t *testing.T) {
			// A principal without a token (the bootstrap's) has nothing a
			// session could re-check.
			err := db.CreateConsoleSession(storetest.NewTenant(t, db, "umbrella"), "secret-7", expires)
			wantUnauthorized(t, "session without a token", err)
		})
	})
}

// testClock is a settable clock for the store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestConsoleSessions_PurgeExpired(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			t0 := time.Now().UTC()
			clk := &testClock{t: t0}
			db, err := store.Open(context.Background(), store.Config{URL: storetest.NewURL(t, d), SecretKey: storetest.Key(), Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := signedIn(t, db, storetest.NewTenant(t, db, "acme"), "alice")
			for secret, ttl := range map[string]time.Duration{"short": time.Hour, "long": 3 * time.Hour} {
				if err := db.CreateConsoleSession(ctx, secret, t0.Add(ttl)); err != nil {
					t.Fatal(err)
				}
			}
			count := func() int {
				var n int
				if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM console_sessions`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(); n != 2 {
				t.Fatalf("%d sessions, want 2", n)
			}
			// Two hours on, the next sign-in purges the expired session.
			clk.Set(t0.Add(2 * time.Hour))
			if err := db.CreateConsoleSession(ctx, "new", t0.Add(4*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n := count(); n != 2 {
				t.Fatalf("%d sessions after the purge, want 2 (long, new)", n)
			}
			if _, _, err := db.AuthenticateConsoleSession(context.Background(), "long"); err != nil {
				t.Fatalf("the purge took a live session: %v", err)
			}
		})
	}
}
