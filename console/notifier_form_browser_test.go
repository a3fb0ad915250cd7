package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/console"
)

// str evaluates a JavaScript expression that gives a string.
func (p *page) str(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.fail("eval "+expr, err)
	}
	return s
}

// shot saves a screenshot of the whole page under dir (and a copy under
// $HERALD_SCREENSHOTS when set).
func (p *page) shot(dir, name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail("screenshot "+name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	// The temp dir goes with the test: HERALD_SCREENSHOTS keeps a copy
	// for a reviewer.
	if keep := os.Getenv("HERALD_SCREENSHOTS"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, name+".png"), png, 0o600); err != nil {
			p.t.Fatal(err)
		}
	}
}

// shownFields is a script listing the notifier form's fields a person
// sees, by computed style, box and checkVisibility (which knows a closed
// <details> hides its content): {"closed": fields shown as the page
// opens, "open": fields shown with every <details> opened}. The type
// chooser is left out.
const shownFields = `(() => {
  const form = document.getElementById("notifier-form");
  const list = () => {
    const out = [];
    form.querySelectorAll("[data-field]").forEach(el => {
      if (el.dataset.field === "type") return;
      const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
      const seen = el.checkVisibility({contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true});
      if (seen && r.width > 0 && r.height > 0 && cs.display !== "none" && cs.visibility !== "hidden") out.push(el.dataset.field);
    });
    return out.sort();
  };
  const details = [...form.querySelectorAll("details")];
  const was = details.map(d => d.open);
  details.forEach(d => d.open = false);
  const closed = list();
  details.forEach(d => d.open = true);
  const open = list();
  details.forEach((d, i) => d.open = was[i]);
  return JSON.stringify({closed, open});
})()`

