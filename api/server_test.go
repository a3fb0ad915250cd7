package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/embed"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// testServer is the native API over a real store, with the bootstrap
// tenant's admin token.
type testServer struct {
	t     *testing.T
	db    *store.DB
	h     http.Handler
	admin string
	logs  *syncBuffer
	n     int // fixtures made, so that their codes differ
}

// syncBuffer is a log sink the handlers of parallel requests may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer serves the native API over db; opts adjust the server
// before its handler is built.
func newTestServer(t *testing.T, db *store.DB, opts ...func(*Server)) *testServer {
	t.Helper()
	secret, err := db.Bootstrap(context.Background())
	if err != nil || secret == "" {
		t.Fatalf("Bootstrap = %q, %v", secret, err)
	}
	logs := &syncBuffer{}
	g := storetest.Guard(db)
	s := &Server{
		Tokens: g.Tokens, Tenants: db, Projects: g.Projects, Sources: g.Sources, Directory: g.Directory, Notifiers: g.Notifiers, Settings: g.Settings, Templates: g.Templates,
		Events: g.Events, Deliveries: g.Deliveries, Inbox: g.Inbox, InboxPoll: 20 * time.Millisecond, Pushes: g.Pushes,
		Preferences: g.Preferences, EndUserKeys: g.EndUserKeys, Origins: db, Embed: embed.Handler(),
		Ready:  db.Ping,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	for _, o := range opts {
		o(s)
	}
	return &testServer{t: t, db: db, h: contractHandler(t, s.Handler()), admin: secret, logs: logs}
}

// response is a recorded answer.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.Code, r.Body) }

// problem decodes the answer as a problem document, checking its shape.
func (r *response) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (answer %s)", ct, r)
	}
	var p Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("problem: %v (answer %s)", err, r)
	}
	if p.Type != "about:blank" || p.Status != r.Code || p.Title != http.StatusText(r.Code) || p.Code == "" || p.Detail == "" {
		t.Fatalf("malformed problem %+v for status %d", p, r.Code)
	}
	return p
}

// do sends a request: body is nil, a string sent as is, or a value encoded
// as JSON. headers are name, value pairs; a token of "" sends none.
func (ts *testServer) do(method, path, token string, body any, headers ...string) *response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// One request id for every request, so that tests comparing two
	// answers (an existence oracle) compare what differs by the request.
	req.Header.Set(RequestIDHeader, "test")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if strings.HasSuffix(req.URL.Path, "/stream") {
		// A stream answers until its client leaves: leave soon.
		ctx, cancel := context.WithTimeout(req.Context(), 300*time.Millisecond)
		defer cancel()
		req = req.WithContext(ctx)
	}
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, req)
	return &response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// must sends a request and fails the test unless it answers want; it
// decodes the answer into out when out is not nil.
func (ts *testServer) must(want int, method, path, token string, body, out any) *response {
	ts.t.Helper()
	r := ts.do(method, path, token, body)
	if r.Code != want {
		ts.t.Fatalf("%s %s = %s, want %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			ts.t.Fatalf("%s %s: decode %s: %v", method, path, r.Body, err)
		}
	}
	return r
}

// fixture is one of each object, created over HTTP.
type fixture struct {
	Project, Source, Notifier, User, Group, Department, Chat, Token int64
	Event, Delivery, Message                                        int64
	Push                                                            int64
}

// jobID is a CodeArts-style 32-character id.
const jobID = "0123456789abcdef0123456789ABCDEF"

