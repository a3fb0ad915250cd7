package codeartsdeploy_test

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
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/codeartsdeploy"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

var _ api.Surface = (*codeartsdeploy.Surface)(nil)

// The example page's project and application.
const (
	projectID = "7e6caf3cd9a64d5b8ea451e38221892e"
	appID     = "325395b98fd341c1bc7ed01c5211421e"
	path      = "/v2/projects/" + projectID + "/applications/" + appID + "/messages"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testBundle is a server over one database with a tenant, the example's
// project (with an email notifier) and application, and a token holding
// settings:write.
type testBundle struct {
	db      *store.DB
	ctx     context.Context
	srv     *httptest.Server
	project *herald.Project
	app     *herald.Source
	email   *herald.Notifier
	token   string
}

func setup(t *testing.T, db *store.DB) *testBundle {
	t.Helper()
	b := &testBundle{db: db, ctx: storetest.NewTenant(t, db, "acme")}
	b.project = &herald.Project{Name: "Payments", ExternalID: projectID}
	must(t, db.CreateProject(b.ctx, b.project))
	b.app = &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceApplication, ExternalID: appID, Name: "payments-app"}
	must(t, db.CreateSource(b.ctx, b.app))
	b.email = &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierEmail, Name: "smtp",
		Config: herald.NotifierConfig{Host: "127.0.0.1", Port: 2525, Username: "herald", From: "herald@example.com", TLS: "none"}, Secret: "smtp-pass"}
	must(t, db.CreateNotifier(b.ctx, b.email))
	b.token = b.newToken(t, herald.PermSettingsWrite, herald.PermNotifiersWrite)
	gs := storetest.Guard(db)
	s := &api.Server{Tokens: gs.Tokens, Tenants: db, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Surfaces: []api.Surface{&codeartsdeploy.Surface{Projects: gs.Projects, Sources: gs.Sources, Notifiers: gs.Notifiers, Settings: gs.Settings}}}
	b.srv = httptest.NewServer(s.Handler())
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) newToken(t *testing.T, perms ...herald.Permission) string {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "deploy-" + string(perms[0]), Permissions: perms})
	must(t, err)
	return secret
}

// call sends a request with the token in X-Auth-Token ("" for none) and
// returns the status and the decoded answer.
func (b *testBundle) call(t *testing.T, method, p, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+p, strings.NewReader(body))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %q", method, p, raw)
	}
	return resp.StatusCode, out
}

// ok calls and fails unless the answer is 200 success; it returns the
// result list.
func (b *testBundle) ok(t *testing.T, method, body string) []any {
	t.Helper()
	status, got := b.call(t, method, path, b.token, body)
	if status != http.StatusOK || got["status"] != "success" {
		t.Fatalf("%s: status %d, %v", method, status, got)
	}
	items, _ := got["result"].([]any)
	return items
}

func (b *testBundle) live(t *testing.T) *herald.Settings {
	t.Helper()
	st, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.app.ID}, herald.VersionLive)
	must(t, err)
	return st
}

var reTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// strip checks the times' format and removes what the comparison leaves
// aside: times and masked secrets.
func strip(t *testing.T, items []any) []any {
	t.Helper()
	out := make([]any, len(items))
	for i, it := range items {
		m := map[string]any{}
		for k, v := range it.(map[string]any) {
			m[k] = v
		}
		for _, k := range []string{"create_time", "update_time"} {
			if s, _ := m[k].(string); !reTime.MatchString(s) {
				t.Errorf("item %d: %s %q is not yyyy-MM-dd HH:mm:ss", i, k, m[k])
			}
			delete(m, k)
		}
		delete(m, "secret_info")
		out[i] = m
	}
	return out
}

