package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// mailbox is an in-process SMTP server (emersion/go-smtp) on 127.0.0.1
// that keeps every message it accepts.
type mailbox struct {
	port int
	mu   sync.Mutex
	msgs []*mail.Message
	to   []string
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	m := &mailbox{}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	m.port = l.Addr().(*net.TCPAddr).Port
	return m
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

// received returns the messages sent to rcpt, oldest first.
func (m *mailbox) received(rcpt string) []*mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*mail.Message
	for i, to := range m.to {
		if to == rcpt {
			out = append(out, m.msgs[i])
		}
	}
	return out
}

type mailSession struct {
	m  *mailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, to := range s.to {
		s.m.msgs, s.m.to = append(s.m.msgs, msg), append(s.m.to, to)
	}
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// prefsEnv is a server as serve wires it — the native API and the
// delivery engine, with the same unsubscribe key and the server's public
// URL — reached over real HTTP.
type prefsEnv struct {
	t     *testing.T
	db    *store.DB
	url   string // the public URL
	admin string
	mbox  *mailbox
}

func newPrefsEnv(t *testing.T, db *store.DB) *prefsEnv {
	t.Helper()
	secret, err := db.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Key()
	unsubscribe := herald.DeriveKey(key, "unsubscribe")
	srv := newServer(db, nil, surfaceOptions{SessionKey: key, AllowPrivateTargets: true, UnsubscribeKey: unsubscribe}, slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	engine, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond, MaxAttempts: 2,
		PublicURL: hs.URL, UnsubscribeKey: unsubscribe})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return &prefsEnv{t: t, db: db, url: hs.URL, admin: secret, mbox: newMailbox(t)}
}

