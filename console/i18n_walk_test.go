package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/console"
)

// TestI18n_WalkEveryPageInChinese signs in with Chinese, fills the tenant
// with data (so lists are not empty), and walks every console page it can
// reach by links from the projects page, plus the sign-in page, an error
// page and a push's confirmation step. On each page it reads the visible
// text (text nodes, placeholders, titles, labels) and fails on any that is
// an English message of the catalogue (console.EnglishCatalogue: every
// message the templates and Go code translate) shown in English. Every GET
// route the console registers must have been reached, so a page added
// later is walked too (seed its data here if no link reaches it).
func TestI18n_WalkEveryPageInChinese(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedWalk(t, b)
	english, zh := console.EnglishCatalogue(t), console.ChineseCatalogue()
	untranslated := func(s string) bool {
		if !english[s] {
			return false
		}
		tr, ok := zh[s]
		return !ok || tr != s
	}

	// The detector sees English: the pushes page in English shows many
	// messages of the catalogue.
	en := b.browser(t)
	en.signIn()
	_, body := en.get("/console/pushes")
	if n := len(slices.DeleteFunc(visibleText(t, body), func(s string) bool { return !untranslated(s) })); n < 10 {
		t.Fatalf("the English pushes page shows only %d catalogue messages: the check sees nothing", n)
	}

	br := b.browser(t)
	br.lang = "zh"
	br.signIn()
	var problems []string
	check := func(where, body string) {
		for _, s := range visibleText(t, body) {
			if untranslated(s) {
				problems = append(problems, where+": "+s)
			}
		}
	}

	// Breadth first from the projects page, following every console link.
	seen := map[string]bool{"/console/": true}
	queue := []string{"/console/"}
	var visited []string
	for len(queue) > 0 && len(visited) < 400 {
		path := queue[0]
		queue = queue[1:]
		st, body := br.get(path)
		if st != http.StatusOK {
			t.Errorf("GET %s: %d", path, st)
			continue
		}
		if !strings.Contains(body, `lang="zh-CN"`) {
			t.Fatalf("GET %s is not in Chinese", path)
		}
		visited = append(visited, path)
		check(path, body)
		for _, link := range links(t, body) {
			if !seen[link] {
				seen[link] = true
				queue = append(queue, link)
			}
		}
	}

	// Pages no link leads to: the sign-in page, an error, and the
	// confirmation of a send.
	anon := b.browser(t)
	anon.lang = "zh"
	_, body = anon.get("/console/signin")
	check("/console/signin", body)
	visited = append(visited, "/console/signin")
	st, body := br.get("/console/projects/999999")
	if st != http.StatusNotFound {
		t.Fatalf("a missing project: %d", st)
	}
	check("error page", body)
	ps, _, err := b.db.FindPushes(b.ctx, herald.PushFilter{Status: herald.PushApproved}, herald.Page{})
	if err != nil || len(ps) == 0 {
		t.Fatalf("no approved push: %v", err)
	}
	st, _, body = br.post("/console/pushes", "/console/pushes/"+itoa(ps[0].ID), url.Values{"action": {"execute"}})
	if st != http.StatusOK || !strings.Contains(body, "reach-count") {
		t.Fatalf("send's confirmation: %d\n%s", st, body)
	}
	check("send confirmation", body)

	for _, route := range getRoutes(t) {
		re := routeRegexp(route)
		if !slices.ContainsFunc(visited, func(p string) bool { u, _ := url.Parse(p); return re.MatchString(u.Path) }) {
			t.Errorf("no page of the route GET %s was reached: link it from a page, or seed its data in seedWalk", route)
		}
	}
	sort.Strings(problems)
	for _, p := range slices.Compact(problems) {
		t.Errorf("untranslated in Chinese: %s", p)
	}
	t.Logf("walked %d pages", len(visited))
}