func same(t *testing.T, what string, got, want []any) {
	t.Helper()
	g, w := strip(t, got), strip(t, want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// TestListMessages_Example stores the page's example configuration,
// replays the example request and compares the answer field by field with
// the example response; the native settings agree.
func TestListMessages_Example(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		raw, err := os.ReadFile(filepath.Join("testdata", "list_messages.response.json"))
		must(t, err)
		var page map[string]any
		must(t, json.Unmarshal(raw, &page))
		want := page["result"].([]any)
		seed, err := json.Marshal(want)
		must(t, err)

		posted := b.ok(t, "POST", string(seed))
		same(t, "POST answer", posted, want)
		status, got := b.call(t, "GET", path, b.token, "")
		if status != http.StatusOK {
			t.Fatalf("GET: %d %v", status, got)
		}
		if len(got) != 2 || got["status"] != "success" {
			t.Errorf("GET envelope %v: want result and status success", got)
		}
		same(t, "GET answer", got["result"].([]any), want)

		// Natively: one channel on the project's email notifier, on, with
		// the four events on and no recipients; the body field shown; the
		// vendor attributes kept; the SMTP notifier untouched.
		live := b.live(t)
		if live.InheritProject || len(live.Channels) != 1 {
			t.Fatalf("native settings: %+v", live)
		}
		ch := live.Channels[0]
		if ch.NotifierID != b.email.ID || !ch.Enabled {
			t.Errorf("channel %+v: want the email notifier, enabled", ch)
		}
		for _, typ := range []string{"deploy.succeeded", "deploy.failed", "app.updated", "app.deleted"} {
			if es := ch.Event(typ); es == nil || !es.Enabled || len(es.Recipients) != 0 {
				t.Errorf("event %s: %+v", typ, es)
			}
		}
		if !reflect.DeepEqual(ch.BodyFields, []herald.BodyField{{Name: "projectName", Shown: true}}) {
			t.Errorf("body fields %+v", ch.BodyFields)
		}
		if ch.Ext["id"] != "ffff49b38041413d99e1a3dddfc95e8e" || ch.Ext["send_url"] != "123@xx.com" || ch.Ext["sort_index"] != "-1" {
			t.Errorf("vendor attributes %v", ch.Ext)
		}
		n, err := db.FindNotifierByID(b.ctx, b.email.ID)
		must(t, err)
		if n.Secret != "smtp-pass" || n.Config.Host != "127.0.0.1" {
			t.Errorf("the shared email notifier changed: %+v", n)
		}
	})
}

// roundTrip is a configuration of four items as a client writes it, with
// booleans as strings in places.
const roundTrip = `[{
  "msg_type": "dingtalk", "msg_state": "true", "msg_level": "project", "app_id": "` + appID + `",
  "task_id": "70c80124aea547d092d50747a06ec858", "user_id": "6fd072f3dd1f49b897f1e11d34ab5972",
  "send_url": "https://oapi.dingtalk.com/robot/send?access_token=abc", "secret_info": "SECding",
  "at_user_ids": ["ding-ann"], "at_mobiles": ["13800000000"], "wechat_user_ids": [], "http_headers": [],
  "state_switch": [
    {"name": "success", "open": false, "sort": 1, "receivers": null},
    {"name": "failure", "open": "true", "sort": 2, "receivers": ["ann", "bob"]},
    {"name": "update", "open": false, "sort": 0, "receivers": null},
    {"name": "delete", "open": true, "sort": 0, "receivers": ["ann"]}],
  "body_switch": [{"name": "projectName", "open": true, "sort": 5, "receivers": null}, {"name": "operator", "open": "false", "sort": 6, "receivers": []}],
  "ext_params": "{\"k\":1}", "message_body": ""
}, {
  "msg_type": "webhook", "msg_state": true, "msg_level": "project",
  "send_url": "https://hooks.example.com/deploy", "secret_info": "",
  "http_headers": ["Content-Type: application/json", "X-Token: t1"], "message_body": "{\"text\": {{json .Text}}}",
  "state_switch": [{"name": "failure", "open": true, "sort": 0, "receivers": null}]
}, {
  "msg_type": "wechat", "msg_state": false, "msg_level": "project",
  "send_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "wechat_user_ids": ["wecom-ann"], "at_user_ids": ["x1"]
}, {
  "msg_type": "message", "msg_state": true, "msg_level": "project",
  "state_switch": [{"name": "failure", "open": true, "sort": 0, "receivers": ["ann"]}]
}]`

