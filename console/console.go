// Package console serves Herald's web console under /console from the
// same binary as the API: server-rendered html/template pages with plain
// forms, a little CSS and vanilla JavaScript, all embedded with go:embed.
//
// A person signs in by pasting a Herald token. The session is kept on the
// server (Sessions): the cookie carries only a random secret, of which the
// store keeps a hash, with the session's token and expiry. Every request
// looks the session up and checks its token again, so signing out ends the
// session for any copy of the cookie and a revoked token ends its sessions
// at once. The cookie is Secure, with the __Host- prefix, when the request
// came over https (see PublicURL and TrustedProxies). Every page acts as
// the token's principal (herald.NewContextWithPrincipal), so the services
// scope each call to its tenant and check its permissions exactly as for
// the API. Every POST carries the session's CSRF token in a hidden field; a
// missing or wrong one is refused with 403 and changes nothing.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel/senders"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// LogStore holds the delivery log's queries: newest first, and the counts
// of the per-minute chart. *store.DB implements it.
type LogStore interface {
	FindDeliveriesNewest(ctx context.Context, f herald.DeliveryFilter, p herald.Page) ([]*herald.Delivery, string, error)
	FindEventsNewest(ctx context.Context, projectID int64, p herald.Page) ([]*herald.Event, string, error)
	CountDeliveriesByMinute(ctx context.Context, since time.Time) (map[time.Time]map[string]int, error)
	// CountDeliveriesUpTo counts a filter's deliveries, up to limit (the
	// bulk retry's confirmation).
	CountDeliveriesUpTo(ctx context.Context, f herald.DeliveryFilter, limit int) (int, error)
	// NameDeliveries gives a page of deliveries the names the log shows.
	NameDeliveries(ctx context.Context, ds []*herald.Delivery) ([]*herald.DeliveryEntry, error)
}

// Console is the web console, an api.Surface. Set the services and mount
// it with Register (api.Server does, for each of its Surfaces).
type Console struct {
	Tokens    herald.TokenService
	Projects  herald.ProjectService
	Sources   herald.SourceService
	Directory herald.DirectoryService
	Notifiers herald.NotifierService
	// NotifierSender reads a notifier's credentials for a test message.
	NotifierSender herald.NotifierSender
	Settings       herald.SettingsService
	// Records shows a Kintone app's per-record and reminder
	// notifications on its settings page; nil leaves them out.
	Records    herald.RecordNotificationService
	Events     herald.EventService
	Deliveries herald.DeliveryService
	Log        LogStore
	// Pushes serves the pushes page; nil leaves the page out.
	Pushes herald.PushService
	// Preferences shows a person's notification preferences on their
	// directory page; nil leaves them out.
	Preferences herald.PreferenceService

	// Sessions keeps the sign-ins on the server: signing out, or revoking
	// the token, ends a session for every copy of its cookie. Required.
	Sessions SessionStore

	// SessionKey derives the sessions' CSRF tokens (any length; at least 16
	// bytes of secret, e.g. the server's secret key). Required.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
	// PublicURL is the URL people reach Herald at (HERALD_PUBLIC_URL). When
	// it is https://…, every session cookie is Secure and takes the __Host-
	// prefix (with Path=/), whatever the request looks like: set it when a
	// proxy ends TLS in front of Herald. Empty: decide per request.
	PublicURL string
	// TrustedProxies are the addresses of the reverse proxies whose
	// X-Forwarded-Proto header is believed (HERALD_TRUSTED_PROXIES): a
	// request from one of them whose header's first value is https gets
	// the Secure, __Host- cookie, as a request over TLS does. From any other
	// address the header is ignored, since a client can send it.
	TrustedProxies []netip.Prefix
	// AllowPrivateTargets lets "send test message" reach loopback and
	// private addresses, as the delivery engine's option of that name.
	AllowPrivateTargets bool
	// HTTPClient overrides the guarded client test messages go through
	// (when Senders is nil).
	HTTPClient *http.Client
	// Senders is the sender factory shared with the engine and OTP.
	Senders *senders.Factory
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger

	once  sync.Once
	pages map[string]*template.Template
	err   error
}

