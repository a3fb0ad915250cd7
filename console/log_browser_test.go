package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

// logBrowserFixture is a project with two webhooks to one host, an
// inbox notifier, two sources and their deliveries:
//
//	Checkout: ops dead, dev dead, inbox delivered to Alice
//	Billing:  ops dead, dev delivered
type logBrowserFixture struct {
	ops, dev              *herald.Notifier
	opsDead, devDead      []int64
	checkout, billing     *herald.Source
	delivered, inboxAlice int64
}

func newLogBrowserFixture(t *testing.T, b *testBundle) *logBrowserFixture {
	t.Helper()
	p, checkout, inbox := b.fixture(t)
	f := &logBrowserFixture{checkout: checkout}
	f.billing = &herald.Source{ProjectID: p.ID, Kind: herald.SourceGeneric, ExternalID: "billing", Name: "Billing"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.db.CreateSource(b.ctx, f.billing))
	f.ops = &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Ops hook", Config: herald.NotifierConfig{URL: "http://127.0.0.1:18510/ops"}}
	f.dev = &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Dev hook", Config: herald.NotifierConfig{URL: "http://127.0.0.1:18510/dev"}}
	must(b.db.CreateNotifier(b.ctx, f.ops))
	must(b.db.CreateNotifier(b.ctx, f.dev))
	alice := &herald.User{Code: "alice", Name: "Alice Liddell", Email: "alice@example.com"}
	must(b.db.CreateUser(b.ctx, alice))

	type out struct {
		n      *herald.Notifier
		user   int64
		target string
		status string
		ids    *[]int64
	}
	var delivered []int64
	record := func(src *herald.Source, outs ...out) {
		ev := &herald.Event{SourceID: src.ID, Type: "build.failed", Actor: "bob"}
		must(b.db.CreateEvents(b.ctx, []*herald.Event{ev}))
		var nds []store.NewDelivery
		for _, o := range outs {
			nds = append(nds, store.NewDelivery{NotifierID: o.n.ID, Channel: o.n.Type, UserID: o.user, Target: o.target, Status: herald.StatusPending, Message: []byte(`{}`)})
		}
		_, err := b.db.RecordFanouts(b.ctx, []store.Fanout{{EventID: ev.ID, Deliveries: nds}})
		must(err)
		ds, _, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{EventID: ev.ID}, herald.Page{})
		must(err)
		var res []store.DeliveryResult
		for i, d := range ds {
			*outs[i].ids = append(*outs[i].ids, d.ID)
			e := ""
			if outs[i].status == herald.StatusDead {
				e = "connection refused"
			}
			res = append(res, store.DeliveryResult{ID: d.ID, Status: outs[i].status, Error: e})
		}
		must(b.db.FinishDeliveries(b.ctx, res))
	}
	host := "127.0.0.1:18510"
	record(checkout, out{f.ops, 0, host, herald.StatusDead, &f.opsDead}, out{f.dev, 0, host, herald.StatusDead, &f.devDead},
		out{inbox, alice.ID, alice.Code, herald.StatusDelivered, &delivered})
	record(f.billing, out{f.ops, 0, host, herald.StatusDead, &f.opsDead}, out{f.dev, 0, host, herald.StatusDelivered, &delivered})
	return f
}