// TestPostMessages_RoundTrip: GET after POST returns what was written,
// secrets masked; the native API reads the same; a second POST keeps the
// secret sent as the mask and the ids, and drops the items left out.
func TestPostMessages_RoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		b.ok(t, "POST", roundTrip)
		got := b.ok(t, "GET", "")
		if len(got) != 4 {
			t.Fatalf("GET: %d items, want 4", len(got))
		}
		closed := func(name string) map[string]any {
			return map[string]any{"name": name, "open": false, "sort": float64(0), "receivers": nil}
		}
		ding := got[0].(map[string]any)
		for k, want := range map[string]any{
			"msg_type": "dingtalk", "msg_state": true, "msg_level": "project", "app_id": appID, "sort_index": float64(1),
			"task_id": "70c80124aea547d092d50747a06ec858", "user_id": "6fd072f3dd1f49b897f1e11d34ab5972",
			"send_url": "https://oapi.dingtalk.com/robot/send?access_token=" + herald.SecretMask, "secret_info": "xxxx",
			"at_user_ids": []any{"ding-ann"}, "at_mobiles": []any{"13800000000"}, "wechat_user_ids": []any{}, "http_headers": []any{},
			"state_switch": []any{
				map[string]any{"name": "success", "open": false, "sort": float64(1), "receivers": nil},
				map[string]any{"name": "failure", "open": true, "sort": float64(2), "receivers": []any{"ann", "bob"}},
				closed("update"),
				map[string]any{"name": "delete", "open": true, "sort": float64(0), "receivers": []any{"ann"}}},
			"body_switch": []any{
				map[string]any{"name": "projectName", "open": true, "sort": float64(5), "receivers": nil},
				map[string]any{"name": "operator", "open": false, "sort": float64(6), "receivers": nil}},
			"ext_params": `{"k":1}`, "message_body": "",
		} {
			if !reflect.DeepEqual(ding[k], want) {
				t.Errorf("dingtalk %s: got %#v, want %#v", k, ding[k], want)
			}
		}
		hook := got[1].(map[string]any)
		for k, want := range map[string]any{
			"msg_type": "webhook", "sort_index": float64(4), "secret_info": "", "ext_params": nil,
			"http_headers": []any{"Content-Type: " + herald.SecretMask, "X-Token: " + herald.SecretMask}, "message_body": `{"text": {{json .Text}}}`,
			"state_switch": []any{closed("success"), map[string]any{"name": "failure", "open": true, "sort": float64(0), "receivers": nil}, closed("update"), closed("delete")},
		} {
			if !reflect.DeepEqual(hook[k], want) {
				t.Errorf("webhook %s: got %#v, want %#v", k, hook[k], want)
			}
		}
		wechat := got[2].(map[string]any)
		if wechat["msg_state"] != false || !reflect.DeepEqual(wechat["wechat_user_ids"], []any{"wecom-ann"}) || !reflect.DeepEqual(wechat["at_user_ids"], []any{"x1"}) {
			t.Errorf("wechat item %v", wechat)
		}
		if msg := got[3].(map[string]any); msg["msg_type"] != "message" || msg["sort_index"] != float64(-1) {
			t.Errorf("message item %v", msg)
		}
		ids := map[string]string{}
		for _, it := range got {
			m := it.(map[string]any)
			id, _ := m["id"].(string)
			if !herald.IsExternalID32(id) {
				t.Errorf("%s: id %q is not 32 letters or digits", m["msg_type"], id)
			}
			ids[m["msg_type"].(string)] = id
		}

		// Natively: a dedicated DingTalk notifier holding the real secret,
		// the users as USER recipients, the project's settings followed.
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID, Type: herald.NotifierDingTalk}, herald.Page{})
		must(t, err)
		if len(ns) != 1 || ns[0].Name != "payments-app dingtalk" || ns[0].Secret != "SECding" {
			t.Fatalf("DingTalk notifiers %+v", ns)
		}
		live := b.live(t)
		if !live.InheritProject {
			t.Error("msg_level project did not set inherit_project")
		}
		es := live.Channel(ns[0].ID).Event("deploy.failed")
		if es == nil || !es.Enabled || !reflect.DeepEqual(es.Recipients, []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}, {Type: herald.EntityUser, Code: "bob"}}) {
			t.Errorf("deploy.failed on DingTalk: %+v", es)
		}

		// Write back what GET answered, minus the webhook and message
		// items: the mask keeps the secret, ids stay, the rest goes.
		again, err := json.Marshal([]any{got[0], got[2]})
		must(t, err)
		b.ok(t, "POST", string(again))
		got2 := b.ok(t, "GET", "")
		same(t, "GET after writing GET's answer back", got2, []any{got[0], got[2]})
		if got2[0].(map[string]any)["id"] != ids["dingtalk"] {
			t.Errorf("the dingtalk id changed: %v -> %v", ids["dingtalk"], got2[0].(map[string]any)["id"])
		}
		n, err := db.FindNotifierByID(b.ctx, ns[0].ID)
		must(t, err)
		if n.Secret != "SECding" {
			t.Errorf("the masked secret_info replaced the secret: %q", n.Secret)
		}
		if len(b.live(t).Channels) != 2 {
			t.Errorf("native channels after the second POST: %+v", b.live(t).Channels)
		}
	})
}

