package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, n := b.fixture(t)
	br := b.browser(t)
	br.signIn()
	form := url.Values{"revision": {"1"}, "col": {itoa(n.ID)}, "row": {"build.failed"},
		"on:" + itoa(n.ID): {"on"}, "ev:" + itoa(n.ID) + ":build.failed": {"on"}}
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		t.Run(name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			st, _, body := br.do("POST", matrixPath(p, s)+"/settings", f)
			if st != http.StatusForbidden {
				t.Fatalf("status %d, want 403\n%s", st, body)
			}
			st, _, _ = br.do("POST", "/console/projects", url.Values{"csrf": {token}, "name": {"Sneaky"}})
			if st != http.StatusForbidden {
				t.Fatalf("create project: status %d, want 403", st)
			}
		})
	}
	draft, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}, herald.VersionDraft)
	if err != nil {
		t.Fatal(err)
	}
	if len(draft.Channels) != 0 {
		t.Fatalf("a refused form changed the draft: %+v", draft.Channels)
	}
	ps, _, err := b.db.FindProjects(b.ctx, herald.Page{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("a refused form created a project: %d projects, %v", len(ps), err)
	}
	// A CSRF token of another session is wrong too.
	other := b.browser(t)
	other.signIn()
	form.Set("csrf", other.csrf("/console/"))
	if st, _, _ := br.do("POST", matrixPath(p, s)+"/settings", form); st != http.StatusForbidden {
		t.Fatalf("another session's token: status %d, want 403", st)
	}
	// And the right one works.
	form.Set("csrf", br.csrf("/console/"))
	if st, loc, body := br.do("POST", matrixPath(p, s)+"/settings", form); st != http.StatusSeeOther {
		t.Fatalf("right token: status %d %s\n%s", st, loc, body)
	}
}

