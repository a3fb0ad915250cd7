package console_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
)

// TestBrowser_PushSecondApprover drives the pushes page in Chromium, in
// English and in Chinese: a push created and submitted by token A waits
// for approval and A sees no approve button for it; B approves; A sees the
// reach on the confirmation step and sends. With the tenant's
// self-approval on, A's submission is approved at once. Each page is
// saved as a screenshot under the test's temp dir.
func TestBrowser_PushSecondApprover(t *testing.T) {
	needChromium(t)
	t.Parallel()
	for _, tc := range []struct {
		lang                            string
		submit, approve, send, pushesH1 string
	}{
		{"en", "Submit for approval", "Approve", "Send…", "Pushes"},
		{"zh", "提交审批", "批准", "发送…", "推送"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := setup(t)
			for _, code := range []string{"alice", "bob", "carol"} {
				if err := b.db.CreateUser(b.ctx, &herald.User{Code: code, Name: code}); err != nil {
					t.Fatal(err)
				}
			}
			token := func(name string, perms ...herald.Permission) string {
				_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: name, Permissions: perms})
				if err != nil {
					t.Fatal(err)
				}
				return secret
			}
			tokA := token("ann", herald.PermPushWrite, herald.PermPushApprove)
			tokB := token("bea", herald.PermPushApprove)

			tab := &page{t: t, ctx: newBrowser(t)}
			base := b.srv.URL
			id := func(s string) chromedp.ID { return chromedp.ID(s) }
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			dir := t.TempDir()
			shot := func(name string) {
				t.Helper()
				tab.shot(dir, fmt.Sprintf("pushes-%s-%s", tc.lang, name))
			}
			signIn := func(secret string) {
				t.Helper()
				tab.do("sign in",
					chromedp.Navigate(base+"/console/lang/"+tc.lang+"?next=/console/pushes"),
					chromedp.WaitVisible(id("token")),
					chromedp.SendKeys(id("token"), secret),
					chromedp.Click(id("signin")),
					chromedp.WaitVisible(id("pushes")),
				)
			}
			signOut := func() {
				t.Helper()
				tab.do("sign out", chromedp.Click(id("signout")), chromedp.WaitVisible(id("token")))
			}
			create := func(name string) *herald.Push {
				t.Helper()
				tab.do("create "+name,
					chromedp.SendKeys(css(`#push-form input[name=job_name]`), name),
					chromedp.SendKeys(css(`#push-form textarea[name=content]`), "Deploys pause at 18:00"),
					chromedp.Click(id("create-push")),
					chromedp.WaitVisible(id("flash")),
				)
				ps, _, err := b.db.FindPushes(b.ctx, herald.PushFilter{}, herald.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ps {
					if p.JobName == name {
						return p
					}
				}
				t.Fatalf("no push %q after the form", name)
				return nil
			}
			status := func(p *herald.Push) herald.PushStatus {
				t.Helper()
				got, err := b.db.FindPushByID(b.ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got.Status
			}
			row := func(p *herald.Push) string { return fmt.Sprintf("#push-%d", p.ID) }
			has := func(sel string) bool {
				return tab.eval(fmt.Sprintf(`document.querySelector(%q) ? 1 : 0`, sel)) == 1
			}

			// A creates and submits: the push waits, and A may not approve it.
			signIn(tokA)
			if h1 := tab.text("h1"); h1 != tc.pushesH1 {
				t.Fatalf("heading %q, want %q", h1, tc.pushesH1)
			}
			p := create("Maintenance")
			if got := tab.text(row(p) + " button.push-submit"); got != tc.submit {
				t.Fatalf("submit button %q, want %q", got, tc.submit)
			}
			tab.do("submit", chromedp.Click(css(row(p)+" button.push-submit")), chromedp.WaitVisible(css(row(p)+`[data-status="pending_approval"]`)))
			if st := status(p); st != herald.PushPendingApproval {
				t.Fatalf("A's submission: %s, want pending_approval", st)
			}
			if has(row(p)+" button.push-approve") || !has(row(p)+" .awaits") {
				t.Fatalf("A is offered approve on its own push:\n%s", tab.text(row(p)))
			}
			shot("1-submitted-by-A")
			signOut()

			// B approves.
			signIn(tokB)
			if got := tab.text(row(p) + " button.push-approve"); got != tc.approve {
				t.Fatalf("approve button %q, want %q", got, tc.approve)
			}
			shot("2-B-sees-approve")
			tab.do("approve", chromedp.Click(css(row(p)+" button.push-approve")), chromedp.WaitVisible(css(row(p)+`[data-status="approved"]`)))
			if st := status(p); st != herald.PushApproved {
				t.Fatalf("after B's approval: %s", st)
			}
			signOut()

			// A sends, after seeing the reach (three users) and confirming.
			signIn(tokA)
			if got := tab.text(row(p) + " button.push-execute"); got != tc.send {
				t.Fatalf("send button %q, want %q", got, tc.send)
			}
			tab.do("ask to send", chromedp.Click(css(row(p)+" button.push-execute")), chromedp.WaitVisible(id("push-confirm")))
			if n := tab.text("#reach-count"); n != "3" {
				t.Fatalf("reach %q, want 3", n)
			}
			if st := status(p); st != herald.PushApproved {
				t.Fatalf("asking to confirm changed the push: %s", st)
			}
			shot("3-confirm-send")
			tab.do("confirm", chromedp.Click(id("confirm-push")), chromedp.WaitVisible(id("pushes")), chromedp.WaitVisible(id("flash")))
			if st := status(p); st != herald.PushScheduled && st != herald.PushSending && st != herald.PushSent {
				t.Fatalf("after confirming: %s", st)
			}
			shot("4-sent")

			// A may not change the policy; the admin turns self-approval on.
			if has("#push-policy") {
				t.Fatal("A (not an admin) is offered the push policy")
			}
			signOut()
			signIn(b.token)
			tab.do("turn self-approval on", chromedp.Click(id("self-approval")), chromedp.Click(id("save-push-policy")), chromedp.WaitVisible(id("flash")))
			if pol, err := b.db.FindPushPolicy(b.ctx); err != nil || !pol.SelfApproval {
				t.Fatalf("policy after the form: %+v %v", pol, err)
			}
			shot("5-admin-allows-self-approval")
			signOut()

			// With self-approval on, A's submission is approved at once.
			signIn(tokA)
			q := create("Self-approved")
			tab.do("submit", chromedp.Click(css(row(q)+" button.push-submit")), chromedp.WaitVisible(css(row(q)+`[data-status="approved"]`)))
			if st := status(q); st != herald.PushApproved {
				t.Fatalf("with self-approval, A's submission: %s, want approved", st)
			}
			if !has(row(q) + " button.push-execute") {
				t.Fatalf("no send button on the self-approved push:\n%s", tab.text(row(q)))
			}
			shot("6-self-approved")
		})
	}
}
