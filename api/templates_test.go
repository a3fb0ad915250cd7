package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestTemplates_Flow walks the templates API as a user would: the built-in
// templates copied into the draft, a bad template refused with its line
// and column, revisions checked, deploy, history, revert, and previews.
func TestTemplates_Flow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		admin := ts.admin
		f := ts.newFixture(admin)
		path := fmt.Sprintf("/api/v1/projects/%d/templates", f.Project)

		var draft herald.TemplateSet
		ts.must(200, "GET", path, admin, nil, &draft)
		if draft.Revision != 0 || len(draft.Templates) != 0 || draft.Version != "draft" {
			t.Fatalf("new project's templates %+v", draft)
		}

		// The defaults are a body PUT takes as it is.
		var defaults map[string]any
		r := ts.must(200, "GET", path+"/defaults", admin, nil, &defaults)
		if n := len(defaults["templates"].([]any)); n != 14 {
			t.Fatalf("%d default templates", n)
		}
		ts.must(200, "PUT", path, admin, json.RawMessage(r.Body), &draft)
		if draft.Revision != 1 || len(draft.Templates) != 14 {
			t.Fatalf("draft after copying the defaults: revision %d, %d templates", draft.Revision, len(draft.Templates))
		}

		// A template that does not parse: 400 naming the part, with the
		// line and column; nothing changes.
		bad := []herald.Template{{EventType: "build.failed", Channel: "inbox", Locale: "zh", Subject: "{{ title }}", Text: "第一行\n  {{ title | frobnicate }}"}}
		p := ts.do("PUT", path, admin, map[string]any{"revision": 1, "templates": bad}).problem(t)
		if p.Code != herald.EINVALID || p.Field != "templates[0].text" || !strings.HasPrefix(p.Detail, `line 2, column 14: unknown filter "frobnicate"`) {
			t.Fatalf("bad template answered %+v", p)
		}
		// A stale revision: 409.
		good := []herald.Template{{EventType: "build.failed", Channel: "inbox", Locale: "zh", Subject: "【{{ title }}】", Text: "{{ recipient.name }}：{{ source.name }}"}}
		if p := ts.do("PUT", path, admin, map[string]any{"revision": 0, "templates": good}).problem(t); p.Code != herald.ECONFLICT {
			t.Fatalf("stale PUT answered %+v", p)
		}
		draft = herald.TemplateSet{}
		ts.must(200, "PUT", path, admin, map[string]any{"revision": 1, "templates": good, "version": "live", "project_id": 9}, &draft)
		if draft.Revision != 2 || !reflect.DeepEqual(draft.Templates, good) {
			t.Fatalf("draft %+v", draft)
		}

		// Deploy checks the revision; live is the draft.
		if p := ts.do("POST", path+"/deploy", admin, map[string]any{"revision": 1}).problem(t); p.Code != herald.ECONFLICT {
			t.Fatalf("stale deploy answered %+v", p)
		}
		var live herald.TemplateSet
		ts.must(200, "POST", path+"/deploy", admin, map[string]any{"revision": 2}, &live)
		if live.Version != "live" || live.Revision != 2 || !reflect.DeepEqual(live.Templates, good) {
			t.Fatalf("live %+v", live)
		}

		// Preview: the project's template (the draft by default), a stored
		// event, one recipient.
		var user struct {
			ID int64 `json:"id"`
		}
		ts.must(201, "POST", "/api/v1/users", admin, map[string]any{"code": "li", "name": "李雷", "locale": "zh"}, &user)
		var pv herald.TemplatePreview
		ts.must(200, "POST", path+"/preview", admin, map[string]any{"channel": "inbox", "event_id": f.Event, "user_id": user.ID}, &pv)
		if pv.From != "project" || pv.Locale != "zh" || pv.Subject != "【构建失败】" || pv.Text != "李雷：nightly" {
			t.Errorf("preview of the project's template %+v", pv)
		}
		// A template sent with the request, against a sample event.
		pv = herald.TemplatePreview{}
		ts.must(200, "POST", path+"/preview", admin, map[string]any{
			"template": map[string]any{"channel": "webhook", "locale": "en", "body": `{"b":{{ payload.build | json }},"t":{{ type | json }}}`},
			"event":    map[string]any{"type": "custom.nightly", "source_id": f.Source, "payload": map[string]any{"build": "#7"}},
		}, &pv)
		if pv.From != "request" || pv.EventType != "custom.nightly" || string(pv.Body) != `{"b":"#7","t":"custom.nightly"}` {
			t.Errorf("preview of a sent template %+v (%s)", pv, pv.Body)
		}
		// A slot the project leaves: the built-in template.
		pv = herald.TemplatePreview{}
		ts.must(200, "POST", path+"/preview", admin, map[string]any{"channel": "email", "locale": "en", "event_id": f.Event}, &pv)
		if pv.From != "default" || pv.Subject != "Build failed: nightly" || !strings.HasPrefix(pv.HTML, "<h3>Build failed</h3>") {
			t.Errorf("preview of the built-in template %+v", pv)
		}
		// A bad template sent for preview names its part.
		if p := ts.do("POST", path+"/preview", admin, map[string]any{
			"template": map[string]any{"channel": "sms", "text": "{% if %}"}, "event_id": f.Event,
		}).problem(t); p.Code != herald.EINVALID || p.Field != "template.text" || !strings.HasPrefix(p.Detail, "line 1, column 1:") {
			t.Errorf("bad preview answered %+v", p)
		}

		// History, newest first; revert brings live back into the draft.
		ts.must(200, "PUT", path, admin, map[string]any{"templates": []any{}}, &draft)
		var reverted herald.TemplateSet
		ts.must(200, "POST", path+"/revert", admin, nil, &reverted)
		if reverted.Revision != 4 || !reflect.DeepEqual(reverted.Templates, good) {
			t.Fatalf("reverted draft %+v", reverted)
		}
		var hist struct {
			Items []struct {
				Action    string             `json:"action"`
				Revision  int64              `json:"revision"`
				Templates herald.TemplateSet `json:"templates"`
			} `json:"items"`
		}
		ts.must(200, "GET", path+"/history", admin, nil, &hist)
		var got []string
		for _, h := range hist.Items {
			got = append(got, fmt.Sprintf("%s@%d", h.Action, h.Revision))
		}
		if want := "revert@4 update@3 deploy@2 update@2 update@1"; strings.Join(got, " ") != want {
			t.Errorf("history %v, want %s", got, want)
		}

		// Another project's scoped token sees no such project.
		var other struct {
			ID int64 `json:"id"`
		}
		ts.must(201, "POST", "/api/v1/projects", admin, map[string]any{"name": "Other"}, &other)
		scoped := ts.newToken(admin, herald.TokenCreate{Name: "other", ProjectID: other.ID, Permissions: []herald.Permission{herald.PermSettingsWrite}})
		for _, q := range []struct{ method, path string }{{"GET", path}, {"GET", path + "/defaults"}, {"POST", path + "/deploy"}} {
			if p := ts.do(q.method, q.path, scoped, nil).problem(t); p.Code != herald.ENOTFOUND {
				t.Errorf("%s %s as another project's token: %+v", q.method, q.path, p)
			}
		}
	})
}
