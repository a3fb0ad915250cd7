package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald"
)

// fakeTokens accepts the secret "good" as a settings reader of tenant 1.
type fakeTokens struct{ herald.TokenService }

func (fakeTokens) Authenticate(_ context.Context, secret string) (*herald.Principal, error) {
	if secret == "good" {
		return &herald.Principal{TenantID: 1, TokenName: "good", Permissions: []herald.Permission{herald.PermSettingsRead}}, nil
	}
	return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid or revoked token")
}

// brokenProjects fails the way a database does, with internals in the
// message.
type brokenProjects struct{ herald.ProjectService }

func (brokenProjects) FindProjects(context.Context, herald.Page) ([]*herald.Project, string, error) {
	return nil, "", errors.New("dial tcp 10.0.0.7:5432: password authentication failed for user herald")
}

// vendorSurface is a vendor API on the same mux: it reads the principal
// the server put in the context and renders its own 401.
type vendorSurface struct{}

func (vendorSurface) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /vendor/whoami", func(w http.ResponseWriter, r *http.Request) {
		p := herald.PrincipalFromContext(r.Context())
		if p == nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errcode":40001}`))
			return
		}
		_, _ = w.Write([]byte(p.TokenName))
	})
	mux.HandleFunc("GET /vendor/panic", func(http.ResponseWriter, *http.Request) {
		panic("vendor bug")
	})
}

type unitServer struct {
	h    http.Handler
	logs *syncBuffer
	reg  *prometheus.Registry
}

func newUnitServer(t testing.TB, ready func(context.Context) error) *unitServer {
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	s := &Server{
		Tokens:   fakeTokens{},
		Projects: brokenProjects{},
		Ready:    ready,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Registry: reg,
		Surfaces: []Surface{vendorSurface{}},
	}
	return &unitServer{h: contractHandler(t, s.Handler()), logs: logs, reg: reg}
}

func (u *unitServer) get(path string, headers ...string) *httptest.ResponseRecorder {
	return u.serve("GET", path, headers...)
}

func (u *unitServer) serve(method, path string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	u.h.ServeHTTP(w, r)
	return w
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, func(context.Context) error { return errors.New("db down") })
	w := u.get("/healthz")
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz = %d %s", w.Code, w.Body)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	up := newUnitServer(t, func(context.Context) error { return nil })
	if w := up.get("/readyz"); w.Code != 200 {
		t.Fatalf("readyz with the database up = %d %s", w.Code, w.Body)
	}
	down := newUnitServer(t, func(context.Context) error { return errors.New("connection refused") })
	w := down.get("/readyz")
	if w.Code != 503 || strings.Contains(w.Body.String(), "refused") {
		t.Fatalf("readyz with the database down = %d %s, want 503 without the cause", w.Code, w.Body)
	}
	if !strings.Contains(down.logs.String(), "connection refused") {
		t.Fatalf("the cause is not logged: %s", down.logs)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	u.get("/healthz")
	u.get("/api/v1/projects/7")
	u.get("/no/such/thing")
	w := u.get("/metrics")
	if w.Code != 200 {
		t.Fatalf("metrics = %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`herald_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		// The route pattern, not the path: one series for every id; the
		// method is a label of its own, not repeated in the route.
		`herald_http_requests_total{method="GET",route="/api/v1/projects/{id}",status="401"} 1`,
		`herald_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`herald_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// A second handler on the same registry shares the collectors.
	(&Server{Registry: u.reg}).Handler()
}

// Every answer carries an X-Request-Id: the client's own when it is
// sane, a new one otherwise. The native API's problem documents repeat
// it, the request's log line names it, and vendor surfaces get the header
// with their bodies untouched.
func TestRequestID(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	w := u.get("/api/v1/projects/7", "X-Request-Id", "edge-42")
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != 401 {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get("X-Request-Id"); got != "edge-42" || p.RequestID != "edge-42" {
		t.Errorf("X-Request-Id %q, problem request_id %q; want the client's edge-42 in both", got, p.RequestID)
	}
	if logs := u.logs.String(); !strings.Contains(logs, "request_id=edge-42") {
		t.Errorf("the request's log line lacks its id:\n%s", logs)
	}

	for _, bad := range []string{"", "two words", strings.Repeat("x", 200), "inject\"quote"} {
		w := u.get("/api/v1/nothing", "X-Request-Id", bad)
		var p Problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		id := w.Header().Get("X-Request-Id")
		if id == "" || id == bad || p.RequestID != id || len(id) > 128 {
			t.Errorf("incoming %q: header %q, problem request_id %q; want a new id in both", bad, id, p.RequestID)
		}
	}

	w = u.get("/vendor/whoami")
	if w.Header().Get("X-Request-Id") == "" || w.Body.String() != `{"errcode":40001}` {
		t.Errorf("vendor answer: X-Request-Id %q, body %s; want the header and the vendor's own body", w.Header().Get("X-Request-Id"), w.Body)
	}
}

func TestRecoverPanic(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	w := u.get("/vendor/panic")
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || strings.Contains(w.Body.String(), "vendor bug") {
		t.Fatalf("panic answered %d %s", w.Code, w.Body)
	}
	if logs := u.logs.String(); !strings.Contains(logs, "vendor bug") || !strings.Contains(logs, "level=ERROR") {
		t.Fatalf("panic not logged: %s", logs)
	}
	// The server goes on serving.
	if w := u.get("/healthz"); w.Code != 200 {
		t.Fatalf("after a panic healthz = %d", w.Code)
	}
}

func TestInternalErrorNotLeaked(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	w := u.get("/api/v1/projects", "Authorization", "Bearer good")
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != 500 {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if p.Code != herald.EINTERNAL || p.Detail != "Internal error." || strings.Contains(w.Body.String(), "password") {
		t.Fatalf("internal error shown as %+v", p)
	}
	if !strings.Contains(u.logs.String(), "password authentication failed") {
		t.Fatalf("internal error not logged: %s", u.logs)
	}
}

func TestSurfaceSeesPrincipal(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	if w := u.get("/vendor/whoami", "X-Cybozu-API-Token", "good"); w.Code != 200 || w.Body.String() != "good" {
		t.Fatalf("surface with a valid token = %d %s", w.Code, w.Body)
	}
	// Without a valid token the surface renders its own 401.
	for _, h := range [][]string{nil, {"X-Auth-Token", "bad"}} {
		if w := u.get("/vendor/whoami", h...); w.Code != 401 || w.Body.String() != `{"errcode":40001}` {
			t.Fatalf("surface with %v = %d %s", h, w.Code, w.Body)
		}
	}
}

func TestNoRoute(t *testing.T) {
	t.Parallel()
	u := newUnitServer(t, nil)
	w := u.get("/api/v1/nothing/here")
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown path = %d %s", w.Code, w.Body)
	}
	w = u.serve("PUT", "/api/v1/projects/3")
	if w.Code != 405 || w.Header().Get("Allow") != "GET, PATCH, DELETE" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("wrong method = %d Allow %q %s", w.Code, w.Header().Get("Allow"), w.Body)
	}
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{
		herald.EINVALID: 400, herald.ETOOLARGE: 413, herald.EUNAUTHORIZED: 401, herald.EFORBIDDEN: 403,
		herald.ENOTFOUND: 404, herald.ECONFLICT: 409, herald.ENOTALLOWED: 409, herald.ERATELIMITED: 429,
		herald.EINTERNAL: 500, "something new": 500,
	} {
		if got := StatusFor(code); got != want {
			t.Errorf("StatusFor(%q) = %d, want %d", code, got, want)
		}
	}
}
