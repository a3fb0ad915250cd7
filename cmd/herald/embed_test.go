package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/browsertest"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// embedWorld is a project whose build job tells ann and bob of
// build.failed, build.succeeded and the required custom.security in
// their inbox, with the category "builds", a project end-user key, and
// allowedOrigin listed.
type embedWorld struct {
	world
	key string
}

func (e *prefsEnv) embedWorld(allowedOrigins ...string) embedWorld {
	e.t.Helper()
	var w embedWorld
	w.project = e.create("/api/v1/projects", map[string]any{"name": "Payments", "allowed_origins": allowedOrigins})
	w.source = e.create(fmt.Sprintf("/api/v1/projects/%d/sources", w.project), map[string]any{"kind": "build_job", "external_id": strings.Repeat("a1", 16), "name": "payments-build"})
	inbox := e.create(fmt.Sprintf("/api/v1/projects/%d/notifiers", w.project), map[string]any{"type": "inbox", "name": "system message"})
	w.ann = e.create("/api/v1/users", map[string]any{"code": "ann", "name": "Ann"})
	w.bob = e.create("/api/v1/users", map[string]any{"code": "bob", "name": "Bob"})
	both := []map[string]any{{"type": "USER", "code": "ann"}, {"type": "USER", "code": "bob"}}
	var events []map[string]any
	for _, typ := range []string{"build.failed", "build.succeeded", "custom.security"} {
		events = append(events, map[string]any{"type": typ, "enabled": true, "recipients": both})
	}
	settings := fmt.Sprintf("/api/v1/sources/%d/settings", w.source)
	e.must(200, "PUT", settings, e.admin, map[string]any{"channels": []any{map[string]any{"notifier_id": inbox, "enabled": true, "events": events}}}, nil)
	e.must(200, "POST", settings+"/deploy", e.admin, map[string]any{}, nil)
	e.must(200, "PUT", fmt.Sprintf("/api/v1/projects/%d/preference-policy", w.project), e.admin, map[string]any{
		"categories": []any{
			map[string]any{"key": "builds", "name": "Builds", "event_types": []string{"build.failed", "build.succeeded"}},
			map[string]any{"key": "security", "name": "Security", "event_types": []string{"custom.security"}},
		},
		"required": []string{"custom.security"},
	}, nil)
	var key struct {
		Key string `json:"key"`
	}
	e.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/end-user-key", w.project), e.admin, nil, &key)
	w.key = key.Key
	return w
}

// token is an end-user token of the person code, as the host app's
// backend signs it.
func (w embedWorld) token(code string) string {
	return herald.SignEndUserToken(w.key, herald.EndUserClaims{ProjectID: w.project, UserCode: code, ExpiresAt: time.Now().Add(time.Hour)})
}

// TestEmbed_EndUserTokenAB: ann's end-user token reads and marks her own
// inbox, and sees her panel; bob's inbox and preferences, by any route,
// are not found to it, and nothing of bob's changes.
func TestEmbed_EndUserTokenAB(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPrefsEnv(t, db)
		w := e.embedWorld()
		e.post(w.world, "build.failed")
		e.post(w.world, "build.succeeded")
		a := w.token("ann")

		var unread struct {
			Unread int `json:"unread"`
		}
		e.must(200, "GET", "/api/v1/me/inbox/unread-count", a, nil, &unread)
		if unread.Unread != 2 {
			t.Fatalf("ann's unread count: %d", unread.Unread)
		}
		var page struct {
			Items      []herald.InboxMessage `json:"items"`
			NextCursor string                `json:"next_cursor"`
		}
		e.must(200, "GET", "/api/v1/me/inbox?limit=1", a, nil, &page)
		if len(page.Items) != 1 || page.Items[0].UserID != w.ann || page.NextCursor == "" {
			t.Fatalf("ann's first page: %+v", page)
		}
		var panel herald.PreferencePanel
		e.must(200, "GET", "/api/v1/me/preference-panel", a, nil, &panel)
		if len(panel.Channels) != 1 || len(panel.Categories) != 2 || !panel.Categories[1].Required {
			t.Fatalf("ann's panel: %+v", panel)
		}

		var bobs struct {
			Items []herald.InboxMessage `json:"items"`
		}
		e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/inbox", w.bob), e.admin, nil, &bobs)
		if len(bobs.Items) != 2 {
			t.Fatalf("bob's inbox: %d messages", len(bobs.Items))
		}
		bobMsg := bobs.Items[0].ID
		for _, r := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/api/v1/users/%d/inbox", w.bob)},
			{"GET", fmt.Sprintf("/api/v1/users/%d/inbox/stream", w.bob)},
			{"POST", fmt.Sprintf("/api/v1/users/%d/inbox/%d/read", w.bob, bobMsg)},
			{"POST", fmt.Sprintf("/api/v1/users/%d/inbox/read-all", w.bob)},
			{"POST", fmt.Sprintf("/api/v1/me/inbox/%d/read", bobMsg)}, // bob's message as hers
			{"GET", fmt.Sprintf("/api/v1/users/%d/preferences", w.bob)},
			{"PUT", fmt.Sprintf("/api/v1/users/%d/preferences", w.bob)},
		} {
			var body any
			if r.method == "PUT" {
				body = map[string]any{"rules": []any{map[string]any{"channel": "inbox", "category": "builds", "enabled": false}}}
			}
			if got := e.status(r.method, r.path, a, body); got != 404 {
				t.Errorf("%s %s with ann's token = %d, want 404", r.method, r.path, got)
			}
		}
		e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/inbox?unread=true", w.bob), e.admin, nil, &bobs)
		if len(bobs.Items) != 2 {
			t.Fatalf("bob's unread messages after ann's attempts: %d, want 2", len(bobs.Items))
		}
		var prefs herald.UserPreferences
		e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/preferences", w.bob), e.admin, nil, &prefs)
		if prefs.Revision != 0 {
			t.Fatalf("bob's preferences changed: %+v", prefs)
		}
		// Her own: marking all read leaves bob's alone.
		var marked struct {
			Marked int `json:"marked"`
		}
		e.must(200, "POST", "/api/v1/me/inbox/read-all", a, nil, &marked)
		e.must(200, "GET", "/api/v1/me/inbox/unread-count", a, nil, &unread)
		if marked.Marked != 2 || unread.Unread != 0 {
			t.Fatalf("ann's read-all: marked %d, then %d unread", marked.Marked, unread.Unread)
		}
		e.must(200, "GET", "/api/v1/me/inbox/unread-count", w.token("bob"), nil, &unread)
		if unread.Unread != 2 {
			t.Fatalf("bob's unread count after ann's read-all: %d", unread.Unread)
		}
	})
}

