package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestBadInput sends bad requests of every kind: each is refused with the
// status, code and field it deserves, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		// A notifier of another project, which settings may not name.
		var n herald.Notifier
		var p2 herald.Project
		ts.must(201, "POST", "/api/v1/projects", ts.admin, map[string]any{"name": "Other"}, &p2)
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", p2.ID), ts.admin, map[string]any{"type": "inbox", "name": "in"}, &n)

		huge := `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
		settings := fmt.Sprintf("/api/v1/sources/%d/settings", f.Source)
		projectSettings := fmt.Sprintf("/api/v1/projects/%d/settings", f.Project)
		channel := func(recipient string) string {
			return fmt.Sprintf(`{"channels":[{"notifier_id":%d,"enabled":true,"events":[{"type":"build.failed","enabled":true,"recipients":[%s]}]}]}`, f.Notifier, recipient)
		}
		tests := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/api/v1/projects", `{"name": "x"`, 400, "invalid", ""},
			{"malformed JSON syntax", "POST", "/api/v1/users", `{"code": "bob" "name": "Bob"}`, 400, "invalid", ""},
			{"empty body", "POST", "/api/v1/projects", ``, 400, "invalid", ""},
			{"trailing data", "POST", "/api/v1/projects", `{"name":"x"} {"name":"y"}`, 400, "invalid", ""},
			{"not an object", "POST", "/api/v1/projects", `["x"]`, 400, "invalid", ""},
			{"unknown field", "POST", "/api/v1/projects", `{"name":"x","colour":"red"}`, 400, "invalid", "colour"},
			{"unknown field in PATCH", "PATCH", fmt.Sprintf("/api/v1/users/%d", f.User), `{"nickname":"al"}`, 400, "invalid", "nickname"},
			{"unknown nested field", "PUT", settings, fmt.Sprintf(`{"channels":[{"notifier_id":%d,"colour":1}]}`, f.Notifier), 400, "invalid", "colour"},
			{"wrong type", "POST", "/api/v1/projects", `{"name":5}`, 400, "invalid", "name"},
			{"wrong type in PATCH", "PATCH", fmt.Sprintf("/api/v1/sources/%d", f.Source), `{"name":true}`, 400, "invalid", "name"},
			{"wrong nested type", "PUT", settings, `{"channels":[{"notifier_id":"one"}]}`, 400, "invalid", "channels.notifier_id"},
			{"wrong type of revision", "PUT", settings, `{"revision":"3","channels":[]}`, 400, "invalid", "revision"},
			{"revision below -1", "POST", settings + "/deploy", `{"revision":-2}`, 400, "invalid", "revision"},
			{"limit zero", "GET", "/api/v1/projects?limit=0", ``, 400, "invalid", "limit"},
			{"limit too big", "GET", "/api/v1/users?limit=501", ``, 400, "invalid", "limit"},
			{"limit not a number", "GET", "/api/v1/tokens?limit=ten", ``, 400, "invalid", "limit"},
			{"limit empty", "GET", "/api/v1/chats?limit=", ``, 400, "invalid", "limit"},
			{"history limit", "GET", settings + "/history?limit=1000", ``, 400, "invalid", "limit"},
			{"bad cursor", "GET", "/api/v1/groups?cursor=!!", ``, 400, "invalid", "cursor"},
			{"bad parent_id", "GET", "/api/v1/departments?parent_id=-1", ``, 400, "invalid", "parent_id"},
			{"unknown notifier type", "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), `{"type":"pigeon","name":"coo"}`, 400, "invalid", "type"},
			{"unknown notifier type filter", "GET", fmt.Sprintf("/api/v1/projects/%d/notifiers?type=pigeon", f.Project), ``, 400, "invalid", "type"},
			{"unknown source kind", "POST", fmt.Sprintf("/api/v1/projects/%d/sources", f.Project), `{"kind":"cron","external_id":"x","name":"n"}`, 400, "invalid", "kind"},
			{"unknown source kind filter", "GET", fmt.Sprintf("/api/v1/projects/%d/sources?kind=cron", f.Project), ``, 400, "invalid", "kind"},
			{"short job id", "POST", fmt.Sprintf("/api/v1/projects/%d/sources", f.Project), `{"kind":"build_job","external_id":"abc","name":"n"}`, 400, "invalid", "external_id"},
			{"unknown recipient type", "PUT", settings, channel(`{"type":"ROBOT","code":"x"}`), 400, "invalid", "channels[0].events[0].recipients[0].type"},
			{"include_subs on a user", "PUT", projectSettings, channel(`{"type":"USER","code":"alice","include_subs":true}`), 400, "invalid", "channels[0].events[0].recipients[0].include_subs"},
			{"unknown event type", "PUT", settings, fmt.Sprintf(`{"channels":[{"notifier_id":%d,"events":[{"type":"build.exploded"}]}]}`, f.Notifier), 400, "invalid", "channels[0].events[0].type"},
			{"foreign notifier", "PUT", settings, fmt.Sprintf(`{"channels":[{"notifier_id":%d}]}`, n.ID), 400, "invalid", "channels[0].notifier_id"},
			{"unknown version", "GET", settings + "?version=final", ``, 400, "invalid", "version"},
			{"empty version", "GET", projectSettings + "?version=", ``, 400, "invalid", "version"},
			{"bad email", "PATCH", fmt.Sprintf("/api/v1/users/%d", f.User), `{"email":"not an address"}`, 400, "invalid", "email"},
			{"bad notifier url", "PATCH", fmt.Sprintf("/api/v1/notifiers/%d", f.Notifier), `{"config":{"url":"ftp://x"}}`, 400, "invalid", "config.url"},
			{"unknown permission", "POST", "/api/v1/tokens", `{"name":"t","permissions":["root"]}`, 400, "invalid", "permissions[0]"},
			{"token of no project", "POST", "/api/v1/tokens", `{"name":"t","permissions":["admin"],"project_id":999999}`, 400, "invalid", "project_id"},
			{"duplicate code", "POST", "/api/v1/users", `{"code":"alice","name":"Alice 2"}`, 409, "conflict", "code"},
			{"id not a number", "GET", "/api/v1/projects/abc", ``, 400, "invalid", "id"},
			{"id zero", "PATCH", "/api/v1/users/0", `{}`, 400, "invalid", "id"},
			{"id negative", "DELETE", "/api/v1/chats/-1", ``, 400, "invalid", "id"},
			{"id too big", "GET", "/api/v1/sources/99999999999999999999", ``, 400, "invalid", "id"},
			{"id in settings path", "PUT", "/api/v1/sources/x/settings", `{}`, 400, "invalid", "id"},
			{"body over 1 MiB", "POST", "/api/v1/projects", huge, 413, "too_large", ""},
			{"settings over 1 MiB", "PUT", settings, huge, 413, "too_large", ""},
			{"PATCH over 1 MiB", "PATCH", fmt.Sprintf("/api/v1/projects/%d", f.Project), huge, 413, "too_large", ""},
		}
		before := ts.dump(ts.admin, f)
		for _, tt := range tests {
			r := ts.do(tt.method, tt.path, ts.admin, tt.body)
			if r.Code != tt.status {
				t.Errorf("%s: %s %s = %s, want %d", tt.name, tt.method, tt.path, r, tt.status)
				continue
			}
			p := r.problem(t)
			if p.Code != tt.code || p.Field != tt.field {
				t.Errorf("%s: problem code %q field %q (%s), want code %q field %q", tt.name, p.Code, p.Field, p.Detail, tt.code, tt.field)
			}
		}
		if after := ts.dump(ts.admin, f); after != before {
			t.Fatalf("bad input changed data:\nbefore %s\nafter %s", before, after)
		}
	})
}
