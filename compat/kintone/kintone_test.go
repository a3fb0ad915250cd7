package kintone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/kintone"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testBundle is a server with the Kintone surface, a tenant with a project,
// app 1 (no space), app 2 (no space) and app 3 in guest space 7, and an
// admin token.
type testBundle struct {
	db      *store.DB
	ctx     context.Context
	srv     *httptest.Server
	token   string
	project *herald.Project
	apps    map[string]*herald.Source
}

func setup(t *testing.T, db *store.DB) *testBundle {
	t.Helper()
	b := &testBundle{db: db, ctx: storetest.NewTenant(t, db, "acme"), apps: map[string]*herald.Source{}}
	b.project = &herald.Project{Name: "Sales"}
	must(t, db.CreateProject(b.ctx, b.project))
	for _, a := range []struct{ id, space string }{{"1", ""}, {"2", ""}, {"3", "7"}} {
		src := &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceApp, ExternalID: a.id, Name: "app " + a.id, SpaceID: a.space}
		must(t, db.CreateSource(b.ctx, src))
		b.apps[a.id] = src
	}
	b.token = b.newToken(t, herald.PermAdmin)
	gs := storetest.Guard(db)
	b.srv = httptest.NewServer((&api.Server{Tokens: gs.Tokens, Tenants: db, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Surfaces: []api.Surface{&kintone.Surface{Sources: gs.Sources, Notifiers: gs.Notifiers, Settings: gs.Settings, Records: gs.RecordNotifications}}}).Handler())
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) newToken(t *testing.T, perms ...herald.Permission) string {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "kintone-" + string(perms[0]), Permissions: perms})
	must(t, err)
	return secret
}

// response is one answer.
type response struct {
	status int
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request with the admin token in X-Cybozu-API-Token, unless
// headers says otherwise; body is a string, []byte or a value to marshal.
func (b *testBundle) do(t *testing.T, method, path string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		must(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	must(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(headers) == 0 {
		headers = []string{"X-Cybozu-API-Token", b.token}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	must(t, err)
	return response{res.StatusCode, raw}
}

// ok fails unless the answer is 200.
func ok(t *testing.T, r response) response {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	return r
}

const (
	previewPath = "/k/v1/preview/app/notifications/general.json"
	livePath    = "/k/v1/app/notifications/general.json"
	deployPath  = "/k/v1/preview/app/deploy.json"
)

// sameJSON fails unless got and want are the same JSON document.
func sameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	must(t, json.Unmarshal(want, &w))
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("answer\n%s\nwant\n%s", got, want)
	}
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	return b
}

// TestGolden replays the pages' samples: update, read back, deploy, status.
func TestGolden(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		// One earlier write puts app 1 at revision 2, the revision the
		// sample names.
		sameJSON(t, ok(t, b.do(t, "PUT", previewPath, `{"app":1}`)).body, []byte(`{"revision":"2"}`))

		sameJSON(t, ok(t, b.do(t, "PUT", previewPath, golden(t, "put_general.request.json"))).body, golden(t, "put_general.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body, golden(t, "get_general.response.json"))
		sameJSON(t, ok(t, b.do(t, "POST", deployPath, golden(t, "deploy.request.json"))).body, golden(t, "deploy.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", deployPath+"?apps[0]=1", nil)).body, golden(t, "deploy_status.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", livePath+"?app=1", nil)).body, golden(t, "get_general.response.json"))
		// GET may carry its parameters in a JSON body, as the Get page's
		// second sample does.
		sameJSON(t, ok(t, b.do(t, "GET", livePath, `{"app":"1"}`)).body, golden(t, "get_general.response.json"))
		sameJSON(t, ok(t, b.do(t, "GET", deployPath, `{"apps":[1]}`)).body, golden(t, "deploy_status.response.json"))
		// A long GET comes as a POST with X-HTTP-Method-Override.
		override := []string{"X-Cybozu-API-Token", b.token, "X-HTTP-Method-Override", "GET"}
		sameJSON(t, ok(t, b.do(t, "POST", deployPath, `{"apps":["1"]}`, override...)).body, golden(t, "deploy_status.response.json"))
		sameJSON(t, ok(t, b.do(t, "POST", previewPath, `{"app":1}`, override...)).body, golden(t, "get_general.response.json"))
		wantError(t, b.do(t, "POST", livePath, `{"app":1}`), http.StatusMethodNotAllowed, "CB_IL02")
	})
}