func (ts *testServer) newFixture(token string) fixture {
	ts.t.Helper()
	var f fixture
	var obj struct {
		ID int64 `json:"id"`
	}
	ext, sfx := jobID, ""
	if ts.n > 0 {
		ext, sfx = fmt.Sprintf("%032d", ts.n), fmt.Sprint("-", ts.n)
	}
	ts.n++
	ts.must(201, "POST", "/api/v1/projects", token, map[string]any{"name": "Payments"}, &obj)
	f.Project = obj.ID
	ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/sources", f.Project), token,
		map[string]any{"kind": "build_job", "external_id": ext, "name": "nightly"}, &obj)
	f.Source = obj.ID
	ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), token,
		map[string]any{"type": "webhook", "name": "ops hook", "config": map[string]any{"url": "https://hooks.example.com/x"}, "secret": "whsec_czNjcmV0"}, &obj)
	f.Notifier = obj.ID
	ts.must(201, "POST", "/api/v1/users", token, map[string]any{"code": "alice" + sfx, "name": "Alice", "email": "alice@example.com"}, &obj)
	f.User = obj.ID
	ts.must(201, "POST", "/api/v1/groups", token, map[string]any{"code": "ops" + sfx, "name": "Ops", "member_ids": []int64{f.User}}, &obj)
	f.Group = obj.ID
	ts.must(201, "POST", "/api/v1/departments", token, map[string]any{"code": "eng" + sfx, "name": "Engineering"}, &obj)
	f.Department = obj.ID
	ts.must(201, "POST", "/api/v1/chats", token, map[string]any{"code": "oc_123" + sfx, "name": "Ops chat", "notifier_id": f.Notifier}, &obj)
	f.Chat = obj.ID
	ts.must(201, "POST", "/api/v1/tokens", token, map[string]any{"name": "reader", "permissions": []string{"settings:read"}}, &obj)
	f.Token = obj.ID
	ts.must(201, "POST", "/api/v1/pushes", token, map[string]any{"job_name": "notice", "content": "hello", "push_scope_type": 2,
		"user_ids": []int64{f.User}, "department_ids": []int64{f.Department}, "chat_ids": []int64{f.Chat}}, &obj)
	f.Push = obj.ID
	ts.must(202, "POST", "/api/v1/events", token, map[string]any{"source_id": f.Source, "type": "build.failed", "creator": "alice" + sfx}, &obj)
	f.Event = obj.ID

	// What a fan-out of the event records: an inbox message for Alice and
	// a webhook delivery (no engine runs in these tests).
	p, err := ts.db.Authenticate(context.Background(), token)
	if err != nil {
		ts.t.Fatal(err)
	}
	ctx := herald.NewContextWithPrincipal(context.Background(), p)
	if _, err := ts.db.RecordFanouts(ctx, []store.Fanout{{EventID: f.Event, Deliveries: []store.NewDelivery{
		{NotifierID: f.Notifier, Channel: "webhook", Target: "hooks.example.com", Status: herald.StatusPending, Message: []byte(`{}`)},
		{NotifierID: f.Notifier, Channel: "inbox", UserID: f.User, Target: "alice" + sfx, Status: herald.StatusDelivered, Message: []byte(`{}`),
			Inbox: &herald.InboxMessage{UserID: f.User, Title: "Build failed", Body: "nightly"}},
	}}}); err != nil {
		ts.t.Fatal(err)
	}
	ds, _, err := ts.db.FindDeliveries(ctx, herald.DeliveryFilter{EventID: f.Event}, herald.Page{})
	if err != nil || len(ds) != 2 {
		ts.t.Fatalf("fixture deliveries: %v %v", ds, err)
	}
	f.Delivery = ds[0].ID
	msgs, _, err := ts.db.FindInbox(ctx, f.User, herald.InboxFilter{}, herald.Page{})
	if err != nil || len(msgs) != 1 {
		ts.t.Fatalf("fixture inbox: %v %v", msgs, err)
	}
	f.Message = msgs[0].ID
	return f
}

// newToken creates a token through the API and returns its secret.
func (ts *testServer) newToken(admin string, c herald.TokenCreate) string {
	ts.t.Helper()
	var out struct {
		Secret string `json:"secret"`
	}
	ts.must(201, "POST", "/api/v1/tokens", admin, c, &out)
	if !strings.HasPrefix(out.Secret, herald.TokenPrefix) {
		ts.t.Fatalf("token secret %q lacks the %s prefix", out.Secret, herald.TokenPrefix)
	}
	return out.Secret
}

// dump reads every list and settings document the fixture reaches, to
// check that a refused request changed nothing.
func (ts *testServer) dump(token string, f fixture) string {
	ts.t.Helper()
	var sb strings.Builder
	paths := []string{
		"/api/v1/projects", "/api/v1/users", "/api/v1/groups", "/api/v1/departments", "/api/v1/chats",
		fmt.Sprintf("/api/v1/projects/%d/sources", f.Project),
		fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project),
	}
	for _, scope := range []string{fmt.Sprintf("/api/v1/sources/%d", f.Source), fmt.Sprintf("/api/v1/projects/%d", f.Project)} {
		paths = append(paths, scope+"/settings?version=draft", scope+"/settings?version=live", scope+"/settings/history")
	}
	for _, p := range paths {
		r := ts.must(200, "GET", p, token, nil, nil)
		fmt.Fprintf(&sb, "%s\n%s\n", p, r.Body)
	}
	// Tokens, without last_used_at, which authentication itself moves.
	var tokens listPage[*herald.Token]
	ts.must(200, "GET", "/api/v1/tokens", token, nil, &tokens)
	for _, t := range tokens.Items {
		t.LastUsedAt = nil
	}
	b, _ := json.Marshal(tokens)
	fmt.Fprintf(&sb, "tokens\n%s\n", b)
	return sb.String()
}