// Register mounts the console's routes on mux under /console.
func (c *Console) Register(mux *http.ServeMux) {
	c.init()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	// Someone who opens the server's address lands on the console.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.Handle("GET /console/signin", c.public(c.handleSignInForm))
	mux.Handle("POST /console/signin", c.public(c.handleSignIn))
	mux.Handle("GET /console/lang/{lang}", c.public(c.handleLang))

	mux.Handle("POST /console/signout", c.private(c.handleSignOut))
	mux.Handle("GET /console/{$}", c.private(c.handleProjects))
	mux.Handle("POST /console/projects", c.private(c.handleCreateProject))
	mux.Handle("GET /console/projects/{pid}", c.private(c.handleProject))
	mux.Handle("POST /console/projects/{pid}/sources", c.private(c.handleCreateSource))
	mux.Handle("POST /console/projects/{pid}/delete", c.private(c.handleDeleteProject))
	mux.Handle("POST /console/projects/{pid}", c.private(c.handleUpdateProject))

	mux.Handle("GET /console/projects/{pid}/sources/{sid}", c.private(c.handleMatrix))
	mux.Handle("POST /console/projects/{pid}/sources/{sid}/settings", c.private(c.handleSaveMatrix))
	mux.Handle("GET /console/projects/{pid}/sources/{sid}/cell", c.private(c.handleCell))
	mux.Handle("POST /console/projects/{pid}/sources/{sid}/cell", c.private(c.handleSaveCell))
	mux.Handle("POST /console/projects/{pid}/sources/{sid}/deploy", c.private(c.handleDeploy))
	mux.Handle("GET /console/projects/{pid}/sources/{sid}/history", c.private(c.handleHistory))
	mux.Handle("POST /console/projects/{pid}/sources/{sid}/restore", c.private(c.handleRestore))
	mux.Handle("POST /console/projects/{pid}/sources/{sid}/test-event", c.private(c.handleTestEvent))

	mux.Handle("GET /console/projects/{pid}/notifiers/new", c.private(c.handleNotifierForm))
	mux.Handle("POST /console/projects/{pid}/notifiers", c.private(c.handleSaveNotifier))
	mux.Handle("GET /console/notifiers/{id}", c.private(c.handleNotifierForm))
	mux.Handle("POST /console/notifiers/{id}", c.private(c.handleSaveNotifier))
	mux.Handle("POST /console/notifiers/{id}/test", c.private(c.handleTestNotifier))

	mux.Handle("GET /console/directory", c.private(c.handleDirectory))
	c.directoryRoutes(mux)

	mux.Handle("GET /console/log", c.private(c.handleLog))
	mux.Handle("GET /console/events/{id}", c.private(c.handleEvent))
	mux.Handle("POST /console/deliveries/{id}/retry", c.private(c.handleRetry))
	mux.Handle("GET /console/log/retry", c.private(c.handleRetryForm))
	mux.Handle("POST /console/log/retry", c.private(c.handleRetryAll))

	if c.Pushes != nil {
		mux.Handle("GET /console/pushes", c.private(c.handlePushes))
		mux.Handle("POST /console/pushes", c.private(c.handleCreatePush))
		mux.Handle("POST /console/pushes/{id}", c.private(c.handlePushAction))
		mux.Handle("POST /console/push-policy", c.private(c.handlePushPolicy))
	}
}

func (c *Console) init() {
	c.once.Do(func() {
		c.pages, c.err = parsePages()
		if c.err != nil {
			panic(fmt.Sprintf("console: %v", c.err)) // the templates are embedded: a bug, not input
		}
	})
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// handler is a console handler; it returns an error for fail to render.
type handler func(w http.ResponseWriter, r *http.Request, v *view) error

// view is what every page template receives: the request's language,
// session and flash message, and the page's own data.
type view struct {
	Lang    string
	Path    string
	Session *session
	// Pushes says whether the pushes page is mounted.
	Pushes bool
	Flash  string
	Error  string
	Title  string
	Data   any
	// Form is a refused form shown again (form.go); nil otherwise.
	Form *form
}

// T translates a message for the view's language.
func (v *view) T(msg string) string { return translate(v.Lang, msg) }

// securityHeaders keeps the console out of frames and off other origins'
// scripts; the console itself uses no inline script.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// public serves a page that needs no session.
func (c *Console) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		v := &view{Lang: language(r), Path: r.URL.Path}
		if err := h(w, r, v); err != nil {
			c.fail(w, r, v, err)
		}
	})
}

// private serves a page that needs a session: without one it redirects to
// sign-in (a POST without one is 403); a POST must carry the session's
// CSRF token. The handler runs as the session's principal.
func (c *Console) private(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		v := &view{Lang: language(r), Path: r.URL.Path}
		s, p, err := c.readSession(r)
		if err != nil && herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			c.fail(w, r, v, err) // the look-up failed: the session may be fine
			return
		}
		if err != nil {
			c.clearSessionCookie(w, r)
			if r.Method != http.MethodGet {
				http.Error(w, translate(v.Lang, "Your session has ended. Sign in again."), http.StatusForbidden)
				return
			}
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := parsePost(r); err != nil || !s.checkCSRF(r.PostForm.Get("csrf")) {
				http.Error(w, translate(v.Lang, "This form has expired or did not come from the console. Reload the page and try again."), http.StatusForbidden)
				return
			}
		}
		v.Session, v.Pushes = s, c.Pushes != nil
		if f := r.URL.Query().Get("flash"); flashes[f] {
			v.Flash = f
		}
		r = r.WithContext(herald.NewContextWithPrincipal(r.Context(), p))
		if err := h(w, r, v); err != nil {
			c.fail(w, r, v, err)
		}
	})
}

// parsePost parses a POST's form: urlencoded, or multipart (a file
// upload), whose parts stay in memory within the body's bound.
func parsePost(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(1 << 20)
	}
	return r.ParseForm()
}

