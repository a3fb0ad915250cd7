package api

import (
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestPushes_Lifecycle drives a push through the native endpoints: every
// allowed step answers 200 and every forbidden one 409 not_allowed.
func TestPushes_Lifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		writer := ts.newToken(ts.admin, herald.TokenCreate{Name: "writer", Permissions: []herald.Permission{herald.PermPushWrite}})
		approver := ts.newToken(ts.admin, herald.TokenCreate{Name: "approver", Permissions: []herald.Permission{herald.PermPushApprove}})
		reader := ts.newToken(ts.admin, herald.TokenCreate{Name: "reader", Permissions: []herald.Permission{herald.PermPushRead}})

		var p herald.Push
		ts.must(201, "POST", "/api/v1/pushes", writer, map[string]any{"job_name": "Notice", "content": `{"elements":[]}`,
			"push_scope_type": 2, "user_ids": []int64{f.User}}, &p)
		if p.Status != herald.PushDraft || p.ContentType != herald.PushContentCard || p.CreatedBy.Name != "writer" {
			t.Fatalf("created %+v", p)
		}
		base := fmt.Sprintf("/api/v1/pushes/%d", p.ID)
		notAllowed := func(method, path, token string, body any) {
			t.Helper()
			r := ts.do(method, path, token, body)
			if r.Code != 409 || r.problem(t).Code != herald.ENOTALLOWED {
				t.Fatalf("%s %s = %s, want 409 not_allowed", method, path, r)
			}
		}
		step := func(path, token string, body any, want herald.PushStatus) {
			t.Helper()
			var got herald.Push
			ts.must(200, "POST", base+path, token, body, &got)
			if got.Status != want {
				t.Fatalf("%s: status %s, want %s", path, got.Status, want)
			}
		}

		// Bad input names the field; a reader cannot write.
		r := ts.do("PATCH", base, writer, map[string]any{"push_scope_type": 3})
		if r.Code != 400 || r.problem(t).Field != "push_scope_type" {
			t.Fatalf("scope 3 on a scheduled push = %s", r)
		}
		ts.must(403, "PATCH", base, reader, map[string]any{"job_name": "x"}, nil)
		ts.must(200, "PATCH", base, writer, map[string]any{"job_name": "Renamed"}, &p)
		if p.JobName != "Renamed" || len(p.UserIDs) != 1 {
			t.Fatalf("patched %+v", p)
		}
		var pv herald.PushPreview
		ts.must(200, "POST", base+"/preview", reader, nil, &pv)
		if pv.Title != "Renamed" || len(pv.Card) == 0 {
			t.Fatalf("preview %+v", pv)
		}

		notAllowed("POST", base+"/approve", approver, nil)
		notAllowed("POST", base+"/execute", writer, nil)
		notAllowed("POST", base+"/cancel", writer, nil)
		notAllowed("POST", base+"/withdraw", writer, nil)

		step("/submit", writer, map[string]any{"reason": "please"}, herald.PushPendingApproval)
		notAllowed("PATCH", base, writer, map[string]any{"job_name": "late"})
		notAllowed("POST", base+"/submit", writer, nil)
		ts.must(403, "POST", base+"/approve", writer, nil, nil)
		ts.must(400, "POST", base+"/reject", approver, map[string]any{}, nil)
		step("/reject", approver, map[string]any{"reason": "not now"}, herald.PushRejected)
		notAllowed("POST", base+"/approve", approver, nil)
		step("/withdraw", writer, nil, herald.PushDraft)
		step("/submit", writer, nil, herald.PushPendingApproval)
		step("/withdraw", writer, nil, herald.PushDraft)
		step("/submit", writer, nil, herald.PushPendingApproval)
		step("/approve", approver, nil, herald.PushApproved)
		notAllowed("PATCH", base, writer, map[string]any{"job_name": "late"})
		notAllowed("POST", base+"/cancel", writer, map[string]any{"recall": false})
		step("/execute", writer, map[string]any{"send_at": "2099-01-01T00:00:00Z"}, herald.PushScheduled)
		notAllowed("POST", base+"/execute", writer, nil)
		notAllowed("POST", base+"/withdraw", writer, nil)
		step("/cancel", writer, map[string]any{"recall": false}, herald.PushCancelled)
		notAllowed("POST", base+"/cancel", writer, nil)
		notAllowed("POST", base+"/cancel", writer, map[string]any{"recall": true})

		// An admin's submission waits, and the admin cannot approve it; the
		// push policy is the admin's to read and set, not an approver's.
		var q herald.Push
		ts.must(201, "POST", "/api/v1/pushes", ts.admin, map[string]any{"job_name": "All", "content": "hi"}, &q)
		ts.must(200, "POST", fmt.Sprintf("/api/v1/pushes/%d/submit", q.ID), ts.admin, nil, &q)
		if q.Status != herald.PushPendingApproval {
			t.Fatalf("admin submission %s", q.Status)
		}
		if r := ts.do("POST", fmt.Sprintf("/api/v1/pushes/%d/approve", q.ID), ts.admin, nil); r.Code != 403 || r.problem(t).Code != herald.EFORBIDDEN {
			t.Fatalf("the submitter approves = %s, want 403", r)
		}
		var pol herald.PushPolicy
		ts.must(200, "GET", "/api/v1/push-policy", reader, nil, &pol)
		if pol.SelfApproval {
			t.Fatalf("default policy %+v", pol)
		}
		ts.must(403, "PUT", "/api/v1/push-policy", approver, map[string]any{"self_approval": true}, nil)
		if r := ts.do("PUT", "/api/v1/push-policy", ts.admin, map[string]any{}); r.Code != 400 || r.problem(t).Field != "self_approval" {
			t.Fatalf("PUT {} = %s", r)
		}
		ts.must(200, "PUT", "/api/v1/push-policy", ts.admin, map[string]any{"self_approval": true}, &pol)
		if !pol.SelfApproval {
			t.Fatalf("set policy %+v", pol)
		}
		ts.must(200, "POST", fmt.Sprintf("/api/v1/pushes/%d/approve", q.ID), ts.admin, nil, &q)
		if q.Status != herald.PushApproved {
			t.Fatalf("self-approved %s", q.Status)
		}
		var list listPage[herald.Push]
		ts.must(200, "GET", "/api/v1/pushes?status=approved", reader, nil, &list)
		if len(list.Items) != 1 || list.Items[0].ID != q.ID {
			t.Fatalf("approved pushes %+v", list.Items)
		}
		ts.must(400, "GET", "/api/v1/pushes?status=flying", reader, nil, nil)
	})
}