// TestUpdate_RoundTrip writes every kind of entry, with Booleans and
// numbers as strings, and reads them back exactly, in order.
func TestUpdate_RoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ok(t, b.do(t, "PUT", previewPath, map[string]any{
			"app": "1", "revision": "-1", "notifyToCommenter": "true",
			"notifications": []any{
				map[string]any{"entity": map[string]any{"type": "ORGANIZATION", "code": "sales"}, "includeSubs": "true", "recordAdded": "true", "commentAdded": true},
				map[string]any{"entity": map[string]any{"type": "USER", "code": "guest/visitor@example.com"}, "statusChanged": true},
				map[string]any{"entity": map[string]any{"type": "GROUP", "code": "everyone"}},
				map[string]any{"entity": map[string]any{"type": "FIELD_ENTITY", "code": "CREATOR"}, "recordEdited": "false", "fileImported": true},
				map[string]any{"entity": map[string]any{"type": "ORGANIZATION", "code": "sales"}, "recordEdited": true},
				// includeSubs applies to departments only: ignored here.
				map[string]any{"entity": map[string]any{"type": "USER", "code": "ann"}, "includeSubs": true, "recordAdded": true},
			},
		}))
		want := `{"notifications":[
			{"entity":{"type":"ORGANIZATION","code":"sales"},"includeSubs":true,"recordAdded":true,"recordEdited":false,"commentAdded":true,"statusChanged":false,"fileImported":false},
			{"entity":{"type":"USER","code":"guest/visitor@example.com"},"includeSubs":false,"recordAdded":false,"recordEdited":false,"commentAdded":false,"statusChanged":true,"fileImported":false},
			{"entity":{"type":"GROUP","code":"everyone"},"includeSubs":false,"recordAdded":false,"recordEdited":false,"commentAdded":false,"statusChanged":false,"fileImported":false},
			{"entity":{"type":"FIELD_ENTITY","code":"CREATOR"},"includeSubs":false,"recordAdded":false,"recordEdited":false,"commentAdded":false,"statusChanged":false,"fileImported":true},
			{"entity":{"type":"ORGANIZATION","code":"sales"},"includeSubs":false,"recordAdded":false,"recordEdited":true,"commentAdded":false,"statusChanged":false,"fileImported":false},
			{"entity":{"type":"USER","code":"ann"},"includeSubs":false,"recordAdded":true,"recordEdited":false,"commentAdded":false,"statusChanged":false,"fileImported":false}
			],"notifyToCommenter":true,"revision":"2"}`
		sameJSON(t, ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body, []byte(want))

		// An absent notifications changes nothing; notifyToCommenter alone
		// changes.
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifyToCommenter":false,"revision":2}`))
		got := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).json(t)
		if got["notifyToCommenter"] != false || got["revision"] != "3" || len(got["notifications"].([]any)) != 6 {
			t.Fatalf("after a PUT without notifications: %v", got)
		}
		// An empty array removes every entry.
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[]}`))
		sameJSON(t, ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body, []byte(`{"notifications":[],"notifyToCommenter":false,"revision":"4"}`))
	})
}

// TestUpdate_KeepsNativeSettings shows a Kintone write leaves the other
// channels and event types of the app alone, and uses the project's
// existing inbox notifier.
func TestUpdate_KeepsNativeSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		inbox := &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierInbox, Name: "in-app"}
		must(t, db.CreateNotifier(b.ctx, inbox))
		hook := &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierWebhook, Name: "hook", Config: herald.NotifierConfig{URL: "http://127.0.0.1:9/hook"}}
		must(t, db.CreateNotifier(b.ctx, hook))
		scope := herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.apps["1"].ID}
		webhook := herald.ChannelSettings{NotifierID: hook.ID, Enabled: true, Events: []herald.EventSettings{
			{Type: "record.added", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "ops"}}}}}
		_, err := db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, &herald.Settings{
			InheritProject: true,
			Channels: []herald.ChannelSettings{webhook, {NotifierID: inbox.ID, Enabled: true, Events: []herald.EventSettings{
				{Type: "custom.escalated", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "boss"}}},
				{Type: "comment.added", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "native"}}},
			}}}})
		must(t, err)
		// A recipient the native API added shows as an entry.
		got := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).json(t)
		if n := got["notifications"].([]any); len(n) != 1 || n[0].(map[string]any)["commentAdded"] != true {
			t.Fatalf("native recipient not shown: %v", got)
		}

		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`))
		st, err := db.FindSettings(b.ctx, scope, herald.VersionDraft)
		must(t, err)
		if st.InheritProject {
			t.Error("a Kintone write must make the app use its own settings")
		}
		if len(st.Channels) != 2 || st.Channels[0].NotifierID != hook.ID || !reflect.DeepEqual(st.Channels[0].Events, webhook.Events) {
			t.Fatalf("webhook channel changed: %+v", st.Channels)
		}
		ch := st.Channels[1]
		if ch.NotifierID != inbox.ID || ch.Event("custom.escalated") == nil || ch.Event("comment.added") != nil {
			t.Fatalf("inbox channel: %+v", ch)
		}
		if es := ch.Event("record.added"); es == nil || !es.Enabled || !reflect.DeepEqual(es.Recipients, []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}) {
			t.Fatalf("record.added: %+v", es)
		}
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID, Type: herald.NotifierInbox}, herald.Page{})
		must(t, err)
		if len(ns) != 1 {
			t.Fatalf("%d inbox notifiers, want the existing one only", len(ns))
		}
	})
}

