package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/codeartsbuild"
	"github.com/heraldhq/herald/compat/codeartsdeploy"
	"github.com/heraldhq/herald/compat/feishu"
	"github.com/heraldhq/herald/compat/kintone"
	"github.com/heraldhq/herald/compat/settings"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// The access suite (issue 11, "One core for every entry point"): every
// route of every entry point, as newServer wires them, is called by four
// principals that must be refused — no token, a token lacking the
// permission herald.Policy names for the route's resource × action, a
// token holding it but scoped to another project, and one holding it in
// another tenant — and answers in its surface's own envelope, changing
// nothing the tenant's admin can see. A positive control per route (the
// right permission, the right project) must succeed, so each refusal is
// the access check's doing and not a broken request.

// Surfaces, as the table names them.
const (
	sAPI      = "api"
	sBuild    = "codeartsbuild"
	sDeploy   = "codeartsdeploy"
	sKintone  = "kintone"
	sFeishu   = "feishu"
	sSettings = "settings"
	sConsole  = "console"
)

// principal kinds the suite walks.
type principal int

const (
	pNone         principal = iota // no token (no session for the console)
	pLacking                       // every permission but the one needed
	pOtherProject                  // the permission, scoped to another project
	pOtherTenant                   // the permission, unscoped, of another tenant
	pRight                         // the positive control
)

var principalNames = map[principal]string{pNone: "no-token", pLacking: "lacking-permission", pOtherProject: "other-project", pOtherTenant: "other-tenant", pRight: "right-token"}

// bound says what a route's path or body names of the fixture tenant.
type bound int

const (
	boundNone    bound = iota // nothing: a list or a create; other scopes act on their own data
	boundTenant               // a tenant-level object (user, push, token…)
	boundProject              // an object of project P
)

// outcome is what a principal must get.
type outcome int

const (
	oUnauthorized outcome = iota
	oForbidden
	oNotFound
	oAllowed // 2xx, acting on its own data: must show nothing of P (or of tenant A)
	oInvalid // 400 naming the field: an id in the body that the principal cannot see reads as an unknown one
)

var outcomeNames = map[outcome]string{oUnauthorized: "unauthorized", oForbidden: "forbidden", oNotFound: "not_found", oAllowed: "allowed", oInvalid: "invalid"}

// Markers in the names of the fixture's objects: tenant-level objects of
// tenant A carry markTenant, objects of project P carry markProject. An
// answer allowed to another tenant must carry neither; one allowed to a
// token of project Q must not carry markProject.
const (
	markTenant  = "zqtenantmark"
	markProject = "zqprojmark"
)

// ids are what a request names; prep may replace some with fresh objects
// for the route's positive control (a delete, a push in a given state).
type ids struct {
	P, Q                          int64 // projects of tenant A; the fixture's is P
	PExt                          string
	Source, App, KApp, KGApp      int64
	JobID, AppID, KAppID, KGAppID string
	Space                         string
	Webhook, Inbox, SMS           int64
	Event, Delivery, Message      int64
	User, Group, Dept, Chat, Push int64
	Token                         int64
	UserCode                      string
	OTPID, OTPCode                string
	Rev                           int64 // draft revision of Source's settings (console forms)
	Change                        int64 // newest entry of Source's settings history (console restore)
	Seq                           int   // fresh per request: unique names
}

// areq is one request of the table.
type areq struct {
	method, path string
	body         any // nil, string (sent as is), url.Values (console form) or a JSON value
	header       []string
}

// accessRoute is one row: a route, the policy row it exercises, and how
// to call it.
type accessRoute struct {
	surface string
	pattern string // as registered
	res     herald.Resource
	act     herald.Action
	bound   bound
	// extra permissions the positive control needs besides the policy's
	// (another service the route also calls).
	extra []herald.Permission
	req   func(x *ids) areq
	// prep makes the state the positive control needs, in fresh objects.
	prep func(e *accessEnv, x *ids)
	// override replaces a derived outcome where the surface documents
	// another answer.
	override map[principal]outcome
	// name distinguishes rows sharing a pattern.
	name string
	// endUser: the positive control is the fixture person's end-user
	// token (an /api/v1/me route); API tokens are refused whatever they
	// hold.
	endUser bool
}

func (r accessRoute) rule() herald.Rule {
	rule, ok := herald.Policy[r.res][r.act]
	if !ok {
		panic(fmt.Sprintf("no policy row for %s %s", r.res, r.act))
	}
	return rule
}

// expect derives a principal's outcome from the policy row and what the
// route names.
func (r accessRoute) expect(p principal) outcome {
	if o, ok := r.override[p]; ok {
		return o
	}
	rule := r.rule()
	switch p {
	case pNone:
		return oUnauthorized
	case pLacking:
		return oForbidden
	case pOtherProject:
		// An object of another project is not found, as an unknown one,
		// before anything else is asked of it.
		switch {
		case r.bound == boundProject:
			return oNotFound
		case rule.TenantWide:
			return oForbidden
		}
		return oAllowed
	case pOtherTenant:
		if r.bound != boundNone {
			return oNotFound
		}
		return oAllowed
	}
	return oAllowed
}

// ---- the environment ----

type accessEnv struct {
	t      *testing.T
	db     *store.DB
	h      http.Handler
	srv    *api.Server
	adminA string // tenant A, unscoped admin
	adminP string // tenant A, admin scoped to P (the settings surface's project)
	adminB string
	gw     *smsGateway
	base   ids // the fixture
	qExt   string
	seq    int

	tokens  map[string]string // permission set + scope → secret
	cookies map[string]string // secret → console cookie header
	csrf    map[string]string // secret → CSRF token
}

// smsGateway is an SMS provider on 127.0.0.1 that records the texts.
type smsGateway struct {
	mu    sync.Mutex
	texts map[string]string // destination → last text
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]string
	_ = json.NewDecoder(r.Body).Decode(&m)
	g.mu.Lock()
	g.texts[m["to"]] = m["text"]
	g.mu.Unlock()
	_, _ = io.WriteString(w, `{"id": "1"}`)
}

func (g *smsGateway) last(to string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.texts[to]
}

var reCode = regexp.MustCompile(`\b([0-9]{4,10})\b`)

func newAccessEnv(t *testing.T, db *store.DB) *accessEnv {
	t.Helper()
	ctx := context.Background()
	secret, err := db.Bootstrap(ctx)
	if err != nil || secret == "" {
		t.Fatalf("Bootstrap = %q, %v", secret, err)
	}
	key := storetest.Key()
	// OTP as serve builds it, over the same database.
	codes, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: key, AllowPrivateTargets: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(db, codes, surfaceOptions{SessionKey: key, AllowPrivateTargets: true}, slog.New(slog.DiscardHandler))
	srv.InboxPoll = 20 * time.Millisecond
	gw := &smsGateway{texts: map[string]string{}}
	gsrv := httptest.NewServer(gw)
	t.Cleanup(gsrv.Close)
	e := &accessEnv{t: t, db: db, srv: srv, h: srv.Handler(), adminA: secret, gw: gw,
		tokens: map[string]string{}, cookies: map[string]string{}, csrf: map[string]string{}}

	// Tenant B, with one project seeded like P (so that its tokens have
	// something of their own to act on).
	tctx := storetest.NewTenant(t, db, "other")
	_, e.adminB, err = db.CreateToken(tctx, herald.TokenCreate{Name: "b-admin", Permissions: []herald.Permission{herald.PermAdmin}})
	if err != nil {
		t.Fatal(err)
	}

	x := &e.base
	e.seedProject(e.adminA, x, "P "+markProject, "pp", markProject, gsrv.URL)
	var q ids
	e.seedProject(e.adminA, &q, "Q", "qq", "qside", gsrv.URL)
	x.Q, e.qExt = q.P, q.PExt
	var b ids
	e.seedProject(e.adminB, &b, "B", "bb", "bside", gsrv.URL)
	e.seedTenant(e.adminA, x, markTenant)
	var bt ids
	e.seedTenant(e.adminB, &bt, "bside")
	e.adminP = e.newToken(e.adminA, herald.TokenCreate{Name: "admin-p", Permissions: []herald.Permission{herald.PermAdmin}, ProjectID: x.P})
	// Events and what their fan-out records (no engine runs here).
	x.Event, x.Delivery, x.Message = e.seedEvent(e.adminA, x, markProject)
	e.seedEvent(e.adminB, &b, "bside")
	e.seedEvent(e.adminA, &q, "qside")
	return e
}

// nextSeq returns a number no request used yet.
func (e *accessEnv) nextSeq() int {
	e.seq++
	return e.seq
}