func TestSession(t *testing.T) {
	t.Parallel()
	t.Run("NoSession", func(t *testing.T) {
		t.Parallel()
		br := setup(t).browser(t)
		st, loc, _ := br.do("GET", "/console/log", nil)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin?next=") {
			t.Fatalf("GET without session: %d %q", st, loc)
		}
		if st, _, _ := br.do("POST", "/console/projects", url.Values{"name": {"x"}}); st != http.StatusForbidden {
			t.Fatalf("POST without session: %d, want 403", st)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		t.Parallel()
		br := setup(t).browser(t)
		st, _, body := br.do("POST", "/console/signin", url.Values{"token": {"hld_nope"}})
		if st != http.StatusUnauthorized || !strings.Contains(body, "That token is not valid.") {
			t.Fatalf("bad token: %d\n%s", st, body)
		}
	})
	t.Run("Cookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		br := b.browser(t)
		st, _, _ := br.do("POST", "/console/signin", url.Values{"token": {b.token}})
		if st != http.StatusSeeOther {
			t.Fatal(st)
		}
		u, _ := url.Parse(b.srv.URL + "/console/")
		cs := br.c.Jar.Cookies(u)
		if len(cs) != 1 || strings.Contains(cs[0].Value, b.token) || len(cs[0].Value) < 40 {
			t.Fatalf("session cookie %+v holds the token in clear or is missing", cs)
		}
		// The Set-Cookie attributes.
		req, _ := http.NewRequest("POST", b.srv.URL+"/console/signin", strings.NewReader(url.Values{"token": {b.token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := br.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		sc := resp.Header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console"} {
			if !strings.Contains(sc, want) {
				t.Errorf("Set-Cookie %q lacks %s", sc, want)
			}
		}
		// A tampered cookie is no session.
		v := cs[0].Value
		if cs[0].Value = v[:len(v)-2] + "AA"; cs[0].Value == v {
			cs[0].Value = v[:len(v)-2] + "BB"
		}
		jar := br.c.Jar
		jar.SetCookies(u, cs)
		if st, _, _ := br.do("GET", "/console/", nil); st != http.StatusSeeOther {
			t.Fatalf("tampered cookie: %d, want a redirect to sign in", st)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		br := b.browser(t)
		br.signIn()
		b.clock.Add(11 * time.Hour)
		if st, _ := br.get("/console/"); st != 200 {
			t.Fatalf("after 11 h: %d, want 200", st)
		}
		csrf := br.csrf("/console/")
		b.clock.Add(time.Hour + time.Second)
		if st, loc, _ := br.do("GET", "/console/", nil); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
			t.Fatalf("after 12 h: %d %q, want a redirect to sign in", st, loc)
		}
		if st, _, _ := br.do("POST", "/console/projects", url.Values{"csrf": {csrf}, "name": {"Late"}}); st != http.StatusForbidden {
			t.Fatalf("POST after expiry: %d, want 403", st)
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		br := b.browser(t)
		br.signIn()
		st, loc, _ := br.post("/console/", "/console/signout", url.Values{})
		if st != http.StatusSeeOther || loc != "/console/signin" {
			t.Fatalf("sign out: %d %q", st, loc)
		}
		if st, _, _ := br.do("GET", "/console/", nil); st != http.StatusSeeOther {
			t.Fatalf("after sign out: %d, want a redirect", st)
		}
	})
	t.Run("RevokedToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		br := b.browser(t)
		br.signIn()
		p, _ := b.db.Authenticate(b.ctx, b.token)
		if err := b.db.RevokeToken(b.ctx, p.TokenID); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := br.do("GET", "/console/", nil); st != http.StatusSeeOther {
			t.Fatalf("revoked token: %d, want a redirect to sign in", st)
		}
	})
}

func TestMatrix_EditDeployDiscard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, n := b.fixture(t)
	scope := herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}
	br := b.browser(t)
	br.signIn()
	mp := matrixPath(p, s)
	key := itoa(n.ID)
	st, loc, body := br.post(mp, mp+"/settings", url.Values{"revision": {"1"}, "col": {key}, "row": {"build.failed", "build.succeeded"},
		"on:" + key: {"on"}, "ev:" + key + ":build.failed": {"on"}})
	if st != http.StatusSeeOther || !strings.Contains(loc, "flash=Draft") {
		t.Fatalf("save: %d %q\n%s", st, loc, body)
	}
	_, page := br.get(mp)
	if !strings.Contains(page, "The draft differs from live") || !strings.Contains(page, `class="cell differs"`) {
		t.Fatalf("the matrix does not mark the draft's difference:\n%s", page)
	}
	// Recipients of the cell.
	cell := mp + "/cell?notifier=" + key + "&event=build.failed"
	st, _, body = br.post(cell, mp+"/cell", url.Values{"revision": {"2"}, "notifier": {key}, "event": {"build.failed"}, "enabled": {"on"},
		"type:0": {"ORGANIZATION"}, "code:0": {"eng"}, "subs:0": {"on"}, "type:1": {"FIELD_ENTITY"}, "code:1": {"creator"}})
	if st != http.StatusSeeOther {
		t.Fatalf("save cell: %d\n%s", st, body)
	}
	draft, _ := b.db.FindSettings(b.ctx, scope, herald.VersionDraft)
	e := draft.Channel(n.ID).Event("build.failed")
	if draft.Revision != 3 || !e.Enabled || len(e.Recipients) != 2 || !e.Recipients[0].IncludeSubs || e.Recipients[1].Code != "creator" {
		t.Fatalf("draft after the cell: rev %d %+v", draft.Revision, e)
	}
	// Deploy.
	st, _, body = br.post(mp, mp+"/deploy", url.Values{"revision": {"3"}, "action": {"deploy"}})
	if st != http.StatusSeeOther {
		t.Fatalf("deploy: %d\n%s", st, body)
	}
	live, _ := b.db.FindSettings(b.ctx, scope, herald.VersionLive)
	if live.Revision != 3 || live.Channel(n.ID) == nil || !live.Channel(n.ID).Event("build.failed").Enabled {
		t.Fatalf("live after deploy: %+v", live)
	}
	_, page = br.get(mp)
	if !strings.Contains(page, "The draft is the same as live.") {
		t.Fatalf("after deploy the matrix still shows a difference")
	}
	// Switch it off in the draft, then discard the draft.
	br.post(mp, mp+"/settings", url.Values{"revision": {"3"}, "col": {key}, "row": {"build.failed"}, "on:" + key: {"on"}})
	draft, _ = b.db.FindSettings(b.ctx, scope, herald.VersionDraft)
	if draft.Channel(n.ID).Event("build.failed").Enabled || draft.Revision != 4 {
		t.Fatalf("draft not switched off: %+v", draft)
	}
	if st, _, _ := br.post(mp, mp+"/deploy", url.Values{"revision": {"4"}, "action": {"discard"}}); st != http.StatusSeeOther {
		t.Fatalf("discard: %d", st)
	}
	draft, _ = b.db.FindSettings(b.ctx, scope, herald.VersionDraft)
	if !draft.Channel(n.ID).Event("build.failed").Enabled {
		t.Fatalf("discard did not bring back live")
	}
	_, hist := br.get(mp + "/history")
	for _, want := range []string{"action-deploy", "action-revert", "action-update", "<td>admin</td>"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q", want)
		}
	}
}