// TestBrowser_DeliveryLog walks the delivery log in Chromium, in English
// and in Chinese: two webhooks to one host are told apart by name, the
// notifier and status filters narrow the list and stay in the URL, and a
// bulk retry of every dead delivery of the filter re-queues exactly those
// (read back from the store) and says how many.
func TestBrowser_DeliveryLog(t *testing.T) {
	needChromium(t)
	t.Parallel()
	shots := t.TempDir()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			b := setup(t)
			f := newLogBrowserFixture(t, b)
			tab := &page{t: t, ctx: newBrowser(t)}
			base := b.srv.URL
			id := func(s string) chromedp.ID { return chromedp.ID(s) }
			shot := func(name string) {
				t.Helper()
				tab.shot(shots, fmt.Sprintf("log-%s-%s", lang, name))
			}
			tr := map[string]map[string]string{
				"en": {"dead": "dead", "delivered": "delivered", "bulk": "Retry all dead in this filter", "retried": "Deliveries queued for retry"},
				"zh": {"dead": "已放弃", "delivered": "已送达", "bulk": "重试此筛选中所有已放弃的投递", "retried": "已重新排队的投递"},
			}[lang]

			tab.do("sign in",
				chromedp.Navigate(base+"/console/signin"),
				chromedp.WaitVisible(id("token")),
				chromedp.SendKeys(id("token"), b.token),
				chromedp.Click(id("signin")),
				chromedp.WaitVisible(id("projects")),
				chromedp.Navigate(base+"/console/lang/"+lang+"?next=/console/log"),
				chromedp.WaitVisible(id("deliveries")),
			)
			rows := tab.text("#deliveries")
			for _, want := range []string{"Ops hook", "Dev hook", "Checkout", "Billing", "Alice Liddell", "build.failed", tr["dead"], tr["delivered"]} {
				if !strings.Contains(rows, want) {
					t.Errorf("the log lacks %q:\n%s", want, rows)
				}
			}
			if lang == "zh" {
				for _, english := range []string{"dead", "delivered", "webhook", "inbox"} {
					if strings.Contains(rows, english) {
						t.Errorf("the Chinese log shows %q untranslated:\n%s", english, rows)
					}
				}
			}
			// Each webhook's rows name it: the two are told apart.
			if n := tab.eval(`[...document.querySelectorAll("#deliveries td.notifier")].filter(td => td.textContent.includes("Ops hook")).length`); n != 2 {
				t.Errorf("%d rows name the ops hook, want 2", n)
			}
			if n := tab.eval(`[...document.querySelectorAll("#deliveries td.notifier")].filter(td => td.textContent.includes("Dev hook")).length`); n != 2 {
				t.Errorf("%d rows name the dev hook, want 2", n)
			}
			shot("all")

			tab.do("filter by the ops hook and dead",
				chromedp.SetValue(id("notifier-filter"), itoa(f.ops.ID)),
				chromedp.SetValue(id("status-filter"), herald.StatusDead),
				chromedp.Click(id("apply-filter")),
				chromedp.WaitVisible(id("clear-filter")),
			)
			if n := tab.eval(`document.querySelectorAll("#deliveries tr[data-delivery]").length`); n != 2 {
				t.Errorf("the filtered log lists %d deliveries, want the ops hook's 2 dead:\n%s", n, tab.text("#deliveries"))
			}
			if rows := tab.text("#deliveries"); strings.Contains(rows, "Dev hook") || strings.Contains(rows, tr["delivered"]) {
				t.Errorf("the filtered log shows another notifier's or status's deliveries:\n%s", rows)
			}
			if loc := tab.eval(`location.search.includes("notifier=` + itoa(f.ops.ID) + `") && location.search.includes("status=dead") ? 1 : 0`); loc != 1 {
				t.Errorf("the filter is not in the URL")
			}
			bulk := tab.text("#bulk-retry")
			if !strings.Contains(bulk, tr["bulk"]) || !strings.Contains(bulk, "(2)") {
				t.Errorf("the bulk retry button says %q, want %q (2)", bulk, tr["bulk"])
			}
			shot("filtered")

			tab.do("ask to retry every dead delivery of the filter", chromedp.Click(id("bulk-retry")), chromedp.WaitVisible(id("retry-confirm")))
			if n := tab.text("#retry-count"); n != "2" {
				t.Errorf("the confirmation counts %q, want 2", n)
			}
			if sum := tab.text("#retry-confirm"); !strings.Contains(sum, "Ops hook") {
				t.Errorf("the confirmation does not name the notifier:\n%s", sum)
			}
			// Nothing is retried before the confirmation.
			for _, did := range f.opsDead {
				if d, err := b.db.FindDeliveryByID(b.ctx, did); err != nil || d.Status != herald.StatusDead {
					t.Fatalf("delivery %d before confirming: %+v %v", did, d, err)
				}
			}
			shot("confirm")

			tab.do("confirm", chromedp.Click(id("confirm-retry")), chromedp.WaitVisible(id("retried")))
			if msg := tab.text("#retried"); !strings.Contains(msg, tr["retried"]) || !strings.Contains(msg, "2") {
				t.Errorf("after the bulk retry the page says %q", msg)
			}
			for _, did := range f.opsDead {
				if d, err := b.db.FindDeliveryByID(b.ctx, did); err != nil || d.Status != herald.StatusPending || d.Attempts != 0 {
					t.Errorf("the ops hook's dead delivery %d after the bulk retry: %+v %v, want pending", did, d, err)
				}
			}
			for _, did := range f.devDead {
				if d, err := b.db.FindDeliveryByID(b.ctx, did); err != nil || d.Status != herald.StatusDead {
					t.Errorf("the dev hook's dead delivery %d, outside the filter, after the bulk retry: %+v %v, want dead", did, d, err)
				}
			}
			if n := tab.eval(`document.querySelectorAll("#deliveries tr[data-delivery]").length`); n != 0 {
				t.Errorf("the filter still lists %d dead deliveries after the retry", n)
			}
			shot("retried")
		})
	}
}
