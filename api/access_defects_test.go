package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// The tests below each reproduce one access defect found from outside
// (issue 11), through the native API as an attacker's token would.

// TestAccess_NotifierReadsNeedAPermission: an otp:send-only token read
// every notifier of the project, robot URLs with their access_token and
// webhook headers included.
func TestAccess_NotifierReadsNeedAPermission(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		otpOnly := ts.newToken(ts.admin, herald.TokenCreate{Name: "otp", ProjectID: f.Project, Permissions: []herald.Permission{herald.PermOTPSend}})
		for _, path := range []string{
			fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project),
			fmt.Sprintf("/api/v1/notifiers/%d", f.Notifier),
		} {
			if r := ts.do("GET", path, otpOnly, nil); r.Code != 403 || strings.Contains(string(r.Body), "hooks.example.com") {
				t.Errorf("GET %s with an otp:send token = %s, want 403", path, r)
			}
		}
	})
}

// TestAccess_InboxNeedsItsPermissionAndScope: the inbox routes accepted any
// token, ignored project scope and showed other projects' message titles.
func TestAccess_InboxNeedsItsPermissionAndScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin) // project A: Alice has "Build failed" in her inbox
		other := ts.newFixture(ts.admin)
		inbox := fmt.Sprintf("/api/v1/users/%d/inbox", f.User)

		otpOnly := ts.newToken(ts.admin, herald.TokenCreate{Name: "otp", ProjectID: f.Project, Permissions: []herald.Permission{herald.PermOTPSend}})
		for _, rt := range []struct{ method, path string }{
			{"GET", inbox},
			{"GET", inbox + "/stream"},
			{"POST", fmt.Sprintf("%s/%d/read", inbox, f.Message)},
			{"POST", inbox + "/read-all"},
		} {
			if r := ts.do(rt.method, rt.path, otpOnly, nil); r.Code != 403 {
				t.Errorf("%s %s without inbox:read = %s, want 403", rt.method, rt.path, r)
			}
		}

		// A reader scoped to the other project sees none of project A's
		// messages and cannot mark them read.
		scoped := ts.newToken(ts.admin, herald.TokenCreate{Name: "b-inbox", ProjectID: other.Project, Permissions: []herald.Permission{herald.PermInboxRead}})
		var page struct{ Items []herald.InboxMessage }
		ts.must(200, "GET", inbox, scoped, nil, &page)
		if len(page.Items) != 0 {
			t.Errorf("a token scoped to project %d sees project %d's messages: %+v", other.Project, f.Project, page.Items)
		}
		ts.must(404, "POST", fmt.Sprintf("%s/%d/read", inbox, f.Message), scoped, nil, nil)
		var marked struct {
			Marked int `json:"marked"`
		}
		ts.must(200, "POST", inbox+"/read-all", scoped, nil, &marked)
		ts.must(200, "GET", inbox+"?unread=true", ts.admin, nil, &page)
		if len(page.Items) != 1 {
			t.Errorf("a foreign project's token marked project %d's message read: unread %+v", f.Project, page.Items)
		}

		// The project's own reader sees its message.
		own := ts.newToken(ts.admin, herald.TokenCreate{Name: "a-inbox", ProjectID: f.Project, Permissions: []herald.Permission{herald.PermInboxRead}})
		ts.must(200, "GET", inbox, own, nil, &page)
		if len(page.Items) != 1 || page.Items[0].Title != "Build failed" {
			t.Errorf("the project's own inbox reader sees %+v", page.Items)
		}
	})
}

// TestAccess_ChatBindingStaysInScope: a project-scoped token bound a chat to
// another project's notifier, and an unknown notifier id answered
// differently from a foreign one.
func TestAccess_ChatBindingStaysInScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		a := ts.newFixture(ts.admin)
		b := ts.newFixture(ts.admin)
		scoped := ts.newToken(ts.admin, herald.TokenCreate{Name: "b-dir", ProjectID: b.Project, Permissions: []herald.Permission{herald.PermDirectoryWrite}})
		before := ts.dump(ts.admin, a)
		foreign := ts.do("POST", "/api/v1/chats", scoped, map[string]any{"code": "oc_steal", "name": "x", "notifier_id": a.Notifier})
		unknown := ts.do("POST", "/api/v1/chats", scoped, map[string]any{"code": "oc_steal", "name": "x", "notifier_id": 999999})
		if foreign.Code != 403 {
			t.Errorf("binding project %d's notifier with a token scoped to %d = %s, want 403", a.Project, b.Project, foreign)
		}
		if foreign.Code != unknown.Code || string(foreign.Body) != string(unknown.Body) {
			t.Errorf("a foreign notifier answers %s, an unknown one %s: an existence oracle", foreign, unknown)
		}
		if r := ts.do("PATCH", fmt.Sprintf("/api/v1/chats/%d", b.Chat), scoped, map[string]any{"notifier_id": a.Notifier}); r.Code != 403 {
			t.Errorf("re-binding a chat with a scoped token = %s, want 403", r)
		}
		if after := ts.dump(ts.admin, a); after != before {
			t.Fatalf("a refused binding changed data:\nbefore %s\nafter %s", before, after)
		}

		// Another tenant's notifier is as unknown as a missing one.
		other := storetest.NewTenant(t, db, "globex")
		p := &herald.Project{Name: "Theirs"}
		if err := db.CreateProject(other, p); err != nil {
			t.Fatal(err)
		}
		n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "theirs"}
		if err := db.CreateNotifier(other, n); err != nil {
			t.Fatal(err)
		}
		foreign = ts.do("POST", "/api/v1/chats", ts.admin, map[string]any{"code": "oc_x", "name": "x", "notifier_id": n.ID})
		unknown = ts.do("POST", "/api/v1/chats", ts.admin, map[string]any{"code": "oc_x", "name": "x", "notifier_id": n.ID + 1000})
		if foreign.Code/100 != 4 || foreign.Code != unknown.Code || strings.ReplaceAll(string(foreign.Body), fmt.Sprint(n.ID), "N") != strings.ReplaceAll(string(unknown.Body), fmt.Sprint(n.ID+1000), "N") {
			t.Errorf("another tenant's notifier answers %s, an unknown one %s", foreign, unknown)
		}
	})
}
