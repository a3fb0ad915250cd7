package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

var reNext = regexp.MustCompile(`<a href="([^"]+)" class="next">`)

// The filter stays in the URL across pages, and a value the log does not
// understand is named on the page instead of failing it.
func TestLog_FilterSurvivesPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newLogBrowserFixture(t, b)
	// More dead ops-hook deliveries than a page holds.
	var more []store.NewDelivery
	for range herald.DefaultPageLimit + 5 {
		more = append(more, store.NewDelivery{NotifierID: f.ops.ID, Channel: f.ops.Type, Target: "127.0.0.1:18510", Status: herald.StatusPending, Message: []byte(`{}`)})
	}
	ev := &herald.Event{SourceID: f.checkout.ID, Type: "build.failed"}
	if err := b.db.CreateEvents(b.ctx, []*herald.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.RecordFanouts(b.ctx, []store.Fanout{{EventID: ev.ID, Deliveries: more}}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	_, page := br.get("/console/log?status=pending&notifier=" + itoa(f.ops.ID))
	m := reNext.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no next page link:\n%s", page)
	}
	next, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if q := next.Query(); q.Get("status") != "pending" || q.Get("notifier") != itoa(f.ops.ID) || q.Get("cursor") == "" {
		t.Fatalf("the next page's link %q drops the filter", m[1])
	}
	_, page = br.get(next.String())
	if n := strings.Count(page, "data-delivery="); n != 5 {
		t.Errorf("the second page lists %d deliveries, want the last 5", n)
	}
	if strings.Contains(page, "Dev hook</a>") || strings.Contains(page, "status-dead") {
		t.Errorf("the second page left the filter")
	}

	st, page := br.get("/console/log?status=exploded&from=yesterday&notifier=x")
	if st != http.StatusOK {
		t.Fatalf("a log with bad filter values: %d", st)
	}
	for _, want := range []string{"Status: not a known status", "From (UTC): not a date and time", "Notifier: not one of the list"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	br.lang = "zh"
	if _, page := br.get("/console/log?status=exploded"); !strings.Contains(page, "状态: 不是已知的状态") {
		t.Errorf("the Chinese page does not name the bad status")
	}
}

// The event page names the source, notifiers and recipients too.
func TestEvent_Names(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newLogBrowserFixture(t, b)
	d, err := b.db.FindDeliveryByID(b.ctx, f.devDead[0])
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	_, page := br.get("/console/events/" + itoa(d.EventID))
	for _, want := range []string{">Checkout</a>", ">Ops hook</a>", ">Dev hook</a>", "Alice Liddell"} {
		if !strings.Contains(page, want) {
			t.Errorf("the event page lacks %q", want)
		}
	}
}

// TestRetryAll_StaysInScope: a token of project A retrying "every dead
// delivery" from the console re-queues A's and never B's, on both
// databases.
func TestRetryAll_StaysInScope(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == store.DialectPostgres {
				storetest.PostgresURL(t)
			}
			b := setupOn(t, dialect)
			f := newLogBrowserFixture(t, b) // project A: 3 dead
			pb := &herald.Project{Name: "Other"}
			if err := b.db.CreateProject(b.ctx, pb); err != nil {
				t.Fatal(err)
			}
			srcB := &herald.Source{ProjectID: pb.ID, Kind: herald.SourceGeneric, ExternalID: "other", Name: "Other"}
			if err := b.db.CreateSource(b.ctx, srcB); err != nil {
				t.Fatal(err)
			}
			hookB := &herald.Notifier{ProjectID: pb.ID, Type: herald.NotifierWebhook, Name: "B hook", Config: herald.NotifierConfig{URL: "http://127.0.0.1:18510/b"}}
			if err := b.db.CreateNotifier(b.ctx, hookB); err != nil {
				t.Fatal(err)
			}
			ev := &herald.Event{SourceID: srcB.ID, Type: "build.failed"}
			if err := b.db.CreateEvents(b.ctx, []*herald.Event{ev}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.db.RecordFanouts(b.ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{
				{NotifierID: hookB.ID, Channel: hookB.Type, Target: "127.0.0.1:18510", Status: herald.StatusPending, Message: []byte(`{}`)}}}}); err != nil {
				t.Fatal(err)
			}
			ds, _, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{EventID: ev.ID}, herald.Page{})
			if err != nil || len(ds) != 1 {
				t.Fatalf("B's deliveries: %v %v", ds, err)
			}
			dB := ds[0].ID
			if err := b.db.FinishDeliveries(b.ctx, []store.DeliveryResult{{ID: dB, Status: herald.StatusDead, Error: "gone"}}); err != nil {
				t.Fatal(err)
			}

			_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "a-ops", ProjectID: f.ops.ProjectID,
				Permissions: []herald.Permission{herald.PermEventsWrite, herald.PermSettingsRead}})
			if err != nil {
				t.Fatal(err)
			}
			br := b.browser(t)
			if st, loc, body := br.do("POST", "/console/signin", url.Values{"token": {secret}, "next": {"/console/"}}); st != http.StatusSeeOther {
				t.Fatalf("sign in: %d %q\n%s", st, loc, body)
			}
			// Naming B's notifier finds nothing to retry; the page says 0.
			if _, page := br.get("/console/log/retry?notifier=" + itoa(hookB.ID)); !strings.Contains(page, `id="retry-none"`) {
				t.Errorf("project A's confirmation for B's notifier offers a retry:\n%s", page)
			}
			if _, page := br.get("/console/log"); !strings.Contains(page, "Retry all dead in this filter (3)") {
				t.Errorf("project A's log does not offer its 3 dead deliveries")
			}
			st, loc, body := br.post("/console/log/retry", "/console/log/retry", url.Values{})
			if st != http.StatusSeeOther || loc != "/console/log?retried=3" {
				t.Fatalf("bulk retry: %d %q\n%s", st, loc, body)
			}
			if got, err := b.db.FindDeliveryByID(b.ctx, dB); err != nil || got.Status != herald.StatusDead {
				t.Errorf("project B's dead delivery after project A's bulk retry: %+v %v", got, err)
			}
			for _, id := range append(f.opsDead, f.devDead...) {
				if got, err := b.db.FindDeliveryByID(b.ctx, id); err != nil || got.Status != herald.StatusPending {
					t.Errorf("project A's delivery %d after its bulk retry: %+v %v", id, got, err)
				}
			}
			// Without the retry permission the form is refused.
			_, reader, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "reader", Permissions: []herald.Permission{herald.PermSettingsRead}})
			if err != nil {
				t.Fatal(err)
			}
			br = b.browser(t)
			if st, _, _ := br.do("POST", "/console/signin", url.Values{"token": {reader}, "next": {"/console/"}}); st != http.StatusSeeOther {
				t.Fatalf("sign in as reader: %d", st)
			}
			if _, page := br.get("/console/log"); strings.Contains(page, `id="bulk-retry"`) {
				t.Errorf("a reader is offered the bulk retry")
			}
			if st, _, _ := br.post("/console/log", "/console/log/retry", url.Values{}); st != http.StatusForbidden {
				t.Errorf("a reader's bulk retry: %d, want 403", st)
			}
		})
	}
}
