package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestDeleteProject_WithHistoryNeedsForce: a project whose sources have
// events is not erased by a plain DELETE; ?force=true erases it.
func TestDeleteProject_WithHistoryNeedsForce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		path := fmt.Sprintf("/api/v1/projects/%d", f.Project)

		r := ts.do("DELETE", path, ts.admin, nil)
		if r.Code != 409 {
			t.Fatalf("DELETE a project with events = %s, want 409", r)
		}
		p := r.problem(t)
		if p.Field != "force" || !strings.Contains(p.Detail, "?force=true") || !strings.Contains(p.Detail, "1 events") {
			t.Fatalf("problem = %+v, want field force and how to confirm", p)
		}
		ts.must(200, "GET", path, ts.admin, nil, nil)
		ts.must(200, "GET", fmt.Sprintf("/api/v1/events/%d", f.Event), ts.admin, nil, nil)

		if r := ts.do("DELETE", path+"?force=yes", ts.admin, nil); r.Code != 400 || r.problem(t).Field != "force" {
			t.Fatalf("DELETE ?force=yes = %s, want 400 on force", r)
		}
		ts.must(204, "DELETE", path+"?force=true", ts.admin, nil, nil)
		ts.must(404, "GET", path, ts.admin, nil, nil)
		ts.must(404, "GET", fmt.Sprintf("/api/v1/events/%d", f.Event), ts.admin, nil, nil)

		// A project without events needs no confirmation.
		var obj struct {
			ID int64 `json:"id"`
		}
		ts.must(201, "POST", "/api/v1/projects", ts.admin, map[string]any{"name": "empty"}, &obj)
		ts.must(204, "DELETE", fmt.Sprintf("/api/v1/projects/%d", obj.ID), ts.admin, nil, nil)
	})
}
