package api

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestPatch_MergePatch: a PATCH is a JSON Merge Patch (RFC 7396): objects
// merge member by member, null removes a member, and the result is still
// decoded strictly.
func TestPatch_MergePatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		url := fmt.Sprintf("/api/v1/notifiers/%d", f.Notifier)
		ts.must(200, "PATCH", url, ts.admin, map[string]any{"config": map[string]any{"http_headers": map[string]any{"X-A": "1", "X-B": "2"}}}, nil)

		var n herald.Notifier
		ts.must(200, "PATCH", url, ts.admin, map[string]any{"config": map[string]any{"http_headers": map[string]any{"X-A": nil, "X-C": "3"}}}, &n)
		// The answer masks header values; the store holds them.
		if want := map[string]string{"X-B": herald.SecretMask, "X-C": herald.SecretMask}; !reflect.DeepEqual(n.Config.HTTPHeaders, want) {
			t.Fatalf("headers answered after removing X-A and adding X-C = %v, want %v", n.Config.HTTPHeaders, want)
		}
		if n.Config.URL != "https://hooks.example.com/x" || n.Name != "ops hook" {
			t.Fatalf("members not sent changed: %+v", n)
		}
		stored, err := db.FindNotifierByID(ts.ctx(ts.admin), f.Notifier)
		if err != nil || stored.Secret != "whsec_czNjcmV0" {
			t.Fatalf("the secret did not survive the patches: %q %v", stored.Secret, err)
		}
		if want := map[string]string{"X-B": "2", "X-C": "3"}; !reflect.DeepEqual(stored.Config.HTTPHeaders, want) {
			t.Fatalf("headers stored after removing X-A and adding X-C = %v, want %v", stored.Config.HTTPHeaders, want)
		}

		// null clears an optional member.
		var child herald.Department
		ts.must(201, "POST", "/api/v1/departments", ts.admin, map[string]any{"code": "child", "name": "Child", "parent_id": f.Department}, &child)
		ts.must(200, "PATCH", fmt.Sprintf("/api/v1/departments/%d", child.ID), ts.admin, map[string]any{"parent_id": nil}, &child)
		if child.ParentID != nil {
			t.Fatalf("parent_id after null = %v", *child.ParentID)
		}

		// Strict as ever: unknown members and wrong types, nested too.
		for body, field := range map[string]string{
			`{"config": {"colour": "red"}}`:            "colour",
			`{"name": 5}`:                              "name",
			`{"config": {"http_headers": {"X-D": 4}}}`: "config.http_headers",
		} {
			r := ts.do("PATCH", url, ts.admin, body)
			if r.Code != 400 {
				t.Fatalf("PATCH %s = %s, want 400", body, r)
			}
			if p := r.problem(t); p.Field != field {
				t.Errorf("PATCH %s names %q, want %q", body, p.Field, field)
			}
		}
	})
}

// ctx acts as the token's principal, for reading the store directly.
func (ts *testServer) ctx(token string) context.Context {
	ts.t.Helper()
	p, err := ts.db.Authenticate(context.Background(), token)
	if err != nil {
		ts.t.Fatal(err)
	}
	return herald.NewContextWithPrincipal(context.Background(), p)
}