func TestMatrix_StaleRevision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, n := b.fixture(t)
	scope := herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}
	// Someone else writes revision 2 after the page was loaded at 1.
	other := herald.NewContextWithPrincipal(b.ctx, &herald.Principal{TenantID: herald.PrincipalFromContext(b.ctx).TenantID, TokenName: "alice-ci",
		Permissions: []herald.Permission{herald.PermAdmin}})
	if _, err := b.db.UpdateSettings(other, herald.SettingsRef{Scope: scope, Revision: 1}, &herald.Settings{InheritProject: true}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	mp := matrixPath(p, s)
	key := itoa(n.ID)
	for _, c := range []struct {
		name, action string
		form         url.Values
	}{
		{"Save", mp + "/settings", url.Values{"revision": {"1"}, "col": {key}, "row": {"build.failed"}, "ev:" + key + ":build.failed": {"on"}}},
		{"Deploy", mp + "/deploy", url.Values{"revision": {"1"}, "action": {"deploy"}}},
		{"Cell", mp + "/cell", url.Values{"revision": {"1"}, "notifier": {key}, "event": {"build.failed"}, "type:0": {"USER"}, "code:0": {"bob"}}},
	} {
		st, _, body := br.post(mp, c.action, c.form)
		if st != http.StatusConflict {
			t.Fatalf("%s: status %d, want 409\n%s", c.name, st, body)
		}
		for _, want := range []string{"Someone else changed these settings", `id="conflict-revision">2<`, `id="conflict-author">alice-ci<`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the conflict page lacks %q", c.name, want)
			}
		}
		if strings.Contains(body, "herald error") || strings.Contains(body, "is stale") {
			t.Errorf("%s: the conflict page shows a raw error", c.name)
		}
	}
	draft, _ := b.db.FindSettings(b.ctx, scope, herald.VersionDraft)
	live, _ := b.db.FindSettings(b.ctx, scope, herald.VersionLive)
	if draft.Revision != 2 || len(draft.Channels) != 0 || live.Revision != 1 {
		t.Fatalf("a stale write changed something: draft %+v live %+v", draft, live)
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser(t)
	if _, body := br.get("/console/signin"); !strings.Contains(body, ">Sign in<") || !strings.Contains(body, `lang="en"`) {
		t.Fatalf("default is not English:\n%s", body)
	}
	br.lang = "zh-CN,zh;q=0.9,en;q=0.8"
	if _, body := br.get("/console/signin"); !strings.Contains(body, ">登录<") {
		t.Fatalf("Accept-Language zh is not Chinese:\n%s", body)
	}
	br.lang = "fr-FR, en;q=0.5, zh;q=0.7"
	if _, body := br.get("/console/signin"); !strings.Contains(body, ">登录<") {
		t.Fatalf("zh at a higher quality than en is not Chinese")
	}
	// The switcher's cookie wins over the browser.
	st, loc, _ := br.do("GET", "/console/lang/en?next=/console/signin", nil)
	if st != http.StatusSeeOther || loc != "/console/signin" {
		t.Fatalf("switch: %d %q", st, loc)
	}
	if _, body := br.get("/console/signin"); !strings.Contains(body, ">Sign in<") {
		t.Fatalf("the en cookie did not win over Accept-Language zh")
	}
	br.do("GET", "/console/lang/zh?next=/console/signin", nil)
	br.lang = ""
	br.signIn()
	if _, body := br.get("/console/log"); !strings.Contains(body, "投递日志") {
		t.Fatalf("signed-in page not in Chinese")
	}
	// A switch never redirects off the console.
	if _, loc, _ := br.do("GET", "/console/lang/en?next=https://evil.example/", nil); loc != "/console/" {
		t.Fatalf("open redirect: %q", loc)
	}
}

