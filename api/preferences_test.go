package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A person's time zone is an IANA name, checked; preferences and policies
// are revision-checked documents; /me needs an end-user token.
func TestPreferences_API(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		user := fmt.Sprintf("/api/v1/users/%d", f.User)

		p := ts.do("PATCH", user, ts.admin, map[string]any{"time_zone": "Mars/Olympus_Mons"}).problem(t)
		if p.Status != 400 || p.Field != "time_zone" {
			t.Fatalf("an unknown zone: %+v", p)
		}
		var u herald.User
		ts.must(200, "PATCH", user, ts.admin, map[string]any{"time_zone": "Europe/Berlin"}, &u)
		if u.TimeZone != "Europe/Berlin" {
			t.Fatalf("time_zone stored as %q", u.TimeZone)
		}

		var prefs herald.UserPreferences
		ts.must(200, "GET", user+"/preferences", ts.admin, nil, &prefs)
		if prefs.UserID != f.User || prefs.Revision != 0 || prefs.Rules == nil || prefs.QuietHours == nil {
			t.Fatalf("no preferences yet: %+v", prefs)
		}
		body := map[string]any{"revision": 0, "rules": []any{map[string]any{"channel": "sms", "enabled": false}},
			"quiet_hours": []any{map[string]any{"channel": "email", "windows": []any{map[string]any{"days": []string{"weekdays"}, "start": "22:00", "end": "07:30"}}}}}
		ts.must(200, "PUT", user+"/preferences", ts.admin, body, &prefs)
		if prefs.Revision != 1 || prefs.QuietHours[0].Windows[0].Days[4] != "fri" {
			t.Fatalf("after PUT: %+v", prefs)
		}
		if p := ts.do("PUT", user+"/preferences", ts.admin, body).problem(t); p.Status != 409 || p.Field != "revision" {
			t.Fatalf("a stale revision: %+v", p)
		}
		bad := map[string]any{"quiet_hours": []any{map[string]any{"channel": "inbox", "windows": []any{}}}}
		if p := ts.do("PUT", user+"/preferences", ts.admin, bad).problem(t); p.Status != 400 || p.Field != "quiet_hours[0].channel" {
			t.Fatalf("quiet hours on the inbox: %+v", p)
		}
		// What GET answers can be sent back as is.
		var again herald.UserPreferences
		ts.must(200, "PUT", user+"/preferences", ts.admin, prefs, &again)
		if again.Revision != 2 {
			t.Fatalf("a GET answer sent back: revision %d", again.Revision)
		}

		if p := ts.do("GET", "/api/v1/me/preferences", ts.admin, nil).problem(t); p.Status != 403 {
			t.Fatalf("/me with an API token: %+v", p)
		}

		var pol herald.PreferencePolicy
		path := fmt.Sprintf("/api/v1/projects/%d/preference-policy", f.Project)
		ts.must(200, "PUT", path, ts.admin, map[string]any{"categories": []any{map[string]any{"key": "builds", "event_types": []string{"build.failed"}}},
			"urgent": []string{"deploy.failed"}}, &pol)
		if pol.ProjectID != f.Project || pol.Revision != 1 || pol.Categories[0].Name != "builds" {
			t.Fatalf("project policy: %+v", pol)
		}
		if p := ts.do("PUT", "/api/v1/preference-policy", ts.admin, map[string]any{"required": []string{"nope"}}).problem(t); p.Field != "required[0]" {
			t.Fatalf("an unknown required type: %+v", p)
		}

		var key struct {
			ProjectID int64  `json:"project_id"`
			Key       string `json:"key"`
		}
		r := ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/end-user-key", f.Project), ts.admin, nil, &key)
		if !strings.HasPrefix(key.Key, herald.EndUserKeyPrefix) || key.ProjectID != f.Project || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("end-user key: %+v, Cache-Control %q", key, r.Header.Get("Cache-Control"))
		}
	})
}

// Without an unsubscribe key, or with a link it did not sign, the
// unsubscribe route changes nothing.
func TestUnsubscribe_InvalidLinks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		key := herald.DeriveKey(storetest.Key(), "unsubscribe")
		link := "/unsubscribe/" + herald.SignUnsubscribe(key, herald.UnsubscribeClaims{TenantID: 1, UserID: 1, Rule: herald.PreferenceRule{Channel: "email", EventType: "build.failed"}})
		off := newTestServer(t, db)
		if r := off.do("POST", link, "", "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded"); r.Code != 404 {
			t.Fatalf("without a key: %s", r)
		}
		other := newTestServer(t, storetest.NewDB(t, db.Dialect()), func(s *Server) { s.UnsubscribeKey = herald.DeriveKey(storetest.Key(), "unsubscribe") })
		if r := other.do("POST", link, "", "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded"); r.Code != 404 {
			t.Fatalf("a link of another key: %s", r)
		}
		if r := other.do("GET", "/unsubscribe/x.y", "", nil); r.Code != 404 || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("a malformed link: %s %v", r, r.Header)
		}
	})
}
