package codeartsbuild_test

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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/codeartsbuild"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

var _ api.Surface = (*codeartsbuild.Surface)(nil)

// jobID is the example page's job.
const jobID = "48c66c6002964721be537cdc6ce0297b"

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testBundle is a server over one database with a tenant, a project and
// the example's build job, and a token holding settings:write.
type testBundle struct {
	db      *store.DB
	ctx     context.Context
	srv     *httptest.Server
	project *herald.Project
	job     *herald.Source
	token   string
}

func setup(t *testing.T, db *store.DB) *testBundle {
	t.Helper()
	b := &testBundle{db: db, ctx: storetest.NewTenant(t, db, "acme")}
	b.project = &herald.Project{Name: "Payments", ExternalID: "7e6caf3cd9a64d5b8ea451e38221892e"}
	must(t, db.CreateProject(b.ctx, b.project))
	b.job = &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceBuildJob, ExternalID: jobID, Name: "payments-build"}
	must(t, db.CreateSource(b.ctx, b.job))
	b.token = b.newToken(t, herald.PermSettingsWrite)
	gs := storetest.Guard(db)
	s := &api.Server{Tokens: gs.Tokens, Tenants: db, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Surfaces: []api.Surface{&codeartsbuild.Surface{Sources: gs.Sources, Notifiers: gs.Notifiers, Settings: gs.Settings}}}
	b.srv = httptest.NewServer(s.Handler())
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) newToken(t *testing.T, perms ...herald.Permission) string {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "codearts-" + string(perms[0]), Permissions: perms})
	must(t, err)
	return secret
}

func (b *testBundle) notifier(t *testing.T, typ, name, url string) *herald.Notifier {
	t.Helper()
	n := &herald.Notifier{ProjectID: b.project.ID, Type: typ, Name: name, Config: herald.NotifierConfig{URL: url}}
	must(t, b.db.CreateNotifier(b.ctx, n))
	return n
}

// call sends a request with the token in X-Auth-Token ("" for none) and
// returns the status and the decoded answer.
func (b *testBundle) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
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
		t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

func (b *testBundle) live(t *testing.T) *herald.Settings {
	t.Helper()
	st, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.job.ID}, herald.VersionLive)
	must(t, err)
	return st
}

func golden(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	return string(raw)
}

// normalize decodes JSON and parses every param_config string, so that
// documents compare by meaning, not by member order.
func normalize(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if s, ok := e.(string); ok && k == "param_config" {
				var doc any
				if err := json.Unmarshal([]byte(s), &doc); err != nil {
					t.Fatalf("param_config is not JSON: %q", s)
				}
				out[k] = doc
				continue
			}
			out[k] = normalize(t, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(t, e)
		}
		return out
	}
	return v
}

func sameJSON(t *testing.T, what string, got map[string]any, want string) {
	t.Helper()
	var doc any
	must(t, json.Unmarshal([]byte(want), &doc))
	g, w := normalize(t, map[string]any(got)), normalize(t, doc)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// TestUpdateNotice_Example replays the page's example request, compares
// the answer with the page's example response, reads it back through GET
// and checks the native settings agree.
func TestUpdateNotice_Example(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice/update", b.token, golden(t, "update_notice.request.json"))
		if status != http.StatusOK {
			t.Fatalf("PUT: status %d, %v", status, got)
		}
		sameJSON(t, "PUT answer", got, golden(t, "update_notice.response.json"))

		status, got = b.call(t, "GET", "/v1/job/"+jobID+"/notice", b.token, "")
		if status != http.StatusOK {
			t.Fatalf("GET: status %d, %v", status, got)
		}
		sameJSON(t, "GET answer", got, golden(t, "show_notice.response.json"))

		// The native API reads the same settings: the project's inbox
		// notifier "system message", created for MESSAGE, switched on for
		// four events with the roles as FIELD_ENTITY recipients, following
		// the project, deployed.
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID, Type: herald.NotifierInbox}, herald.Page{})
		must(t, err)
		if len(ns) != 1 || ns[0].Name != "system message" {
			t.Fatalf("inbox notifiers: %+v", ns)
		}
		live := b.live(t)
		draft, err := db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.job.ID}, herald.VersionDraft)
		must(t, err)
		if live.Revision != draft.Revision {
			t.Errorf("live revision %d, draft %d: the write was not deployed", live.Revision, draft.Revision)
		}
		if !live.InheritProject {
			t.Error("use_project_notice: true did not set inherit_project")
		}
		roles := []herald.Recipient{
			{Type: herald.EntityFieldEntity, Code: "creator"},
			{Type: herald.EntityFieldEntity, Code: "executor"},
			{Type: herald.EntityFieldEntity, Code: "follower"},
		}
		want := []herald.ChannelSettings{{NotifierID: ns[0].ID, Enabled: true, BodyFields: []herald.BodyField{}, Events: []herald.EventSettings{
			{Type: "build.succeeded", Enabled: true, Recipients: roles},
			{Type: "build.failed", Enabled: true, Recipients: roles},
			{Type: "job.updated", Enabled: true, Recipients: []herald.Recipient{}},
			{Type: "job.deleted", Enabled: true, Recipients: []herald.Recipient{}},
			{Type: "job.disabled", Enabled: false, Recipients: []herald.Recipient{}},
		}}}
		if !reflect.DeepEqual(live.Channels, want) {
			t.Errorf("native channels:\n got %+v\nwant %+v", live.Channels, want)
		}
	})
}