func TestNotifier_CreateEditTest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	var hits atomic.Int32
	var got atomic.Value
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		got.Store(string(body))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(sink.Close)
	br := b.browser(t)
	br.signIn()
	newPage := "/console/projects/" + itoa(p.ID) + "/notifiers/new"
	// A bad URL shows the form again with the field named by its label
	// (not the API member config.url), and the typed name kept.
	st, _, body := br.post(newPage, "/console/projects/"+itoa(p.ID)+"/notifiers", url.Values{"type": {"webhook"}, "name": {"Hook"}, "url": {"ftp://x"}, "secret": {"whsec_czNjcmV0"}})
	if st != http.StatusUnprocessableEntity || strings.Contains(body, "config.url") || !strings.Contains(body, `class="error"`) || !strings.Contains(body, `value="Hook"`) || strings.Contains(body, "whsec_czNjcmV0") {
		t.Fatalf("bad url: %d\n%s", st, body)
	}
	st, loc, body := br.post(newPage, "/console/projects/"+itoa(p.ID)+"/notifiers", url.Values{"type": {"webhook"}, "name": {"Hook"},
		"url": {sink.URL}, "secret": {"whsec_czNjcmV0"}, "headers": {"X-Team: ops"}, "host": {"ignored.example"}})
	if st != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", st, body)
	}
	path := strings.SplitN(loc, "?", 2)[0]
	ns, _, _ := b.db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: p.ID, Type: herald.NotifierWebhook}, herald.Page{})
	if len(ns) != 1 || ns[0].Secret != "whsec_czNjcmV0" || ns[0].Config.HTTPHeaders["X-Team"] != "ops" || ns[0].Config.Host != "" {
		t.Fatalf("created notifier: %+v", ns)
	}
	_, page := br.get(path)
	if strings.Contains(page, "whsec_czNjcmV0") || !strings.Contains(page, `placeholder="********"`) {
		t.Fatalf("the edit form shows the secret or no mask")
	}
	// Saving with an empty secret keeps it.
	if st, _, body := br.post(path, path, url.Values{"name": {"Hook 2"}, "url": {sink.URL}, "secret": {""}}); st != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", st, body)
	}
	n, _ := b.db.FindNotifierByID(b.ctx, ns[0].ID)
	if n.Name != "Hook 2" || n.Secret != "whsec_czNjcmV0" {
		t.Fatalf("after edit: %q %q", n.Name, n.Secret)
	}
	// Send a test message.
	st, _, body = br.post(path, path+"/test", url.Values{})
	if st != 200 || !strings.Contains(body, "Test message sent.") || hits.Load() != 1 {
		t.Fatalf("test message: %d hits %d\n%s", st, hits.Load(), body)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(got.Load().(string)), &msg); err != nil || !strings.Contains(got.Load().(string), "Herald test message") {
		t.Fatalf("sink got %v (%v)", got.Load(), err)
	}
	// A failing peer is shown, not hidden.
	sink.Close()
	st, _, body = br.post(path, path+"/test", url.Values{})
	if st != http.StatusBadGateway || !strings.Contains(body, "Test message failed:") {
		t.Fatalf("failed test: %d\n%s", st, body)
	}
}

func TestLog_FilterAndRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, _ := b.fixture(t)
	// A webhook to a closed port fails; one attempt makes it dead.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	hook := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Hook", Config: herald.NotifierConfig{URL: deadURL}}
	if err := b.db.CreateNotifier(b.ctx, hook); err != nil {
		t.Fatal(err)
	}
	scope := herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}
	if _, err := b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, &herald.Settings{Channels: []herald.ChannelSettings{{
		NotifierID: hook.ID, Enabled: true, Events: []herald.EventSettings{{Type: "build.failed", Enabled: true}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: scope, Revision: herald.NoRevisionCheck}}, false); err != nil {
		t.Fatal(err)
	}
	startEngine(t, b, 1)
	if err := b.db.CreateEvents(b.ctx, []*herald.Event{{SourceID: s.ID, Type: "build.failed"}}); err != nil {
		t.Fatal(err)
	}
	var d *herald.Delivery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds, _, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{Status: herald.StatusDead}, herald.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 {
			d = ds[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery never died")
		}
	}
	br := b.browser(t)
	br.signIn()
	_, page := br.get("/console/log?status=dead")
	if !strings.Contains(page, `id="retry-`+itoa(d.ID)+`"`) || !strings.Contains(page, "status-dead") {
		t.Fatalf("the dead delivery has no retry button:\n%s", page)
	}
	if _, page := br.get("/console/log?status=delivered"); strings.Contains(page, "status-dead") {
		t.Fatalf("the status filter shows a dead delivery under delivered")
	}
	if _, page := br.get("/console/log?notifier=" + itoa(hook.ID+1)); strings.Contains(page, "status-dead") {
		t.Fatalf("the notifier filter shows another notifier's delivery")
	}
	if _, page := br.get("/console/events/" + itoa(d.EventID)); !strings.Contains(page, "build.failed") || !strings.Contains(page, `id="retry-`+itoa(d.ID)+`"`) {
		t.Fatalf("the event page lacks its delivery:\n%s", page)
	}
	st, loc, body := br.post("/console/log?status=dead", "/console/deliveries/"+itoa(d.ID)+"/retry", url.Values{"back": {"/console/log?status=dead"}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/log?status=dead") {
		t.Fatalf("retry: %d %q\n%s", st, loc, body)
	}
	got, _ := b.db.FindDeliveryByID(b.ctx, d.ID)
	if got.Status == herald.StatusDead && got.Attempts == d.Attempts && got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Fatalf("retry did not requeue the delivery: %+v", got)
	}
}

