package queue_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/heraldhq/herald/templates"
)

// TestEngine_Templates: an event fanned out after the project deployed
// templates arrives rendered with them at real peers (a webhook receiver,
// an SMTP server, the inbox), per event type, channel and the recipient's
// locale, and with the recipient's own name where the template names it;
// an event fanned out while the templates were only a draft, and the
// slots the templates leave, get the built-in messages.
func TestEngine_Templates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ann := b.user(t, &herald.User{Code: "ann", Name: "Ann Lee", Email: "ann@example.com"})
		li := b.user(t, &herald.User{Code: "li", Name: "李雷", Email: "li@example.com", Locale: herald.LocaleZH})
		hookPeer := newPeer(t, "")
		smtpd := newSMTPServer(t)
		hook := b.webhook(t, "hook", hookPeer.srv.URL)
		email := b.notifier(t, herald.NotifierEmail, "email", smtpd.config(), "")
		inbox := b.notifier(t, herald.NotifierInbox, "inbox", herald.NotifierConfig{}, "")
		everyone := []herald.Recipient{userR("ann"), userR("li")}
		b.deploy(t, on(hook, "build.failed", everyone...), on(email, "build.failed", everyone...), on(inbox, "build.failed", everyone...))

		svc := templates.New(db)
		draft, err := svc.UpdateTemplates(b.ctx, b.project.ID, 0, []herald.Template{
			// Robots and webhooks post once, in the majority's locale
			// (English on this tie).
			{EventType: "*", Channel: herald.NotifierWebhook, Locale: herald.LocaleEN,
				Body: `{"who":{{ actor | json }},"what":{{ title | json }},"build":{{ payload.build | json }},"n":{{ fields | size }}}`},
			{EventType: "build.failed", Channel: herald.NotifierEmail, Locale: herald.LocaleZH,
				Subject: "【{{ title }}】{{ recipient.name }}", Text: "{{ source.name }} 在 {{ payload.branch }} 上失败", HTML: "<p>{{ payload.note }}</p>"},
			{EventType: "build.failed", Channel: herald.NotifierInbox, Locale: herald.LocaleEN,
				Subject: "Hi {{ recipient.name }}", Text: "{{ source.name }} {{ payload.build }} ({{ recipient.code }})"},
		})
		must(t, err)

		startEngine(t, db, testConfig())
		payload := json.RawMessage(`{"build":"#42","branch":"main","note":"<script>x</script>"}`)
		post := func() *herald.Event {
			ev := b.post(t, &herald.Event{Type: "build.failed", Actor: "ann", Payload: payload})
			ev = settle(t, b, ev.ID)
			for _, d := range ev.Deliveries {
				if d.Status != herald.StatusDelivered {
					t.Fatalf("%s delivery to %s: %s (%s)", d.Channel, d.Target, d.Status, d.LastError)
				}
			}
			return ev
		}
		inboxOf := func(u *herald.User) *herald.InboxMessage {
			msgs, _, err := db.FindInbox(b.ctx, u.ID, herald.InboxFilter{}, herald.Page{Limit: 1})
			must(t, err)
			if len(msgs) != 1 {
				t.Fatalf("%d messages in %s's inbox", len(msgs), u.Code)
			}
			return msgs[0]
		}
		mailTo := func(addr string) (subject, text, html string) {
			ms := smtpd.mails()
			for i := len(ms) - 1; i >= 0; i-- {
				if len(ms[i].rcpts) == 1 && ms[i].rcpts[0] == addr {
					return parseMail(t, ms[i].data)
				}
			}
			t.Fatalf("no mail to %s", addr)
			return
		}

		// A draft renders nothing: the first event gets built-in messages.
		post()
		if subject, text, _ := mailTo("li@example.com"); subject != "构建失败: payments-build" || !strings.HasPrefix(text, "构建失败：payments-build\n") {
			t.Errorf("before deploy, li's mail: %q %q", subject, text)
		}
		if m := inboxOf(ann); m.Title != "Build failed: payments-build" {
			t.Errorf("before deploy, ann's inbox title %q", m.Title)
		}
		if body := string(hookPeer.only(t).body); !strings.Contains(body, `"title":"Build failed"`) {
			t.Errorf("before deploy, the webhook body %s", body)
		}

		// Deploying checks the revision.
		if _, err := svc.DeployTemplates(b.ctx, b.project.ID, draft.Revision-1, false); herald.ErrorCode(err) != herald.ECONFLICT {
			t.Fatalf("deploy of a stale revision: %v", err)
		}
		_, err = svc.DeployTemplates(b.ctx, b.project.ID, draft.Revision, false)
		must(t, err)

		second := post()
		t.Run("Webhook", func(t *testing.T) {
			got := hookPeer.requests()
			if len(got) != 2 {
				t.Fatalf("%d requests", len(got))
			}
			if want := `{"who":"ann","what":"Build failed","build":"#42","n":3}`; string(got[1].body) != want {
				t.Errorf("body %s, want %s", got[1].body, want)
			}
		})
		t.Run("Email", func(t *testing.T) {
			subject, text, html := mailTo("li@example.com")
			if subject != "【构建失败】李雷" || text != "payments-build 在 main 上失败" || html != "<p>&lt;script&gt;x&lt;/script&gt;</p>" {
				t.Errorf("li's mail (zh, the template's): %q %q %q", subject, text, html)
			}
			// ann reads English: no English email template, the built-in one.
			subject, text, _ = mailTo("ann@example.com")
			if subject != "Build failed: payments-build" || !strings.HasSuffix(text, "Time: "+second.CreatedAt.UTC().Format("2006-01-02 15:04:05")+" UTC\n") {
				t.Errorf("ann's mail (en, built-in): %q %q", subject, text)
			}
		})
		t.Run("Inbox", func(t *testing.T) {
			if m := inboxOf(ann); m.Title != "Hi Ann Lee" || m.Body != "payments-build #42 (ann)" {
				t.Errorf("ann's inbox (the template's, her name): %q %q", m.Title, m.Body)
			}
			if m := inboxOf(li); m.Title != "构建失败: payments-build" {
				t.Errorf("li's inbox (zh, built-in): %q", m.Title)
			}
		})
	})
}