// TestUpdateNotice_RoundTrip writes through both paths with booleans as
// strings and reads back what was written; an absent param_config keeps
// the recipients and extra param_config members come back.
func TestUpdateNotice_RoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ding := b.notifier(t, herald.NotifierDingTalk, "robot", "https://oapi.dingtalk.com/robot/send?access_token=x")
		body := `{"notice_type":"DING_TALK","enabled_event_type_names":["forbiddenJob","buildJobFail"],
			"send_switch":"false","use_project_notice":"false",
			"param_config":"{\"eventTypeNamesReceivers\":{\"buildJobFail\":[\"executor\"],\"forbiddenJob\":[\"creator\",\"follower\"]},\"dingTalkWebhook\":\"hook-1\"}"}`
		if status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice", b.token, body); status != http.StatusOK {
			t.Fatalf("PUT: status %d, %v", status, got)
		}
		want := map[string]any{
			"notice_type": "DING_TALK",
			"enable_map":  map[string]any{"buildJobSuccess": false, "buildJobFail": true, "updateConfigJob": false, "deleteJob": false, "forbiddenJob": true},
			"param_config": map[string]any{"dingTalkWebhook": "hook-1", "eventTypeNamesReceivers": map[string]any{
				"buildJobFail": []any{"executor"}, "forbiddenJob": []any{"creator", "follower"}}},
		}
		check := func(what string) {
			t.Helper()
			status, got := b.call(t, "GET", "/v1/job/"+jobID+"/notice", b.token, "")
			if status != http.StatusOK {
				t.Fatalf("GET: status %d, %v", status, got)
			}
			items := normalize(t, got).(map[string]any)["result"].([]any)
			if len(items) != 5 {
				t.Fatalf("GET: %d items, want 5", len(items))
			}
			if !reflect.DeepEqual(items[2], want) {
				t.Errorf("%s: DING_TALK item\n got %v\nwant %v", what, items[2], want)
			}
		}
		check("after the first PUT")
		live := b.live(t)
		if ch := live.Channel(ding.ID); ch == nil || ch.Enabled || live.InheritProject {
			t.Fatalf("native: send_switch \"false\" / use_project_notice \"false\" not applied: %+v", live)
		}

		// Without param_config the recipients stay; booleans as booleans.
		body = `{"notice_type":"DING_TALK","enabled_event_type_names":["buildJobFail"],"send_switch":true}`
		if status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice/update", b.token, body); status != http.StatusOK {
			t.Fatalf("PUT: status %d, %v", status, got)
		}
		want["enable_map"].(map[string]any)["forbiddenJob"] = false
		check("after the second PUT")
		if ch := b.live(t).Channel(ding.ID); ch == nil || !ch.Enabled {
			t.Fatal("send_switch true did not switch the channel on")
		}
	})
}