func TestPushes_CreateSubmitExecuteRecall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.db.CreateUser(b.ctx, &herald.User{Code: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	st, _, body := br.post("/console/pushes", "/console/pushes", url.Values{"job_name": {"Maintenance"}, "content_type": {"text"},
		"content": {"Down at 22:00"}, "scope": {"all"}})
	if st != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", st, body)
	}
	ps, _, err := b.db.FindPushes(b.ctx, herald.PushFilter{}, herald.Page{})
	if err != nil || len(ps) != 1 || ps[0].Status != herald.PushDraft {
		t.Fatalf("pushes: %+v %v", ps, err)
	}
	id := itoa(ps[0].ID)
	_, page := br.get("/console/pushes")
	if !strings.Contains(page, "Maintenance") || !strings.Contains(page, `value="submit"`) || strings.Contains(page, `value="recall"`) {
		t.Fatalf("the draft's row lacks submit or offers recall:\n%s", page)
	}
	// Submitted by the admin, it waits: the admin may not approve it.
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"submit"}}); st != http.StatusSeeOther {
		t.Fatalf("submit: %d\n%s", st, body)
	}
	if _, page = br.get("/console/pushes"); strings.Contains(page, `value="approve"`) || !strings.Contains(page, "Waiting for another approver") {
		t.Fatalf("the submitter is offered approve:\n%s", page)
	}
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"approve"}}); st != http.StatusForbidden {
		t.Fatalf("the submitter approves: %d\n%s", st, body)
	}
	approver := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: herald.PrincipalFromContext(b.ctx).TenantID,
		TokenName: "approver", Permissions: []herald.Permission{herald.PermPushApprove}})
	if _, err := b.db.ApprovePush(approver, ps[0].ID); err != nil {
		t.Fatal(err)
	}
	// Send asks first, showing whom it reaches; nothing is sent yet.
	st, _, body = br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"execute"}})
	if st != http.StatusOK || !strings.Contains(body, `id="reach-count">1<`) || !strings.Contains(body, `name="confirmed" value="yes"`) {
		t.Fatalf("send's confirmation: %d\n%s", st, body)
	}
	if p, _ := b.db.FindPushByID(b.ctx, ps[0].ID); p.Status != herald.PushApproved {
		t.Fatalf("asking to confirm changed the push: %s", p.Status)
	}
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"execute"}, "confirmed": {"yes"}}); st != http.StatusSeeOther {
		t.Fatalf("execute: %d\n%s", st, body)
	}
	p, _ := b.db.FindPushByID(b.ctx, ps[0].ID)
	if p.Status != herald.PushScheduled && p.Status != herald.PushSending && p.Status != herald.PushSent {
		t.Fatalf("after submit and execute: %s", p.Status)
	}
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"recall"}}); st != http.StatusOK || !strings.Contains(body, "Recall") {
		t.Fatalf("recall's confirmation: %d\n%s", st, body)
	}
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"recall"}, "confirmed": {"yes"}}); st != http.StatusSeeOther {
		t.Fatalf("recall: %d\n%s", st, body)
	}
	if p, _ = b.db.FindPushByID(b.ctx, ps[0].ID); p.Status != herald.PushRecalled {
		t.Fatalf("after recall: %s", p.Status)
	}
	// An action the status does not allow is refused with the reason.
	if st, _, body := br.post("/console/pushes", "/console/pushes/"+id, url.Values{"action": {"approve"}}); st != http.StatusConflict || !strings.Contains(body, "cannot approve") {
		t.Fatalf("approve a recalled push: %d\n%s", st, body)
	}
}