// TestMessages_BadInput: every bad input gets the vendor envelope with its
// status and code, and changes nothing.
func TestMessages_BadInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		readOnly := b.newToken(t, herald.PermSettingsRead)
		eventsOnly := b.newToken(t, herald.PermEventsWrite)
		settingsOnly := b.newToken(t, herald.PermSettingsWrite)
		// A project without an email notifier, and another tenant's app.
		bare := &herald.Project{Name: "Bare", ExternalID: strings.Repeat("b1", 16)}
		must(t, db.CreateProject(b.ctx, bare))
		bareApp := strings.Repeat("c2", 16)
		must(t, db.CreateSource(b.ctx, &herald.Source{ProjectID: bare.ID, Kind: herald.SourceApplication, ExternalID: bareApp, Name: "bare-app"}))
		other := storetest.NewTenant(t, db, "globex")
		op := &herald.Project{Name: "Other", ExternalID: strings.Repeat("d3", 16)}
		must(t, db.CreateProject(other, op))
		foreignApp := strings.Repeat("e4", 16)
		must(t, db.CreateSource(other, &herald.Source{ProjectID: op.ID, Kind: herald.SourceApplication, ExternalID: foreignApp, Name: "theirs"}))
		b.ok(t, "POST", `[{"msg_type":"email","msg_state":true,"state_switch":[{"name":"failure","open":true}]}]`)

		good := `[{"msg_type":"message","msg_state":true}]`
		item := func(fields string) string {
			return `[{"msg_type":"dingtalk","send_url":"https://oapi.dingtalk.com/robot/send?access_token=t"` + fields + `}]`
		}
		appPath := func(p, a string) string { return "/v2/projects/" + p + "/applications/" + a + "/messages" }
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			code, msg                       string
		}{
			{"project_id too short", "GET", appPath(projectID[:31], appID), b.token, "", 400, "Deploy.00011002", "project_id"},
			{"project_id characters", "POST", appPath(projectID[:31]+"-", appID), b.token, good, 400, "Deploy.00011002", "project_id"},
			{"app_id too long", "GET", appPath(projectID, appID+"0"), b.token, "", 400, "Deploy.00011002", "app_id"},
			{"app_id characters", "POST", appPath(projectID, appID[:31]+"_"), b.token, good, 400, "Deploy.00011002", "app_id"},
			{"unknown app", "GET", appPath(projectID, strings.Repeat("ab", 16)), b.token, "", 404, "Deploy.00011021", "Application does not exist"},
			{"unknown app POST", "POST", appPath(projectID, strings.Repeat("ab", 16)), b.token, good, 404, "Deploy.00011021", "Application does not exist"},
			{"app of another project", "GET", appPath(strings.Repeat("b1", 16), appID), b.token, "", 404, "Deploy.00011021", "Application does not exist"},
			{"foreign app", "GET", appPath(strings.Repeat("d3", 16), foreignApp), b.token, "", 404, "Deploy.00011021", "Application does not exist"},
			{"bad JSON", "POST", path, b.token, `[{"msg_type":`, 400, "Deploy.00011002", "malformed"},
			{"not an array", "POST", path, b.token, `{"msg_type":"email"}`, 400, "Deploy.00011002", "array"},
			{"empty body", "POST", path, b.token, ``, 400, "Deploy.00011002", "empty"},
			{"wrong type", "POST", path, b.token, `[{"msg_type":"message","sort_index":"first"}]`, 400, "Deploy.00011002", "sort_index"},
			{"missing msg_type", "POST", path, b.token, `[{"msg_state":true}]`, 400, "Deploy.00011002", "msg_type"},
			{"unknown msg_type", "POST", path, b.token, `[{"msg_type":"sms"}]`, 400, "Deploy.00011002", "sms"},
			{"duplicate msg_type", "POST", path, b.token, `[{"msg_type":"message"},{"msg_type":"message"}]`, 400, "Deploy.00011002", "twice"},
			{"unknown state switch", "POST", path, b.token, `[{"msg_type":"message","state_switch":[{"name":"start","open":true}]}]`, 400, "Deploy.00011002", "state_switch[0].name"},
			{"duplicate state switch", "POST", path, b.token, `[{"msg_type":"message","state_switch":[{"name":"failure"},{"name":"failure"}]}]`, 400, "Deploy.00011002", "twice"},
			{"bad receiver", "POST", path, b.token, `[{"msg_type":"message","state_switch":[{"name":"failure","receivers":["a b"]}]}]`, 400, "Deploy.00011002", "receivers[0]"},
			{"open not a boolean", "POST", path, b.token, `[{"msg_type":"message","state_switch":[{"name":"failure","open":"yes"}]}]`, 400, "Deploy.00011002", "open"},
			{"msg_state not a boolean", "POST", path, b.token, `[{"msg_type":"message","msg_state":"on"}]`, 400, "Deploy.00011002", "msg_state"},
			{"body_switch receivers", "POST", path, b.token, `[{"msg_type":"message","body_switch":[{"name":"projectName","receivers":["ann"]}]}]`, 400, "Deploy.00011002", "body_switch[0].receivers"},
			{"body_switch name", "POST", path, b.token, `[{"msg_type":"message","body_switch":[{"name":"project name","open":true}]}]`, 400, "Deploy.00011002", "body_fields"},
			{"unknown msg_level", "POST", path, b.token, `[{"msg_type":"message","msg_level":"tenant"}]`, 400, "Deploy.00011002", "msg_level"},
			{"mixed msg_level", "POST", path, b.token, `[{"msg_type":"message","msg_level":"project"},{"msg_type":"email","msg_level":"instance"}]`, 400, "Deploy.00011002", "msg_level"},
			{"sort_index out of range", "POST", path, b.token, `[{"msg_type":"message","sort_index":9}]`, 400, "Deploy.00011002", "sort_index"},
			{"id not 32 characters", "POST", path, b.token, `[{"msg_type":"message","id":"abc"}]`, 400, "Deploy.00011002", "id"},
			{"task_id not 32 characters", "POST", path, b.token, `[{"msg_type":"message","task_id":"abc"}]`, 400, "Deploy.00011002", "task_id"},
			{"app_id of another app", "POST", path, b.token, `[{"msg_type":"message","app_id":"` + strings.Repeat("ab", 16) + `"}]`, 400, "Deploy.00011002", "app_id"},
			{"missing send_url", "POST", path, b.token, `[{"msg_type":"webhook"}]`, 400, "Deploy.00011002", "send_url"},
			{"bad send_url", "POST", path, b.token, item(`,"send_url":"ftp://x"`), 400, "Deploy.00011002", "send_url"},
			{"bad header", "POST", path, b.token, item(`,"http_headers":["no colon"]`), 400, "Deploy.00011002", "http_headers[0]"},
			{"duplicate header", "POST", path, b.token, item(`,"http_headers":["A: 1","A: 2"]`), 400, "Deploy.00011002", "twice"},
			{"bad message_body", "POST", path, b.token, item(`,"message_body":"{{.Text"`), 400, "Deploy.00011002", "message_body"},
			{"secret on message", "POST", path, b.token, `[{"msg_type":"message","secret_info":"s3cret"}]`, 400, "Deploy.00011002", "secret_info"},
			{"no email notifier", "POST", appPath(bare.ExternalID, bareApp), b.token, `[{"msg_type":"email"}]`, 400, "Deploy.00011002", "email notifier"},
			{"missing token GET", "GET", path, "", "", 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"missing token POST", "POST", path, "", good, 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"unknown token", "GET", path, "hld_nope", "", 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"token without settings:write", "POST", path, readOnly, good, 403, "Deploy.00011154", "settings:write"},
			{"token without settings:read", "GET", path, eventsOnly, "", 403, "Deploy.00011154", "settings:read"},
			// Pointing a robot is writing a notifier, as in the native API.
			{"robot without notifiers:write", "POST", path, settingsOnly, item(`,"msg_state":true,"state_switch":[{"name":"failure","open":true}]`), 403, "Deploy.00011154", "notifiers:write"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := b.live(t)
				ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{}, herald.Page{})
				must(t, err)
				status, got := b.call(t, tc.method, tc.path, tc.token, tc.body)
				if status != tc.status || got["error_code"] != tc.code {
					t.Fatalf("got %d %v, want %d %s", status, got, tc.status, tc.code)
				}
				msg, _ := got["error_msg"].(string)
				if len(got) != 2 || !strings.Contains(msg, tc.msg) {
					t.Errorf("envelope %v: want exactly error_code and error_msg, the message naming %q", got, tc.msg)
				}
				if after := b.live(t); after.Revision != before.Revision {
					t.Errorf("settings changed: revision %d -> %d", before.Revision, after.Revision)
				}
				if after, _, _ := db.FindNotifiers(b.ctx, herald.NotifierFilter{}, herald.Page{}); len(after) != len(ns) {
					t.Errorf("notifiers changed: %d -> %d", len(ns), len(after))
				}
			})
		}
	})
}

