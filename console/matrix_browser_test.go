package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
)

// The matrix, its history and a project's first run, walked in Chromium
// as a person would, in English and in Chinese.

// jobID is a CodeArts build job's 32-character id.
const jobID = "0123456789abcdef0123456789abcdef"

// eachLang runs f once per console language, each on a bundle and a
// browser of its own, signed in in that language.
func eachLang(t *testing.T, f func(t *testing.T, b *testBundle, tab *page, lang string)) {
	needChromium(t)
	t.Parallel()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			b := setup(t)
			tab := &page{t: t, ctx: newBrowser(t)}
			// The first page of a fresh browser on a busy machine may be
			// slow: a longer deadline than page.do's.
			ctx, cancel := context.WithTimeout(tab.ctx, 90*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx,
				chromedp.Navigate(b.srv.URL+"/console/lang/"+lang+"?next=/console/"),
				chromedp.WaitVisible(chromedp.ID("token")),
				chromedp.SendKeys(chromedp.ID("token"), b.token),
				chromedp.Click(chromedp.ID("signin")),
				chromedp.WaitVisible(chromedp.ID("projects")),
			); err != nil {
				tab.fail("sign in in "+lang, err)
			}
			want := map[string]string{"en": "en", "zh": "zh-CN"}[lang]
			if got := tab.attr("html", "lang"); got != want {
				t.Fatalf("the console speaks %q, want %q", got, want)
			}
			f(t, b, tab, lang)
		})
	}
}

// attr returns an attribute of the first element matching css.
func (p *page) attr(css, name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, css, name)))
	if err != nil {
		p.fail("attribute "+name+" of "+css, err)
	}
	return s
}

