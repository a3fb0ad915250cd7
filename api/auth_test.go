package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestAuth_Required: every route but the public ones answers 401 without a
// token, and with a token that is not one, before touching anything.
func TestAuth_Required(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		for _, rt := range recordedRoutes() {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			if strings.Contains(path, "{id}") {
				method, path = idPath(t, rt.Pattern, f)
			}
			if strings.Contains(path, "{token}") {
				continue // a link that is its own credential: preferences_test.go
			}
			for _, token := range []string{"", "hld_notatoken"} {
				r := ts.do(method, path, token, plausibleBody(method, path))
				if rt.Public {
					if r.Code != 200 {
						t.Errorf("public %s %s = %s, want 200", method, path, r)
					}
					continue
				}
				if r.Code != 401 {
					t.Errorf("%s %s with token %q = %s, want 401", method, path, token, r)
					continue
				}
				if p := r.problem(t); p.Code != herald.EUNAUTHORIZED || r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: problem %+v, WWW-Authenticate %q", method, path, p, r.Header.Get("WWW-Authenticate"))
				}
			}
		}
	})
}

// anyTokenRoutes are the routes herald.Policy opens to any valid token:
// a project's own name and id.
var anyTokenRoutes = map[string]bool{
	"GET /api/v1/projects":      true,
	"GET /api/v1/projects/{id}": true,
}

// TestAuth_Permissions: a token lacking a route's permission gets 403 and
// changes nothing; routes for any token let it through.
func TestAuth_Permissions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		weak := noPermissionToken(t, ts)

		before := ts.dump(ts.admin, f)
		forbidden := 0
		for _, rt := range recordedRoutes() {
			if rt.Public {
				continue
			}
			method, path, _ := strings.Cut(rt.Pattern, " ")
			if strings.Contains(path, "{id}") {
				method, path = idPath(t, rt.Pattern, f)
			}
			if strings.HasPrefix(path, "/api/v1/otp/") {
				continue // this server has no OTP service; otp/api_test.go covers it
			}
			r := ts.do(method, path, weak, plausibleBody(method, path))
			if anyTokenRoutes[rt.Pattern] {
				if r.Code/100 != 2 {
					t.Errorf("%s %s needs any token, answered %s", method, path, r)
				}
				continue
			}
			forbidden++
			if r.Code != 403 {
				t.Errorf("%s %s without permission = %s, want 403", method, path, r)
				continue
			}
			if p := r.problem(t); p.Code != herald.EFORBIDDEN || !strings.Contains(p.Detail, "permission") {
				t.Errorf("%s %s: problem %+v should name the permission", method, path, p)
			}
		}
		if forbidden < 30 {
			t.Fatalf("only %d routes need a permission", forbidden)
		}
		if after := ts.dump(ts.admin, f); after != before {
			t.Fatalf("a forbidden request changed data:\nbefore %s\nafter %s", before, after)
		}

		// settings:read reads settings but cannot write them; settings:write
		// implies settings:read.
		reader := ts.newToken(ts.admin, herald.TokenCreate{Name: "reader", Permissions: []herald.Permission{herald.PermSettingsRead}})
		writer := ts.newToken(ts.admin, herald.TokenCreate{Name: "writer", Permissions: []herald.Permission{herald.PermSettingsWrite}})
		settings := fmt.Sprintf("/api/v1/sources/%d/settings", f.Source)
		ts.must(200, "GET", settings, reader, nil, nil)
		ts.must(403, "PUT", settings, reader, map[string]any{}, nil)
		ts.must(200, "GET", settings, writer, nil, nil)
		ts.must(200, "PUT", settings, writer, map[string]any{}, nil)
		// Token management needs admin, and a tenant-wide one.
		ts.must(403, "GET", "/api/v1/tokens", writer, nil, nil)
		scopedAdmin := ts.newToken(ts.admin, herald.TokenCreate{Name: "padmin", ProjectID: f.Project, Permissions: []herald.Permission{herald.PermAdmin}})
		ts.must(403, "POST", "/api/v1/tokens", scopedAdmin, map[string]any{"name": "x", "permissions": []string{"admin"}}, nil)
	})
}

// TestAuth_HeaderForms: each header form the surfaces use is accepted.
func TestAuth_HeaderForms(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		tok := ts.admin
		for _, h := range [][]string{
			{"Authorization", "Bearer " + tok},
			{"Authorization", "Token " + tok},
			{"X-Auth-Token", tok},
			{"X-Cybozu-API-Token", "hld_revokedornot," + tok},
			{"X-Lark-Helpdesk-Authorization", "Bearer " + tok},
		} {
			if r := ts.do("GET", "/api/v1/projects", "", nil, h...); r.Code != 200 {
				t.Errorf("%s: %s = %s, want 200", h[0], h[1][:10], r)
			}
		}
		if r := ts.do("GET", "/api/v1/projects", "", nil, "Authorization", "Basic YWRtaW46YWRtaW4="); r.Code != 401 {
			t.Errorf("Basic auth = %s, want 401", r)
		}
	})
}

// TestAuth_Revoked: a revoked token is refused from then on.
func TestAuth_Revoked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		var created createdToken
		ts.must(201, "POST", "/api/v1/tokens", ts.admin, map[string]any{"name": "temp", "permissions": []string{"settings:read"}}, &created)
		if created.Token == nil || created.ID == 0 || created.Secret == "" || !strings.HasPrefix(created.Secret, created.Prefix) {
			t.Fatalf("created token %+v", created)
		}
		ts.must(200, "GET", "/api/v1/projects", created.Secret, nil, nil)
		ts.must(204, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), ts.admin, nil, nil)
		r := ts.must(401, "GET", "/api/v1/projects", created.Secret, nil, nil)
		if p := r.problem(t); p.Code != herald.EUNAUTHORIZED {
			t.Fatalf("revoked token problem %+v", p)
		}
		// The secret is never listed.
		r = ts.must(200, "GET", "/api/v1/tokens", ts.admin, nil, nil)
		if strings.Contains(string(r.Body), created.Secret) || strings.Contains(string(r.Body), `"secret"`) {
			t.Fatalf("token list shows a secret: %s", r.Body)
		}
	})
}

// noPermissionToken returns a token that holds no permission at all, so
// that every route needing one refuses it whatever routes are added: it is
// created with one and stripped of it in the database (the API refuses to
// create such a token).
func noPermissionToken(t *testing.T, ts *testServer) string {
	t.Helper()
	secret := ts.newToken(ts.admin, herald.TokenCreate{Name: "weak", Permissions: []herald.Permission{herald.PermPushRead}})
	p, err := ts.db.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	q := "UPDATE tokens SET permissions = '[]' WHERE id = ?"
	if ts.db.Dialect() == store.DialectPostgres {
		q = "UPDATE tokens SET permissions = '[]' WHERE id = $1"
	}
	if _, err := ts.db.SQL().Exec(q, p.TokenID); err != nil {
		t.Fatal(err)
	}
	// Written behind the store's back, as another process would: this
	// process would see it within a second; the test needs it now.
	ts.db.ClearCache()
	return secret
}