// peer stands in for a robot or webhook: it records every request.
type peer struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*http.Request
	bod [][]byte
}

func newPeer(t *testing.T) *peer {
	p := &peer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got, p.bod = append(p.got, r), append(p.bod, body)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errcode":0,"errmsg":"ok","code":0}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) requests() ([]*http.Request, [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got), slices.Clone(p.bod)
}

// TestMessages_Delivery: after a vendor POST, a deploy.failed event of the
// application reaches the DingTalk and WeCom robots and the webhook (with
// its headers), and the receiver's inbox; a closed switch reaches no one.
func TestMessages_Delivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ding, wecom, hook := newPeer(t), newPeer(t), newPeer(t)
		ann := &herald.User{Code: "ann", Name: "Ann", DingTalkID: "ding-ann", WeComID: "wecom-ann"}
		must(t, db.CreateUser(b.ctx, ann))
		failure := `"state_switch":[{"name":"failure","open":true,"receivers":["ann"]},{"name":"success","open":false,"receivers":["ann"]}]`
		b.ok(t, "POST", `[
			{"msg_type":"dingtalk","msg_state":true,"send_url":"`+ding.srv.URL+`/robot/send?access_token=t",`+failure+`},
			{"msg_type":"wechat","msg_state":"true","send_url":"`+wecom.srv.URL+`/cgi-bin/webhook/send?key=k",`+failure+`},
			{"msg_type":"webhook","msg_state":true,"send_url":"`+hook.srv.URL+`/hook","http_headers":["X-Token: t1"],`+failure+`},
			{"msg_type":"message","msg_state":true,`+failure+`}]`)

		e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, e.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.Stop(ctx)
		})
		failed := &herald.Event{SourceID: b.app.ID, Type: "deploy.failed", Actor: "bob", Payload: json.RawMessage(`{"env":"prod"}`)}
		succeeded := &herald.Event{SourceID: b.app.ID, Type: "deploy.succeeded"}
		must(t, db.CreateEvents(b.ctx, []*herald.Event{failed, succeeded}))

		ev := settle(t, b, failed.ID)
		channels := map[string]string{}
		for _, d := range ev.Deliveries {
			channels[d.Channel] = d.Status
		}
		want := map[string]string{}
		for _, c := range []string{herald.NotifierInbox, herald.NotifierDingTalk, herald.NotifierWeCom, herald.NotifierWebhook} {
			want[c] = herald.StatusDelivered
		}
		if !reflect.DeepEqual(channels, want) {
			t.Fatalf("deliveries by channel: got %v, want %v", channels, want)
		}
		if _, got := ding.requests(); len(got) != 1 || !bytes.Contains(got[0], []byte("ding-ann")) {
			t.Errorf("DingTalk peer received %q, want one message mentioning ding-ann", got)
		}
		if _, got := wecom.requests(); len(got) != 1 || !bytes.Contains(got[0], []byte("wecom-ann")) {
			t.Errorf("WeCom peer received %q, want one message mentioning wecom-ann", got)
		}
		if reqs, _ := hook.requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Token") != "t1" {
			t.Errorf("webhook peer received %d requests, want one carrying X-Token: t1", len(reqs))
		}
		inbox, _, err := db.FindInbox(b.ctx, ann.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(inbox) != 1 || inbox[0].EventID != failed.ID {
			t.Errorf("ann's inbox: %+v, want the deploy.failed message", inbox)
		}
		got, err := db.FindEventByID(b.ctx, succeeded.ID)
		must(t, err)
		if len(got.Deliveries) != 0 {
			t.Errorf("deploy.succeeded (switch closed) caused deliveries: %+v", got.Deliveries)
		}
	})
}