// raw sends a request to the server.
func (e *accessEnv) raw(method, path string, body any, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if strings.HasSuffix(req.URL.Path, "/stream") {
		// A stream answers until its client leaves: leave soon.
		ctx, cancel := context.WithTimeout(req.Context(), 200*time.Millisecond)
		defer cancel()
		req = req.WithContext(ctx)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// must calls the native API as token and decodes the answer into out.
func (e *accessEnv) must(want int, method, path, token string, body, out any) []byte {
	e.t.Helper()
	w := e.raw(method, path, body, "Authorization", "Bearer "+token)
	if w.Code != want {
		e.t.Fatalf("setup: %s %s = %d %s, want %d", method, path, w.Code, w.Body, want)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			e.t.Fatalf("setup: %s %s: %v", method, path, err)
		}
	}
	return w.Body.Bytes()
}

func (e *accessEnv) create(token, path string, body any) int64 {
	e.t.Helper()
	var obj struct {
		ID int64 `json:"id"`
	}
	e.must(201, "POST", path, token, body, &obj)
	return obj.ID
}

func (e *accessEnv) newToken(admin string, c herald.TokenCreate) string {
	e.t.Helper()
	var out struct {
		Secret string `json:"secret"`
	}
	e.must(201, "POST", "/api/v1/tokens", admin, c, &out)
	return out.Secret
}

// seedProject makes a project with a source of every vendor kind, the
// notifiers the surfaces need, and OTP settings, as admin.
func (e *accessEnv) seedProject(admin string, x *ids, name, tag, mark, gateway string) {
	e.t.Helper()
	x.PExt = fmt.Sprintf("%-32s", tag+"proj")
	x.PExt = strings.ReplaceAll(x.PExt, " ", "0")
	x.P = e.create(admin, "/api/v1/projects", map[string]any{"name": name, "external_id": x.PExt})
	ext := func(kind string) string { return strings.ReplaceAll(fmt.Sprintf("%-32s", tag+kind), " ", "0") }
	src := fmt.Sprintf("/api/v1/projects/%d/sources", x.P)
	x.JobID, x.AppID = ext("job"), ext("app")
	x.Source = e.create(admin, src, map[string]any{"kind": "build_job", "external_id": x.JobID, "name": "job " + mark})
	x.App = e.create(admin, src, map[string]any{"kind": "application", "external_id": x.AppID, "name": "app " + mark})
	base := map[string]int{"pp": 7001, "qq": 7101, "bb": 7201}[tag]
	x.KAppID, x.KGAppID, x.Space = strconv.Itoa(base), strconv.Itoa(base+1), "5"
	x.KApp = e.create(admin, src, map[string]any{"kind": "app", "external_id": x.KAppID, "name": "kapp " + mark})
	x.KGApp = e.create(admin, src, map[string]any{"kind": "app", "external_id": x.KGAppID, "space_id": x.Space, "name": "kgapp " + mark})
	nf := fmt.Sprintf("/api/v1/projects/%d/notifiers", x.P)
	x.Webhook = e.create(admin, nf, map[string]any{"type": "webhook", "name": "hook " + mark, "config": map[string]any{"url": gateway + "/hook"}, "secret": "whsec_czNjcmV0"})
	x.Inbox = e.create(admin, nf, map[string]any{"type": "inbox", "name": "inbox " + mark})
	x.SMS = e.create(admin, nf, map[string]any{"type": "sms", "name": "sms " + mark, "config": map[string]any{"url": gateway + "/sms"}})
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/projects/%d", x.P), admin, map[string]any{"description": "about " + mark}, nil)
	// The project's OTP notifier, through the settings surface as a token
	// scoped to it.
	scoped := e.newToken(admin, herald.TokenCreate{Name: "seed " + tag, Permissions: []herald.Permission{herald.PermAdmin}, ProjectID: x.P})
	w := e.raw("PATCH", settings.PathNotifications, map[string]any{"notifications_sms_notifier": x.SMS}, "Authorization", "Token "+scoped)
	if w.Code != 200 {
		e.t.Fatalf("setup: OTP settings: %d %s", w.Code, w.Body)
	}
}

// seedTenant makes the tenant-level objects: people, a push and a token.
func (e *accessEnv) seedTenant(admin string, x *ids, mark string) {
	e.t.Helper()
	x.UserCode = "alice-" + mark
	x.User = e.create(admin, "/api/v1/users", map[string]any{"code": x.UserCode, "name": "Alice " + mark, "email": "alice@example.com"})
	x.Group = e.create(admin, "/api/v1/groups", map[string]any{"code": "ops-" + mark, "name": "Ops " + mark, "member_ids": []int64{x.User}})
	x.Dept = e.create(admin, "/api/v1/departments", map[string]any{"code": "eng-" + mark, "name": "Eng " + mark})
	x.Chat = e.create(admin, "/api/v1/chats", map[string]any{"code": "oc_" + mark, "name": "Chat " + mark})
	x.Push = e.create(admin, "/api/v1/pushes", map[string]any{"job_name": "push " + mark, "content": "hello " + mark, "push_scope_type": 2, "user_ids": []int64{x.User}})
	x.Token = e.create(admin, "/api/v1/tokens", map[string]any{"name": "reader " + mark, "permissions": []string{"settings:read"}})
}

// seedEvent posts an event of x's build job and records what its fan-out
// would: a failed webhook delivery (retryable) and an inbox message.
func (e *accessEnv) seedEvent(admin string, x *ids, mark string) (event, delivery, message int64) {
	e.t.Helper()
	var ev struct {
		ID int64 `json:"id"`
	}
	e.must(202, "POST", "/api/v1/events", admin, map[string]any{"source_id": x.Source, "type": "build.failed", "creator": "nobody"}, &ev)
	delivery, message = e.record(admin, x, ev.ID, mark)
	return ev.ID, delivery, message
}

// record stores a fan-out of event: a failed webhook delivery and, when
// x has a user, an inbox message for it.
func (e *accessEnv) record(admin string, x *ids, event int64, mark string) (delivery, message int64) {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.db.Authenticate(ctx, admin)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx = herald.NewContextWithPrincipal(ctx, p)
	ds := []store.NewDelivery{{NotifierID: x.Webhook, Channel: "webhook", Target: fmt.Sprintf("target-%s-%d", mark, e.nextSeq()), Status: herald.StatusFailed, Message: []byte(`{}`)}}
	if x.User != 0 {
		ds = append(ds, store.NewDelivery{NotifierID: x.Inbox, Channel: "inbox", UserID: x.User, Target: fmt.Sprintf("%s-%d", x.UserCode, e.nextSeq()), Status: herald.StatusDelivered, Message: []byte(`{}`),
			Inbox: &herald.InboxMessage{UserID: x.User, Title: "Build failed " + mark, Body: mark}})
	}
	if _, err := e.db.RecordFanouts(ctx, []store.Fanout{{EventID: event, Deliveries: ds}}); err != nil {
		e.t.Fatal(err)
	}
	list, _, err := e.db.FindDeliveries(ctx, herald.DeliveryFilter{EventID: event}, herald.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range list {
		if d.Channel == "webhook" && d.Status == herald.StatusFailed && d.ID > delivery {
			delivery = d.ID
		}
	}
	if delivery == 0 {
		e.t.Fatal("setup: no failed delivery recorded")
	}
	if x.User != 0 {
		msgs, _, err := e.db.FindInbox(ctx, x.User, herald.InboxFilter{}, herald.Page{Limit: 100})
		if err != nil || len(msgs) == 0 {
			e.t.Fatalf("inbox: %v %v", msgs, err)
		}
		for _, m := range msgs {
			message = max(message, m.ID)
		}
	}
	return delivery, message
}

// ---- fresh objects for positive controls ----

func (e *accessEnv) pushIn(x *ids, status herald.PushStatus) {
	e.t.Helper()
	x.Push = e.create(e.adminA, "/api/v1/pushes", map[string]any{"job_name": fmt.Sprint("fresh ", e.nextSeq()), "content": "hi", "push_scope_type": 2, "user_ids": []int64{x.User}})
	// A submitter without push:approve, so that the push waits.
	submitter := e.tokenFor([]herald.Permission{herald.PermPushWrite}, 0, false)
	step := func(action string, token string, body any) {
		e.must(200, "POST", fmt.Sprintf("/api/v1/pushes/%d/%s", x.Push, action), token, body, nil)
	}
	switch status {
	case herald.PushDraft:
		return
	}
	step("submit", submitter, map[string]any{"reason": "please"})
	if status == herald.PushPendingApproval {
		return
	}
	step("approve", e.adminA, nil)
	if status == herald.PushApproved {
		return
	}
	step("execute", e.adminA, map[string]any{"send_at": time.Now().Add(24 * time.Hour)})
}

func (e *accessEnv) freshOTP(x *ids) {
	e.t.Helper()
	to := fmt.Sprintf("+1555%07d", e.nextSeq())
	var o struct {
		ID string `json:"id"`
	}
	e.must(201, "POST", "/api/v1/otp/send", e.adminA, map[string]any{"project_id": x.P, "channel": "sms", "to": to, "purpose": "login"}, &o)
	m := reCode.FindStringSubmatch(e.gw.last(to))
	if m == nil {
		e.t.Fatalf("setup: no code in %q", e.gw.last(to))
	}
	x.OTPID, x.OTPCode = o.ID, m[1]
}

func (e *accessEnv) draftRev(x *ids) {
	e.t.Helper()
	var st struct {
		Revision int64 `json:"revision"`
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/sources/%d/settings", x.Source), e.adminA, nil, &st)
	x.Rev = st.Revision
}

// ---- principals ----

// tokenFor returns (making it once) a token of tenant A (or B) with perms,
// scoped to project (0: unscoped).
func (e *accessEnv) tokenFor(perms []herald.Permission, project int64, tenantB bool) string {
	e.t.Helper()
	perms = slices.Clone(perms)
	slices.Sort(perms)
	perms = slices.Compact(perms)
	key := fmt.Sprint(perms, project, tenantB)
	if s, ok := e.tokens[key]; ok {
		return s
	}
	admin := e.adminA
	if tenantB {
		admin = e.adminB
	}
	s := e.newToken(admin, herald.TokenCreate{Name: fmt.Sprintf("t%d", len(e.tokens)), Permissions: perms, ProjectID: project})
	e.tokens[key] = s
	return s
}

// lacking is every permission but perm and those that bring it.
func lacking(perm herald.Permission) []herald.Permission {
	var out []herald.Permission
	for p := range herald.PermissionCodes {
		if p == herald.PermAdmin || (&herald.Principal{Permissions: []herald.Permission{p}}).Has(perm) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// secretOf returns the token a principal sends for route r ("" for none).
func (e *accessEnv) secretOf(r accessRoute, p principal) string {
	rule := r.rule()
	perms := append([]herald.Permission{}, r.extra...)
	if rule.Perm != "" {
		perms = append(perms, rule.Perm)
	}
	if len(perms) == 0 {
		perms = []herald.Permission{herald.PermInboxRead} // any token will do
	}
	scope := e.base.P
	if rule.TenantWide {
		scope = 0
	}
	if r.endUser && p == pRight {
		return e.endUserToken(e.base.UserCode)
	}
	switch p {
	case pNone:
		return ""
	case pLacking:
		return e.tokenFor(lacking(rule.Perm), scope, false)
	case pOtherProject:
		return e.tokenFor(perms, e.base.Q, false)
	case pOtherTenant:
		return e.tokenFor(perms, 0, true)
	}
	return e.tokenFor(perms, scope, false)
}

// endUserToken is an end-user token of project P for the person code,
// as the host app's backend signs it, with a key of P given afresh (the
// end-user key routes rotate and delete it).
func (e *accessEnv) endUserToken(code string) string {
	e.t.Helper()
	p, err := e.db.Authenticate(context.Background(), e.adminA)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := e.db.RotateEndUserKey(herald.NewContextWithPrincipal(context.Background(), p), e.base.P)
	if err != nil {
		e.t.Fatal(err)
	}
	return herald.SignEndUserToken(key, herald.EndUserClaims{ProjectID: e.base.P, UserCode: code, ExpiresAt: time.Now().Add(time.Hour)})
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// session signs in to the console with secret (once) and returns its
// cookie header and CSRF token.
func (e *accessEnv) session(secret string) (string, string) {
	e.t.Helper()
	if c, ok := e.cookies[secret]; ok {
		return c, e.csrf[secret]
	}
	w := e.raw("POST", "/console/signin", url.Values{"token": {secret}, "next": {"/console/"}})
	if w.Code != http.StatusSeeOther {
		e.t.Fatalf("setup: sign in: %d %s", w.Code, w.Body)
	}
	var parts []string
	for _, c := range w.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	cookie := strings.Join(parts, "; ")
	page := e.raw("GET", "/console/", nil, "Cookie", cookie)
	m := reCSRF.FindStringSubmatch(page.Body.String())
	if page.Code != 200 || m == nil {
		e.t.Fatalf("setup: console home: %d, no CSRF token", page.Code)
	}
	e.cookies[secret], e.csrf[secret] = cookie, m[1]
	return cookie, m[1]
}

// call sends r's request as principal p.
func (e *accessEnv) call(r accessRoute, p principal, x *ids) *httptest.ResponseRecorder {
	e.t.Helper()
	x.Seq = e.nextSeq()
	q := r.req(x)
	secret := e.secretOf(r, p)
	header := slices.Clone(q.header)
	body := q.body
	switch r.surface {
	case sConsole:
		if secret != "" {
			cookie, csrf := e.session(secret)
			header = append(header, "Cookie", cookie)
			if form, ok := body.(url.Values); ok {
				form = maps(form)
				form.Set("csrf", csrf)
				body = form
			}
		}
	default:
		if secret != "" {
			hv := map[string][2]string{
				sAPI:      {"Authorization", "Bearer " + secret},
				sBuild:    {"X-Auth-Token", secret},
				sDeploy:   {"X-Auth-Token", secret},
				sKintone:  {"X-Cybozu-API-Token", secret},
				sFeishu:   {"Authorization", "Bearer " + secret},
				sSettings: {"Authorization", "Token " + secret},
			}[r.surface]
			name, value := hv[0], hv[1]
			header = append(header, name, value)
		}
	}
	return e.raw(q.method, q.path, body, header...)
}

func maps(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// ---- answers ----

// check reports what is wrong with w as the outcome o of surface.
func check(surface string, method string, o outcome, p principal, w *httptest.ResponseRecorder) string {
	body := w.Body.String()
	if o == oAllowed {
		if surface == sConsole {
			if w.Code == http.StatusSeeOther && !strings.HasPrefix(w.Header().Get("Location"), "/console/signin") {
				return ""
			}
		}
		if w.Code < 200 || w.Code > 299 {
			return fmt.Sprintf("status %d, want 2xx", w.Code)
		}
		if p == pRight {
			return ""
		}
		if strings.Contains(body, markProject) {
			return "the answer shows project P's data"
		}
		if p == pOtherTenant && strings.Contains(body, markTenant) {
			return "the answer shows tenant A's data"
		}
		return ""
	}
	status := map[outcome]int{oUnauthorized: 401, oForbidden: 403, oNotFound: 404, oInvalid: 400}[o]
	if strings.Contains(body, markProject) || strings.Contains(body, markTenant) {
		return "a refusal shows the fixture's data"
	}
	var env map[string]any
	decode := func() string {
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			return fmt.Sprintf("body is not JSON: %v", err)
		}
		return ""
	}
	if surface == sConsole {
		if o == oUnauthorized {
			if method == http.MethodGet {
				if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/signin?next=") {
					return fmt.Sprintf("status %d Location %q, want 303 to sign-in", w.Code, w.Header().Get("Location"))
				}
				return ""
			}
			if w.Code != http.StatusForbidden || !strings.Contains(body, "Sign in again") {
				return fmt.Sprintf("status %d, want 403 session ended", w.Code)
			}
			return ""
		}
		if w.Code != status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
			return fmt.Sprintf("status %d (%s), want the %d error page", w.Code, w.Header().Get("Content-Type"), status)
		}
		return ""
	}
	if w.Code != status {
		return fmt.Sprintf("status %d, want %d", w.Code, status)
	}
	if msg := decode(); msg != "" {
		return msg
	}
	str := func(k string) string { s, _ := env[k].(string); return s }
	switch surface {
	case sAPI:
		want := map[outcome]string{oUnauthorized: "unauthorized", oForbidden: "forbidden", oNotFound: "not_found", oInvalid: "invalid"}[o]
		if w.Header().Get("Content-Type") != "application/problem+json" || str("code") != want || str("detail") == "" {
			return fmt.Sprintf("problem %s, want code %q", body, want)
		}
	case sBuild, sDeploy:
		want := map[string]map[outcome]string{
			sBuild:  {oUnauthorized: "APIG.0301", oForbidden: "CB.00060403", oNotFound: "CB.00060214"},
			sDeploy: {oUnauthorized: "APIG.0301", oForbidden: "Deploy.00011154", oNotFound: "Deploy.00011021"},
		}[surface][o]
		if str("error_code") != want || str("error_msg") == "" || len(env) != 2 {
			return fmt.Sprintf("envelope %s, want error_code %q", body, want)
		}
	case sKintone:
		want := map[outcome]string{oUnauthorized: "CB_WA01", oForbidden: "CB_NO02", oNotFound: "GAIA_AP01"}[o]
		if str("code") != want || len(str("id")) != 20 || str("message") == "" {
			return fmt.Sprintf("envelope %s, want code %q", body, want)
		}
	case sFeishu:
		want := map[outcome]float64{oUnauthorized: 154001, oForbidden: 154003, oNotFound: 154004}[o]
		if c, _ := env["code"].(float64); c != want || str("msg") == "" || env["data"] != nil {
			return fmt.Sprintf("envelope %s, want code %v", body, want)
		}
	case sSettings:
		want := map[outcome]string{
			oUnauthorized: "Authentication credentials were not provided.",
			oForbidden:    "You do not have permission to perform this action.",
			oNotFound:     "Not found.",
		}[o]
		if str("detail") != want || len(env) != 1 {
			return fmt.Sprintf("envelope %s, want detail %q", body, want)
		}
	}
	return ""
}

// dump reads, as tenant A's admin, everything the fixture reaches, to
// check that a refused request changed nothing.
func (e *accessEnv) dump() string {
	e.t.Helper()
	x := e.base
	var sb strings.Builder
	paths := []string{
		"/api/v1/projects", "/api/v1/users", "/api/v1/groups", "/api/v1/departments", "/api/v1/chats", "/api/v1/pushes?limit=200",
		"/api/v1/deliveries?limit=200",
		fmt.Sprintf("/api/v1/projects/%d/sources?limit=200", x.P),
		fmt.Sprintf("/api/v1/projects/%d/notifiers?limit=200", x.P),
		fmt.Sprintf("/api/v1/users/%d/inbox?limit=200", x.User),
		fmt.Sprintf("/api/v1/events/%d", x.Event),
		fmt.Sprintf("/api/v1/users/%d/preferences", x.User),
		"/api/v1/preference-policy",
		fmt.Sprintf("/api/v1/projects/%d/preference-policy", x.P),
	}
	var srcs struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/sources?limit=200", x.P), e.adminA, nil, &srcs)
	scopes := []string{fmt.Sprintf("/api/v1/projects/%d", x.P)}
	for _, s := range srcs.Items {
		scopes = append(scopes, fmt.Sprintf("/api/v1/sources/%d", s.ID))
	}
	for _, scope := range scopes {
		paths = append(paths, scope+"/settings?version=draft", scope+"/settings?version=live", scope+"/settings/history")
	}
	paths = append(paths, fmt.Sprintf("/api/v1/projects/%d/templates?version=draft", x.P), fmt.Sprintf("/api/v1/projects/%d/templates?version=live", x.P),
		fmt.Sprintf("/api/v1/projects/%d/templates/history?limit=200", x.P))
	for _, p := range paths {
		fmt.Fprintf(&sb, "%s\n%s\n", p, e.must(200, "GET", p, e.adminA, nil, nil))
	}
	w := e.raw("GET", settings.PathNotifications, nil, "Authorization", "Token "+e.adminP)
	fmt.Fprintf(&sb, "notification settings %d\n%s\n", w.Code, w.Body)
	// Tokens, without last_used_at, which authentication itself moves.
	var tokens struct {
		Items []*herald.Token `json:"items"`
	}
	e.must(200, "GET", "/api/v1/tokens?limit=200", e.adminA, nil, &tokens)
	for _, t := range tokens.Items {
		t.LastUsedAt = nil
	}
	b, _ := json.Marshal(tokens)
	fmt.Fprintf(&sb, "tokens\n%s\n", b)
	return sb.String()
}

// ---- the table ----

func get(path string) func(x *ids) areq {
	return func(*ids) areq { return areq{method: "GET", path: path} }
}

func accessRoutes() []accessRoute {
	var rs []accessRoute
	add := func(r accessRoute) { rs = append(rs, r) }
	f := fmt.Sprintf
	type R = accessRoute
	P, S, N, T, D := boundProject, boundNone, boundNone, boundTenant, boundNone
	_, _, _ = S, N, D
	j := func(method string, path func(x *ids) string, body func(x *ids) any) func(x *ids) areq {
		return func(x *ids) areq {
			q := areq{method: method, path: path(x)}
			if body != nil {
				q.body = body(x)
			}
			return q
		}
	}
	lit := func(s string) func(*ids) string { return func(*ids) string { return s } }
	var (
		res = struct{ proj, src, nf, set, ns, dir, ev, del, inbox, push, tok, otp herald.Resource }{
			herald.ResProject, herald.ResSource, herald.ResNotifier, herald.ResSettings, herald.ResNotificationSettings,
			herald.ResDirectory, herald.ResEvent, herald.ResDelivery, herald.ResInbox, herald.ResPush, herald.ResToken, herald.ResOTP}
		rd, cr, up, del, appr, retry, send = herald.ActRead, herald.ActCreate, herald.ActUpdate, herald.ActDelete, herald.ActApprove, herald.ActRetry, herald.ActSend
	)

	// ---- native API ----
	add(R{surface: sAPI, pattern: "GET /api/v1/projects", res: res.proj, act: rd, bound: boundNone, req: get("/api/v1/projects")})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects", res: res.proj, act: cr, bound: boundNone,
		req: j("POST", lit("/api/v1/projects"), func(x *ids) any { return map[string]any{"name": f("new %d", x.Seq)} })})
	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}", res: res.proj, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/projects/%d", x.P) }, nil)})
	add(R{surface: sAPI, pattern: "PATCH /api/v1/projects/{id}", res: res.proj, act: up, bound: P,
		req: j("PATCH", func(x *ids) string { return f("/api/v1/projects/%d", x.P) }, func(x *ids) any { return map[string]any{"description": f("changed %d", x.Seq)} })})
	add(R{surface: sAPI, pattern: "DELETE /api/v1/projects/{id}", res: res.proj, act: del, bound: P,
		prep: func(e *accessEnv, x *ids) {
			x.P = e.create(e.adminA, "/api/v1/projects", map[string]any{"name": "doomed"})
		},
		req: j("DELETE", func(x *ids) string { return f("/api/v1/projects/%d", x.P) }, nil)})

	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/sources", res: res.src, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/projects/%d/sources", x.P) }, nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/sources", res: res.src, act: cr, bound: P,
		req: j("POST", func(x *ids) string { return f("/api/v1/projects/%d/sources", x.P) }, func(x *ids) any {
			return map[string]any{"kind": "generic", "external_id": f("gen-%d", x.Seq), "name": "new source"}
		})})
	add(R{surface: sAPI, pattern: "GET /api/v1/sources/{id}", res: res.src, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/sources/%d", x.Source) }, nil)})
	add(R{surface: sAPI, pattern: "PATCH /api/v1/sources/{id}", res: res.src, act: up, bound: P,
		req: j("PATCH", func(x *ids) string { return f("/api/v1/sources/%d", x.Source) }, func(x *ids) any { return map[string]any{"name": f("job %s %d", markProject, x.Seq)} })})
	add(R{surface: sAPI, pattern: "DELETE /api/v1/sources/{id}", res: res.src, act: del, bound: P,
		prep: func(e *accessEnv, x *ids) {
			x.Source = e.create(e.adminA, f("/api/v1/projects/%d/sources", x.P), map[string]any{"kind": "generic", "external_id": f("doomed-%d", e.nextSeq()), "name": "doomed"})
		},
		req: j("DELETE", func(x *ids) string { return f("/api/v1/sources/%d", x.Source) }, nil)})

	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/notifiers", res: res.nf, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/projects/%d/notifiers", x.P) }, nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/notifiers", res: res.nf, act: cr, bound: P,
		req: j("POST", func(x *ids) string { return f("/api/v1/projects/%d/notifiers", x.P) }, func(x *ids) any {
			return map[string]any{"type": "webhook", "name": f("hook %d", x.Seq), "config": map[string]any{"url": "https://hooks.example.com/x"}}
		})})
	add(R{surface: sAPI, pattern: "GET /api/v1/notifiers/{id}", res: res.nf, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/notifiers/%d", x.Webhook) }, nil)})
	add(R{surface: sAPI, pattern: "PATCH /api/v1/notifiers/{id}", res: res.nf, act: up, bound: P,
		req: j("PATCH", func(x *ids) string { return f("/api/v1/notifiers/%d", x.Webhook) }, func(x *ids) any { return map[string]any{"name": f("hook %s %d", markProject, x.Seq)} })})
	add(R{surface: sAPI, pattern: "DELETE /api/v1/notifiers/{id}", res: res.nf, act: del, bound: P,
		prep: func(e *accessEnv, x *ids) {
			x.Webhook = e.create(e.adminA, f("/api/v1/projects/%d/notifiers", x.P), map[string]any{"type": "inbox", "name": f("doomed %d", e.nextSeq())})
		},
		req: j("DELETE", func(x *ids) string { return f("/api/v1/notifiers/%d", x.Webhook) }, nil)})

	// The directory: four collections of the same shape.
	for _, d := range []struct {
		coll string
		id   func(x *ids) *int64
		body func(seq int) map[string]any
	}{
		{"users", func(x *ids) *int64 { return &x.User }, func(n int) map[string]any { return map[string]any{"code": f("u%d", n), "name": "someone"} }},
		{"groups", func(x *ids) *int64 { return &x.Group }, func(n int) map[string]any { return map[string]any{"code": f("g%d", n), "name": "a group"} }},
		{"departments", func(x *ids) *int64 { return &x.Dept }, func(n int) map[string]any { return map[string]any{"code": f("d%d", n), "name": "a dept"} }},
		{"chats", func(x *ids) *int64 { return &x.Chat }, func(n int) map[string]any { return map[string]any{"code": f("oc_c%d", n), "name": "a chat"} }},
	} {
		coll := "/api/v1/" + d.coll
		one := func(x *ids) string { return f("%s/%d", coll, *d.id(x)) }
		add(R{surface: sAPI, pattern: "GET " + coll, res: res.dir, act: rd, bound: boundNone, req: get(coll)})
		add(R{surface: sAPI, pattern: "POST " + coll, res: res.dir, act: cr, bound: boundNone,
			req: j("POST", lit(coll), func(x *ids) any { return d.body(x.Seq) })})
		add(R{surface: sAPI, pattern: "GET " + coll + "/{id}", res: res.dir, act: rd, bound: T, req: j("GET", one, nil)})
		add(R{surface: sAPI, pattern: "PATCH " + coll + "/{id}", res: res.dir, act: up, bound: T,
			req: j("PATCH", one, func(x *ids) any { return map[string]any{"name": f("renamed %s %d", markTenant, x.Seq)} })})
		add(R{surface: sAPI, pattern: "DELETE " + coll + "/{id}", res: res.dir, act: del, bound: T,
			prep: func(e *accessEnv, x *ids) { *d.id(x) = e.create(e.adminA, coll, d.body(e.nextSeq())) },
			req:  j("DELETE", one, nil)})
	}

	// Settings of a source and of the project default.
	for _, sc := range []struct {
		prefix string
		id     func(x *ids) int64
	}{
		{"/api/v1/sources/{id}/settings", func(x *ids) int64 { return x.Source }},
		{"/api/v1/projects/{id}/settings", func(x *ids) int64 { return x.P }},
	} {
		path := func(suffix string) func(x *ids) string {
			return func(x *ids) string {
				return strings.Replace(sc.prefix, "{id}", strconv.FormatInt(sc.id(x), 10), 1) + suffix
			}
		}
		add(R{surface: sAPI, pattern: "GET " + sc.prefix, res: res.set, act: rd, bound: P, req: j("GET", path(""), nil)})
		add(R{surface: sAPI, pattern: "PUT " + sc.prefix, res: res.set, act: up, bound: P, req: j("PUT", path(""), func(x *ids) any {
			return map[string]any{"revision": -1, "inherit_project": false, "notify_commenters": x.Seq%2 == 0, "channels": []any{}}
		})})
		add(R{surface: sAPI, pattern: "POST " + sc.prefix + "/deploy", res: res.set, act: up, bound: P, req: j("POST", path("/deploy"), func(*ids) any { return map[string]any{} })})
		add(R{surface: sAPI, pattern: "POST " + sc.prefix + "/revert", res: res.set, act: up, bound: P, req: j("POST", path("/revert"), func(*ids) any { return map[string]any{} })})
		add(R{surface: sAPI, pattern: "GET " + sc.prefix + "/effective", res: res.set, act: rd, bound: P, req: j("GET", path("/effective"), nil)})
		add(R{surface: sAPI, pattern: "GET " + sc.prefix + "/history", res: res.set, act: rd, bound: P, req: j("GET", path("/history"), nil)})
	}

	// A project's message templates.
	tpl := func(suffix string) func(x *ids) string {
		return func(x *ids) string { return f("/api/v1/projects/%d/templates%s", x.P, suffix) }
	}
	resTpl := herald.ResTemplates
	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/templates", res: resTpl, act: rd, bound: P, req: j("GET", tpl(""), nil)})
	add(R{surface: sAPI, pattern: "PUT /api/v1/projects/{id}/templates", res: resTpl, act: up, bound: P, req: j("PUT", tpl(""), func(x *ids) any {
		return map[string]any{"revision": -1, "templates": []any{
			map[string]any{"event_type": "*", "channel": "sms", "locale": "en", "text": f("%d {{ title }}", x.Seq)}}}
	})})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/templates/deploy", res: resTpl, act: up, bound: P, req: j("POST", tpl("/deploy"), func(*ids) any { return map[string]any{} })})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/templates/revert", res: resTpl, act: up, bound: P, req: j("POST", tpl("/revert"), func(*ids) any { return map[string]any{} })})
	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/templates/history", res: resTpl, act: rd, bound: P, req: j("GET", tpl("/history"), nil)})
	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/templates/defaults", res: resTpl, act: rd, bound: P, req: j("GET", tpl("/defaults"), nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/templates/preview", res: resTpl, act: rd, bound: P, req: j("POST", tpl("/preview"), func(x *ids) any {
		return map[string]any{"channel": "inbox", "event_id": x.Event, "user_id": x.User}
	})})

	// The source is named in the body: one of another project or tenant
	// is "source N does not exist", as an unknown one (400, field source_id).
	add(R{surface: sAPI, pattern: "POST /api/v1/events", res: res.ev, act: cr, bound: P,
		override: map[principal]outcome{pOtherProject: oInvalid, pOtherTenant: oInvalid},
		req: j("POST", lit("/api/v1/events"), func(x *ids) any {
			return map[string]any{"source_id": x.Source, "type": "build.failed", "creator": "nobody"}
		})})
	add(R{surface: sAPI, pattern: "GET /api/v1/events/{id}", res: res.ev, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/events/%d", x.Event) }, nil)})
	add(R{surface: sAPI, pattern: "GET /api/v1/deliveries", res: res.del, act: rd, bound: boundNone, req: get("/api/v1/deliveries")})
	add(R{surface: sAPI, pattern: "GET /api/v1/deliveries/{id}", res: res.del, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return f("/api/v1/deliveries/%d", x.Delivery) }, nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/deliveries/{id}/retry", res: res.del, act: retry, bound: P, extra: []herald.Permission{herald.PermSettingsRead},
		prep: freshDelivery,
		req:  j("POST", func(x *ids) string { return f("/api/v1/deliveries/%d/retry", x.Delivery) }, nil)})
	// A bulk retry's filter names P's source: another project's or
	// tenant's token matches none of its own, and must touch none of P's
	// (the dump shows them untouched).
	add(R{surface: sAPI, pattern: "POST /api/v1/deliveries/retry", res: res.del, act: retry, bound: boundNone, prep: freshDelivery,
		req: j("POST", lit("/api/v1/deliveries/retry"), func(x *ids) any { return map[string]any{"status": "failed", "source_id": x.Source} })})

	inbox := func(suffix string) func(x *ids) string {
		return func(x *ids) string { return f("/api/v1/users/%d/inbox%s", x.User, suffix) }
	}
	add(R{surface: sAPI, pattern: "GET /api/v1/users/{id}/inbox", res: res.inbox, act: rd, bound: T, req: j("GET", inbox(""), nil)})
	add(R{surface: sAPI, pattern: "GET /api/v1/users/{id}/inbox/stream", res: res.inbox, act: rd, bound: T, req: j("GET", inbox("/stream"), nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/users/{id}/inbox/{message_id}/read", res: res.inbox, act: up, bound: P,
		prep: freshDelivery,
		req:  j("POST", func(x *ids) string { return f("/api/v1/users/%d/inbox/%d/read", x.User, x.Message) }, nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/users/{id}/inbox/read-all", res: res.inbox, act: up, bound: T,
		prep: freshDelivery, req: j("POST", inbox("/read-all"), nil)})

	// Preferences: a person's by an API token, or by their own end-user
	// token at /me (an API token there is refused: it names nobody); the
	// policies; the project's end-user key.
	prefs := func(x *ids) string { return f("/api/v1/users/%d/preferences", x.User) }
	prefsBody := func(x *ids) any {
		return map[string]any{"rules": []any{map[string]any{"channel": "email", "event_type": "build.failed", "enabled": x.Seq%2 == 0}}}
	}
	add(R{surface: sAPI, pattern: "GET /api/v1/users/{id}/preferences", res: herald.ResPreferences, act: rd, bound: T, req: j("GET", prefs, nil)})
	add(R{surface: sAPI, pattern: "PUT /api/v1/users/{id}/preferences", res: herald.ResPreferences, act: up, bound: T, req: j("PUT", prefs, prefsBody)})
	apiTokenRefused := map[principal]outcome{pOtherProject: oForbidden, pOtherTenant: oForbidden}
	add(R{surface: sAPI, pattern: "GET /api/v1/me/preferences", res: herald.ResPreferences, act: rd, bound: T, endUser: true, override: apiTokenRefused,
		req: get("/api/v1/me/preferences")})
	add(R{surface: sAPI, pattern: "PUT /api/v1/me/preferences", res: herald.ResPreferences, act: up, bound: T, endUser: true, override: apiTokenRefused,
		req: j("PUT", lit("/api/v1/me/preferences"), prefsBody)})
	// The embedded inbox's routes: the person's own inbox (of the token's
	// project) and preferences panel, by their end-user token only.
	add(R{surface: sAPI, pattern: "GET /api/v1/me/inbox", res: res.inbox, act: rd, bound: T, endUser: true, override: apiTokenRefused,
		req: get("/api/v1/me/inbox")})
	add(R{surface: sAPI, pattern: "GET /api/v1/me/inbox/unread-count", res: res.inbox, act: rd, bound: T, endUser: true, override: apiTokenRefused,
		req: get("/api/v1/me/inbox/unread-count")})
	add(R{surface: sAPI, pattern: "GET /api/v1/me/inbox/stream", res: res.inbox, act: rd, bound: T, endUser: true, override: apiTokenRefused,
		req: get("/api/v1/me/inbox/stream")})
	add(R{surface: sAPI, pattern: "POST /api/v1/me/inbox/{message_id}/read", res: res.inbox, act: up, bound: T, endUser: true, override: apiTokenRefused,
		prep: freshDelivery, req: j("POST", func(x *ids) string { return f("/api/v1/me/inbox/%d/read", x.Message) }, nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/me/inbox/read-all", res: res.inbox, act: up, bound: T, endUser: true, override: apiTokenRefused,
		prep: freshDelivery, req: j("POST", lit("/api/v1/me/inbox/read-all"), nil)})
	add(R{surface: sAPI, pattern: "GET /api/v1/me/preference-panel", res: herald.ResPreferences, act: rd, bound: T, endUser: true, override: apiTokenRefused,
		req: get("/api/v1/me/preference-panel")})
	policyBody := func(x *ids) any {
		return map[string]any{"urgent": []string{"build.failed"}, "required": []string{f("custom.r%d", x.Seq)}}
	}
	add(R{surface: sAPI, pattern: "GET /api/v1/preference-policy", res: herald.ResTenantPreferencePolicy, act: rd, bound: boundNone, req: get("/api/v1/preference-policy")})
	add(R{surface: sAPI, pattern: "PUT /api/v1/preference-policy", res: herald.ResTenantPreferencePolicy, act: up, bound: boundNone,
		req: j("PUT", lit("/api/v1/preference-policy"), policyBody)})
	projPolicy := func(x *ids) string { return f("/api/v1/projects/%d/preference-policy", x.P) }
	add(R{surface: sAPI, pattern: "GET /api/v1/projects/{id}/preference-policy", res: herald.ResPreferencePolicy, act: rd, bound: P, req: j("GET", projPolicy, nil)})
	add(R{surface: sAPI, pattern: "PUT /api/v1/projects/{id}/preference-policy", res: herald.ResPreferencePolicy, act: up, bound: P, req: j("PUT", projPolicy, policyBody)})
	endUserKey := func(x *ids) string { return f("/api/v1/projects/%d/end-user-key", x.P) }
	add(R{surface: sAPI, pattern: "POST /api/v1/projects/{id}/end-user-key", res: herald.ResEndUserKey, act: cr, bound: P, req: j("POST", endUserKey, nil)})
	add(R{surface: sAPI, pattern: "DELETE /api/v1/projects/{id}/end-user-key", res: herald.ResEndUserKey, act: del, bound: P, req: j("DELETE", endUserKey, nil)})

	pushPath := func(suffix string) func(x *ids) string {
		return func(x *ids) string { return f("/api/v1/pushes/%d%s", x.Push, suffix) }
	}
	in := func(s herald.PushStatus) func(e *accessEnv, x *ids) {
		return func(e *accessEnv, x *ids) { e.pushIn(x, s) }
	}
	add(R{surface: sAPI, pattern: "GET /api/v1/pushes", res: res.push, act: rd, bound: boundNone, req: get("/api/v1/pushes")})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes", res: res.push, act: cr, bound: boundNone,
		req: j("POST", lit("/api/v1/pushes"), func(x *ids) any {
			return map[string]any{"job_name": f("n%d", x.Seq), "content": "hello", "push_scope_type": 0}
		})})
	add(R{surface: sAPI, pattern: "GET /api/v1/pushes/{id}", res: res.push, act: rd, bound: T, req: j("GET", pushPath(""), nil)})
	add(R{surface: sAPI, pattern: "PATCH /api/v1/pushes/{id}", res: res.push, act: up, bound: T, prep: in(herald.PushDraft),
		req: j("PATCH", pushPath(""), func(x *ids) any { return map[string]any{"content": f("edited %d", x.Seq)} })})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/preview", res: res.push, act: rd, bound: T, req: j("POST", pushPath("/preview"), nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/submit", res: res.push, act: up, bound: T, prep: in(herald.PushDraft),
		req: j("POST", pushPath("/submit"), func(*ids) any { return map[string]any{"reason": "go"} })})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/withdraw", res: res.push, act: up, bound: T, prep: in(herald.PushPendingApproval),
		req: j("POST", pushPath("/withdraw"), nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/approve", res: res.push, act: appr, bound: T, prep: in(herald.PushPendingApproval),
		req: j("POST", pushPath("/approve"), nil)})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/reject", res: res.push, act: appr, bound: T, prep: in(herald.PushPendingApproval),
		req: j("POST", pushPath("/reject"), func(*ids) any { return map[string]any{"reason": "no"} })})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/execute", res: res.push, act: up, bound: T, prep: in(herald.PushApproved),
		req: j("POST", pushPath("/execute"), func(*ids) any { return map[string]any{"send_at": time.Now().Add(48 * time.Hour)} })})
	add(R{surface: sAPI, pattern: "POST /api/v1/pushes/{id}/cancel", res: res.push, act: up, bound: T, prep: in(herald.PushScheduled),
		req: j("POST", pushPath("/cancel"), func(*ids) any { return map[string]any{"recall": false} })})

	add(R{surface: sAPI, pattern: "GET /api/v1/push-policy", res: herald.ResPushPolicy, act: rd, bound: boundNone, req: get("/api/v1/push-policy")})
	add(R{surface: sAPI, pattern: "PUT /api/v1/push-policy", res: herald.ResPushPolicy, act: up, bound: boundNone,
		req: j("PUT", lit("/api/v1/push-policy"), func(*ids) any { return map[string]any{"self_approval": false} })})

	add(R{surface: sAPI, pattern: "GET /api/v1/tokens", res: res.tok, act: rd, bound: boundNone, req: get("/api/v1/tokens")})
	add(R{surface: sAPI, pattern: "POST /api/v1/tokens", res: res.tok, act: cr, bound: boundNone,
		req: j("POST", lit("/api/v1/tokens"), func(x *ids) any {
			return map[string]any{"name": f("made %d", x.Seq), "permissions": []string{"settings:read"}}
		})})
	add(R{surface: sAPI, pattern: "DELETE /api/v1/tokens/{id}", res: res.tok, act: del, bound: T,
		prep: func(e *accessEnv, x *ids) {
			x.Token = e.create(e.adminA, "/api/v1/tokens", map[string]any{"name": "doomed", "permissions": []string{"settings:read"}})
		},
		req: j("DELETE", func(x *ids) string { return f("/api/v1/tokens/%d", x.Token) }, nil)})

	add(R{surface: sAPI, pattern: "POST /api/v1/otp/send", res: res.otp, act: send, bound: P,
		req: j("POST", lit("/api/v1/otp/send"), func(x *ids) any {
			return map[string]any{"project_id": x.P, "channel": "sms", "to": f("+1666%07d", x.Seq), "purpose": "login"}
		})})
	add(R{surface: sAPI, pattern: "POST /api/v1/otp/verify", res: res.otp, act: send, bound: P, prep: func(e *accessEnv, x *ids) { e.freshOTP(x) },
		req: j("POST", lit("/api/v1/otp/verify"), func(x *ids) any { return map[string]any{"project_id": x.P, "id": x.OTPID, "code": x.OTPCode} })})

	// ---- CodeArts Build ----
	notice := func(x *ids) any {
		return map[string]any{"notice_type": "MESSAGE", "send_switch": x.Seq%2 == 0, "enabled_event_type_names": []string{"buildJobFail"}}
	}
	add(R{surface: sBuild, pattern: "PUT /v1/job/{job_id}/notice", res: res.set, act: up, bound: P,
		req: j("PUT", func(x *ids) string { return "/v1/job/" + x.JobID + "/notice" }, notice)})
	add(R{surface: sBuild, pattern: "PUT /v1/job/{job_id}/notice/update", res: res.set, act: up, bound: P,
		req: j("PUT", func(x *ids) string { return "/v1/job/" + x.JobID + "/notice/update" }, notice)})
	add(R{surface: sBuild, pattern: "GET /v1/job/{job_id}/notice", res: res.set, act: rd, bound: P,
		req: j("GET", func(x *ids) string { return "/v1/job/" + x.JobID + "/notice" }, nil)})

	// ---- CodeArts Deploy ----
	msgs := func(x *ids) string { return "/v2/projects/" + x.PExt + "/applications/" + x.AppID + "/messages" }
	add(R{surface: sDeploy, pattern: "GET /v2/projects/{project_id}/applications/{app_id}/messages", res: res.set, act: rd, bound: P, req: j("GET", msgs, nil)})
	add(R{surface: sDeploy, pattern: "POST /v2/projects/{project_id}/applications/{app_id}/messages", res: res.set, act: up, bound: P,
		req: j("POST", msgs, func(x *ids) any {
			return []map[string]any{{"msg_type": "message", "msg_state": x.Seq%2 == 0, "msg_level": "project",
				"state_switch": []map[string]any{{"name": "failure", "open": true, "sort": 0, "receivers": nil}}}}
		})})

	// A POST that configures a dedicated notifier (its URL and secret)
	// writes a notifier: it needs notifiers:write besides settings:write.
	add(R{surface: sDeploy, pattern: "POST /v2/projects/{project_id}/applications/{app_id}/messages", res: res.nf, act: up, bound: P,
		name: "configures a notifier", extra: []herald.Permission{herald.PermSettingsWrite},
		req: j("POST", msgs, func(x *ids) any {
			return []map[string]any{{"msg_type": "dingtalk", "msg_state": true, "msg_level": "project",
				"send_url": "https://oapi.dingtalk.com/robot/send?access_token=abc", "secret_info": f("SEC%d", x.Seq),
				"state_switch": []map[string]any{{"name": "failure", "open": true, "sort": 0, "receivers": nil}}}}
		})})

	// ---- Kintone ----
	for _, k := range []struct {
		prefix, pattern string
		app             func(x *ids) string
	}{
		{"/k/v1", "/k/v1", func(x *ids) string { return x.KAppID }},
		{"/k/guest/5/v1", "/k/guest/{spaceId}/v1", func(x *ids) string { return x.KGAppID }},
	} {
		override := []string{"X-HTTP-Method-Override", "GET"}
		add(R{surface: sKintone, pattern: "GET " + k.pattern + "/app/notifications/general.json", res: res.set, act: rd, bound: P,
			req: func(x *ids) areq {
				return areq{method: "GET", path: k.prefix + "/app/notifications/general.json?app=" + k.app(x)}
			}})
		add(R{surface: sKintone, pattern: "GET " + k.pattern + "/preview/app/notifications/general.json", res: res.set, act: rd, bound: P,
			req: func(x *ids) areq {
				return areq{method: "GET", path: k.prefix + "/preview/app/notifications/general.json?app=" + k.app(x)}
			}})
		add(R{surface: sKintone, pattern: "PUT " + k.pattern + "/preview/app/notifications/general.json", res: res.set, act: up, bound: P,
			req: func(x *ids) areq {
				return areq{method: "PUT", path: k.prefix + "/preview/app/notifications/general.json", body: map[string]any{"app": k.app(x),
					"notifications": []map[string]any{{"entity": map[string]any{"type": "USER", "code": "ann"}, "recordAdded": x.Seq%2 == 0}}}}
			}})
		add(R{surface: sKintone, pattern: "POST " + k.pattern + "/preview/app/deploy.json", res: res.set, act: up, bound: P,
			req: func(x *ids) areq {
				return areq{method: "POST", path: k.prefix + "/preview/app/deploy.json", body: map[string]any{"apps": []map[string]any{{"app": k.app(x)}}}}
			}})
		add(R{surface: sKintone, pattern: "POST " + k.pattern + "/preview/app/deploy.json", res: res.set, act: rd, bound: P, name: "override GET",
			req: func(x *ids) areq {
				return areq{method: "POST", path: k.prefix + "/preview/app/deploy.json", body: map[string]any{"apps": []string{k.app(x)}}, header: override}
			}})
		add(R{surface: sKintone, pattern: "GET " + k.pattern + "/preview/app/deploy.json", res: res.set, act: rd, bound: P,
			req: func(x *ids) areq {
				return areq{method: "GET", path: k.prefix + "/preview/app/deploy.json?apps[0]=" + k.app(x)}
			}})
		add(R{surface: sKintone, pattern: "POST " + k.pattern + "/app/notifications/general.json", res: res.set, act: rd, bound: P,
			req: func(x *ids) areq {
				return areq{method: "POST", path: k.prefix + "/app/notifications/general.json", body: map[string]any{"app": k.app(x)}, header: override}
			}})
		add(R{surface: sKintone, pattern: "POST " + k.pattern + "/preview/app/notifications/general.json", res: res.set, act: rd, bound: P,
			req: func(x *ids) areq {
				return areq{method: "POST", path: k.prefix + "/preview/app/notifications/general.json", body: map[string]any{"app": k.app(x)}, header: override}
			}})
		// Per-record and reminder notifications: read and written as the
		// app's settings.
		for _, doc := range []struct {
			name string
			body func(x *ids) map[string]any
		}{
			{"perRecord", func(x *ids) map[string]any {
				return map[string]any{"notifications": []map[string]any{{"filterCond": f("Amount > %d", x.Seq),
					"targets": []map[string]any{{"entity": map[string]any{"type": "USER", "code": "ann"}}}}}}
			}},
			{"reminder", func(x *ids) map[string]any {
				return map[string]any{"timezone": "Asia/Tokyo", "notifications": []map[string]any{{
					"timing":  map[string]any{"code": "Due", "daysLater": x.Seq % 100, "time": "09:00"},
					"targets": []map[string]any{{"entity": map[string]any{"type": "USER", "code": "ann"}}}}}}
			}},
		} {
			live, preview := "/app/notifications/"+doc.name+".json", "/preview/app/notifications/"+doc.name+".json"
			add(R{surface: sKintone, pattern: "GET " + k.pattern + live, res: res.set, act: rd, bound: P,
				req: func(x *ids) areq { return areq{method: "GET", path: k.prefix + live + "?app=" + k.app(x)} }})
			add(R{surface: sKintone, pattern: "GET " + k.pattern + preview, res: res.set, act: rd, bound: P,
				req: func(x *ids) areq { return areq{method: "GET", path: k.prefix + preview + "?app=" + k.app(x)} }})
			add(R{surface: sKintone, pattern: "PUT " + k.pattern + preview, res: res.set, act: up, bound: P,
				req: func(x *ids) areq {
					body := doc.body(x)
					body["app"] = k.app(x)
					return areq{method: "PUT", path: k.prefix + preview, body: body}
				}})
			add(R{surface: sKintone, pattern: "POST " + k.pattern + live, res: res.set, act: rd, bound: P,
				req: func(x *ids) areq {
					return areq{method: "POST", path: k.prefix + live, body: map[string]any{"app": k.app(x)}, header: override}
				}})
			add(R{surface: sKintone, pattern: "POST " + k.pattern + preview, res: res.set, act: rd, bound: P,
				req: func(x *ids) areq {
					return areq{method: "POST", path: k.prefix + preview, body: map[string]any{"app": k.app(x)}, header: override}
				}})
		}
	}

	// ---- Feishu help desk notifications ----
	fb := "/open-apis/helpdesk/v1/notifications"
	fp := func(suffix string) func(x *ids) string {
		return func(x *ids) string { return f("%s/%d%s", fb, x.Push, suffix) }
	}
	add(R{surface: sFeishu, pattern: "POST " + fb, res: res.push, act: cr, bound: boundNone,
		req: j("POST", lit(fb), func(x *ids) any {
			return map[string]any{"job_name": f("f%d", x.Seq), "push_content": "hello", "push_type": 0, "push_scope_type": 0}
		})})
	add(R{surface: sFeishu, pattern: "GET " + fb + "/{notification_id}", res: res.push, act: rd, bound: T, req: j("GET", fp(""), nil)})
	add(R{surface: sFeishu, pattern: "PATCH " + fb + "/{notification_id}", res: res.push, act: up, bound: T, prep: in(herald.PushDraft),
		req: j("PATCH", fp(""), func(x *ids) any { return map[string]any{"push_content": f("edited %d", x.Seq)} })})
	add(R{surface: sFeishu, pattern: "POST " + fb + "/{notification_id}/preview", res: res.push, act: rd, bound: T, req: j("POST", fp("/preview"), nil)})
	add(R{surface: sFeishu, pattern: "POST " + fb + "/{notification_id}/submit_approve", res: res.push, act: up, bound: T, prep: in(herald.PushDraft),
		req: j("POST", fp("/submit_approve"), func(*ids) any { return map[string]any{"reason": "go"} })})
	add(R{surface: sFeishu, pattern: "POST " + fb + "/{notification_id}/cancel_approve", res: res.push, act: up, bound: T, prep: in(herald.PushPendingApproval),
		req: j("POST", fp("/cancel_approve"), nil)})
	add(R{surface: sFeishu, pattern: "POST " + fb + "/{notification_id}/execute_send", res: res.push, act: up, bound: T, prep: in(herald.PushApproved),
		req: j("POST", fp("/execute_send"), func(*ids) any {
			return map[string]any{"send_at": strconv.FormatInt(time.Now().Add(48*time.Hour).UnixMilli(), 10)}
		})})
	add(R{surface: sFeishu, pattern: "POST " + fb + "/{notification_id}/cancel_send", res: res.push, act: up, bound: T, prep: in(herald.PushScheduled),
		req: j("POST", fp("/cancel_send"), func(*ids) any { return map[string]any{"is_recall": false} })})

	// ---- project settings (Django REST Framework style) ----
	// The project is the token's: a token of another project or tenant
	// acts on its own (boundNone), except a code of P's.
	add(R{surface: sSettings, pattern: "GET " + settings.PathNotifications, res: res.ns, act: rd, bound: boundNone, req: get(settings.PathNotifications)})
	add(R{surface: sSettings, pattern: "PATCH " + settings.PathNotifications, res: res.ns, act: up, bound: boundNone,
		req: j("PATCH", lit(settings.PathNotifications), func(x *ids) any { return map[string]any{"notifications_otp_code_len": 4 + x.Seq%3} })})
	add(R{surface: sSettings, pattern: "GET " + settings.PathNotifiers, res: res.nf, act: rd, bound: boundNone, req: get(settings.PathNotifiers)})
	add(R{surface: sSettings, pattern: "POST " + settings.PathOTPSend, res: res.otp, act: send, bound: boundNone,
		req: j("POST", lit(settings.PathOTPSend), func(x *ids) any {
			return map[string]any{"channel": "sms", "to": f("+1777%07d", x.Seq), "purpose": "login"}
		})})
	add(R{surface: sSettings, pattern: "POST " + settings.PathOTPVerify, res: res.otp, act: send, bound: P, prep: func(e *accessEnv, x *ids) { e.freshOTP(x) },
		req: j("POST", lit(settings.PathOTPVerify), func(x *ids) any { return map[string]any{"id": x.OTPID, "code": x.OTPCode} })})

	// ---- the console ----
	form := func(method string, path func(x *ids) string, fields func(x *ids) url.Values) func(x *ids) areq {
		return func(x *ids) areq {
			q := areq{method: method, path: path(x)}
			if fields != nil {
				q.body = fields(x)
			}
			return q
		}
	}
	cp := func(format string, fields ...func(x *ids) any) func(x *ids) string {
		return func(x *ids) string {
			args := make([]any, len(fields))
			for i, fn := range fields {
				args[i] = fn(x)
			}
			return f(format, args...)
		}
	}
	pid := func(x *ids) any { return x.P }
	sid := func(x *ids) any { return x.Source }
	rev := func(e *accessEnv, x *ids) { e.draftRev(x) }
	add(R{surface: sConsole, pattern: "GET /console/{$}", res: res.proj, act: rd, bound: boundNone, req: get("/console/")})
	add(R{surface: sConsole, pattern: "POST /console/projects", res: res.proj, act: cr, bound: boundNone,
		req: form("POST", lit("/console/projects"), func(x *ids) url.Values { return url.Values{"name": {f("console %d", x.Seq)}} })})
	add(R{surface: sConsole, pattern: "GET /console/projects/{pid}", res: res.src, act: rd, bound: P, req: form("GET", cp("/console/projects/%d", pid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/delete", res: res.proj, act: del, bound: P,
		prep: func(e *accessEnv, x *ids) {
			x.P = e.create(e.adminA, "/api/v1/projects", map[string]any{"name": "doomed"})
		},
		req: form("POST", cp("/console/projects/%d/delete", pid), func(*ids) url.Values { return url.Values{"confirm": {"doomed"}} })})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}", res: res.proj, act: up, bound: P,
		req: form("POST", cp("/console/projects/%d", pid), func(x *ids) url.Values {
			return url.Values{"name": {f("renamed %d", x.Seq)}, "allowed_origins": {"https://app.example.com"}}
		})})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources", res: res.src, act: cr, bound: P,
		req: form("POST", cp("/console/projects/%d/sources", pid), func(x *ids) url.Values {
			return url.Values{"kind": {"generic"}, "name": {"from console"}, "external_id": {f("cons-%d", x.Seq)}}
		})})
	add(R{surface: sConsole, pattern: "GET /console/projects/{pid}/sources/{sid}", res: res.set, act: rd, bound: P,
		req: form("GET", cp("/console/projects/%d/sources/%d", pid, sid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources/{sid}/settings", res: res.set, act: up, bound: P, prep: rev,
		req: form("POST", cp("/console/projects/%d/sources/%d/settings", pid, sid), func(x *ids) url.Values {
			key := strconv.FormatInt(x.Inbox, 10)
			return url.Values{"revision": {strconv.FormatInt(x.Rev, 10)}, "col": {key}, "row": {"build.failed"}, "on:" + key: {"on"}, "ev:" + key + ":build.failed": {"on"}}
		})})
	add(R{surface: sConsole, pattern: "GET /console/projects/{pid}/sources/{sid}/cell", res: res.set, act: rd, bound: P,
		req: form("GET", cp("/console/projects/%d/sources/%d/cell?notifier=%d&event=build.failed", pid, sid, func(x *ids) any { return x.Inbox }), nil)})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources/{sid}/cell", res: res.set, act: up, bound: P, prep: rev,
		req: form("POST", cp("/console/projects/%d/sources/%d/cell", pid, sid), func(x *ids) url.Values {
			return url.Values{"revision": {strconv.FormatInt(x.Rev, 10)}, "notifier": {strconv.FormatInt(x.Inbox, 10)}, "event": {"build.failed"},
				"enabled": {"on"}, "type:0": {"USER"}, "code:0": {f("someone%d", x.Seq)}}
		})})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources/{sid}/deploy", res: res.set, act: up, bound: P, prep: rev,
		req: form("POST", cp("/console/projects/%d/sources/%d/deploy", pid, sid), func(x *ids) url.Values {
			return url.Values{"revision": {strconv.FormatInt(x.Rev, 10)}, "action": {"deploy"}}
		})})
	add(R{surface: sConsole, pattern: "GET /console/projects/{pid}/sources/{sid}/history", res: res.set, act: rd, bound: P,
		req: form("GET", cp("/console/projects/%d/sources/%d/history", pid, sid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources/{sid}/restore", res: res.set, act: up, bound: P,
		prep: func(e *accessEnv, x *ids) {
			e.draftRev(x)
			var hist struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			e.must(200, "GET", f("/api/v1/sources/%d/settings/history?limit=1", x.Source), e.adminA, nil, &hist)
			x.Change = hist.Items[0].ID
		},
		req: form("POST", cp("/console/projects/%d/sources/%d/restore", pid, sid), func(x *ids) url.Values {
			return url.Values{"revision": {strconv.FormatInt(x.Rev, 10)}, "change": {strconv.FormatInt(x.Change, 10)}}
		})})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/sources/{sid}/test-event", res: res.ev, act: cr, bound: P, extra: []herald.Permission{herald.PermSettingsRead},
		req: form("POST", cp("/console/projects/%d/sources/%d/test-event", pid, sid), func(*ids) url.Values {
			return url.Values{"type": {"build.failed"}, "actor": {"ops"}}
		})})
	add(R{surface: sConsole, pattern: "GET /console/projects/{pid}/notifiers/new", res: res.proj, act: rd, bound: P,
		req: form("GET", cp("/console/projects/%d/notifiers/new?type=webhook", pid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/projects/{pid}/notifiers", res: res.nf, act: cr, bound: P,
		req: form("POST", cp("/console/projects/%d/notifiers", pid), func(x *ids) url.Values {
			return url.Values{"type": {"webhook"}, "name": {f("console hook %d", x.Seq)}, "url": {"https://hooks.example.com/c"}}
		})})
	nid := func(x *ids) any { return x.Webhook }
	add(R{surface: sConsole, pattern: "GET /console/notifiers/{id}", res: res.nf, act: rd, bound: P, req: form("GET", cp("/console/notifiers/%d", nid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/notifiers/{id}", res: res.nf, act: up, bound: P,
		prep: func(e *accessEnv, x *ids) { // a notifier of its own: the test send below needs the fixture's URL
			x.Webhook = e.create(e.adminA, f("/api/v1/projects/%d/notifiers", x.P), map[string]any{"type": "webhook", "name": f("spare %d", e.nextSeq()),
				"config": map[string]any{"url": "https://hooks.example.com/z"}, "secret": "whsec_czNjcmV0"})
		},
		req: form("POST", cp("/console/notifiers/%d", nid), func(x *ids) url.Values {
			return url.Values{"name": {f("hook %s %d", markProject, x.Seq)}, "url": {"https://hooks.example.com/y"}, "secret": {"whsec_czNjcmV0"}}
		})})
	add(R{surface: sConsole, pattern: "POST /console/notifiers/{id}/test", res: res.nf, act: send, bound: P,
		req: form("POST", cp("/console/notifiers/%d/test", nid), func(*ids) url.Values { return url.Values{"to": {"ops"}} })})
	add(R{surface: sConsole, pattern: "GET /console/directory", res: res.dir, act: rd, bound: boundNone, req: get("/console/directory")})
	// The console's directory pages.
	for _, d := range []struct {
		coll string // the console's path segment
		api  string // the native collection, to make fresh objects
		id   func(x *ids) *int64
		body func(x *ids, seq int) url.Values // a valid form; seq 0: the fixture's own object
	}{
		{"users", "users", func(x *ids) *int64 { return &x.User }, func(x *ids, n int) url.Values {
			if n == 0 {
				return url.Values{"code": {x.UserCode}, "name": {f("Alice %s %d", markTenant, x.Seq)}, "email": {"alice@example.com"}, "time_zone": {"Asia/Shanghai"}, "locale": {"zh"}}
			}
			return url.Values{"code": {f("cu%d", n)}, "name": {"someone"}, "time_zone": {"Europe/Paris"}, "locale": {"en"}}
		}},
		{"groups", "groups", func(x *ids) *int64 { return &x.Group }, func(x *ids, n int) url.Values {
			if n == 0 {
				return url.Values{"code": {"ops-" + markTenant}, "name": {f("Ops %s %d", markTenant, x.Seq)}}
			}
			return url.Values{"code": {f("cg%d", n)}, "name": {"a group"}}
		}},
		{"departments", "departments", func(x *ids) *int64 { return &x.Dept }, func(x *ids, n int) url.Values {
			if n == 0 {
				return url.Values{"code": {"eng-" + markTenant}, "name": {f("Eng %s %d", markTenant, x.Seq)}}
			}
			return url.Values{"code": {f("cd%d", n)}, "name": {"a dept"}}
		}},
		{"chats", "chats", func(x *ids) *int64 { return &x.Chat }, func(x *ids, n int) url.Values {
			if n == 0 {
				return url.Values{"code": {"oc_" + markTenant}, "name": {f("Chat %s %d", markTenant, x.Seq)}}
			}
			return url.Values{"code": {f("oc_cc%d", n)}, "name": {"a chat"}}
		}},
	} {
		coll := "/console/directory/" + d.coll
		one := func(x *ids) string { return f("%s/%d", coll, *d.id(x)) }
		apiBody := func(n int) map[string]any {
			out := map[string]any{}
			for k, v := range d.body(nil, n) {
				out[k] = v[0]
			}
			return out
		}
		add(R{surface: sConsole, pattern: "GET " + coll + "/new", res: res.dir, act: cr, bound: boundNone, req: get(coll + "/new")})
		add(R{surface: sConsole, pattern: "POST " + coll, res: res.dir, act: cr, bound: boundNone,
			req: form("POST", lit(coll), func(x *ids) url.Values { return d.body(x, x.Seq) })})
		add(R{surface: sConsole, pattern: "GET " + coll + "/{id}", res: res.dir, act: rd, bound: T, req: form("GET", one, nil)})
		add(R{surface: sConsole, pattern: "POST " + coll + "/{id}", res: res.dir, act: up, bound: T,
			req: form("POST", one, func(x *ids) url.Values { return d.body(x, 0) })})
		add(R{surface: sConsole, pattern: "POST " + coll + "/{id}/delete", res: res.dir, act: del, bound: T,
			prep: func(e *accessEnv, x *ids) { *d.id(x) = e.create(e.adminA, "/api/v1/"+d.api, apiBody(e.nextSeq())) },
			req:  form("POST", func(x *ids) string { return one(x) + "/delete" }, func(*ids) url.Values { return url.Values{"confirm": {"yes"}} })})
	}
	freshGroup := func(e *accessEnv, x *ids) {
		x.Group = e.create(e.adminA, "/api/v1/groups", map[string]any{"code": f("cm%d", e.nextSeq()), "name": "members", "member_ids": []int64{x.User}})
	}
	add(R{surface: sConsole, pattern: "POST /console/directory/groups/{id}/members", res: res.dir, act: up, bound: T, prep: freshGroup,
		req: form("POST", cp("/console/directory/groups/%d/members", func(x *ids) any { return x.Group }), func(x *ids) url.Values { return url.Values{"member": {x.UserCode}} })})
	add(R{surface: sConsole, pattern: "POST /console/directory/groups/{id}/members/{uid}/delete", res: res.dir, act: up, bound: T, prep: freshGroup,
		req: form("POST", cp("/console/directory/groups/%d/members/%d/delete", func(x *ids) any { return x.Group }, func(x *ids) any { return x.User }), func(*ids) url.Values { return url.Values{} })})
	add(R{surface: sConsole, pattern: "GET /console/directory/import", res: res.dir, act: cr, bound: boundNone, req: get("/console/directory/import")})
	add(R{surface: sConsole, pattern: "POST /console/directory/import", res: res.dir, act: cr, bound: boundNone,
		req: form("POST", lit("/console/directory/import"), func(x *ids) url.Values {
			return url.Values{"csv": {f("code,name,time_zone,locale\nimp%d,Imported,Asia/Shanghai,zh\n", x.Seq)}}
		})})
	add(R{surface: sConsole, pattern: "GET /console/log", res: res.del, act: rd, bound: boundNone, req: get("/console/log")})
	add(R{surface: sConsole, pattern: "GET /console/events/{id}", res: res.ev, act: rd, bound: P,
		req: form("GET", cp("/console/events/%d", func(x *ids) any { return x.Event }), nil)})
	add(R{surface: sConsole, pattern: "POST /console/deliveries/{id}/retry", res: res.del, act: retry, bound: P, extra: []herald.Permission{herald.PermSettingsRead},
		prep: freshDelivery,
		req:  form("POST", cp("/console/deliveries/%d/retry", func(x *ids) any { return x.Delivery }), func(*ids) url.Values { return url.Values{} })})
	add(R{surface: sConsole, pattern: "GET /console/log/retry", res: res.del, act: rd, bound: boundNone,
		req: form("GET", cp("/console/log/retry?status=failed&source=%d", sid), nil)})
	add(R{surface: sConsole, pattern: "POST /console/log/retry", res: res.del, act: retry, bound: boundNone, prep: freshDelivery,
		req: form("POST", lit("/console/log/retry"), func(x *ids) url.Values { return url.Values{"status": {"failed"}, "source": {f("%d", x.Source)}} })})
	add(R{surface: sConsole, pattern: "GET /console/pushes", res: res.push, act: rd, bound: boundNone, req: get("/console/pushes")})
	add(R{surface: sConsole, pattern: "POST /console/pushes", res: res.push, act: cr, bound: boundNone,
		req: form("POST", lit("/console/pushes"), func(x *ids) url.Values {
			return url.Values{"job_name": {f("c%d", x.Seq)}, "content": {"hello"}, "content_type": {"text"}}
		})})
	pushForm := func(action string) func(x *ids) url.Values {
		return func(*ids) url.Values { return url.Values{"action": {action}, "reason": {"why"}} }
	}
	add(R{surface: sConsole, pattern: "POST /console/pushes/{id}", res: res.push, act: up, bound: T, prep: in(herald.PushDraft), name: "submit",
		req: form("POST", cp("/console/pushes/%d", func(x *ids) any { return x.Push }), pushForm("submit"))})
	add(R{surface: sConsole, pattern: "POST /console/pushes/{id}", res: res.push, act: appr, bound: T, prep: in(herald.PushPendingApproval), name: "approve",
		req: form("POST", cp("/console/pushes/%d", func(x *ids) any { return x.Push }), pushForm("approve"))})
	add(R{surface: sConsole, pattern: "POST /console/push-policy", res: herald.ResPushPolicy, act: up, bound: boundNone,
		req: form("POST", lit("/console/push-policy"), func(*ids) url.Values { return url.Values{} })})
	return rs
}

// freshDelivery records a new failed delivery and inbox message of P's
// event, so that a retry or a mark-read has something to act on.
func freshDelivery(e *accessEnv, x *ids) {
	x.Event, x.Delivery, x.Message = e.seedEvent(e.adminA, x, markProject)
}

// Routes that need no access rule, by surface: public ones, the answers
// in each surface's envelope to a method or a path no API has (the
// settings surface's 405 and 404, the CodeArts gateway's APIG.0101,
// Feishu's and Kintone's), each tested on every method and path in its
// package.
var unguarded = map[string][]string{
	// One-click unsubscribe links are their own credential (acting as
	// their person through herald.AuthorizeUser): preferences_test.go.
	sAPI: {"GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json", "GET /api/v1/docs", "GET /unsubscribe/{token}", "POST /unsubscribe/{token}",
		"GET /embed/inbox.js"}, // the embedded inbox's script: static, it reads nothing
	sConsole: {"GET /{$}", "GET /console/static/", "GET /console", "GET /console/signin", "POST /console/signin", "GET /console/lang/{lang}",
		"POST /console/signout"},
	sSettings: {settings.PathNotifications, settings.PathNotifiers, settings.PathOTPSend, settings.PathOTPVerify, "/api/settings/"},
	// The CodeArts surfaces' gateway answers (APIG.0101: no such API or
	// method), checked in their packages; they read nothing.
	sBuild:  {"/v1/job", "/v1/job/", "/v1/job/{job_id}/notice", "/v1/job/{job_id}/notice/update"},
	sDeploy: {"/v2/projects", "/v2/projects/", "/v2/projects/{project_id}/applications/{app_id}/messages"},
	// Feishu's wrong methods and unknown sub-paths, answered in its envelope.
	sFeishu: {"/open-apis/helpdesk/v1/notifications", "/open-apis/helpdesk/v1/notifications/"},
	// Any other method on a Kintone endpoint (405) and any other path (404)
	// answer without looking at the token: they tell nothing.
	sKintone: {"/k/v1/app/notifications/general.json", "/k/v1/preview/app/notifications/general.json", "/k/v1/preview/app/deploy.json",
		"/k/guest/{spaceId}/v1/app/notifications/general.json", "/k/guest/{spaceId}/v1/preview/app/notifications/general.json",
		"/k/guest/{spaceId}/v1/preview/app/deploy.json", "/k/v1/", "/k/guest/",
		"/k/v1/app/notifications/perRecord.json", "/k/v1/preview/app/notifications/perRecord.json",
		"/k/guest/{spaceId}/v1/app/notifications/perRecord.json", "/k/guest/{spaceId}/v1/preview/app/notifications/perRecord.json",
		"/k/v1/app/notifications/reminder.json", "/k/v1/preview/app/notifications/reminder.json",
		"/k/guest/{spaceId}/v1/app/notifications/reminder.json", "/k/guest/{spaceId}/v1/preview/app/notifications/reminder.json"},
}

// muxPatterns lists the patterns registered on mux. net/http offers no
// way to enumerate a ServeMux; its routing index holds every pattern, read
// here by reflection (net/http's unexported fields may change: the test
// then says so rather than pass).
func muxPatterns(t *testing.T, mux *http.ServeMux) []string {
	t.Helper()
	idx := reflect.ValueOf(mux).Elem().FieldByName("index")
	segs, multis := idx.FieldByName("segments"), idx.FieldByName("multis")
	if !idx.IsValid() || segs.Kind() != reflect.Map || multis.Kind() != reflect.Slice {
		t.Fatal("cannot read http.ServeMux's patterns in this Go version: update muxPatterns")
	}
	seen := map[string]bool{}
	add := func(p reflect.Value) { seen[p.Elem().FieldByName("str").String()] = true }
	for it := segs.MapRange(); it.Next(); {
		for i := 0; i < it.Value().Len(); i++ {
			add(it.Value().Index(i))
		}
	}
	for i := 0; i < multis.Len(); i++ {
		add(multis.Index(i))
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestAccess_RouteListIsComplete: the table names every route every entry
// point registers — the native API's recorded routes (which the OpenAPI
// test matches with the document) and each surface's mux — and no other.
func TestAccess_RouteListIsComplete(t *testing.T) {
	t.Parallel()
	table := map[string]map[string]bool{}
	for _, r := range accessRoutes() {
		if table[r.surface] == nil {
			table[r.surface] = map[string]bool{}
		}
		table[r.surface][r.pattern] = true
		r.rule() // every row names a policy row
	}
	for s, ps := range unguarded {
		for _, p := range ps {
			table[s][p] = true
		}
	}
	want := func(s string) []string {
		out := make([]string, 0, len(table[s]))
		for p := range table[s] {
			out = append(out, p)
		}
		sort.Strings(out)
		return out
	}
	var native []string
	for _, r := range api.Routes() {
		native = append(native, r.Pattern)
	}
	sort.Strings(native)
	if got := want(sAPI); !slices.Equal(got, native) {
		t.Errorf("native routes:\n table %v\n api.Routes %v", got, native)
	}
	srv := newServer(storetest.NewDB(t, store.DialectSQLite), nil, surfaceOptions{SessionKey: storetest.Key()}, nil)
	names := map[reflect.Type]string{
		reflect.TypeFor[*codeartsbuild.Surface](): sBuild, reflect.TypeFor[*codeartsdeploy.Surface](): sDeploy,
		reflect.TypeFor[*kintone.Surface](): sKintone, reflect.TypeFor[*feishu.Surface](): sFeishu,
		reflect.TypeFor[*settings.Surface](): sSettings, reflect.TypeFor[*console.Console](): sConsole,
	}
	if len(srv.Surfaces) != len(names) {
		t.Errorf("newServer mounts %d surfaces, the suite knows %d", len(srv.Surfaces), len(names))
	}
	for _, sf := range srv.Surfaces {
		name, ok := names[reflect.TypeOf(sf)]
		if !ok {
			t.Errorf("surface %T is not in the access table", sf)
			continue
		}
		mux := http.NewServeMux()
		sf.Register(mux)
		if got := muxPatterns(t, mux); !slices.Equal(got, want(name)) {
			t.Errorf("%s: registered %d patterns, the table lists %d:\n registered %v\n table      %v", name, len(got), len(want(name)), got, want(name))
		}
	}
}

// TestAccess walks every route × principal on both databases.
func TestAccess(t *testing.T) {
	t.Parallel()
	routes := accessRoutes()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAccessEnv(t, db)
		walked := 0
		for _, r := range routes {
			name := r.surface + " " + r.pattern
			if r.name != "" {
				name += " (" + r.name + ")"
			}
			x := e.base
			if r.prep != nil {
				r.prep(e, &x)
			}
			// Make every principal's token and session before the dump.
			for _, p := range []principal{pLacking, pOtherProject, pOtherTenant, pRight} {
				if s := e.secretOf(r, p); r.surface == sConsole {
					e.session(s)
				}
			}
			before := e.dump()
			for _, p := range []principal{pNone, pLacking, pOtherProject, pOtherTenant} {
				if r.rule().Perm == "" && p == pLacking {
					continue // any token may: there is no permission to lack
				}
				want := r.expect(p)
				w := e.call(r, p, &x)
				walked++
				if msg := check(r.surface, r.req(&x).method, want, p, w); msg != "" {
					t.Errorf("%s as %s (%s %s): want %s: %s\n%s", name, principalNames[p], r.req(&x).method, r.req(&x).path, outcomeNames[want], msg, truncate(w.Body.String()))
				}
			}
			if after := e.dump(); after != before {
				t.Errorf("%s: a refused request changed what the admin sees:\n%s", name, diffLines(before, after))
			}
			if r.res == herald.ResProject && r.act == herald.ActCreate {
				e.trimTenantB()
			}
			w := e.call(r, pRight, &x)
			if msg := check(r.surface, r.req(&x).method, oAllowed, pRight, w); msg != "" {
				t.Errorf("%s as %s (positive control): %s\n%s", name, principalNames[pRight], msg, truncate(w.Body.String()))
			}
		}
		t.Logf("%d routes × principals walked (%d routes, plus %d positive controls)", walked, len(routes), len(routes))
	})
}

// trimTenantB deletes the projects tenant B's tokens created when they
// were allowed to, keeping B at one project: the settings surface acts on
// an unscoped token's only project.
func (e *accessEnv) trimTenantB() {
	e.t.Helper()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	e.must(200, "GET", "/api/v1/projects?limit=200", e.adminB, nil, &list)
	for _, p := range list.Items {
		if p.Name != "B" {
			e.must(204, "DELETE", fmt.Sprintf("/api/v1/projects/%d", p.ID), e.adminB, nil, nil)
		}
	}
}

var reErrorText = regexp.MustCompile(`(?s)<p class="error" id="error">(.*?)</p>`)

func truncate(s string) string {
	if m := reErrorText.FindStringSubmatch(s); m != nil {
		return "console error: " + m[1]
	}
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// diffLines shows the lines of b that a lacks and the reverse.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var sb strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&sb, "- %s\n+ %s\n", truncate(x), truncate(y))
		}
	}
	return sb.String()
}

// TestAccess_ServicesCheckThemselves calls the guarded services newServer
// wires — not through a surface — where every surface happens to look
// something up first (a source before its settings, a project before its
// default settings), so the HTTP walk above cannot tell whether the
// service's own check is there (mutate-authz.sh found these). A service
// must refuse by itself: a token lacking the permission is forbidden even
// for an unknown id (so it cannot probe which ids exist), and a token of
// another project does not find P's objects.
func TestAccess_ServicesCheckThemselves(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAccessEnv(t, db)
		x := e.base
		as := func(secret string) context.Context {
			p, err := db.Authenticate(context.Background(), secret)
			if err != nil {
				t.Fatal(err)
			}
			return herald.NewContextWithPrincipal(context.Background(), p)
		}
		const unknown = 987654321
		srcScope := herald.SettingsScope{ProjectID: x.P, SourceID: x.Source}
		unknownScope := herald.SettingsScope{ProjectID: x.P, SourceID: unknown}
		noop := func(herald.SettingsTx, *herald.Settings) error { return nil }
		type call func(ctx context.Context, scope herald.SettingsScope, id int64) error
		var dir herald.PushDirectory
		for _, sf := range e.srv.Surfaces {
			if f, ok := sf.(*feishu.Surface); ok {
				dir = f.Directory
			}
		}
		// Look-ups of the push directory name no object of their own.
		dirCase := func(name string, fn func(ctx context.Context) error) struct {
			name    string
			res     herald.Resource
			act     herald.Action
			fn      call
			noKnown bool
		} {
			return struct {
				name    string
				res     herald.Resource
				act     herald.Action
				fn      call
				noKnown bool
			}{name, herald.ResPush, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error { return fn(ctx) }, true}
		}
		cases := []struct {
			name    string
			res     herald.Resource
			act     herald.Action
			fn      call
			noKnown bool
		}{
			{"Settings.FindSettings", herald.ResSettings, herald.ActRead, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.FindSettings(ctx, s, herald.VersionDraft)
				return err
			}, false},
			{"Settings.EffectiveSettings", herald.ResSettings, herald.ActRead, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.EffectiveSettings(ctx, s)
				return err
			}, false},
			{"Settings.FindSettingsHistory", herald.ResSettings, herald.ActRead, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, _, err := e.srv.Settings.FindSettingsHistory(ctx, s, herald.Page{})
				return err
			}, false},
			{"Settings.UpdateSettings", herald.ResSettings, herald.ActUpdate, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.UpdateSettings(ctx, herald.SettingsRef{Scope: s, Revision: herald.NoRevisionCheck},
					&herald.Settings{ProjectID: s.ProjectID, SourceID: s.SourceID, Version: herald.VersionDraft, Channels: []herald.ChannelSettings{}})
				return err
			}, false},
			{"Settings.DeploySettings", herald.ResSettings, herald.ActUpdate, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.DeploySettings(ctx, []herald.SettingsRef{{Scope: s, Revision: herald.NoRevisionCheck}}, false)
				return err
			}, false},
			{"Settings.ApplyLive", herald.ResSettings, herald.ActUpdate, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.ApplyLive(ctx, herald.SettingsRef{Scope: s, Revision: herald.NoRevisionCheck}, noop)
				return err
			}, false},
			{"Settings.ApplyDraft", herald.ResSettings, herald.ActUpdate, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.ApplyDraft(ctx, herald.SettingsRef{Scope: s, Revision: herald.NoRevisionCheck}, noop)
				return err
			}, false},
			{"Sources.FindSourceByID", herald.ResSource, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Sources.FindSourceByID(ctx, id)
				return err
			}, false},
			{"Sources.FindSourceByExternalID", herald.ResSource, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				ext := x.JobID
				if id == unknown {
					ext = "unknown0unknown0unknown0unknown0"
				}
				_, err := e.srv.Sources.FindSourceByExternalID(ctx, herald.SourceBuildJob, ext)
				return err
			}, false},
			{"Notifiers.FindNotifierByID", herald.ResNotifier, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Notifiers.FindNotifierByID(ctx, id)
				return err
			}, false},
			{"Events.FindEventByID", herald.ResEvent, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Events.FindEventByID(ctx, id)
				return err
			}, false},
			{"Deliveries.FindDeliveryByID", herald.ResDelivery, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Deliveries.FindDeliveryByID(ctx, id)
				return err
			}, false},
			{"Pushes.PreviewPush", herald.ResPush, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Pushes.PreviewPush(ctx, id)
				return err
			}, false},
			{"Projects.FindProjects", herald.ResProject, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, _, err := e.srv.Projects.FindProjects(ctx, herald.Page{})
				return err
			}, true},
			{"Settings.EnsureNotifier", herald.ResSettings, herald.ActUpdate, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				_, err := e.srv.Settings.EnsureNotifier(ctx, herald.NotifierSpec{ProjectID: s.ProjectID, Type: herald.NotifierInbox})
				return err
			}, false},
			{"Log.FindDeliveriesNewest", herald.ResDelivery, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, _, err := logOf(e).FindDeliveriesNewest(ctx, herald.DeliveryFilter{}, herald.Page{})
				return err
			}, true},
			{"Deliveries.RetryDeliveries", herald.ResDelivery, herald.ActRetry, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, err := e.srv.Deliveries.RetryDeliveries(ctx, herald.DeliveryFilter{Status: herald.StatusFailed, SourceID: x.Source})
				return err
			}, true},
			{"Log.CountDeliveriesUpTo", herald.ResDelivery, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, err := logOf(e).CountDeliveriesUpTo(ctx, herald.DeliveryFilter{}, 10)
				return err
			}, true},
			{"Log.NameDeliveries", herald.ResDelivery, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, err := logOf(e).NameDeliveries(ctx, []*herald.Delivery{{ID: x.Delivery}})
				return err
			}, true},
			{"Log.CountDeliveriesByMinute", herald.ResDelivery, herald.ActRead, func(ctx context.Context, _ herald.SettingsScope, _ int64) error {
				_, err := logOf(e).CountDeliveriesByMinute(ctx, time.Now().Add(-time.Hour))
				return err
			}, true},
			{"Log.FindEventsNewest", herald.ResEvent, herald.ActRead, func(ctx context.Context, s herald.SettingsScope, _ int64) error {
				list, _, err := logOf(e).FindEventsNewest(ctx, s.ProjectID, herald.Page{})
				if err == nil && len(list) == 0 && s.ProjectID != 0 {
					// Another tenant's store holds no such project: its
					// filter answers an empty list, which reveals nothing.
					return herald.NotFound("project", s.ProjectID)
				}
				return err
			}, false},
			// Reached only through one-click unsubscribe links, which
			// the HTTP walk does not take.
			{"Preferences.SetUserPreference", herald.ResPreferences, herald.ActUpdate, func(ctx context.Context, _ herald.SettingsScope, id int64) error {
				_, err := e.srv.Preferences.SetUserPreference(ctx, id, herald.PreferenceRule{Channel: "email", EventType: "build.failed"})
				return err
			}, false},
			dirCase("PushDirectory.FindUsersByIMIDs", func(ctx context.Context) error {
				_, err := dir.FindUsersByIMIDs(ctx, "open_id", []string{"ou_1"})
				return err
			}),
			dirCase("PushDirectory.FindUsersByIDs", func(ctx context.Context) error {
				_, err := dir.FindUsersByIDs(ctx, []int64{x.User})
				return err
			}),
			dirCase("PushDirectory.FindDepartmentsByCodes", func(ctx context.Context) error {
				_, err := dir.FindDepartmentsByCodes(ctx, []string{"od_1"})
				return err
			}),
			dirCase("PushDirectory.FindDepartmentsByIDs", func(ctx context.Context) error {
				_, err := dir.FindDepartmentsByIDs(ctx, []int64{x.Dept})
				return err
			}),
			dirCase("PushDirectory.FindChatsByCodes", func(ctx context.Context) error {
				_, err := dir.FindChatsByCodes(ctx, []string{"oc_1"})
				return err
			}),
			dirCase("PushDirectory.FindChatsByIDs", func(ctx context.Context) error {
				_, err := dir.FindChatsByIDs(ctx, []int64{x.Chat})
				return err
			}),
		}
		known := map[herald.Resource]int64{herald.ResSettings: x.Source, herald.ResSource: x.Source, herald.ResNotifier: x.Webhook,
			herald.ResEvent: x.Event, herald.ResDelivery: x.Delivery, herald.ResPush: x.Push, herald.ResPreferences: x.User}
		for _, c := range cases { // every token made before the dump
			rule := herald.Policy[c.res][c.act]
			if rule.Perm != "" {
				e.tokenFor(lacking(rule.Perm), x.P, false)
			}
			e.tokenFor(holding(rule), x.Q, false)
			e.tokenFor(holding(rule), 0, true)
			e.tokenFor(holding(rule), x.P, false)
			e.tokenFor(holding(rule), 0, false)
		}
		// Ensuring a notifier a surface configures (its endpoint and
		// credentials) is writing a notifier: settings:write is not enough.
		configurer := as(e.tokenFor(lacking(herald.PermNotifiersWrite), x.P, false))
		before := e.dump()
		_, err := e.srv.Settings.EnsureNotifier(configurer, herald.NotifierSpec{ProjectID: x.P, Type: herald.NotifierDingTalk, Name: "robot",
			Configure: func(n *herald.Notifier) { n.Config.URL = "https://oapi.dingtalk.com/robot/send?access_token=x" }})
		if herald.ErrorCode(err) != herald.EFORBIDDEN {
			t.Errorf("Settings.EnsureNotifier configuring a notifier without notifiers:write: %v, want forbidden", err)
		}
		for _, c := range cases {
			rule := herald.Policy[c.res][c.act]
			if err := c.fn(context.Background(), unknownScope, unknown); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Errorf("%s, no principal: %v, want unauthorized", c.name, err)
			}
			if rule.Perm != "" {
				lack := as(e.tokenFor(lacking(rule.Perm), x.P, false))
				if err := c.fn(lack, unknownScope, unknown); herald.ErrorCode(err) != herald.EFORBIDDEN {
					t.Errorf("%s, lacking %s, an unknown id: %v, want forbidden", c.name, rule.Perm, err)
				}
			}
			other := as(e.tokenFor(holding(rule), x.Q, false))
			wantOther := herald.ENOTFOUND
			if rule.TenantWide {
				wantOther = herald.EFORBIDDEN
			}
			if err := c.fn(other, srcScope, known[c.res]); (c.noKnown && !rule.TenantWide && err != nil) || (!(c.noKnown && !rule.TenantWide) && herald.ErrorCode(err) != wantOther) {
				t.Errorf("%s, a token of another project, P's object: %v, want %s", c.name, err, wantOther)
			}
			if c.noKnown {
				continue
			}
			tenantB := as(e.tokenFor(holding(rule), 0, true))
			if err := c.fn(tenantB, srcScope, known[c.res]); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Errorf("%s, a token of another tenant, P's object: %v, want not found", c.name, err)
			}
			scope := x.P
			if rule.TenantWide {
				scope = 0
			}
			right := as(e.tokenFor(holding(rule), scope, false))
			if c.act == herald.ActRead {
				if err := c.fn(right, srcScope, known[c.res]); err != nil {
					t.Errorf("%s, the right token: %v", c.name, err)
				}
			}
		}
		if after := e.dump(); after != before {
			t.Errorf("a refused call changed what the admin sees:\n%s", diffLines(before, after))
		}
	})
}

// logOf is the console's delivery log service, as newServer wires it.
func logOf(e *accessEnv) console.LogStore {
	for _, sf := range e.srv.Surfaces {
		if c, ok := sf.(*console.Console); ok {
			return c.Log
		}
	}
	e.t.Fatal("no console")
	return nil
}

// holding is a token's permissions that satisfy rule (any one when the
// rule asks none).
func holding(rule herald.Rule) []herald.Permission {
	if rule.Perm == "" {
		return []herald.Permission{herald.PermInboxRead}
	}
	return []herald.Permission{rule.Perm}
}