// status sends a JSON request with token and returns the answer's status
// without reading its body (a stream's never ends).
func (e *prefsEnv) status(method, path, token string, body any) int {
	e.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// corsCall sends method path with Origin origin (and more headers) and
// returns the answer.
func (e *prefsEnv) corsCall(method, path, origin string, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestEmbed_CORS: the embedded inbox's routes and script answer, for the
// browser, the origins a project lists and no other; an end-user token
// from an origin its own project does not list is refused.
func TestEmbed_CORS(t *testing.T) {
	t.Parallel()
	e := newPrefsEnv(t, storetest.NewDB(t, store.DialectSQLite))
	const allowed, other, elsewhere = "http://shop.example.com:8080", "https://evil.example.com", "https://other.example.com"
	w := e.embedWorld(allowed)
	e.create("/api/v1/projects", map[string]any{"name": "Other", "allowed_origins": []string{elsewhere}})
	var p herald.Project
	e.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d", w.project), e.admin, nil, &p)
	if len(p.AllowedOrigins) != 1 || p.AllowedOrigins[0] != allowed {
		t.Fatalf("allowed origins read back: %v", p.AllowedOrigins)
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/projects/%d", w.project), e.admin, map[string]any{"allowed_origins": []string{allowed, "HTTP://Shop.Example.com:8080/"}}, &p)
	if len(p.AllowedOrigins) != 1 {
		t.Fatalf("after a PATCH naming it twice: %v", p.AllowedOrigins)
	}
	if got := e.call("PATCH", fmt.Sprintf("/api/v1/projects/%d", w.project), e.admin, map[string]any{"allowed_origins": []string{"*"}}, nil); got != 400 {
		t.Fatalf("a wildcard origin: %d, want 400", got)
	}
	a := w.token("ann")
	acao := func(r *http.Response) string { return r.Header.Get("Access-Control-Allow-Origin") }

	pre := func(origin string) *http.Response {
		return e.corsCall("OPTIONS", "/api/v1/me/inbox", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	}
	if r := pre(allowed); r.StatusCode != 204 || acao(r) != allowed || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from a listed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := pre(other); acao(r) != "" || r.Header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight from an unlisted origin: %d %v", r.StatusCode, r.Header)
	}
	auth := []string{"Authorization", "Bearer " + a}
	if r := e.corsCall("GET", "/api/v1/me/inbox", allowed, auth...); r.StatusCode != 200 || acao(r) != allowed || !strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Errorf("GET from a listed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := e.corsCall("POST", "/api/v1/me/inbox/read-all", allowed, auth...); r.StatusCode != 200 || acao(r) != allowed {
		t.Errorf("POST from a listed origin: %d %v", r.StatusCode, r.Header)
	}
	for _, origin := range []string{other, elsewhere} { // elsewhere: listed, by another project
		if r := e.corsCall("GET", "/api/v1/me/inbox", origin, auth...); r.StatusCode != 403 || acao(r) != "" {
			t.Errorf("GET from %s: %d %v", origin, r.StatusCode, r.Header)
		}
	}
	// Without Origin (a server, not a browser) the token works as ever.
	if got := e.call("GET", "/api/v1/me/inbox", a, nil, nil); got != 200 {
		t.Errorf("GET without Origin: %d", got)
	}
	// A bad token's 401 is readable from a listed origin (the widget says
	// so), not from another.
	if r := e.corsCall("GET", "/api/v1/me/inbox", allowed, "Authorization", "Bearer hlu_bad.bad"); r.StatusCode != 401 || acao(r) != allowed {
		t.Errorf("401 from a listed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := e.corsCall("GET", "/api/v1/me/inbox", other, "Authorization", "Bearer hlu_bad.bad"); r.StatusCode != 401 || acao(r) != "" {
		t.Errorf("401 from an unlisted origin: %d %v", r.StatusCode, r.Header)
	}
	// The script.
	if r := e.corsCall("GET", "/embed/inbox.js", allowed); r.StatusCode != 200 || acao(r) != allowed || r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("script from a listed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := e.corsCall("GET", "/embed/inbox.js", other); r.StatusCode != 200 || acao(r) != "" {
		t.Errorf("script from an unlisted origin: %d %v", r.StatusCode, r.Header)
	}
	// Other routes answer no browser of another origin, listed or not.
	if r := e.corsCall("GET", "/api/v1/projects", allowed, "Authorization", "Bearer "+e.admin); acao(r) != "" {
		t.Errorf("an API route from a listed origin: %v", r.Header)
	}
	if r := e.corsCall("OPTIONS", "/api/v1/projects", allowed, "Access-Control-Request-Method", "GET"); acao(r) != "" {
		t.Errorf("an API route's preflight: %v", r.Header)
	}
}

// needChromium skips a browser test when Chromium is missing, and fails
// it under CI=true.
func needChromium(t *testing.T) { t.Helper(); browsertest.Need(t) }

// TestEmbed_Browser loads, in Chromium, a plain page of another origin
// that embeds <herald-inbox> with ann's end-user token: it shows her
// unread count, receives a new message live, marks it read, turns the
// category "builds" off for the inbox in its preferences panel, and the
// next build event is skipped for her by preference.
func TestEmbed_Browser(t *testing.T) {
	needChromium(t)
	t.Parallel()
	e := newPrefsEnv(t, storetest.NewDB(t, store.DialectSQLite))
	host := httptest.NewUnstartedServer(nil)
	hostURL := "http://" + host.Listener.Addr().String()
	if hostURL == e.url {
		t.Fatal("the host page must have its own origin")
	}
	w := e.embedWorld(hostURL)
	first := e.post(w.world, "build.failed")
	if first[w.ann].Status != herald.StatusDelivered {
		t.Fatalf("the first message: %+v", first[w.ann])
	}
	token := w.token("ann")
	host.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="%[1]s/embed/inbox.js" defer></script></head>
<body style="font-family: sans-serif; padding: 1em 30em 40em 1em"><h1>Acme shop</h1>
<herald-inbox id="inbox" server="%[1]s" token="%[2]s" lang="en" theme="light"></herald-inbox>
</body></html>`, e.url, token)
	})
	host.Start()
	t.Cleanup(host.Close)

	ctx := newEmbedBrowser(t)
	b := &browser{t: t, ctx: ctx, dir: t.TempDir()}
	const root = `document.getElementById("inbox").shadowRoot`
	b.run("open the host page", chromedp.Navigate(hostURL+"/"))
	b.waitFor("the unread count 1", root+`.querySelector(".badge").dataset.count === "1"`)
	b.run("open the inbox", chromedp.Evaluate[chromedp.Void](root+`.querySelector(".bell").click()`))
	b.waitFor("one message listed", root+`.querySelectorAll("li.msg.unread").length === 1`)
	b.shot("1-open")

	// A new message arrives over the stream: the count and list update
	// without a reload.
	second := e.post(w.world, "build.succeeded")
	if second[w.ann].Status != herald.StatusDelivered {
		t.Fatalf("the second message: %+v", second[w.ann])
	}
	b.waitFor("the live message", root+`.querySelector(".badge").dataset.count === "2" && `+root+`.querySelectorAll("li.msg.unread").length === 2`)
	newest := e.newestInbox(w.ann)
	if got := b.text(root + `.querySelector("li.msg .t").textContent`); got == "" || !strings.Contains(got, newest.Title) {
		t.Fatalf("the newest message's title in the page: %q, want %q", got, newest.Title)
	}
	b.shot("2-live")

	// Mark it read.
	b.run("mark the newest read", chromedp.Evaluate[chromedp.Void](root+fmt.Sprintf(`.querySelector('li.msg[data-id="%d"] .mark-read').click()`, newest.ID)))
	b.waitFor("the count back to 1", root+`.querySelector(".badge").dataset.count === "1"`)
	if m := e.newestInbox(w.ann); m.ReadAt == nil {
		t.Fatalf("message %d is not read in the store", m.ID)
	}
	b.shot("3-read")

	// Preferences: the required category's switch is disabled; turn
	// builds off for the inbox.
	b.run("open the preferences", chromedp.Evaluate[chromedp.Void](root+`.querySelector(".open-prefs").click()`))
	b.waitFor("the panel", root+`.querySelector('tr[data-category="builds"] input[data-channel="inbox"]') !== null`)
	b.waitFor("builds on, security required", root+`.querySelector('tr[data-category="builds"] input[data-channel="inbox"]').checked && `+
		root+`.querySelector('tr[data-category="security"] input[data-channel="inbox"]').disabled`)
	b.shot("4-preferences")
	b.run("turn builds off", chromedp.Evaluate[chromedp.Void](root+`.querySelector('tr[data-category="builds"] input[data-channel="inbox"]').click()`))
	b.waitFor("the switch saved", `(() => { const x = `+root+`.querySelector('tr[data-category="builds"] input[data-channel="inbox"]'); return x && !x.checked && !x.disabled })()`)
	b.shot("5-builds-off")
	var prefs herald.UserPreferences
	e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/preferences", w.ann), e.admin, nil, &prefs)
	if len(prefs.Rules) != 1 || prefs.Rules[0] != (herald.PreferenceRule{Channel: "inbox", Category: "builds", Enabled: false}) {
		t.Fatalf("ann's preferences after the switch: %+v", prefs.Rules)
	}

	// The next build event is skipped for her, by preference; bob still
	// gets it.
	third := e.post(w.world, "build.failed")
	if d := third[w.ann]; d == nil || d.Status != herald.StatusSkipped || d.Reason != herald.ReasonPreference {
		t.Fatalf("ann's delivery of the next build event: %+v", d)
	}
	if d := third[w.bob]; d == nil || d.Status != herald.StatusDelivered {
		t.Fatalf("bob's delivery of the next build event: %+v", d)
	}
	// A required type still reaches her, live.
	e.post(w.world, "custom.security")
	b.run("back to the list", chromedp.Evaluate[chromedp.Void](root+`.querySelector(".back").click()`))
	b.waitFor("the security message live", root+`.querySelector(".badge").dataset.count === "2"`)
	b.shot("6-required")

	// Chinese, and the dark theme, by attribute.
	b.run("Chinese, dark", chromedp.Evaluate[chromedp.Void](`(() => { const x = document.getElementById("inbox"); x.setAttribute("lang", "zh"); x.setAttribute("theme", "dark") })()`))
	b.waitFor("the Chinese strings", root+`.querySelector("header h2").textContent === "通知" && `+root+`.querySelector(".mark-all").textContent === "全部标为已读"`)
	b.waitFor("the dark theme", `getComputedStyle(`+root+`.querySelector(".panel")).backgroundColor === "rgb(22, 27, 34)"`)
	b.shot("7-zh-dark")
}

// newestInbox is a person's newest inbox message, read with the admin
// token.
func (e *prefsEnv) newestInbox(user int64) herald.InboxMessage {
	e.t.Helper()
	var page struct {
		Items []herald.InboxMessage `json:"items"`
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/inbox?limit=1", user), e.admin, nil, &page)
	if len(page.Items) != 1 {
		e.t.Fatalf("user %d has no message", user)
	}
	return page.Items[0]
}

// newEmbedBrowser starts a headless Chromium with a throwaway profile.
func newEmbedBrowser(t *testing.T) context.Context { t.Helper(); return browsertest.New(t, 1000, 800) }

// browser drives one tab, failing the test with the widget's shadow DOM
// when a step fails.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string // screenshots
}

func (b *browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	dom, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const x = document.getElementById("inbox"); return x && x.shadowRoot ? x.shadowRoot.innerHTML : document.body.outerHTML })()`))
	b.t.Fatalf("%s: %v\nwidget:\n%s", step, err, dom)
}

func (b *browser) run(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(step, err)
	}
}

func (b *browser) text(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.fail("eval "+expr, err)
	}
	return s
}

// waitFor polls a JavaScript condition until it holds, for up to 30 s
// (a loaded machine is slow, never wrong).
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`) } catch (e) { return false } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.fail("wait for "+what, fmt.Errorf("%q still false (%v)", cond, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shot saves a screenshot of the page under the test's temporary
// directory.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.fail("screenshot", err)
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}