// seedWalk gives every page something to list: a project with a source
// and notifiers, a deployed setting and a failed delivery, people,
// groups, departments and chats, and pushes in several states.
func seedWalk(t *testing.T, b *testBundle) {
	t.Helper()
	p, s, _ := b.fixture(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	root := &herald.Department{Code: "eng", Name: "Engineering"}
	must(b.db.CreateDepartment(b.ctx, root))
	must(b.db.CreateDepartment(b.ctx, &herald.Department{Code: "web", Name: "Web", ParentID: &root.ID}))
	alice := &herald.User{Code: "alice", Name: "Alice", Email: "alice@example.com", DepartmentIDs: []int64{root.ID}}
	must(b.db.CreateUser(b.ctx, alice))
	must(b.db.CreateGroup(b.ctx, &herald.Group{Code: "oncall", Name: "On call", MemberIDs: []int64{alice.ID}}))
	must(b.db.CreateChat(b.ctx, &herald.Chat{Code: "oc_ops", Name: "Ops"}))

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	hook := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Hook", Config: herald.NotifierConfig{URL: deadURL}}
	must(b.db.CreateNotifier(b.ctx, hook))
	scope := herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}
	_, err := b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, &herald.Settings{Channels: []herald.ChannelSettings{{
		NotifierID: hook.ID, Enabled: true, Events: []herald.EventSettings{{Type: "build.failed", Enabled: true,
			Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "alice"}}}}}}})
	must(err)
	_, err = b.db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: scope, Revision: herald.NoRevisionCheck}}, false)
	must(err)
	startEngine(t, b, 1)
	must(b.db.CreateEvents(b.ctx, []*herald.Event{{SourceID: s.ID, Type: "build.failed"}}))
	deadline := time.Now().Add(60 * time.Second)
	for {
		ds, _, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{Status: herald.StatusDead}, herald.Page{})
		must(err)
		if len(ds) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead delivery")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Pushes: a draft, one waiting for the admin's approval (submitted by
	// another token), one approved, one waiting on the admin's own.
	writer := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: herald.PrincipalFromContext(b.ctx).TenantID,
		TokenID: 1 << 40, TokenName: "writer", Permissions: []herald.Permission{herald.PermPushWrite, herald.PermPushApprove}})
	push := func(ctx context.Context, name string) *herald.Push {
		p := &herald.Push{JobName: name, Content: "hello", ScopeType: herald.PushScopeAll}
		must(b.db.CreatePush(ctx, p))
		return p
	}
	push(b.ctx, "Draft notice")
	_, err = b.db.SubmitPush(writer, push(writer, "Needs approval").ID, "weekly")
	must(err)
	approved := push(writer, "Approved notice")
	_, err = b.db.SubmitPush(writer, approved.ID, "")
	must(err)
	_, err = b.db.ApprovePush(b.ctx, approved.ID)
	must(err)
	_, err = b.db.SubmitPush(b.ctx, push(b.ctx, "Mine").ID, "")
	must(err)
}

// visibleText returns the text a person reads on a page: text nodes (not
// of script, style, code or pre, which show data) and the placeholder,
// title and aria-label attributes, whitespace collapsed.
func visibleText(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			out = append(out, s)
		}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "code", "pre", "textarea":
				return
			}
			for _, a := range n.Attr {
				if a.Key == "placeholder" || a.Key == "title" || a.Key == "aria-label" {
					add(a.Val)
				}
			}
		}
		if n.Type == html.TextNode {
			add(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// links returns the console pages a page links to (not the language
// switch, static files or sign-out).
func links(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key != "href" || !strings.HasPrefix(a.Val, "/console/") {
					continue
				}
				if strings.HasPrefix(a.Val, "/console/lang/") || strings.HasPrefix(a.Val, "/console/static/") {
					continue
				}
				out = append(out, a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

var reRoute = regexp.MustCompile(`mux\.Handle(?:Func)?\("GET (/[^"]*)"`)

// getRoutes reads the console's GET routes from its sources: the pages
// the walk must reach (redirects and static files aside).
func getRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reRoute.FindAllStringSubmatch(string(src), -1) {
			switch r := m[1]; {
			case r == "/console", r == "/{$}", strings.HasPrefix(r, "/console/static/"), strings.HasPrefix(r, "/console/lang/"):
			default:
				out = append(out, r)
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %v: has the route list moved?", out)
	}
	return out
}

// routeRegexp matches the paths of a ServeMux pattern.
func routeRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, seg := range strings.Split(strings.TrimPrefix(pattern, "/"), "/") {
		switch {
		case seg == "{$}":
			b.WriteString("/")
		case strings.HasPrefix(seg, "{"):
			b.WriteString("/[^/]+")
		default:
			b.WriteString("/" + regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