// call sends a JSON request with token (none when empty) and decodes a
// JSON answer into out; it returns the status.
func (e *prefsEnv) call(method, path, token string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

func (e *prefsEnv) must(want int, method, path, token string, body, out any) {
	e.t.Helper()
	if got := e.call(method, path, token, body, out); got != want {
		e.t.Fatalf("%s %s = %d, want %d", method, path, got, want)
	}
}

func (e *prefsEnv) create(path string, body any) int64 {
	e.t.Helper()
	var obj struct {
		ID int64 `json:"id"`
	}
	e.must(201, "POST", path, e.admin, body, &obj)
	return obj.ID
}

// world is a project with a build job whose live settings email ann and
// bob of build.failed, build.succeeded and the required custom.security.
type world struct {
	project, source, ann, bob int64
}

func (e *prefsEnv) world() world {
	e.t.Helper()
	var w world
	w.project = e.create("/api/v1/projects", map[string]any{"name": "Payments"})
	w.source = e.create(fmt.Sprintf("/api/v1/projects/%d/sources", w.project), map[string]any{"kind": "build_job", "external_id": strings.Repeat("a1", 16), "name": "payments-build"})
	email := e.create(fmt.Sprintf("/api/v1/projects/%d/notifiers", w.project), map[string]any{"type": "email", "name": "mail",
		"config": map[string]any{"host": "127.0.0.1", "port": e.mbox.port, "from": "Herald <herald@example.com>", "tls": "none"}})
	w.ann = e.create("/api/v1/users", map[string]any{"code": "ann", "name": "Ann", "email": "ann@example.com"})
	w.bob = e.create("/api/v1/users", map[string]any{"code": "bob", "name": "Bob", "email": "bob@example.com"})
	both := []map[string]any{{"type": "USER", "code": "ann"}, {"type": "USER", "code": "bob"}}
	var events []map[string]any
	for _, typ := range []string{"build.failed", "build.succeeded", "custom.security"} {
		events = append(events, map[string]any{"type": typ, "enabled": true, "recipients": both})
	}
	settings := fmt.Sprintf("/api/v1/sources/%d/settings", w.source)
	e.must(200, "PUT", settings, e.admin, map[string]any{"channels": []any{map[string]any{"notifier_id": email, "enabled": true, "events": events}}}, nil)
	e.must(200, "POST", settings+"/deploy", e.admin, map[string]any{}, nil)
	e.must(200, "PUT", fmt.Sprintf("/api/v1/projects/%d/preference-policy", w.project), e.admin, map[string]any{
		"categories": []any{map[string]any{"key": "builds", "name": "Builds", "event_types": []string{"build.failed", "build.succeeded"}}},
		"required":   []string{"custom.security"},
	}, nil)
	return w
}

// post posts an event and waits until none of its deliveries is on its
// way; it returns them by user id.
func (e *prefsEnv) post(w world, typ string) map[int64]*herald.Delivery {
	e.t.Helper()
	var ev struct {
		ID int64 `json:"id"`
	}
	e.must(202, "POST", "/api/v1/events", e.admin, map[string]any{"source_id": w.source, "type": typ}, &ev)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got herald.Event
		e.must(200, "GET", fmt.Sprintf("/api/v1/events/%d", ev.ID), e.admin, nil, &got)
		if len(got.Deliveries) > 0 && !slices.ContainsFunc(got.Deliveries, func(d *herald.Delivery) bool {
			return d.Status == herald.StatusPending || d.Status == herald.StatusSending
		}) {
			out := map[int64]*herald.Delivery{}
			for _, d := range got.Deliveries {
				out[d.UserID] = d
			}
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("event %d did not settle", ev.ID)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestUnsubscribe_OneClick: an email carries RFC 8058's headers; a POST
// of List-Unsubscribe=One-Click to its URL, with no login, turns that
// category off by email for its recipient only, and the next event of it
// is skipped for them; a GET changes nothing, a required type has no
// link, a forged link does nothing.
func TestUnsubscribe_OneClick(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPrefsEnv(t, db)
		w := e.world()
		first := e.post(w, "build.failed")
		if first[w.ann].Status != herald.StatusDelivered || first[w.bob].Status != herald.StatusDelivered {
			t.Fatalf("first event: ann %s, bob %s", first[w.ann].Status, first[w.bob].Status)
		}
		mails := e.mbox.received("ann@example.com")
		if len(mails) != 1 {
			t.Fatalf("ann received %d mails", len(mails))
		}
		h := mails[0].Header
		link := strings.TrimSuffix(strings.TrimPrefix(h.Get("List-Unsubscribe"), "<"), ">")
		if !strings.HasPrefix(link, e.url+"/unsubscribe/") || h.Get("List-Unsubscribe") != "<"+link+">" {
			t.Fatalf("List-Unsubscribe %q, want <%s/unsubscribe/…>", h.Get("List-Unsubscribe"), e.url)
		}
		if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe-Post %q", got)
		}
		bobLink := strings.Trim(e.mbox.received("bob@example.com")[0].Header.Get("List-Unsubscribe"), "<>")
		if bobLink == link {
			t.Fatal("ann and bob got the same link")
		}

		prefs := func(id int64) herald.UserPreferences {
			var p herald.UserPreferences
			e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/preferences", id), e.admin, nil, &p)
			return p
		}
		post := func(link, body string) int {
			resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		// A mail scanner following the link changes nothing.
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), `name="List-Unsubscribe" value="One-Click"`) || prefs(w.ann).Revision != 0 {
			t.Fatalf("GET %s = %d; preferences at revision %d", link, resp.StatusCode, prefs(w.ann).Revision)
		}
		if got := post(link, "something=else"); got != 400 {
			t.Fatalf("POST without List-Unsubscribe=One-Click = %d, want 400", got)
		}
		forged := link[:len(link)-4] + "AAAA"
		if got := post(forged, "List-Unsubscribe=One-Click"); got != 404 {
			t.Fatalf("POST a forged link = %d, want 404", got)
		}
		if prefs(w.ann).Revision != 0 {
			t.Fatal("a refused unsubscribe changed ann's preferences")
		}

		if got := post(link, url.Values{"List-Unsubscribe": {"One-Click"}}.Encode()); got != 200 {
			t.Fatalf("one-click POST = %d, want 200", got)
		}
		p := prefs(w.ann)
		if len(p.Rules) != 1 || p.Rules[0] != (herald.PreferenceRule{Channel: "email", Category: "builds"}) {
			t.Fatalf("ann's preferences after unsubscribing: %+v", p.Rules)
		}
		if len(prefs(w.bob).Rules) != 0 {
			t.Fatal("bob's preferences changed")
		}
		// Twice is the same as once.
		if got := post(link, "List-Unsubscribe=One-Click"); got != 200 || len(prefs(w.ann).Rules) != 1 {
			t.Fatalf("a second POST = %d", got)
		}

		// The next event of the category is skipped for ann, by email.
		next := e.post(w, "build.succeeded")
		if d := next[w.ann]; d.Status != herald.StatusSkipped || d.Reason != herald.ReasonPreference {
			t.Fatalf("ann's next build email: %s (reason %q), want skipped for her preference", d.Status, d.Reason)
		}
		if next[w.bob].Status != herald.StatusDelivered {
			t.Fatalf("bob's next build email: %s", next[w.bob].Status)
		}
		if n := len(e.mbox.received("ann@example.com")); n != 1 {
			t.Fatalf("ann received %d mails, want still 1", n)
		}
		// A required type still reaches her, and offers no unsubscribe.
		sec := e.post(w, "custom.security")
		if sec[w.ann].Status != herald.StatusDelivered {
			t.Fatalf("ann's security email: %s", sec[w.ann].Status)
		}
		got := e.mbox.received("ann@example.com")
		if len(got) != 2 || got[1].Header.Get("List-Unsubscribe") != "" {
			t.Fatalf("ann's required mail: %d mails, List-Unsubscribe %q", len(got), got[len(got)-1].Header.Get("List-Unsubscribe"))
		}
	})
}