// TestDeploy_PreviewInvisibleUntilDeploy shows the live settings change
// only when deployed.
func TestDeploy_PreviewInvisibleUntilDeploy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		empty := `{"notifications":[],"notifyToCommenter":false,"revision":"1"}`
		sameJSON(t, ok(t, b.do(t, "GET", livePath+"?app=1", nil)).body, []byte(empty))
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}],"notifyToCommenter":true}`))
		sameJSON(t, ok(t, b.do(t, "GET", livePath+"?app=1", nil)).body, []byte(empty))
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":"1"}]}`))
		live := ok(t, b.do(t, "GET", livePath+"?app=1", nil))
		sameJSON(t, live.body, ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body)
		if live.json(t)["revision"] != "2" {
			t.Fatalf("live after deploy: %s", live.body)
		}
	})
}

// TestDeploy_ErrStaleRevision shows a deploy naming a stale revision for
// one app changes no app.
func TestDeploy_ErrStaleRevision(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		for _, app := range []string{"1", "2"} {
			ok(t, b.do(t, "PUT", previewPath, `{"app":`+app+`,"notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`))
		}
		liveBefore := map[string][]byte{}
		for _, app := range []string{"1", "2"} {
			liveBefore[app] = ok(t, b.do(t, "GET", livePath+"?app="+app, nil)).body
		}
		r := b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":2},{"app":2,"revision":"1"}],"revert":false}`)
		wantError(t, r, http.StatusConflict, "GAIA_CO02")
		if m := r.json(t)["message"].(string); !strings.Contains(m, "ID: 2") {
			t.Errorf("message %q does not name app 2", m)
		}
		for _, app := range []string{"1", "2"} {
			sameJSON(t, ok(t, b.do(t, "GET", livePath+"?app="+app, nil)).body, liveBefore[app])
		}
		// With the right revisions both deploy.
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":2},{"app":2,"revision":2}]}`))
		for _, app := range []string{"1", "2"} {
			if n := ok(t, b.do(t, "GET", livePath+"?app="+app, nil)).json(t)["notifications"].([]any); len(n) != 1 {
				t.Errorf("app %s not deployed: %v", app, n)
			}
		}
	})
}

// TestUpdate_ErrStaleRevisionCreatesNothing: a PUT naming a stale revision
// changes nothing, not even the inbox notifier its entries would need.
func TestUpdate_ErrStaleRevisionCreatesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		r := b.do(t, "PUT", previewPath, `{"app":1,"revision":"7","notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`)
		wantError(t, r, http.StatusConflict, "GAIA_CO02")
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{})
		must(t, err)
		if len(ns) != 0 {
			t.Errorf("a refused PUT created notifiers: %+v", ns)
		}
		// The accepted PUT creates the project's inbox, as every surface does.
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"revision":"1","notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`))
		ns, _, err = db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{})
		must(t, err)
		if len(ns) != 1 || ns[0].Type != herald.NotifierInbox || ns[0].Name != herald.InboxNotifierName {
			t.Errorf("notifiers after the PUT: %+v", ns)
		}
	})
}

