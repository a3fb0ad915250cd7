package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

var _ api.Surface = (*console.Console)(nil)

// clock is the real clock moved forward by Add, for session expiry; it
// keeps running, as the delivery log's chart expects.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// testBundle is a native server with the console on a fresh SQLite store.
type testBundle struct {
	db      *store.DB
	srv     *httptest.Server
	token   string
	ctx     context.Context // acts as the bootstrap admin
	clock   *clock
	console *console.Console
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupOn(t, store.DialectSQLite)
}

// setupOn is setup on a fresh store of dialect.
func setupOn(t *testing.T, dialect string) *testBundle {
	t.Helper()
	db := storetest.NewDB(t, dialect)
	ctx := context.Background()
	secret, err := db.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	gs := storetest.Guard(db)
	con := &console.Console{Tokens: gs.Tokens, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Records: gs.RecordNotifications, Events: gs.Events, Deliveries: gs.Deliveries, Log: gs.Log, Pushes: gs.Pushes, NotifierSender: gs.NotifierSender, Sessions: db, SessionKey: storetest.Key(), Now: clk.Now, AllowPrivateTargets: true}
	h := (&api.Server{Tokens: gs.Tokens, Tenants: db, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Events: gs.Events, Deliveries: gs.Deliveries, Inbox: gs.Inbox, Surfaces: []api.Surface{con}}).Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testBundle{db: db, srv: srv, token: secret, ctx: herald.NewContextWithPrincipal(ctx, p), clock: clk, console: con}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	t    *testing.T
	b    *testBundle
	c    *http.Client
	lang string
}

func (b *testBundle) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, b: b, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a request and returns the status, the Location and the body.
func (br *browser) do(method, path string, form url.Values) (int, string, string) {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.b.srv.URL+path, body)
	if err != nil {
		br.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if br.lang != "" {
		req.Header.Set("Accept-Language", br.lang)
	}
	resp, err := br.c.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (br *browser) get(path string) (int, string) {
	br.t.Helper()
	st, _, body := br.do("GET", path, nil)
	return st, body
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of a page's forms.
func (br *browser) csrf(path string) string {
	br.t.Helper()
	st, body := br.get(path)
	m := reCSRF.FindStringSubmatch(body)
	if st != 200 || m == nil {
		br.t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, st, body)
	}
	return m[1]
}

// signIn signs in with the bootstrap token.
func (br *browser) signIn() {
	br.t.Helper()
	st, loc, body := br.do("POST", "/console/signin", url.Values{"token": {br.b.token}, "next": {"/console/"}})
	if st != http.StatusSeeOther || loc != "/console/" {
		br.t.Fatalf("sign in: %d %q\n%s", st, loc, body)
	}
}

// post posts a form with the page's CSRF token.
func (br *browser) post(page, action string, form url.Values) (int, string, string) {
	br.t.Helper()
	form.Set("csrf", br.csrf(page))
	return br.do("POST", action, form)
}

// fixture creates a project, a source and an inbox notifier.
func (b *testBundle) fixture(t *testing.T) (*herald.Project, *herald.Source, *herald.Notifier) {
	t.Helper()
	p := &herald.Project{Name: "Shop"}
	if err := b.db.CreateProject(b.ctx, p); err != nil {
		t.Fatal(err)
	}
	s := &herald.Source{ProjectID: p.ID, Kind: herald.SourceGeneric, ExternalID: "checkout", Name: "Checkout"}
	if err := b.db.CreateSource(b.ctx, s); err != nil {
		t.Fatal(err)
	}
	n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "In-app"}
	if err := b.db.CreateNotifier(b.ctx, n); err != nil {
		t.Fatal(err)
	}
	return p, s, n
}

func matrixPath(p *herald.Project, s *herald.Source) string {
	return "/console/projects/" + strconv.FormatInt(p.ID, 10) + "/sources/" + strconv.FormatInt(s.ID, 10)
}

func TestPages_Render(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, n := b.fixture(t)
	br := b.browser(t)
	br.signIn()
	dep := &herald.Department{Code: "eng", Name: "Engineering"}
	if err := b.db.CreateDepartment(b.ctx, dep); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/console/":                                      "Shop",
		"/console/projects/" + itoa(p.ID):                "Checkout",
		matrixPath(p, s):                                 "Add an event type",
		matrixPath(p, s) + "/history":                    "Settings history",
		"/console/projects/" + itoa(p.ID) + "/sources/0": "Project defaults",
		matrixPath(p, s) + "/cell?notifier=" + itoa(n.ID) + "&event=build.failed": "Include sub-departments",
		"/console/notifiers/" + itoa(n.ID):                                        "In-app",
		"/console/projects/" + itoa(p.ID) + "/notifiers/new?type=email":           "SMTP host",
		"/console/directory": "Engineering",
		"/console/log":       "Deliveries per minute",
	} {
		st, body := br.get(path)
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q\n%s", path, st, want, body)
		}
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// startEngine runs the delivery engine on the bundle's database, with
// maxAttempts tries per delivery (0: the default).
func startEngine(t *testing.T, b *testBundle, maxAttempts int) {
	t.Helper()
	engine, err := queue.New(b.db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond,
		MaxAttempts: maxAttempts, BackoffBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
}