// inViewport is a script: whether the element css names lies wholly in
// the viewport, as the page opens.
func inViewport(css string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return "missing";
  const r = el.getBoundingClientRect();
  return (r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth) ? "yes" : "no: " + JSON.stringify(r) + " in " + window.innerWidth + "x" + window.innerHeight; })()`, css)
}

// untranslated lists the messages of the English catalogue the page
// shows untranslated (those whose Chinese differs).
func untranslated(text string) []string {
	var out []string
	for en, zh := range console.ChineseCatalogueForFormTests() {
		if en == zh || strings.TrimSpace(en) == "" {
			continue
		}
		// A word after a dot is a field of a template example ({{json .Text}}), not a message.
		re := regexp.MustCompile(`(^|[^A-Za-z.])` + regexp.QuoteMeta(en) + `($|[^A-Za-z])`)
		if re.MatchString(text) {
			out = append(out, en)
		}
	}
	slices.Sort(out)
	return out
}

// TestBrowser_NotifierFormByType: in Chromium at 1366×900, in English and
// Chinese, a notifier of each type is created with only its own fields
// visible, as the type chooser switches them and as the saved
// notifier's page renders them; its page shows the Test button without
// scrolling. An invalid notifier comes back with the error beside the
// field, named by its label, and the other typed values kept; so do a
// refused new project and new source. In Chinese no message of the
// English catalogue is left untranslated on these pages.
func TestBrowser_NotifierFormByType(t *testing.T) {
	needChromium(t)
	t.Parallel()
	b := setup(t)
	p := &herald.Project{Name: "Shop"}
	if err := b.db.CreateProject(b.ctx, p); err != nil {
		t.Fatal(err)
	}
	tab := &page{t: t, ctx: newBrowser(t)}
	base := b.srv.URL
	shots := t.TempDir()
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	tab.do("sign in at 1366x900",
		chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), b.token),
		chromedp.Click(id("signin")),
		chromedp.WaitVisible(id("projects")),
	)

	type fields struct{ Closed, Open []string }
	cases := []struct {
		typ    string
		want   fields // besides the name
		values map[string]string
	}{
		{herald.NotifierDingTalk, fields{[]string{"secret", "url"}, []string{"at_mobiles", "at_user_ids", "rate", "secret", "url"}},
			map[string]string{"url": "https://oapi.dingtalk.com/robot/send?access_token=t0k", "secret": "SECabc"}},
		{herald.NotifierLark, fields{[]string{"secret", "url"}, []string{"at_user_ids", "rate", "secret", "url"}},
			map[string]string{"url": "https://open.feishu.cn/open-apis/bot/v2/hook/t0k", "secret": "s1gn"}},
		{herald.NotifierWeCom, fields{[]string{"url"}, []string{"at_mobiles", "at_user_ids", "rate", "url"}},
			map[string]string{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y"}},
		{herald.NotifierEmail, fields{[]string{"from", "host", "port", "secret", "tls", "username"}, []string{"from", "host", "insecure_skip_verify", "port", "secret", "tls", "tls_ca_pem", "username"}},
			map[string]string{"host": "smtp.example.com", "port": "2525", "from": "alerts@example.com", "username": "mailer", "secret": "pa55"}},
		{herald.NotifierSMS, fields{[]string{"headers", "message_body", "method", "url"}, []string{"headers", "message_body", "method", "rate", "url"}},
			map[string]string{"url": "https://sms.example.com/api/send", "headers": "Authorization: Bearer k", "message_body": `{"mobile":{{json .To}},"content":{{json .Text}}}`}},
		{herald.NotifierWebhook, fields{[]string{"headers", "message_body", "secret", "url"}, []string{"headers", "message_body", "rate", "secret", "url"}},
			map[string]string{"url": "https://hooks.example.com/in", "headers": "X-Team: ops"}},
		{herald.NotifierInbox, fields{nil, nil}, nil},
	}
	check := func(when string, tc struct {
		typ    string
		want   fields
		values map[string]string
	}) {
		t.Helper()
		var got fields
		if err := json.Unmarshal([]byte(tab.str(shownFields)), &got); err != nil {
			t.Fatal(err)
		}
		want := fields{append([]string{"name"}, tc.want.Closed...), append([]string{"name"}, tc.want.Open...)}
		slices.Sort(want.Closed)
		slices.Sort(want.Open)
		if !slices.Equal(got.Closed, want.Closed) || !slices.Equal(got.Open, want.Open) {
			t.Errorf("%s, %s: shown fields %v (more options open: %v), want %v (%v)", when, tc.typ, got.Closed, got.Open, want.Closed, want.Open)
		}
	}
	newForm := fmt.Sprintf("%s/console/projects/%d/notifiers/new", base, p.ID)
	// The page's text, hidden parts included, less code examples
	// (template field names are not words to translate).
	pageText := `(() => { const b = document.body.cloneNode(true); b.querySelectorAll("code, pre").forEach(c => c.remove()); return b.textContent; })()`

	for _, lang := range []string{"en", "zh"} {
		tab.do("switch to "+lang, chromedp.Navigate(base+"/console/lang/"+lang+"?next=/console/"), chromedp.WaitVisible(id("projects")))
		for _, tc := range cases {
			// The chooser switches the fields in the page.
			tab.do("new notifier form", chromedp.Navigate(newForm), chromedp.WaitVisible(id("notifier-form")), chromedp.SetValue(id("type"), tc.typ))
			tab.eval(`document.getElementById("type").dispatchEvent(new Event("change")) ? 1 : 0`)
			check(lang+" new form", tc)
			if lang == "zh" {
				if left := untranslated(tab.str(pageText)); len(left) > 0 {
					t.Errorf("zh new %s form: untranslated %q", tc.typ, left)
				}
			}
			tab.shot(shots, lang+"-new-"+tc.typ)
			steps := []chromedp.Action[chromedp.Void]{chromedp.SetValue(id("notifier-name"), "Robot"+tc.typ+lang)}
			for name, v := range tc.values {
				steps = append(steps, chromedp.SetValue(css(fmt.Sprintf(`#notifier-form [name=%q]`, name)), v))
			}
			steps = append(steps, chromedp.Click(id("save-notifier")), chromedp.WaitVisible(id("flash")))
			tab.do("create "+tc.typ, steps...)

			// The saved notifier's page renders its own fields only, and
			// its Test button without scrolling.
			check(lang+" saved", tc)
			if tc.typ != herald.NotifierInbox {
				if in := tab.str(inViewport("#send-test")); in != "yes" {
					t.Errorf("%s %s: the Test button is not in the viewport: %s", lang, tc.typ, in)
				}
			}
			if lang == "zh" {
				if left := untranslated(tab.str(pageText)); len(left) > 0 {
					t.Errorf("zh saved %s: untranslated %q", tc.typ, left)
				}
			}
			tab.shot(shots, lang+"-saved-"+tc.typ)
		}

		// An email notifier without its SMTP host comes back with the
		// error beside the host field and the rest as typed.
		tab.do("new notifier form", chromedp.Navigate(newForm), chromedp.WaitVisible(id("notifier-form")), chromedp.SetValue(id("type"), herald.NotifierEmail))
		tab.eval(`document.getElementById("type").dispatchEvent(new Event("change")) ? 1 : 0`)
		tab.do("save an email notifier without a host",
			chromedp.SetValue(id("notifier-name"), "Broken mail"),
			chromedp.SetValue(css(`#notifier-form [name=port]`), "2525"),
			chromedp.SetValue(css(`#notifier-form [name=from]`), "alerts@example.com"),
			chromedp.SetValue(css(`#notifier-form [name=username]`), "mailer"),
			chromedp.SetValue(css(`#notifier-form [name=secret]`), "pa55"),
			chromedp.Click(id("save-notifier")),
			chromedp.WaitVisible(css(`[data-field=host] .field-error`)),
		)
		label := map[string]string{"en": "SMTP host", "zh": "SMTP 服务器"}[lang]
		if msg := tab.text(`[data-field=host] .field-error`); !strings.Contains(msg, label) || strings.Contains(msg, "config.") {
			t.Errorf("%s: the host field's error is %q, want it to name %q", lang, msg, label)
		}
		if in := tab.str(inViewport(`[data-field=host] .field-error`)); in != "yes" {
			t.Errorf("%s: the host error is out of view: %s", lang, in)
		}
		kept := tab.str(`JSON.stringify(["name","port","from","username","type"].map(n => document.querySelector("#notifier-form [name=" + n + "]").value))`)
		if kept != `["Broken mail","2525","alerts@example.com","mailer","email"]` {
			t.Errorf("%s: the refused form holds %s", lang, kept)
		}
		check(lang+" refused", struct {
			typ    string
			want   fields
			values map[string]string
		}{herald.NotifierEmail, cases[3].want, nil})
		if retype := tab.text(`[data-field=secret] .retype`); retype == "" {
			t.Errorf("%s: the form does not say the secret must be typed again", lang)
		}
		if lang == "zh" {
			if left := untranslated(tab.str(pageText)); len(left) > 0 {
				t.Errorf("zh refused form: untranslated %q", left)
			}
		}
		tab.shot(shots, lang+"-refused-email")

		// The new project and new source forms, refused, show their
		// errors beside the fields too.
		tab.do("refuse a project without a name",
			chromedp.Navigate(base+"/console/"),
			chromedp.WaitVisible(id("project-name")),
			chromedp.SetValue(css(`#new-project [name=description]`), "Alerts of the shop"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("project-name").required = false`),
			chromedp.Click(id("create-project")),
			chromedp.WaitVisible(css(`#new-project [data-field=name] .field-error`)),
		)
		if d := tab.str(`document.querySelector("#new-project [name=description]").value`); d != "Alerts of the shop" {
			t.Errorf("%s: the refused project form holds the description %q", lang, d)
		}
		if lang == "zh" {
			if left := untranslated(tab.str(pageText)); len(left) > 0 {
				t.Errorf("zh refused project form: untranslated %q", left)
			}
		}
		tab.shot(shots, lang+"-refused-project")
		tab.do("refuse a source with a short external ID",
			chromedp.Navigate(fmt.Sprintf("%s/console/projects/%d", base, p.ID)),
			chromedp.Click(css(`#new-source summary`)),
			chromedp.SetValue(css(`#new-source [name=name]`), "Builds"),
			chromedp.SetValue(css(`#new-source [name=kind]`), herald.SourceBuildJob),
			chromedp.SetValue(css(`#new-source [name=external_id]`), "short"),
			chromedp.Click(css(`#new-source button[type=submit]`)),
			chromedp.WaitVisible(css(`#new-source [data-field=external_id] .field-error`)),
		)
		if lang == "zh" {
			if left := untranslated(tab.str(pageText)); len(left) > 0 {
				t.Errorf("zh refused source form: untranslated %q", left)
			}
		}
		tab.shot(shots, lang+"-refused-source")
	}
	ns, _, err := b.db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: p.ID}, herald.Page{Limit: 100})
	if err != nil || len(ns) != 2*len(cases) {
		t.Fatalf("created %d notifiers (%v), want %d", len(ns), err, 2*len(cases))
	}
}