// TestUpdateNotice_KeepsNativeRecipients: recipients the vendor cannot
// express (a user, another role) survive a vendor write.
func TestUpdateNotice_KeepsNativeRecipients(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		wecom := b.notifier(t, herald.NotifierWeCom, "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
		scope := herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.job.ID}
		ref := herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}
		_, err := db.UpdateSettings(b.ctx, ref, &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: wecom.ID, Enabled: true,
			Events: []herald.EventSettings{
				{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}, {Type: herald.EntityFieldEntity, Code: "creator"}}},
				{Type: "deploy.failed", Enabled: true},
			}}}})
		must(t, err)
		_, err = db.DeploySettings(b.ctx, []herald.SettingsRef{ref}, false)
		must(t, err)
		body := `{"notice_type":"WECOM","enabled_event_type_names":["buildJobFail"],"param_config":"{\"eventTypeNamesReceivers\":{\"buildJobFail\":[\"executor\"]}}"}`
		if status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice", b.token, body); status != http.StatusOK {
			t.Fatalf("PUT: status %d, %v", status, got)
		}
		ch := b.live(t).Channel(wecom.ID)
		if ch == nil || ch.Event("deploy.failed") == nil {
			t.Fatalf("the native deploy.failed event was dropped: %+v", ch)
		}
		got := ch.Event("build.failed").Recipients
		want := []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}, {Type: herald.EntityFieldEntity, Code: "executor"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("recipients: got %+v, want %+v", got, want)
		}
	})
}

