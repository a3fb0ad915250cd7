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

// tenantToken creates a tenant and an admin token in it, returning the
// token's secret.
func tenantToken(t *testing.T, db *store.DB, name string) string {
	t.Helper()
	tenant, err := db.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{
		TenantID: tenant.ID, TokenName: "setup", Permissions: []herald.Permission{herald.PermAdmin},
	})
	_, secret, err := db.CreateToken(ctx, herald.TokenCreate{Name: name + "-admin", Permissions: []herald.Permission{herald.PermAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// idPath fills a route's {id} with the fixture's object of that kind.
func idPath(t *testing.T, pattern string, f fixture) (method, path string) {
	t.Helper()
	method, path, _ = strings.Cut(pattern, " ")
	kind := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
	ids := map[string]int64{
		"projects": f.Project, "sources": f.Source, "notifiers": f.Notifier, "users": f.User,
		"groups": f.Group, "departments": f.Department, "chats": f.Chat, "tokens": f.Token,
		"events": f.Event, "deliveries": f.Delivery, "pushes": f.Push,
	}
	id, ok := ids[kind]
	if !ok {
		t.Fatalf("route %s: no fixture object for %q", pattern, kind)
	}
	path = strings.Replace(path, "{message_id}", fmt.Sprint(f.Message), 1)
	return method, strings.Replace(path, "{id}", fmt.Sprint(id), 1)
}

// plausibleBody is a body the route would accept for an object of the
// caller's own, so that only the foreign id can make it fail.
func plausibleBody(method, path string) any {
	switch {
	case method == "GET" || method == "DELETE":
		return nil
	case method == "PATCH":
		return map[string]any{"name": "hijacked"}
	case method == "PUT" && strings.HasSuffix(path, "/preferences"):
		return map[string]any{"rules": []any{}}
	case method == "PUT" && strings.HasSuffix(path, "/preference-policy"):
		return map[string]any{"categories": []any{}}
	case method == "PUT" && strings.HasSuffix(path, "/push-policy"):
		return map[string]any{"self_approval": true}
	case method == "PUT" && strings.HasSuffix(path, "/templates"):
		return map[string]any{"templates": []any{}}
	case method == "PUT":
		return map[string]any{"channels": []any{}}
	case strings.HasSuffix(path, "/sources"):
		return map[string]any{"kind": "build_job", "external_id": jobID, "name": "intruder"}
	case strings.HasSuffix(path, "/notifiers"):
		return map[string]any{"type": "inbox", "name": "intruder"}
	}
	return map[string]any{}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		other := tenantToken(t, db, "other")
		ts.n = 0
		ts.newFixture(other) // the other tenant has objects of its own, with the same codes

		before := ts.dump(ts.admin, f)
		n := 0
		for _, rt := range recordedRoutes() {
			if !strings.Contains(rt.Pattern, "{id}") {
				continue
			}
			n++
			method, path := idPath(t, rt.Pattern, f)
			r := ts.do(method, path, other, plausibleBody(method, path))
			if r.Code != 404 {
				t.Errorf("%s %s with another tenant's token = %s, want 404", method, path, r)
				continue
			}
			if p := r.problem(t); p.Code != herald.ENOTFOUND {
				t.Errorf("%s %s: problem code %q, want not_found", method, path, p.Code)
			}
		}
		if n < 35 {
			t.Fatalf("only %d routes take an id; the route list is incomplete", n)
		}
		if after := ts.dump(ts.admin, f); after != before {
			t.Fatalf("the other tenant changed data:\nbefore %s\nafter %s", before, after)
		}

		// The other tenant's lists hold only its own objects.
		var projects listPage[herald.Project]
		ts.must(200, "GET", "/api/v1/projects", other, nil, &projects)
		if len(projects.Items) != 1 || projects.Items[0].ID == f.Project {
			t.Fatalf("the other tenant lists projects %+v", projects.Items)
		}
		var tokens listPage[herald.Token]
		ts.must(200, "GET", "/api/v1/tokens", other, nil, &tokens)
		for _, tok := range tokens.Items {
			if tok.ID == f.Token {
				t.Fatalf("the other tenant lists token %d of the first", tok.ID)
			}
		}
		// Settings may not name another tenant's notifier.
		var mine listPage[herald.Source]
		ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/sources", projects.Items[0].ID), other, nil, &mine)
		r := ts.do("PUT", fmt.Sprintf("/api/v1/sources/%d/settings", mine.Items[0].ID), other,
			map[string]any{"channels": []any{map[string]any{"notifier_id": f.Notifier}}})
		if r.Code != 400 || r.problem(t).Field != "channels[0].notifier_id" {
			t.Fatalf("settings naming a foreign notifier = %s, want 400 on channels[0].notifier_id", r)
		}
	})
}

// TestProjectScope checks that a token scoped to one project sees only
// that project: the others answer 404 as if they did not exist.
func TestProjectScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		mine := ts.newFixture(ts.admin)
		theirs := ts.newFixture(ts.admin)
		scoped := ts.newToken(ts.admin, herald.TokenCreate{Name: "scoped", ProjectID: mine.Project,
			Permissions: []herald.Permission{herald.PermSettingsWrite, herald.PermNotifiersWrite}})

		var projects listPage[herald.Project]
		ts.must(200, "GET", "/api/v1/projects", scoped, nil, &projects)
		if len(projects.Items) != 1 || projects.Items[0].ID != mine.Project {
			t.Fatalf("scoped token lists %+v, want only project %d", projects.Items, mine.Project)
		}
		ts.must(200, "GET", fmt.Sprintf("/api/v1/sources/%d/settings", mine.Source), scoped, nil, nil)

		before := ts.dump(ts.admin, theirs)
		for _, rt := range recordedRoutes() {
			if !strings.Contains(rt.Pattern, "{id}") {
				continue
			}
			method, path := idPath(t, rt.Pattern, theirs)
			kind := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
			if kind != "projects" && kind != "sources" && kind != "notifiers" {
				continue // the directory is tenant-wide; tokens need a tenant-wide admin
			}
			if r := ts.do(method, path, scoped, plausibleBody(method, path)); r.Code != 404 {
				t.Errorf("%s %s with a token of another project = %s, want 404", method, path, r)
			}
		}
		if after := ts.dump(ts.admin, theirs); after != before {
			t.Fatalf("a scoped token changed another project:\nbefore %s\nafter %s", before, after)
		}
		if r := ts.do("POST", "/api/v1/projects", scoped, map[string]any{"name": "mine too"}); r.Code != 403 {
			t.Fatalf("scoped token creating a project = %s, want 403", r)
		}
	})
}