// statuses maps herald error codes to HTTP statuses for error pages.
var statuses = map[string]int{
	herald.EINVALID:      http.StatusBadRequest,
	herald.ENOTFOUND:     http.StatusNotFound,
	herald.ECONFLICT:     http.StatusConflict,
	herald.EUNAUTHORIZED: http.StatusUnauthorized,
	herald.EFORBIDDEN:    http.StatusForbidden,
	herald.ERATELIMITED:  http.StatusTooManyRequests,
	herald.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	herald.ENOTALLOWED:   http.StatusConflict,
}

// fail renders err as the console's error page: the one place the
// console turns an error into a status. Only internal errors are logged.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	code := herald.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
		c.logger().ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
	}
	v.Title = "Error"
	v.Error = errorText(v.Lang, err)
	v.Data = nil
	c.render(w, status, "error", v)
}

// fieldLabels names the API members a console form sets by the labels the
// person sees on the form, so that an error names what they typed.
var fieldLabels = map[string]string{
	"name":                 "Name",
	"secret":               "Secret",
	"config.url":           "URL",
	"config.method":        "Method",
	"config.host":          "SMTP host",
	"config.port":          "Port",
	"config.tls":           "TLS",
	"config.tls_ca_pem":    "Private CA (PEM certificates)",
	"config.username":      "Username",
	"config.password":      "Secret",
	"config.from":          "From",
	"config.headers":       "Headers (one per line, Name: value)",
	"config.http_headers":  "Headers (one per line, Name: value)",
	"config.message_body":  "Message body template",
	"config.at_mobiles":    "Mention mobiles (comma separated)",
	"config.at_user_ids":   "Mention user IDs (comma separated)",
	"config.rate_limit":    "Rate limit",
	"external_id":          "External ID",
	"kind":                 "Kind",
	"space_id":             "Space ID",
	"type":                 "Type",
	"description":          "Description",
	"insecure_skip_verify": "Do not verify the server certificate (logged as a warning)",
}

// errorText is the message a person reads for err: the field's form
// label, translated, stands for the API member it names.
func errorText(lang string, err error) string {
	msg, whole := translateError(lang, err)
	f := herald.ErrorField(err)
	if f == "" || whole {
		return msg
	}
	label := f
	for member, l := range fieldLabels {
		if f == member || strings.HasPrefix(f, member+".") || strings.HasPrefix(f, member+"[") {
			label = translate(lang, l)
			msg = strings.ReplaceAll(msg, member, label)
			break
		}
	}
	if !strings.Contains(msg, label) {
		msg = label + ": " + msg
	}
	return msg
}

// render executes a page template; a template error after the header is
// written can only be logged.
func (c *Console) render(w http.ResponseWriter, status int, page string, v *view) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.logger().Error("console: render", "page", page, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(v.invalidStatus(status))
	_, _ = w.Write([]byte(b.String()))
}

// page renders a page with 200 OK.
func (c *Console) page(w http.ResponseWriter, name, title string, v *view, data any) error {
	v.Title, v.Data = title, data
	c.render(w, http.StatusOK, name, v)
	return nil
}

// flashes are the messages a redirect may ask the next page to show; any
// other flash parameter is ignored, so a link cannot put words in the
// console's mouth.
var flashes = map[string]bool{
	"Project created.": true, "Source created.": true, "Draft saved.": true, "Deployed.": true,
	"Draft discarded.": true, "Notifier saved.": true, "Delivery queued for retry.": true,
	"Push created.": true, "Push updated.": true, "Project deleted.": true,
	"Push policy saved.": true,
}

// redirect answers a POST with 303 to target, with an optional flash
// message shown on the next page.
func redirect(w http.ResponseWriter, r *http.Request, target, flash string) error {
	if flash != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "flash=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// pathID reads a positive integer path value (0 allowed when zeroOK).
func pathID(r *http.Request, name string, zeroOK bool) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 0 || (id == 0 && !zeroOK) {
		return 0, herald.Errorf(herald.ENOTFOUND, "", "no such page")
	}
	return id, nil
}

// formID reads an optional non-negative integer form or query value.
func formID(r *http.Request, name string) (int64, error) {
	s := strings.TrimSpace(r.FormValue(name))
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, herald.Errorf(herald.EINVALID, name, "%s must be a number", name)
	}
	return id, nil
}

// pageOf reads the page cursor of a list from the query.
func pageOf(r *http.Request, param string) herald.Page {
	return herald.Page{Limit: herald.DefaultPageLimit, Cursor: r.URL.Query().Get(param)}
}

// withQuery returns r's URL with key set to value (removed when empty):
// the link to the next page of a list keeps the filters.
func withQuery(r *http.Request, key, value string) string {
	q := r.URL.Query()
	q.Del("flash")
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

// isCode reports whether err carries the herald error code.
func isCode(err error, code string) bool {
	var he *herald.Error
	return errors.As(err, &he) && he.Code == code
}