// TestEndUserToken_AB: the host app's backend signs an end-user token for
// a person with its project's key; that token reads and changes that
// person's preferences only — another person's are not found, every other
// route is refused, and nothing else changes.
func TestEndUserToken_AB(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPrefsEnv(t, db)
		w := e.world()
		var key struct {
			Key string `json:"key"`
		}
		e.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/end-user-key", w.project), e.admin, nil, &key)
		token := func(code string) string {
			return herald.SignEndUserToken(key.Key, herald.EndUserClaims{ProjectID: w.project, UserCode: code, ExpiresAt: time.Now().Add(time.Hour)})
		}
		a, b := token("ann"), token("bob")

		var mine herald.UserPreferences
		e.must(200, "GET", "/api/v1/me/preferences", a, nil, &mine)
		if mine.UserID != w.ann || mine.Revision != 0 {
			t.Fatalf("ann's /me: %+v", mine)
		}
		off := map[string]any{"rules": []any{map[string]any{"channel": "email", "category": "builds", "enabled": false}}}
		e.must(200, "PUT", "/api/v1/me/preferences", a, off, &mine)
		if mine.UserID != w.ann || mine.Revision != 1 || len(mine.Rules) != 1 {
			t.Fatalf("ann's PUT /me: %+v", mine)
		}
		var bobs herald.UserPreferences
		e.must(200, "GET", "/api/v1/me/preferences", b, nil, &bobs)
		if bobs.UserID != w.bob || len(bobs.Rules) != 0 {
			t.Fatalf("bob's /me after ann's change: %+v", bobs)
		}
		// Ann's token on bob's preferences: not found, as an unknown id.
		bobPath := fmt.Sprintf("/api/v1/users/%d/preferences", w.bob)
		for _, m := range []string{"GET", "PUT"} {
			var body any
			if m == "PUT" {
				body = off
			}
			if got := e.call(m, bobPath, a, body, nil); got != 404 {
				t.Errorf("%s bob's preferences with ann's token = %d, want 404", m, got)
			}
		}
		if got := e.call("GET", "/api/v1/users/987654/preferences", a, nil, nil); got != 404 {
			t.Errorf("an unknown person with ann's token = %d, want 404", got)
		}
		e.must(200, "GET", bobPath, e.admin, nil, &bobs)
		if bobs.Revision != 0 {
			t.Fatalf("bob's preferences changed: %+v", bobs)
		}
		// Her own, by id, are hers.
		e.must(200, "GET", fmt.Sprintf("/api/v1/users/%d/preferences", w.ann), a, nil, &mine)

		// Everything else is refused to an end-user token.
		for _, r := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/api/v1/users/%d", w.ann)},
			{"GET", "/api/v1/users"},
			{"GET", fmt.Sprintf("/api/v1/projects/%d", w.project)},
			{"GET", "/api/v1/projects"},
			{"GET", fmt.Sprintf("/api/v1/projects/%d/preference-policy", w.project)},
			{"PUT", "/api/v1/preference-policy"},
			{"POST", fmt.Sprintf("/api/v1/projects/%d/end-user-key", w.project)},
			{"GET", "/api/v1/tokens"},
			{"POST", "/api/v1/events"},
			{"GET", "/api/v1/deliveries"},
		} {
			if got := e.call(r.method, r.path, a, map[string]any{}, nil); got != 403 {
				t.Errorf("%s %s with an end-user token = %d, want 403", r.method, r.path, got)
			}
		}
		// A token of the rotated key, of an unknown person, or expired,
		// is not one.
		stale := a
		e.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/end-user-key", w.project), e.admin, nil, &key)
		expired := herald.SignEndUserToken(key.Key, herald.EndUserClaims{ProjectID: w.project, UserCode: "ann", ExpiresAt: time.Now().Add(-time.Minute)})
		for name, tok := range map[string]string{"rotated": stale, "expired": expired, "unknown person": token("nobody")} {
			if got := e.call("GET", "/api/v1/me/preferences", tok, nil, nil); got != 401 {
				t.Errorf("%s token = %d, want 401", name, got)
			}
		}
	})
}

