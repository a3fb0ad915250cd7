package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/browsertest"
)

// needChromium skips the test when Chromium is missing, and fails it under
// CI=true, where the browser test must run.
func needChromium(t *testing.T) { t.Helper(); browsertest.Need(t) }

// newBrowser starts a headless Chromium with a throwaway profile.
func newBrowser(t *testing.T) context.Context { t.Helper(); return browsertest.New(t, 1400, 1000) }

// page drives one tab, failing the test with the page's HTML when a step
// fails.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p *page) fail(step string, err error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
	p.t.Fatalf("%s: %v\npage:\n%s", step, err, body)
}

// do runs steps with a timeout.
func (p *page) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail(step, err)
	}
}

// text returns the visible text of the first element matching css.
func (p *page) text(css string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.fail("text of "+css, err)
	}
	return s
}

// eval evaluates a JavaScript expression that gives a number.
func (p *page) eval(expr string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		p.fail("eval "+expr, err)
	}
	return n
}

// TestBrowser_SignInNotifierDeployEvent drives the console in Chromium:
// sign in, create a notifier, switch an event on for a source with a
// recipient, deploy, see live change, post an event and see its delivery
// in the log.
func TestBrowser_SignInNotifierDeployEvent(t *testing.T) {
	needChromium(t)
	t.Parallel()
	b := setup(t)
	startEngine(t, b, 0)
	p := &herald.Project{Name: "Shop"}
	if err := b.db.CreateProject(b.ctx, p); err != nil {
		t.Fatal(err)
	}
	// A build job: its matrix offers build.failed (a generic source's
	// offers only its own custom types).
	src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: jobID, Name: "Checkout"}
	if err := b.db.CreateSource(b.ctx, src); err != nil {
		t.Fatal(err)
	}
	if err := b.db.CreateUser(b.ctx, &herald.User{Code: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}

	tab := &page{t: t, ctx: newBrowser(t)}
	base := b.srv.URL
	mp := base + matrixPath(p, src)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	tab.do("sign in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), b.token),
		chromedp.Click(id("signin")),
		chromedp.WaitVisible(id("projects")),
	)

	tab.do("open the new notifier form",
		chromedp.Navigate(fmt.Sprintf("%s/console/projects/%d", base, p.ID)),
		chromedp.Click(id("new-notifier")),
		chromedp.WaitVisible(id("notifier-form")),
		chromedp.SetValue(id("type"), herald.NotifierInbox),
	)
	tab.eval(`document.getElementById("type").dispatchEvent(new Event("change")) ? 1 : 0`)
	if hidden := tab.eval(`document.querySelector("input[name=url]").closest("label").hidden ? 1 : 0`); hidden != 1 {
		t.Errorf("the URL field is shown for an inbox notifier")
	}
	tab.do("create an inbox notifier",
		chromedp.SendKeys(id("notifier-name"), "In-app"),
		chromedp.Click(id("save-notifier")),
		chromedp.WaitVisible(id("flash")),
	)
	ns, _, err := b.db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: p.ID}, herald.Page{})
	if err != nil || len(ns) != 1 || ns[0].Type != herald.NotifierInbox || ns[0].Name != "In-app" {
		t.Fatalf("notifiers after the form: %+v %v", ns, err)
	}
	n := ns[0]
	cell := fmt.Sprintf(`td[data-cell="%d:build.failed"]`, n.ID)

	tab.do("switch build.failed on in the draft",
		chromedp.Navigate(mp),
		chromedp.WaitVisible(id("matrix")),
		chromedp.Click(id(fmt.Sprintf("on-%d", n.ID))),
		chromedp.Click(css(cell+" input[type=checkbox]")),
		chromedp.Click(id("save-draft")),
		chromedp.WaitVisible(id("flash")),
	)
	if note := tab.text("#diff-note"); !strings.Contains(note, "differs from live") {
		t.Fatalf("after saving the draft the page says %q", note)
	}
	if tab.eval(`document.querySelectorAll("td.cell.differs").length`) != 1 {
		t.Errorf("the changed cell is not highlighted")
	}

	tab.do("add a recipient to the cell",
		chromedp.Click(css(cell+" a.recips")),
		chromedp.WaitVisible(id("cell-form")),
		chromedp.SetValue(css(`select[name="type:0"]`), herald.EntityUser),
		chromedp.SendKeys(css(`input[name="code:0"]`), "alice"),
		chromedp.Click(id("save-cell")),
		chromedp.WaitVisible(id("flash")),
	)
	if form := tab.text("#cell-form"); !strings.Contains(form, "alice") {
		t.Fatalf("the cell's draft recipients lack alice: %q", form)
	}

	tab.do("open the matrix", chromedp.Navigate(mp), chromedp.WaitVisible(id("deploy")))
	if live := tab.text(cell + " .live-state"); !strings.Contains(live, "off") {
		t.Fatalf("before deploy the live cell says %q", live)
	}
	tab.do("deploy", chromedp.Click(id("deploy")), chromedp.WaitVisible(id("flash")))
	if note, live := tab.text("#diff-note"), tab.text(cell+" .live-state"); !strings.Contains(note, "same as live") || !strings.Contains(live, "on") {
		t.Fatalf("after deploy: note %q, live cell %q", note, live)
	}
	s, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}, herald.VersionLive)
	if err != nil || s.Channel(n.ID) == nil || !s.Channel(n.ID).Enabled || s.Channel(n.ID).Event("build.failed") == nil {
		t.Fatalf("live settings after deploy: %+v %v", s, err)
	}

	// Post an event through the native API with the same token.
	body := fmt.Sprintf(`{"source_id": %d, "type": "build.failed", "actor": "bob"}`, src.ID)
	req, _ := http.NewRequest("POST", base+"/api/v1/events", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("post event: %s", resp.Status)
	}

	// The engine fans it out; reload the log until the delivery shows.
	deadline := time.Now().Add(20 * time.Second)
	for {
		tab.do("delivery log", chromedp.Navigate(base+"/console/log"), chromedp.WaitVisible(id("deliveries")))
		rows := tab.text("#deliveries")
		// The page counts the chart before it lists the rows, so a
		// fan-out landing in between shows the row first: wait for both.
		bars := tab.eval(`document.querySelectorAll("#chart rect.delivered").length`)
		if strings.Contains(rows, "delivered") && strings.Contains(rows, "inbox") && strings.Contains(rows, "alice") && bars > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivered inbox delivery to alice in the log and chart (%d delivered bars):\n%s", bars, rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ev := tab.text("#events"); !strings.Contains(ev, "build.failed") {
		t.Fatalf("the events list lacks the event: %q", ev)
	}

	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.fail("screenshot", err)
	}
	path := filepath.Join(t.TempDir(), "console-delivery-log.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}