// submit clicks what submits a form and waits for the next page to show
// the element wait: the page it leaves may show one too (a flash).
func (p *page) submit(step string, click chromedp.Action[chromedp.Void], wait string) {
	p.t.Helper()
	p.do(step,
		chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("data-left", "1")`),
		click,
		chromedp.WaitReady(chromedp.CSS("body:not([data-left])")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
}

// english fails the test when, in Chinese, the page still shows one of
// msgs (each in the console's Chinese catalogue).
func (p *page) english(lang string, msgs ...string) {
	p.t.Helper()
	if lang != "zh" {
		return
	}
	body := p.text("body")
	for _, m := range msgs {
		if strings.Contains(body, m) {
			p.t.Errorf("the Chinese page shows %q untranslated", m)
		}
	}
}

// count returns the number of elements matching css.
func (p *page) count(css string) int {
	p.t.Helper()
	return p.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, css))
}

// shotHere saves a full-page screenshot under the test's temp dir.
func (p *page) shotHere(name string) {
	p.t.Helper()
	p.shot(p.t.TempDir(), name)
}

// jobFixture is a project with a build job and an inbox notifier.
func jobFixture(t *testing.T, b *testBundle) (*herald.Project, *herald.Source, *herald.Notifier) {
	t.Helper()
	p := &herald.Project{Name: "Shop"}
	must(t, b.db.CreateProject(b.ctx, p))
	s := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: jobID, Name: "Nightly build"}
	must(t, b.db.CreateSource(b.ctx, s))
	n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "In-app"}
	must(t, b.db.CreateNotifier(b.ctx, n))
	return p, s, n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cellOn reports whether notifier id's channel and event t are on in s.
func cellOn(s *herald.Settings, id int64, typ string) bool {
	ch := s.Channel(id)
	return ch != nil && ch.Enabled && ch.Event(typ) != nil && ch.Event(typ).Enabled
}

func (b *testBundle) settings(t *testing.T, p *herald.Project, s *herald.Source, version string) *herald.Settings {
	t.Helper()
	got, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: p.ID, SourceID: s.ID}, version)
	must(t, err)
	return got
}

// TestBrowser_DeployKeepsUnsavedEdits: Deploy with edits not yet saved
// deploys them; when someone else wrote the draft meanwhile, the deploy is
// refused with the edits kept on the page, and deploying again deploys
// both.
func TestBrowser_DeployKeepsUnsavedEdits(t *testing.T) {
	eachLang(t, func(t *testing.T, b *testBundle, tab *page, lang string) {
		p, src, n := jobFixture(t, b)
		mp := b.srv.URL + matrixPath(p, src)
		cell := fmt.Sprintf(`td[data-cell="%d:build.failed"] input[type=checkbox]`, n.ID)
		tab.do("edit the matrix and deploy without saving",
			chromedp.Navigate(mp),
			chromedp.WaitVisible(chromedp.ID("matrix")),
			chromedp.Click(chromedp.ID(fmt.Sprintf("on-%d", n.ID))),
			chromedp.Click(chromedp.CSS(cell)),
			chromedp.Click(chromedp.ID("deploy")),
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		if live := b.settings(t, p, src, herald.VersionLive); !cellOn(live, n.ID, "build.failed") {
			t.Fatalf("live after deploying unsaved edits: %+v", live)
		}
		tab.shotHere("deploy-unsaved-" + lang)
		tab.english(lang, "Deploy saves your edits", "Add an event type", "Send a test event", "Posts an event of this source", "Creator (user code)")

		// Someone else saves the draft while this page is open.
		tab.do("edit again", chromedp.Navigate(mp), chromedp.WaitVisible(chromedp.ID("matrix")),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`td[data-cell="%d:job.deleted"] input[type=checkbox]`, n.ID))))
		draft := b.settings(t, p, src, herald.VersionDraft)
		draft.NotifyCommenters = true
		_, err := b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}, Revision: draft.Revision}, draft)
		must(t, err)
		tab.do("deploy over the other write", chromedp.Click(chromedp.ID("deploy")), chromedp.WaitVisible(chromedp.ID("conflict")))
		if live := b.settings(t, p, src, herald.VersionLive); cellOn(live, n.ID, "job.deleted") || live.NotifyCommenters {
			t.Fatalf("a deploy over a stale revision changed live: %+v", live)
		}
		kept := fmt.Sprintf(`document.querySelector('td[data-cell="%d:job.deleted"] input').checked ? 1 : 0`, n.ID)
		if tab.eval(kept) != 1 {
			t.Fatalf("the refused deploy lost the unsaved edit")
		}
		tab.shotHere("deploy-conflict-" + lang)
		tab.english(lang, "Nothing was saved or deployed", "Your changes are kept below", "The matrix below shows your edits")
		tab.do("deploy again", chromedp.Click(chromedp.ID("deploy")), chromedp.WaitVisible(chromedp.ID("flash")))
		live := b.settings(t, p, src, herald.VersionLive)
		if !cellOn(live, n.ID, "job.deleted") || !cellOn(live, n.ID, "build.failed") || !live.NotifyCommenters {
			t.Fatalf("live after deploying again: %+v", live)
		}
	})
}

// TestBrowser_CustomEventRows: a generic source offers no CodeArts or
// Kintone rows; a custom row is added, switched on, deployed and removed.
func TestBrowser_CustomEventRows(t *testing.T) {
	eachLang(t, func(t *testing.T, b *testBundle, tab *page, lang string) {
		p, src, n := b.fixture(t) // a generic source
		mp := b.srv.URL + matrixPath(p, src)
		tab.do("open the matrix", chromedp.Navigate(mp), chromedp.WaitVisible(chromedp.ID("matrix")))
		if rows := tab.count("tr[data-row]"); rows != 0 {
			t.Fatalf("a generic source offers %d rows, want none until one is added", rows)
		}
		tab.do("add a custom row",
			chromedp.SendKeys(chromedp.ID("add-type"), "custom.order_paid"),
			chromedp.Click(chromedp.ID("add-type-button")),
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		row := `tr[data-row="custom.order_paid"]`
		if tab.count(row) != 1 {
			t.Fatalf("no custom.order_paid row after adding it")
		}
		tab.do("switch it on",
			chromedp.Click(chromedp.ID(fmt.Sprintf("on-%d", n.ID))),
			chromedp.Click(chromedp.CSS(row+" td.cell input[type=checkbox]")),
		)
		tab.submit("deploy", chromedp.Click(chromedp.ID("deploy")), "#flash")
		if live := b.settings(t, p, src, herald.VersionLive); !cellOn(live, n.ID, "custom.order_paid") {
			t.Fatalf("live after deploying the custom row: %+v", live)
		}
		tab.shotHere("custom-row-" + lang)
		tab.english(lang, "Your own event types are custom.", "Add row")
		tab.do("a bad name is refused on the page",
			chromedp.SendKeys(chromedp.ID("add-type"), "Order Paid"),
			chromedp.Click(chromedp.ID("add-type-button")),
			chromedp.WaitVisible(chromedp.ID("add-type-error")),
		)
		tab.english(lang, "an event type of your own")
		tab.shotHere("custom-row-error-" + lang)
		if v := tab.attr("#add-type", "value"); v != "Order Paid" {
			t.Errorf("the refused name is not kept in its field: %q", v)
		}
		tab.do("remove the row and deploy",
			chromedp.Navigate(mp), chromedp.WaitVisible(chromedp.ID("matrix")),
			chromedp.Click(chromedp.CSS(`button[data-remove="custom.order_paid"]`)),
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		if tab.count(row+".removed") != 1 {
			t.Fatalf("the removed row is not marked removed from the draft (it stays live until deployed)")
		}
		if d := b.settings(t, p, src, herald.VersionDraft); d.Channel(n.ID).Event("custom.order_paid") != nil {
			t.Fatalf("the draft keeps the removed row: %+v", d)
		}
		tab.submit("deploy", chromedp.Click(chromedp.ID("deploy")), "#flash")
		if live := b.settings(t, p, src, herald.VersionLive); live.Channel(n.ID) != nil && live.Channel(n.ID).Event("custom.order_paid") != nil {
			t.Fatalf("live still has the removed row: %+v", live)
		}
		if tab.count(row) != 0 {
			t.Fatalf("the removed row is still shown after the deploy")
		}
	})
}

// TestBrowser_HistoryDiffRestore: a revision that only changed recipients
// says whom, by name; restoring an older revision puts it into the draft.
func TestBrowser_HistoryDiffRestore(t *testing.T) {
	eachLang(t, func(t *testing.T, b *testBundle, tab *page, lang string) {
		p, src, n := jobFixture(t, b)
		must(t, b.db.CreateUser(b.ctx, &herald.User{Code: "alice", Name: "Alice Wong"}))
		must(t, b.db.CreateUser(b.ctx, &herald.User{Code: "bob", Name: "Bob Li"}))
		scope := herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}
		to := func(code string) *herald.Settings {
			return &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: n.ID, Enabled: true,
				Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: code}}}}}}}
		}
		_, err := b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: 1}, to("alice"))
		must(t, err)
		_, err = b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scope, Revision: 2}, to("bob"))
		must(t, err)

		tab.do("open the history", chromedp.Navigate(b.srv.URL+matrixPath(p, src)+"/history"), chromedp.WaitVisible(chromedp.ID("history")))
		diff := tab.text(`tr[data-revision="3"] .diff`)
		for _, want := range []string{"In-app", "build.failed", "Bob Li", "Alice Wong"} {
			if !strings.Contains(diff, want) {
				t.Errorf("the diff of revision 3 lacks %q: %q", want, diff)
			}
		}
		if tab.count(`tr[data-revision="3"] .diff .added`) != 1 || tab.count(`tr[data-revision="3"] .diff .removed`) != 1 {
			t.Errorf("the diff of revision 3 does not mark one recipient added and one removed: %q", diff)
		}
		tab.shotHere("history-diff-" + lang)
		tab.english(lang, "What changed", "Restore into the draft", "switched on", "Each row says")
		tab.do("restore revision 2",
			chromedp.Click(chromedp.CSS(`tr[data-revision="2"] button.restore`)),
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		draft := b.settings(t, p, src, herald.VersionDraft)
		if draft.Revision != 4 || !cellOn(draft, n.ID, "build.failed") || draft.Channel(n.ID).Event("build.failed").Recipients[0].Code != "alice" {
			t.Fatalf("the draft after restoring revision 2: %+v", draft)
		}
		if live := b.settings(t, p, src, herald.VersionLive); live.Revision != 1 {
			t.Errorf("restore changed live: %+v", live)
		}
		tab.shotHere("history-restored-" + lang)
	})
}

// TestBrowser_FirstRunAndTestEvent: an empty project shows the three steps
// to a first notification, each marked done as it is; a test event sent
// from the source page shows its deliveries.
func TestBrowser_FirstRunAndTestEvent(t *testing.T) {
	eachLang(t, func(t *testing.T, b *testBundle, tab *page, lang string) {
		startEngine(t, b, 0)
		p := &herald.Project{Name: "Fresh"}
		must(t, b.db.CreateProject(b.ctx, p))
		pp := fmt.Sprintf("%s/console/projects/%d", b.srv.URL, p.ID)
		steps := func() string {
			var s string
			for _, id := range []string{"step-source", "step-notifier", "step-settings"} {
				if strings.Contains(" "+tab.attr("#"+id, "class")+" ", " done ") {
					s += "x"
				} else {
					s += "-"
				}
			}
			return s
		}
		tab.do("open the empty project", chromedp.Navigate(pp), chromedp.WaitVisible(chromedp.ID("first-run")))
		if got := steps(); got != "---" {
			t.Fatalf("steps of an empty project %q, want none done", got)
		}
		if tab.count("#first-run a.button") != 3 {
			t.Errorf("the steps have %d buttons, want 3", tab.count("#first-run a.button"))
		}
		tab.shotHere("first-run-" + lang)
		tab.english(lang, "Three steps", "Add a source", "Add a notifier", "Switch an event on", "Open the settings", "Anything that emits events")
		tab.do("step 1 opens the new source form", chromedp.Click(chromedp.CSS("#step-source a.button")))
		if tab.eval(`document.querySelector("details.card").open ? 1 : 0`) != 1 {
			t.Errorf("the first step's button did not open the new source form")
		}
		src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: jobID, Name: "Nightly build"}
		must(t, b.db.CreateSource(b.ctx, src))
		tab.do("reload", chromedp.Navigate(pp), chromedp.WaitVisible(chromedp.ID("first-run")))
		if got := steps(); got != "x--" {
			t.Fatalf("steps with a source %q, want the first done", got)
		}
		n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "In-app"}
		must(t, b.db.CreateNotifier(b.ctx, n))
		must(t, b.db.CreateUser(b.ctx, &herald.User{Code: "alice", Name: "Alice Wong"}))
		tab.do("reload", chromedp.Navigate(pp), chromedp.WaitVisible(chromedp.ID("first-run")))
		if got := steps(); got != "xx-" {
			t.Fatalf("steps with a source and a notifier %q, want two done", got)
		}
		// The third step's button leads to the source's settings.
		tab.do("step 3", chromedp.Click(chromedp.CSS("#step-settings a.button")), chromedp.WaitVisible(chromedp.ID("matrix")))
		scope := herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}
		_, err := b.db.SaveAndDeploy(b.ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, func(_ herald.SettingsTx, s *herald.Settings) error {
			s.Channels = []herald.ChannelSettings{{NotifierID: n.ID, Enabled: true,
				Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: "alice"}}}}}}
			return nil
		})
		must(t, err)
		tab.do("reload", chromedp.Navigate(pp), chromedp.WaitVisible(chromedp.ID("sources")))
		if tab.count("#first-run") != 0 {
			t.Errorf("the first-run steps stay once all three are done")
		}

		tab.do("send a test event from the source page",
			chromedp.Navigate(b.srv.URL+matrixPath(p, src)),
			chromedp.WaitVisible(chromedp.ID("test-event-form")),
			chromedp.SetValue(chromedp.ID("test-event-type"), "build.failed"),
			chromedp.SendKeys(chromedp.ID("test-event-actor"), "bob"),
			chromedp.Click(chromedp.ID("send-test-event")),
			chromedp.WaitVisible(chromedp.ID("deliveries")),
		)
		delivered, inbox := "delivered", "inbox"
		if lang == "zh" {
			delivered, inbox = "已送达", "站内信"
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows := tab.text("#deliveries")
			if strings.Contains(rows, delivered) && strings.Contains(rows, inbox) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the test event's page shows no delivered inbox delivery:\n%s", rows)
			}
			time.Sleep(200 * time.Millisecond)
			tab.do("reload the event", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("deliveries")))
		}
		tab.shotHere("test-event-" + lang)
		tab.english(lang, "Test event sent")
	})
}