// TestDeploy_Revert shows revert makes the preview the live settings again.
func TestDeploy_Revert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`))
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1}]}`))
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"USER","code":"bob"},"fileImported":true}],"notifyToCommenter":true}`))
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":"3"}],"revert":"true"}`))
		preview := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).json(t)
		live := ok(t, b.do(t, "GET", livePath+"?app=1", nil)).json(t)
		if !reflect.DeepEqual(preview["notifications"], live["notifications"]) || preview["notifyToCommenter"] != false {
			t.Fatalf("after revert preview %v, live %v", preview, live)
		}
		if code := live["notifications"].([]any)[0].(map[string]any)["entity"].(map[string]any)["code"]; code != "ann" {
			t.Fatalf("live changed by revert: %v", live)
		}
	})
}

// TestGuestSpace shows an app of a guest space is served under its own
// space path only, and other apps never under a guest path.
func TestGuestSpace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		guest := "/k/guest/7/v1"
		ok(t, b.do(t, "PUT", guest+"/preview/app/notifications/general.json", `{"app":3,"notifications":[{"entity":{"type":"USER","code":"guest/vera"},"recordAdded":true}]}`))
		ok(t, b.do(t, "POST", guest+"/preview/app/deploy.json", `{"apps":[{"app":3,"revision":2}]}`))
		sameJSON(t, ok(t, b.do(t, "GET", guest+"/preview/app/deploy.json?apps[0]=3", nil)).body, []byte(`{"apps":[{"app":"3","status":"SUCCESS"}]}`))
		live := ok(t, b.do(t, "GET", guest+"/app/notifications/general.json?app=3", nil)).json(t)
		if code := live["notifications"].([]any)[0].(map[string]any)["entity"].(map[string]any)["code"]; code != "guest/vera" {
			t.Fatalf("guest live: %v", live)
		}
		for _, path := range []string{
			"/k/v1/app/notifications/general.json?app=3",         // a guest app needs its guest path
			"/k/guest/8/v1/app/notifications/general.json?app=3", // another space
			"/k/guest/7/v1/app/notifications/general.json?app=1", // an app of no space
			"/k/guest/7/v1/preview/app/deploy.json?apps[0]=1",    // the same for status
			"/k/guest/x/v1/preview/app/notifications/general.json?app=3",
		} {
			wantError(t, b.do(t, "GET", path, nil), http.StatusNotFound, "GAIA_AP01")
		}
		wantError(t, b.do(t, "PUT", previewPath, `{"app":3,"notifications":[]}`), http.StatusNotFound, "GAIA_AP01")
		wantError(t, b.do(t, "POST", guest+"/preview/app/deploy.json", `{"apps":[{"app":3},{"app":1}]}`), http.StatusNotFound, "GAIA_AP01")
	})
}

var reErrorID = regexp.MustCompile(`^[0-9A-Za-z]{20}$`)

// wantError checks Kintone's envelope, status and code, and returns the
// envelope.
func wantError(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.json(t)
	if m["code"] != code {
		t.Fatalf("code %v, want %s: %s", m["code"], code, r.body)
	}
	if id, _ := m["id"].(string); !reErrorID.MatchString(id) {
		t.Errorf("id %q is not a request id", m["id"])
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Errorf("no message: %s", r.body)
	}
	return m
}