// settle waits until the event is fanned out and every delivery is
// terminal.
func settle(t *testing.T, b *testBundle, id int64) *herald.Event {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ev, err := b.db.FindEventByID(b.ctx, id)
		must(t, err)
		done := len(ev.Deliveries) > 0
		for _, d := range ev.Deliveries {
			switch d.Status {
			case herald.StatusDelivered, herald.StatusFailed, herald.StatusSkipped, herald.StatusDead:
			default:
				done = false
			}
		}
		if done {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %d did not settle: %+v", id, ev.Deliveries)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestPostMessages_AllOrNothing: a POST whose settings cannot be written
// (here: the application already has the most channels allowed) leaves
// everything as it was: no notifier created, none re-pointed, the settings
// unchanged.
func TestPostMessages_AllOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ding := func(url string) string {
			return `{"msg_type":"dingtalk","msg_state":true,"send_url":"` + url + `","state_switch":[{"name":"failure","open":true}]}`
		}
		b.ok(t, "POST", `[`+ding("https://oapi.dingtalk.com/robot/send?access_token=a")+`]`)
		// Fill the application's settings with native SMS channels up to
		// the limit of 50.
		scope := herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.app.ID}
		st := b.live(t)
		for i := len(st.Channels); i < 50; i++ {
			n := &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierSMS, Name: "sms " + strings.Repeat("x", i+1),
				Config: herald.NotifierConfig{URL: "https://sms.example.com/send"}}
			must(t, db.CreateNotifier(b.ctx, n))
			st.Channels = append(st.Channels, herald.ChannelSettings{NotifierID: n.ID, Enabled: true})
		}
		saved, err := db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, st)
		must(t, err)
		_, err = db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: scope, Revision: saved.Revision}}, false)
		must(t, err)
		before := b.live(t)
		notifiersBefore, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{Limit: herald.MaxPageLimit})
		must(t, err)

		// Re-point the DingTalk robot and add a webhook: 51 channels.
		body := `[` + ding("https://oapi.dingtalk.com/robot/send?access_token=b") + `,
			{"msg_type":"webhook","msg_state":true,"send_url":"https://hooks.example.com/deploy","state_switch":[{"name":"failure","open":true}]}]`
		if status, got := b.call(t, "POST", path, b.token, body); status == http.StatusOK {
			t.Fatalf("POST over the channel limit: status %d, %v", status, got)
		}
		notifiersAfter, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{Limit: herald.MaxPageLimit})
		must(t, err)
		if !reflect.DeepEqual(notifiersAfter, notifiersBefore) {
			for _, n := range notifiersAfter {
				if n.Type == herald.NotifierDingTalk || n.Type == herald.NotifierWebhook {
					t.Logf("after: %s %q %s", n.Type, n.Name, n.Config.URL)
				}
			}
			t.Errorf("the failed POST changed notifiers: %d before, %d after", len(notifiersBefore), len(notifiersAfter))
		}
		after := b.live(t)
		draft, err := db.FindSettings(b.ctx, scope, herald.VersionDraft)
		must(t, err)
		if after.Revision != before.Revision || draft.Revision != before.Revision || !reflect.DeepEqual(after.Channels, before.Channels) {
			t.Errorf("the failed POST changed the settings: revision %d -> live %d, draft %d", before.Revision, after.Revision, draft.Revision)
		}
	})
}