// TestAccess_EndUserTokenOnEveryRoute walks every route of every entry
// point with an end-user token: only that person's own preferences
// answer, and nothing the admin sees changes.
func TestAccess_EndUserTokenOnEveryRoute(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAccessEnv(t, db)
		token := e.endUserToken(e.base.UserCode)
		own := map[string]bool{
			"GET /api/v1/me/preferences": true, "PUT /api/v1/me/preferences": true,
			"GET /api/v1/users/{id}/preferences": true, "PUT /api/v1/users/{id}/preferences": true,
			// The embedded inbox's: the person's own inbox and panel.
			"GET /api/v1/me/inbox": true, "GET /api/v1/me/inbox/unread-count": true, "GET /api/v1/me/inbox/stream": true,
			"POST /api/v1/me/inbox/{message_id}/read": true, "POST /api/v1/me/inbox/read-all": true, "GET /api/v1/me/preference-panel": true,
			"GET /api/v1/users/{id}/inbox": true, "GET /api/v1/users/{id}/inbox/stream": true,
			"POST /api/v1/users/{id}/inbox/{message_id}/read": true, "POST /api/v1/users/{id}/inbox/read-all": true,
		}
		// The console cannot be signed in to with one.
		if w := e.raw("POST", "/console/signin", url.Values{"token": {token}, "next": {"/console/"}}); w.Code == http.StatusSeeOther {
			t.Fatalf("console sign-in with an end-user token: %d %s", w.Code, w.Header().Get("Location"))
		}
		before := e.dump()
		walked := 0
		for _, r := range accessRoutes() {
			if r.surface == sConsole || own[r.pattern] {
				continue
			}
			x := e.base
			q := r.req(&x)
			hv := map[string][2]string{
				sAPI: {"Authorization", "Bearer " + token}, sBuild: {"X-Auth-Token", token}, sDeploy: {"X-Auth-Token", token},
				sKintone: {"X-Cybozu-API-Token", token}, sFeishu: {"Authorization", "Bearer " + token}, sSettings: {"Authorization", "Token " + token},
			}[r.surface]
			w := e.raw(q.method, q.path, q.body, append(slices.Clone(q.header), hv[0], hv[1])...)
			walked++
			if w.Code/100 == 2 || w.Code < 400 {
				t.Errorf("%s %s (%s %s) with an end-user token = %d %s", r.surface, r.pattern, q.method, q.path, w.Code, truncate(w.Body.String()))
			}
		}
		if after := e.dump(); after != before {
			t.Errorf("an end-user token changed what the admin sees:\n%s", diffLines(before, after))
		}
		t.Logf("%d routes refused an end-user token", walked)
	})
}