// TestErrors covers each error code, checks that bad input changes nothing
// and that CB_VA01 names every field at fault.
func TestErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		reader := b.newToken(t, herald.PermSettingsRead)
		other := storetest.NewTenant(t, db, "globex")
		_, otherToken, err := db.CreateToken(other, herald.TokenCreate{Name: "globex", Permissions: []herald.Permission{herald.PermAdmin}})
		must(t, err)
		before := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body

		for _, tt := range []struct {
			name   string
			method string
			path   string
			body   string
			fields []string // CB_VA01: the fields named
		}{
			{"EntityType", "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"ROBOT","code":"x"}}]}`, []string{"notifications[0].entity.type"}},
			{"EveryField", "PUT", previewPath, `{"app":"one","revision":"two","notifyToCommenter":"yes","notifications":[{"entity":{"type":"USER"},"recordAdded":"maybe"},{"includeSubs":1},{"entity":{"type":"GROUP","code":"has space"}}]}`,
				[]string{"app", "revision", "notifyToCommenter", "notifications[0].entity.code", "notifications[0].recordAdded", "notifications[1].entity", "notifications[1].includeSubs", "notifications[2].entity.code"}},
			{"Duplicate", "PUT", previewPath, `{"app":1,"notifications":[{"entity":{"type":"USER","code":"ann"}},{"entity":{"type":"USER","code":"ann"},"recordAdded":true}]}`, []string{"notifications[1].entity"}},
			{"NotificationsNotArray", "PUT", previewPath, `{"app":1,"notifications":{"entity":{}}}`, []string{"notifications"}},
			{"AppMissing", "GET", previewPath, "", []string{"app"}},
			{"AppZero", "GET", livePath + "?app=0", "", []string{"app"}},
			{"RevisionBelowMinusOne", "PUT", previewPath, `{"app":1,"revision":-2}`, []string{"revision"}},
			{"DeployNoApps", "POST", deployPath, `{"apps":[]}`, []string{"apps"}},
			{"DeployBadApp", "POST", deployPath, `{"apps":[{"revision":1},{"app":"x"}],"revert":"no"}`, []string{"apps[0].app", "apps[1].app", "revert"}},
			{"DeployDuplicate", "POST", deployPath, `{"apps":[{"app":1},{"app":"1"}]}`, []string{"apps[1].app"}},
			{"StatusBadApp", "GET", deployPath + "?apps[0]=1&apps[1]=abc", "", []string{"apps[1]"}},
		} {
			t.Run("CB_VA01/"+tt.name, func(t *testing.T) {
				var body any
				if tt.body != "" {
					body = tt.body
				}
				m := wantError(t, b.do(t, tt.method, tt.path, body), http.StatusBadRequest, "CB_VA01")
				errs, _ := m["errors"].(map[string]any)
				var got []string
				for f, v := range errs {
					got = append(got, f)
					if msgs, _ := v.(map[string]any)["messages"].([]any); len(msgs) == 0 {
						t.Errorf("%s: no messages", f)
					}
				}
				slices.Sort(got)
				want := slices.Sorted(slices.Values(tt.fields))
				if !slices.Equal(got, want) {
					t.Errorf("fields %v, want %v", got, want)
				}
			})
		}
		t.Run("CB_IJ01", func(t *testing.T) {
			wantError(t, b.do(t, "PUT", previewPath, `{"app":1,`), http.StatusBadRequest, "CB_IJ01")
			wantError(t, b.do(t, "PUT", previewPath, `null`), http.StatusBadRequest, "CB_IJ01")
			huge := `{"app":1,"x":"` + strings.Repeat("a", 1<<20) + `"}`
			wantError(t, b.do(t, "PUT", previewPath, huge), http.StatusRequestEntityTooLarge, "CB_IJ01")
		})
		t.Run("GAIA_AP01", func(t *testing.T) {
			m := wantError(t, b.do(t, "GET", previewPath+"?app=999", nil), http.StatusNotFound, "GAIA_AP01")
			if !strings.Contains(m["message"].(string), "999") {
				t.Errorf("message does not name the app: %v", m["message"])
			}
			wantError(t, b.do(t, "PUT", previewPath, `{"app":999,"notifications":[]}`), http.StatusNotFound, "GAIA_AP01")
			wantError(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1},{"app":999}]}`), http.StatusNotFound, "GAIA_AP01")
			wantError(t, b.do(t, "GET", deployPath+"?apps[0]=999", nil), http.StatusNotFound, "GAIA_AP01")
			// Another tenant's token does not see this tenant's app.
			wantError(t, b.do(t, "GET", previewPath+"?app=1", nil, "X-Cybozu-API-Token", otherToken), http.StatusNotFound, "GAIA_AP01")
		})
		t.Run("GAIA_CO02", func(t *testing.T) {
			wantError(t, b.do(t, "PUT", previewPath, `{"app":1,"revision":"5","notifications":[]}`), http.StatusConflict, "GAIA_CO02")
			wantError(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":0}]}`), http.StatusConflict, "GAIA_CO02")
		})
		t.Run("CB_NO02", func(t *testing.T) {
			wantError(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[]}`, "X-Cybozu-API-Token", reader), http.StatusForbidden, "CB_NO02")
			wantError(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1}]}`, "X-Cybozu-API-Token", reader), http.StatusForbidden, "CB_NO02")
			// Reading is allowed.
			ok(t, b.do(t, "GET", previewPath+"?app=1", nil, "X-Cybozu-API-Token", reader))
		})
		t.Run("CB_WA01", func(t *testing.T) {
			for _, h := range [][]string{
				{"X-Requested-With", "XMLHttpRequest"}, // a session request: no token
				{"X-Cybozu-API-Token", "hld_notavalidtoken"},
				{"X-Cybozu-Authorization", "dXNlcjpwYXNzd29yZA=="}, // password authentication
				{"Authorization", "Basic dXNlcjpwYXNzd29yZA=="},
			} {
				wantError(t, b.do(t, "GET", previewPath+"?app=1", nil, h...), http.StatusUnauthorized, "CB_WA01")
				wantError(t, b.do(t, "PUT", previewPath, `{"app":1}`, h...), http.StatusUnauthorized, "CB_WA01")
			}
		})
		t.Run("FreshID", func(t *testing.T) {
			a := wantError(t, b.do(t, "GET", previewPath+"?app=999", nil), http.StatusNotFound, "GAIA_AP01")
			c := wantError(t, b.do(t, "GET", previewPath+"?app=999", nil), http.StatusNotFound, "GAIA_AP01")
			if a["id"] == c["id"] {
				t.Errorf("two errors share the id %v", a["id"])
			}
		})
		// Nothing above changed the app.
		sameJSON(t, ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).body, before)
	})
}