// TestNotice_BadInput: every bad input gets the vendor envelope with its
// status and code, and changes nothing.
func TestNotice_BadInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		readOnly := b.newToken(t, herald.PermSettingsRead)
		notifiersOnly := b.newToken(t, herald.PermNotifiersWrite)
		other := storetest.NewTenant(t, db, "globex")
		op := &herald.Project{Name: "Other"}
		must(t, db.CreateProject(other, op))
		foreignJob := strings.Repeat("f0", 16)
		must(t, db.CreateSource(other, &herald.Source{ProjectID: op.ID, Kind: herald.SourceBuildJob, ExternalID: foreignJob, Name: "theirs"}))

		good := `{"notice_type":"MESSAGE","enabled_event_type_names":["buildJobFail"]}`
		path := "/v1/job/" + jobID + "/notice"
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			code, msg                       string
		}{
			{"job_id too short", "PUT", "/v1/job/" + jobID[:31] + "/notice", b.token, good, 400, "CB.00060201", "job_id"},
			{"job_id too long", "GET", "/v1/job/" + jobID + "0/notice", b.token, "", 400, "CB.00060201", "job_id"},
			{"job_id characters", "PUT", "/v1/job/" + jobID[:31] + "_/notice/update", b.token, good, 400, "CB.00060201", "job_id"},
			{"unknown job", "PUT", "/v1/job/" + strings.Repeat("ab", 16) + "/notice", b.token, good, 404, "CB.00060214", "does not exist"},
			{"unknown job GET", "GET", "/v1/job/" + strings.Repeat("ab", 16) + "/notice", b.token, "", 404, "CB.00060214", "does not exist"},
			{"foreign job", "GET", "/v1/job/" + foreignJob + "/notice", b.token, "", 404, "CB.00060214", "does not exist"},
			{"unknown notice_type", "PUT", path, b.token, `{"notice_type":"SMS","enabled_event_type_names":[]}`, 400, "CB.00060200", "notice_type"},
			{"missing notice_type", "PUT", path, b.token, `{"enabled_event_type_names":[]}`, 400, "CB.00060200", "notice_type"},
			{"unknown event name", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":["buildJobStart"]}`, 400, "CB.00060200", "buildJobStart"},
			{"missing events", "PUT", path, b.token, `{"notice_type":"MESSAGE"}`, 400, "CB.00060200", "enabled_event_type_names"},
			{"events not an array", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":"buildJobFail"}`, 400, "CB.00060200", "enabled_event_type_names"},
			{"bad JSON", "PUT", path, b.token, `{"notice_type":"MESSAGE",`, 400, "CB.00060200", "malformed"},
			{"not an object", "PUT", path, b.token, `["MESSAGE"]`, 400, "CB.00060200", "JSON object"},
			{"empty body", "PUT", path, b.token, ``, 400, "CB.00060200", "empty"},
			{"bad param_config string", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"{not json"}`, 400, "CB.00060200", "param_config"},
			{"param_config an array", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"[1]"}`, 400, "CB.00060200", "param_config"},
			{"param_config not a string", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":{"eventTypeNamesReceivers":{}}}`, 400, "CB.00060200", "param_config"},
			{"param_config unknown event", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"{\"eventTypeNamesReceivers\":{\"buildJobStart\":[\"creator\"]}}"}`, 400, "CB.00060200", "buildJobStart"},
			{"param_config unknown role", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"{\"eventTypeNamesReceivers\":{\"buildJobFail\":[\"owner\"]}}"}`, 400, "CB.00060200", "owner"},
			{"param_config receivers not a map", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"{\"eventTypeNamesReceivers\":[\"creator\"]}"}`, 400, "CB.00060200", "eventTypeNamesReceivers"},
			{"send_switch not a boolean", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"send_switch":"yes"}`, 400, "CB.00060200", "send_switch"},
			{"use_project_notice not a boolean", "PUT", path, b.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[],"use_project_notice":1}`, 400, "CB.00060200", "use_project_notice"},
			{"no notifier of the type", "PUT", path, b.token, `{"notice_type":"FEISHU","enabled_event_type_names":["buildJobFail"]}`, 400, "CB.00060200", "Feishu notifier"},
			{"missing token PUT", "PUT", path, "", good, 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"missing token GET", "GET", path, "", "", 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"unknown token", "GET", path, "hld_not-a-token", "", 401, "APIG.0301", "Incorrect IAM authentication information"},
			{"token without settings:write", "PUT", path, readOnly, good, 403, "CB.00060403", "settings:write"},
			{"token without settings:read", "GET", path, notifiersOnly, "", 403, "CB.00060403", "settings:read"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := b.live(t).Revision
				status, got := b.call(t, tc.method, tc.path, tc.token, tc.body)
				if status != tc.status || got["error_code"] != tc.code {
					t.Fatalf("got %d %v, want %d %s", status, got, tc.status, tc.code)
				}
				msg, _ := got["error_msg"].(string)
				if len(got) != 2 || !strings.Contains(msg, tc.msg) {
					t.Errorf("envelope %v: want exactly error_code and error_msg, the message naming %q", got, tc.msg)
				}
				if after := b.live(t).Revision; after != before {
					t.Errorf("settings changed: revision %d -> %d", before, after)
				}
			})
		}
		// A refused MESSAGE request created no inbox notifier either.
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{})
		must(t, err)
		if len(ns) != 0 {
			t.Errorf("bad requests created notifiers: %+v", ns)
		}
	})
}

// peer stands in for a robot: it records every body it receives.
type peer struct {
	srv *httptest.Server
	mu  sync.Mutex
	got [][]byte
}

func newPeer(t *testing.T) *peer {
	p := &peer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got = append(p.got, body)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) bodies() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// TestNotice_Delivery: after vendor writes, a build.failed event of the
// job reaches the DingTalk and WeCom robots, mentioning the creator, and
// the creator's inbox; a switched-off event reaches no one.
func TestNotice_Delivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		dingPeer, wecomPeer := newPeer(t), newPeer(t)
		b.notifier(t, herald.NotifierDingTalk, "ding", dingPeer.srv.URL+"/robot/send?access_token=t")
		b.notifier(t, herald.NotifierWeCom, "wecom", wecomPeer.srv.URL+"/cgi-bin/webhook/send?key=k")
		ann := &herald.User{Code: "ann", Name: "Ann", DingTalkID: "ding-ann", WeComID: "wecom-ann"}
		must(t, db.CreateUser(b.ctx, ann))
		for _, typ := range []string{"MESSAGE", "DING_TALK", "WECOM"} {
			body := `{"notice_type":"` + typ + `","enabled_event_type_names":["buildJobFail"],"send_switch":"true",
				"param_config":"{\"eventTypeNamesReceivers\":{\"buildJobFail\":[\"creator\"]}}"}`
			if status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice", b.token, body); status != http.StatusOK {
				t.Fatalf("PUT %s: status %d, %v", typ, status, got)
			}
		}

		e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, e.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.Stop(ctx)
		})
		failed := &herald.Event{SourceID: b.job.ID, Type: "build.failed", Actor: "bob", Roles: map[string][]string{"creator": {"ann"}},
			Payload: json.RawMessage(`{"build_no":"42"}`)}
		succeeded := &herald.Event{SourceID: b.job.ID, Type: "build.succeeded", Roles: map[string][]string{"creator": {"ann"}}}
		must(t, db.CreateEvents(b.ctx, []*herald.Event{failed, succeeded}))

		ev := settle(t, b, failed.ID)
		channels := map[string]string{}
		for _, d := range ev.Deliveries {
			channels[d.Channel] = d.Status
		}
		want := map[string]string{herald.NotifierInbox: herald.StatusDelivered, herald.NotifierDingTalk: herald.StatusDelivered, herald.NotifierWeCom: herald.StatusDelivered}
		if !reflect.DeepEqual(channels, want) {
			t.Fatalf("deliveries by channel: got %v, want %v", channels, want)
		}
		if got := dingPeer.bodies(); len(got) != 1 || !bytes.Contains(got[0], []byte("ding-ann")) {
			t.Errorf("DingTalk peer received %q, want one message mentioning ding-ann", got)
		}
		if got := wecomPeer.bodies(); len(got) != 1 || !bytes.Contains(got[0], []byte("wecom-ann")) {
			t.Errorf("WeCom peer received %q, want one message mentioning wecom-ann", got)
		}
		inbox, _, err := db.FindInbox(b.ctx, ann.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(inbox) != 1 || inbox[0].EventID != failed.ID {
			t.Errorf("ann's inbox: %+v, want the build.failed message", inbox)
		}
		// build.succeeded is switched off on every channel: nothing to deliver.
		got, err := db.FindEventByID(b.ctx, succeeded.ID)
		must(t, err)
		if len(got.Deliveries) != 0 {
			t.Errorf("build.succeeded caused deliveries: %+v", got.Deliveries)
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

// TestUpdateNotice_KeepsNativeDraftPending: a vendor PUT applies its change
// to the live settings without deploying a draft edited natively and not
// deployed yet; that edit stays pending in the draft, next to the vendor's
// change.
func TestUpdateNotice_KeepsNativeDraftPending(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		mail := b.notifier(t, herald.NotifierWebhook, "hook", "https://hooks.example.com/herald")
		scope := herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.job.ID}
		// Someone edits the draft natively and does not deploy it.
		native := herald.ChannelSettings{NotifierID: mail.ID, Enabled: true, Events: []herald.EventSettings{
			{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}}}}
		_, err := db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck},
			&herald.Settings{NotifyCommenters: true, Channels: []herald.ChannelSettings{native}})
		must(t, err)

		body := `{"notice_type":"MESSAGE","enabled_event_type_names":["buildJobFail"]}`
		if status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice", b.token, body); status != http.StatusOK {
			t.Fatalf("PUT: status %d, %v", status, got)
		}
		ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID, Type: herald.NotifierInbox}, herald.Page{})
		must(t, err)
		if len(ns) != 1 {
			t.Fatalf("inbox notifiers: %+v", ns)
		}
		inbox := ns[0].ID

		live := b.live(t)
		if ch := live.Channel(inbox); ch == nil || ch.Event("build.failed") == nil || !ch.Event("build.failed").Enabled {
			t.Errorf("live settings lack the vendor's change: %+v", live.Channels)
		}
		if live.Channel(mail.ID) != nil || live.NotifyCommenters {
			t.Errorf("the vendor write deployed the native draft edit: live %+v", live)
		}
		draft, err := db.FindSettings(b.ctx, scope, herald.VersionDraft)
		must(t, err)
		if ch := draft.Channel(mail.ID); ch == nil || !reflect.DeepEqual(ch.Events[0].Recipients, native.Events[0].Recipients) || !draft.NotifyCommenters {
			t.Errorf("the native draft edit is no longer pending: draft %+v", draft)
		}
		if ch := draft.Channel(inbox); ch == nil || !reflect.DeepEqual(ch, live.Channel(inbox)) {
			t.Errorf("the draft lacks the vendor's change: draft %+v", draft.Channels)
		}
		// Deploying now publishes both.
		_, err = db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: scope, Revision: draft.Revision}}, false)
		must(t, err)
		if live := b.live(t); live.Channel(mail.ID) == nil || live.Channel(inbox) == nil {
			t.Errorf("deploy after the vendor write: live %+v", live.Channels)
		}
	})
}