// TestAuth_SeveralTokens shows comma-separated API tokens are tried in turn.
func TestAuth_SeveralTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ok(t, b.do(t, "GET", previewPath+"?app=1", nil, "X-Cybozu-API-Token", "hld_revokedorunknown,"+b.token))
		ok(t, b.do(t, "GET", previewPath+"?app=1", nil, "Authorization", "Bearer "+b.token))
	})
}

// TestEvents shows deployed settings deliver an app's event to the right
// inboxes: a department with includeSubs reaches its sub-department, a
// FIELD_ENTITY matches the event's role case-insensitively (a Japanese
// field code too), and
// notifyToCommenter adds the commenters.
func TestEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		sales := &herald.Department{Code: "sales", Name: "Sales"}
		must(t, db.CreateDepartment(b.ctx, sales))
		east := &herald.Department{Code: "sales-east", Name: "Sales East", ParentID: &sales.ID}
		must(t, db.CreateDepartment(b.ctx, east))
		users := map[string]*herald.User{}
		for _, u := range []struct {
			code  string
			depts []int64
		}{{"ann", []int64{sales.ID}}, {"bob", []int64{east.ID}}, {"cid", nil}, {"dan", nil}, {"eve", nil}, {"fay", nil}, {"guest/vera", nil}} {
			user := &herald.User{Code: u.code, Name: u.code, DepartmentIDs: u.depts}
			must(t, db.CreateUser(b.ctx, user))
			users[u.code] = user
		}
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifyToCommenter":true,"notifications":[
			{"entity":{"type":"ORGANIZATION","code":"sales"},"includeSubs":true,"commentAdded":true},
			{"entity":{"type":"FIELD_ENTITY","code":"CREATOR"},"commentAdded":"true"},
			{"entity":{"type":"FIELD_ENTITY","code":"担当者"},"commentAdded":true},
			{"entity":{"type":"USER","code":"guest/vera"},"commentAdded":true},
			{"entity":{"type":"USER","code":"eve"},"recordAdded":true}]}`))
		ok(t, b.do(t, "POST", deployPath, `{"apps":[{"app":1,"revision":2}]}`))

		e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, e.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.Stop(ctx)
		})
		ev := &herald.Event{SourceID: b.apps["1"].ID, Type: "comment.added", Actor: "cid",
			Roles: map[string][]string{"creator": {"dan"}, "commenters": {"cid"}, "担当者": {"fay"}}, Payload: json.RawMessage(`{"record_id":"42"}`)}
		must(t, db.CreateEvents(b.ctx, []*herald.Event{ev}))

		deadline := time.Now().Add(30 * time.Second)
		var got *herald.Event
		for {
			got, err = db.FindEventByID(b.ctx, ev.ID)
			must(t, err)
			if len(got.Deliveries) > 0 && !slices.ContainsFunc(got.Deliveries, func(d *herald.Delivery) bool {
				return d.Status == herald.StatusPending || d.Status == herald.StatusSending
			}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event did not settle: %d deliveries", len(got.Deliveries))
			}
			time.Sleep(25 * time.Millisecond)
		}
		for _, d := range got.Deliveries {
			if d.Channel != herald.NotifierInbox || d.Status != herald.StatusDelivered {
				t.Errorf("delivery to %s over %s: %s %s", d.Target, d.Channel, d.Status, d.LastError)
			}
		}
		for code, want := range map[string]int{"ann": 1, "bob": 1, "cid": 1, "dan": 1, "fay": 1, "guest/vera": 1, "eve": 0} {
			msgs, _, err := db.FindInbox(b.ctx, users[code].ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != want {
				t.Errorf("%s has %d inbox messages, want %d", code, len(msgs), want)
			}
		}
	})
}

// TestErrors_EveryMethodEveryPath sends every method to every Kintone path,
// live and preview general, per-record and reminder notifications, deploy
// and unknown ones, with and without a guest
// space: whatever the answer, an error comes in Kintone's envelope as
// JSON; a method a path does not serve is 405 CB_IL02 naming the methods
// it does in Allow, and an unknown API path is 404 CB_IL02.
func TestErrors_EveryMethodEveryPath(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	b := setup(t, db)
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"}
	type path struct {
		path    string
		allowed []string // nil: an unknown API path
	}
	var paths []path
	for _, p := range []struct{ prefix, app string }{{"/k/v1", "1"}, {"/k/guest/7/v1", "3"}} {
		paths = append(paths,
			path{p.prefix + "/app/notifications/general.json?app=" + p.app, []string{"GET"}},
			path{p.prefix + "/preview/app/notifications/general.json?app=" + p.app, []string{"GET", "PUT"}},
			path{p.prefix + "/preview/app/deploy.json?apps[0]=" + p.app, []string{"GET", "POST"}},
			path{p.prefix + "/app/notifications/perRecord.json?app=" + p.app, []string{"GET"}},
			path{p.prefix + "/preview/app/notifications/perRecord.json?app=" + p.app, []string{"GET", "PUT"}},
			path{p.prefix + "/app/notifications/reminder.json?app=" + p.app, []string{"GET"}},
			path{p.prefix + "/preview/app/notifications/reminder.json?app=" + p.app, []string{"GET", "PUT"}},
			path{p.prefix + "/app/notifications/perRecord.jsonx?app=" + p.app, nil},
			path{p.prefix + "/preview/app/notifications/reminders.json?app=" + p.app, nil},
			path{p.prefix + "/preview/app/notifications/general.jsonx", nil},
			path{p.prefix + "/", nil},
			path{p.prefix + "/no/such/api.json", nil},
		)
	}
	paths = append(paths, path{"/k/guest/7/v2/app/notifications/general.json?app=3", nil}, path{"/k/guest/", nil})
	for _, p := range paths {
		for _, m := range methods {
			t.Run(m+" "+p.path, func(t *testing.T) {
				req, err := http.NewRequest(m, b.srv.URL+p.path, nil)
				must(t, err)
				req.Header.Set("X-Cybozu-API-Token", b.token)
				res, err := http.DefaultClient.Do(req)
				must(t, err)
				defer res.Body.Close()
				raw, err := io.ReadAll(res.Body)
				must(t, err)
				r := response{res.StatusCode, raw}
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("Content-Type %q, want JSON: %d %s", ct, r.status, raw)
				}
				switch {
				case p.allowed == nil:
					wantError(t, r, http.StatusNotFound, "CB_IL02")
				case !slices.Contains(p.allowed, m):
					wantError(t, r, http.StatusMethodNotAllowed, "CB_IL02")
					if got, want := res.Header.Get("Allow"), strings.Join(p.allowed, ", "); got != want {
						t.Errorf("Allow %q, want %q", got, want)
					}
				case r.status != http.StatusOK:
					// PUT and POST without a body: Kintone's CB_VA01.
					wantError(t, r, http.StatusBadRequest, "CB_VA01")
				}
			})
		}
	}
}

// TestErrors_OversizedBodyEveryEndpoint shows a body over the limit is 413
// in Kintone's envelope on every endpoint that reads one.
func TestErrors_OversizedBodyEveryEndpoint(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	b := setup(t, db)
	huge := `{"app":1,"x":"` + strings.Repeat("a", 1<<20) + `"}`
	override := []string{"X-Cybozu-API-Token", b.token, "X-HTTP-Method-Override", "GET"}
	for _, prefix := range []string{"/k/v1", "/k/guest/7/v1"} {
		for _, c := range []struct {
			method, path string
			headers      []string
		}{
			{"GET", "/app/notifications/general.json", nil},
			{"GET", "/preview/app/notifications/general.json", nil},
			{"PUT", "/preview/app/notifications/general.json", nil},
			{"GET", "/app/notifications/perRecord.json", nil},
			{"GET", "/preview/app/notifications/perRecord.json", nil},
			{"PUT", "/preview/app/notifications/perRecord.json", nil},
			{"POST", "/app/notifications/perRecord.json", override},
			{"POST", "/preview/app/notifications/perRecord.json", override},
			{"GET", "/app/notifications/reminder.json", nil},
			{"GET", "/preview/app/notifications/reminder.json", nil},
			{"PUT", "/preview/app/notifications/reminder.json", nil},
			{"POST", "/app/notifications/reminder.json", override},
			{"POST", "/preview/app/notifications/reminder.json", override},
			{"POST", "/preview/app/deploy.json", nil},
			{"GET", "/preview/app/deploy.json", nil},
			{"POST", "/app/notifications/general.json", override},
			{"POST", "/preview/app/notifications/general.json", override},
			{"POST", "/preview/app/deploy.json", override},
		} {
			wantError(t, b.do(t, c.method, prefix+c.path, huge, c.headers...), http.StatusRequestEntityTooLarge, "CB_IJ01")
		}
	}
}

// TestUpdate_UnicodeFieldCodes shows FIELD_ENTITY codes follow Kintone's
// field code rules: Japanese codes such as 作成者 (Created By in a
// Japanese app) are kept and read back; a code Kintone refuses is CB_VA01
// naming the entry's code.
func TestUpdate_UnicodeFieldCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ok(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[
			{"entity":{"type":"FIELD_ENTITY","code":"作成者"},"recordAdded":true},
			{"entity":{"type":"FIELD_ENTITY","code":"担当者"},"includeSubs":true,"commentAdded":true},
			{"entity":{"type":"FIELD_ENTITY","code":"顧客・担当＿者"},"statusChanged":true}]}`))
		got := ok(t, b.do(t, "GET", previewPath+"?app=1", nil)).json(t)["notifications"].([]any)
		var codes []string
		for _, n := range got {
			codes = append(codes, n.(map[string]any)["entity"].(map[string]any)["code"].(string))
		}
		if want := []string{"作成者", "担当者", "顧客・担当＿者"}; !slices.Equal(codes, want) {
			t.Fatalf("codes %v, want %v", codes, want)
		}
		m := wantError(t, b.do(t, "PUT", previewPath, `{"app":1,"notifications":[
			{"entity":{"type":"FIELD_ENTITY","code":"1番"}},
			{"entity":{"type":"FIELD_ENTITY","code":"【担当】"}},
			{"entity":{"type":"FIELD_ENTITY","code":"担当者"}}]}`), http.StatusBadRequest, "CB_VA01")
		errs := m["errors"].(map[string]any)
		if len(errs) != 2 || errs["notifications[0].entity.code"] == nil || errs["notifications[1].entity.code"] == nil {
			t.Errorf("errors %v", errs)
		}
	})
}
