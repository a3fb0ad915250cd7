package queue_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// settleTimeout bounds every wait for deliveries. Retries go through
// River's scheduler, which moves scheduled jobs every few seconds, so a
// delivery that fails twice needs some seconds; the bound is generous so
// that a slow machine never fails a test.
const settleTimeout = 30 * time.Second

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testConfig is the engine configuration of every test: quick polling and
// backoff, three attempts, loopback sinks allowed.
func testConfig() queue.Config {
	return queue.Config{AllowPrivateTargets: true, BackoffBase: 20 * time.Millisecond, MaxAttempts: 3, PollInterval: 20 * time.Millisecond}
}

// startEngine runs an engine on db until the test ends.
func startEngine(t *testing.T, db *store.DB, cfg queue.Config) *queue.Engine {
	t.Helper()
	e, err := queue.New(db, cfg)
	must(t, err)
	must(t, e.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("stop engine: %v", err)
		}
	})
	return e
}

// testBundle is a tenant with a project and a build job source.
type testBundle struct {
	ctx     context.Context
	db      *store.DB
	project *herald.Project
	source  *herald.Source
}

func setup(t *testing.T, db *store.DB) *testBundle {
	t.Helper()
	b := &testBundle{ctx: storetest.NewTenant(t, db, "acme"), db: db, project: &herald.Project{Name: "Payments"}}
	must(t, db.CreateProject(b.ctx, b.project))
	b.source = &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("a1", 16), Name: "payments-build"}
	must(t, db.CreateSource(b.ctx, b.source))
	return b
}

// notifier creates a notifier of the project.
func (b *testBundle) notifier(t *testing.T, typ, name string, cfg herald.NotifierConfig, secret string) *herald.Notifier {
	t.Helper()
	n := &herald.Notifier{ProjectID: b.project.ID, Type: typ, Name: name, Config: cfg, Secret: secret}
	must(t, b.db.CreateNotifier(b.ctx, n))
	return n
}

// webhook creates a webhook notifier posting to url.
func (b *testBundle) webhook(t *testing.T, name, url string) *herald.Notifier {
	t.Helper()
	return b.notifier(t, herald.NotifierWebhook, name, herald.NotifierConfig{URL: url}, "")
}

// user creates a user.
func (b *testBundle) user(t *testing.T, u *herald.User) *herald.User {
	t.Helper()
	must(t, b.db.CreateUser(b.ctx, u))
	return u
}

// deploy makes channels the source's live settings.
func (b *testBundle) deploy(t *testing.T, channels ...herald.ChannelSettings) {
	t.Helper()
	ref := herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.source.ID}, Revision: herald.NoRevisionCheck}
	_, err := b.db.UpdateSettings(b.ctx, ref, &herald.Settings{Channels: channels})
	must(t, err)
	_, err = b.db.DeploySettings(b.ctx, []herald.SettingsRef{ref}, false)
	must(t, err)
}

// post accepts one event of the source.
func (b *testBundle) post(t *testing.T, ev *herald.Event) *herald.Event {
	t.Helper()
	ev.SourceID = b.source.ID
	must(t, b.db.CreateEvents(b.ctx, []*herald.Event{ev}))
	return ev
}

// on switches event type typ on for notifier n, sending to rs.
func on(n *herald.Notifier, typ string, rs ...herald.Recipient) herald.ChannelSettings {
	return herald.ChannelSettings{NotifierID: n.ID, Enabled: true, Events: []herald.EventSettings{{Type: typ, Enabled: true, Recipients: rs}}}
}

func userR(code string) herald.Recipient {
	return herald.Recipient{Type: herald.EntityUser, Code: code}
}
func groupR(code string) herald.Recipient {
	return herald.Recipient{Type: herald.EntityGroup, Code: code}
}
func fieldR(code string) herald.Recipient {
	return herald.Recipient{Type: herald.EntityFieldEntity, Code: code}
}
func orgR(code string, subs bool) herald.Recipient {
	return herald.Recipient{Type: herald.EntityOrganization, Code: code, IncludeSubs: subs}
}

// terminal reports whether a delivery is finished for good (until someone
// retries it).
func terminal(status string) bool {
	switch status {
	case herald.StatusDelivered, herald.StatusFailed, herald.StatusSkipped, herald.StatusDead:
		return true
	}
	return false
}

// settle waits until the event has been fanned out (it has deliveries)
// and every delivery is terminal, and returns it.
func settle(t *testing.T, b *testBundle, eventID int64) *herald.Event {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		ev, err := b.db.FindEventByID(b.ctx, eventID)
		must(t, err)
		if len(ev.Deliveries) > 0 && !slices.ContainsFunc(ev.Deliveries, func(d *herald.Delivery) bool { return !terminal(d.Status) }) {
			return ev
		}
		if time.Now().After(deadline) {
			for _, d := range ev.Deliveries {
				t.Logf("delivery %d: %s to %s, %s, attempts %d, %q", d.ID, d.Channel, d.Target, d.Status, d.Attempts, d.LastError)
			}
			t.Fatalf("event %d did not settle within %s (%d deliveries)", eventID, settleTimeout, len(ev.Deliveries))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// settleDelivery waits until one delivery is terminal.
func settleDelivery(t *testing.T, b *testBundle, id int64) *herald.Delivery {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		d, err := b.db.FindDeliveryByID(b.ctx, id)
		must(t, err)
		if terminal(d.Status) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d still %s after %s (attempts %d, %q)", id, d.Status, settleTimeout, d.Attempts, d.LastError)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// byNotifier returns the event's deliveries of notifier n.
func byNotifier(ev *herald.Event, n *herald.Notifier) []*herald.Delivery {
	var out []*herald.Delivery
	for _, d := range ev.Deliveries {
		if d.NotifierID == n.ID {
			out = append(out, d)
		}
	}
	return out
}

// one returns the event's only delivery of notifier n.
func one(t *testing.T, ev *herald.Event, n *herald.Notifier) *herald.Delivery {
	t.Helper()
	ds := byNotifier(ev, n)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries of notifier %q, want 1", len(ds), n.Name)
	}
	return ds[0]
}

// sink is a webhook receiver answering from a script of statuses (the
// last one repeats) and counting requests per webhook-id.
type sink struct {
	srv *httptest.Server

	mu         sync.Mutex
	script     []int
	retryAfter string
	requests   int
	ids        map[string]int
}

func newSink(t *testing.T, script ...int) *sink {
	t.Helper()
	s := &sink{script: script, ids: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status := s.script[min(s.requests, len(s.script)-1)]
		s.requests++
		s.ids[r.Header.Get("webhook-id")]++
		retryAfter := s.retryAfter
		s.mu.Unlock()
		if status == http.StatusTooManyRequests && retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// set replaces the script.
func (s *sink) set(script ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script, s.requests = script, 0
}

func (s *sink) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *sink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.ids {
		n += c
	}
	return n
}

// dlvID is the webhook-id a delivery is sent with.
func dlvID(d *herald.Delivery) string { return d.MessageID }

func TestEngine_Retries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		flaky := newSink(t, 500, 500, 200)
		broken := newSink(t, 500)
		bad := newSink(t, 400)
		busy := newSink(t, 429, 200)
		busy.retryAfter = "1"
		busyZero := newSink(t, 429, 200)
		busyZero.retryAfter = "0"
		nFlaky, nBroken, nBad := b.webhook(t, "flaky", flaky.srv.URL), b.webhook(t, "broken", broken.srv.URL), b.webhook(t, "bad", bad.srv.URL)
		nBusy, nBusyZero := b.webhook(t, "busy", busy.srv.URL), b.webhook(t, "busy-zero", busyZero.srv.URL)
		b.deploy(t, on(nFlaky, "build.failed"), on(nBroken, "build.failed"), on(nBad, "build.failed"),
			on(nBusy, "build.failed"), on(nBusyZero, "build.failed"))
		startEngine(t, db, testConfig())
		ev := settle(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID)

		check := func(n *herald.Notifier, s *sink, status string, attempts int) *herald.Delivery {
			t.Helper()
			d := one(t, ev, n)
			if d.Status != status || d.Attempts != attempts {
				t.Errorf("%s: status %s after %d attempts (%q), want %s after %d", n.Name, d.Status, d.Attempts, d.LastError, status, attempts)
			}
			if got := s.count(dlvID(d)); got != attempts {
				t.Errorf("%s: the sink saw %d requests with webhook-id %s, want %d", n.Name, got, dlvID(d), attempts)
			}
			return d
		}
		if d := check(nFlaky, flaky, herald.StatusDelivered, 3); d.DeliveredAt == nil || d.LastError != "" {
			t.Errorf("flaky: delivered_at %v, last_error %q", d.DeliveredAt, d.LastError)
		}
		dead := check(nBroken, broken, herald.StatusDead, testConfig().MaxAttempts)
		if !strings.Contains(dead.LastError, "500") {
			t.Errorf("dead delivery's last error %q does not name the status", dead.LastError)
		}
		if d := check(nBad, bad, herald.StatusFailed, 1); !strings.Contains(d.LastError, "400") {
			t.Errorf("failed delivery's last error %q does not name the status", d.LastError)
		}
		check(nBusy, busy, herald.StatusDelivered, 2)
		check(nBusyZero, busyZero, herald.StatusDelivered, 2)

		// A retried dead delivery gets a fresh round of attempts.
		broken.set(200)
		d, err := db.RetryDelivery(b.ctx, dead.ID)
		must(t, err)
		if d.Status != herald.StatusPending || d.Attempts != 0 {
			t.Fatalf("retried delivery is %s with %d attempts, want pending with 0", d.Status, d.Attempts)
		}
		d = settleDelivery(t, b, dead.ID)
		if d.Status != herald.StatusDelivered || d.Attempts != 1 || d.LastError != "" {
			t.Fatalf("retried delivery ended %s after %d attempts (%q), want delivered after 1", d.Status, d.Attempts, d.LastError)
		}
		if got := broken.count(dlvID(d)); got != testConfig().MaxAttempts+1 {
			t.Errorf("the sink saw %d requests for the retried delivery, want %d", got, testConfig().MaxAttempts+1)
		}
		_, err = db.RetryDelivery(b.ctx, d.ID)
		if herald.ErrorCode(err) != herald.ENOTALLOWED {
			t.Fatalf("retrying a delivered delivery: %v, want %s", err, herald.ENOTALLOWED)
		}
		_, err = db.RetryDelivery(b.ctx, d.ID+1000)
		if herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Fatalf("retrying a missing delivery: %v, want %s", err, herald.ENOTFOUND)
		}
	})
}

func TestEngine_IdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, 200)
		n := b.webhook(t, "hook", s.srv.URL)
		b.deploy(t, on(n, "deploy.succeeded"))
		first := b.post(t, &herald.Event{Type: "deploy.succeeded", IdempotencyKey: "deploy-42"})
		if first.Duplicate {
			t.Fatal("the first event is marked duplicate")
		}
		startEngine(t, db, testConfig())
		again := b.post(t, &herald.Event{Type: "deploy.succeeded", IdempotencyKey: "deploy-42", Actor: "someone-else"})
		if !again.Duplicate || again.ID != first.ID || again.Actor != "" {
			t.Fatalf("second post = %+v, want the first event (id %d) marked duplicate", again, first.ID)
		}
		// Within one batch too, and beside a fresh event.
		batch := []*herald.Event{
			{SourceID: b.source.ID, Type: "deploy.succeeded", IdempotencyKey: "deploy-42"},
			{SourceID: b.source.ID, Type: "deploy.succeeded", IdempotencyKey: "deploy-43"},
			{SourceID: b.source.ID, Type: "deploy.succeeded", IdempotencyKey: "deploy-43"},
		}
		must(t, db.CreateEvents(b.ctx, batch))
		if !batch[0].Duplicate || batch[0].ID != first.ID || batch[1].Duplicate || !batch[2].Duplicate || batch[2].ID != batch[1].ID {
			t.Fatalf("batch = %+v %+v %+v", batch[0], batch[1], batch[2])
		}
		for _, id := range []int64{first.ID, batch[1].ID} {
			ev := settle(t, b, id)
			if d := one(t, ev, n); d.Status != herald.StatusDelivered || s.count(dlvID(d)) != 1 {
				t.Fatalf("event %d: delivery %s, sink saw it %d times", id, d.Status, s.count(dlvID(d)))
			}
		}
		all, _, err := db.FindDeliveries(b.ctx, herald.DeliveryFilter{}, herald.Page{})
		must(t, err)
		if len(all) != 2 || s.total() != 2 {
			t.Fatalf("%d deliveries and %d requests for two distinct keys, want 2 and 2", len(all), s.total())
		}
	})
}

// TestEngine_AcceptedBeforeStart shows an accepted event waits in the
// database: nothing runs when it is posted, and an engine started later
// (after a crash, say) delivers it.
func TestEngine_AcceptedBeforeStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		s := newSink(t, 200)
		n := b.webhook(t, "hook", s.srv.URL)
		b.deploy(t, on(n, "build.succeeded"))

		// An engine that stops before the event arrives does nothing.
		first := startEngine(t, db, testConfig())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		must(t, first.Stop(ctx))

		ev := b.post(t, &herald.Event{Type: "build.succeeded"})
		got, err := db.FindEventByID(b.ctx, ev.ID)
		must(t, err)
		if len(got.Deliveries) != 0 || s.total() != 0 {
			t.Fatalf("with no engine running: %d deliveries, %d requests", len(got.Deliveries), s.total())
		}
		startEngine(t, db, testConfig())
		got = settle(t, b, ev.ID)
		if d := one(t, got, n); d.Status != herald.StatusDelivered || s.count(dlvID(d)) != 1 {
			t.Fatalf("delivery %s, sink saw it %d times", d.Status, s.count(dlvID(d)))
		}
	})
}

// TestEngine_Recipients checks who an event reaches, through inbox
// notifiers (one delivery per user) and an email notifier (a skipped
// delivery for a user without an address).
func TestEngine_Recipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := b.ctx
		root := &herald.Department{Code: "eng", Name: "Engineering"}
		must(t, db.CreateDepartment(ctx, root))
		backend := &herald.Department{Code: "eng-backend", Name: "Backend", ParentID: &root.ID}
		must(t, db.CreateDepartment(ctx, backend))
		db1 := &herald.Department{Code: "eng-backend-db", Name: "Databases", ParentID: &backend.ID}
		must(t, db.CreateDepartment(ctx, db1))
		sales := &herald.Department{Code: "sales", Name: "Sales"}
		must(t, db.CreateDepartment(ctx, sales))

		users := map[string]*herald.User{}
		for _, u := range []*herald.User{
			{Code: "ann", Name: "Ann", Email: "ann@example.com"},
			{Code: "bob", Name: "Bob", Email: "bob@example.com"},
			{Code: "cid", Name: "Cid"}, // no email
			{Code: "dee", Name: "Dee", Email: "dee@example.com", DepartmentIDs: []int64{root.ID}},
			{Code: "eve", Name: "Eve", Email: "eve@example.com", DepartmentIDs: []int64{backend.ID}},
			{Code: "fay", Name: "Fay", Email: "fay@example.com", DepartmentIDs: []int64{db1.ID}},
			{Code: "gus", Name: "Gus", Email: "gus@example.com", DepartmentIDs: []int64{sales.ID}},
			{Code: "hal", Name: "Hal", Email: "hal@example.com"},
			{Code: "ivy", Name: "Ivy", Email: "ivy@example.com"},
			{Code: "joe", Name: "Joe", Email: "joe@example.com"},
		} {
			users[u.Code] = b.user(t, u)
		}
		must(t, db.CreateGroup(ctx, &herald.Group{Code: "oncall", Name: "On call", MemberIDs: []int64{users["bob"].ID, users["cid"].ID}}))

		mix := b.notifier(t, herald.NotifierInbox, "mix", herald.NotifierConfig{}, "")
		flat := b.notifier(t, herald.NotifierInbox, "flat", herald.NotifierConfig{}, "")
		deep := b.notifier(t, herald.NotifierInbox, "deep", herald.NotifierConfig{}, "")
		smtpd := newSMTPServer(t)
		mail := b.notifier(t, herald.NotifierEmail, "mail", smtpd.config(), "")
		b.deploy(t,
			// Every kind of recipient, overlapping: ann twice (user and
			// creator), bob twice (user and group), eng without subs.
			on(mix, "job.updated", userR("ann"), userR("bob"), groupR("oncall"), orgR("eng", false),
				fieldR("CREATOR"), fieldR("follower"), fieldR("modifier"), userR("nobody")),
			on(flat, "job.updated", orgR("eng", false)),
			on(deep, "job.updated", orgR("eng", true)),
			on(mail, "job.updated", userR("ann"), userR("cid")),
		)
		startEngine(t, db, testConfig())
		ev := settle(t, b, b.post(t, &herald.Event{Type: "job.updated", Actor: "joe", Roles: map[string][]string{
			"creator": {"ann"}, "Followers": {"hal", "ann", "ghost"}, "updater": {"ivy"}, "executor": {"joe"},
		}}).ID)

		codes := func(n *herald.Notifier) []string {
			var out []string
			for _, d := range byNotifier(ev, n) {
				for _, u := range users {
					if u.ID == d.UserID {
						out = append(out, u.Code)
					}
				}
				if d.Channel == herald.NotifierInbox && d.Status != herald.StatusDelivered {
					t.Errorf("inbox delivery %d is %s", d.ID, d.Status)
				}
			}
			slices.Sort(out)
			return out
		}
		for _, tt := range []struct {
			n    *herald.Notifier
			want []string
		}{
			{mix, []string{"ann", "bob", "cid", "dee", "hal", "ivy"}},
			{flat, []string{"dee"}},
			{deep, []string{"dee", "eve", "fay"}},
			{mail, []string{"ann", "cid"}},
		} {
			if got := codes(tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("%s reached %v, want %v", tt.n.Name, got, tt.want)
			}
		}
		// One inbox message per inbox notifier reaching the user.
		want := map[string]int{"ann": 1, "bob": 1, "cid": 1, "dee": 3, "eve": 1, "fay": 1, "hal": 1, "ivy": 1}
		for code, u := range users {
			msgs, _, err := db.FindInbox(ctx, u.ID, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != want[code] || slices.ContainsFunc(msgs, func(m *herald.InboxMessage) bool { return m.EventID != ev.ID }) {
				t.Errorf("%s's inbox holds %d messages, want %d about event %d", code, len(msgs), want[code], ev.ID)
			}
		}
		for _, d := range byNotifier(ev, mail) {
			switch d.UserID {
			case users["ann"].ID:
				if d.Status != herald.StatusDelivered || d.Target != "ann@example.com" {
					t.Errorf("ann's email: %s to %q (%s)", d.Status, d.Target, d.LastError)
				}
			case users["cid"].ID:
				if d.Status != herald.StatusSkipped || d.Attempts != 0 || !strings.Contains(d.LastError, "cid has no email address") {
					t.Errorf("cid's email: %s after %d attempts, reason %q; want skipped for want of an address", d.Status, d.Attempts, d.LastError)
				}
			}
		}
		if got := smtpd.rcpts(); !slices.Equal(got, []string{"ann@example.com"}) {
			t.Errorf("the SMTP server got mail for %v, want only ann", got)
		}
	})
}

// TestEngine_ConfigurationErrors shows that what no retry can fix fails
// at once, visibly, without holding back the other channels: a template
// that fails on the event's payload, a notifier its channel refuses.
func TestEngine_ConfigurationErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		b.user(t, &herald.User{Code: "ann", Name: "Ann", Mobile: "+8613800000001"})
		good, bad := newSink(t, 200), newSink(t, 200)
		gw := newPeer(t, `{}`)
		nGood := b.webhook(t, "good", good.srv.URL)
		// Parses, but fails on a payload whose build is a string.
		nBad := b.notifier(t, herald.NotifierWebhook, "bad-template", herald.NotifierConfig{URL: bad.srv.URL,
			MessageBody: `{"n":{{index .Payload "build" "number"}}}`}, "")
		// Values inserted without the json function: a text with a quote
		// breaks the JSON, which the SMS channel refuses up front.
		nSMS := b.notifier(t, herald.NotifierSMS, "bad-sms", herald.NotifierConfig{URL: gw.srv.URL,
			MessageBody: `{"to":"{{.To}}","text":"{{.Text}}"}`}, "")
		b.deploy(t, on(nGood, "build.failed"), on(nBad, "build.failed"), on(nSMS, "build.failed", userR("ann")))
		startEngine(t, db, testConfig())
		ev := settle(t, b, b.post(t, &herald.Event{Type: "build.failed", Payload: []byte(`{"build":"#42"}`)}).ID)

		if d := one(t, ev, nGood); d.Status != herald.StatusDelivered || good.count(dlvID(d)) != 1 {
			t.Errorf("the good webhook: %s (%s)", d.Status, d.LastError)
		}
		rendering := one(t, ev, nBad)
		if rendering.Status != herald.StatusFailed || rendering.Attempts != 0 || !strings.Contains(rendering.LastError, "cannot render") {
			t.Errorf("the bad template: %s after %d attempts (%q), want failed before any attempt", rendering.Status, rendering.Attempts, rendering.LastError)
		}
		if d := one(t, ev, nSMS); d.Status != herald.StatusFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "template") {
			t.Errorf("the bad SMS template: %s after %d attempts (%q), want failed after 1", d.Status, d.Attempts, d.LastError)
		}
		if len(gw.requests()) != 0 || bad.total() != 0 {
			t.Errorf("broken notifiers sent %d SMS and %d webhooks", len(gw.requests()), bad.total())
		}
		// Retrying a delivery that was never rendered sends nothing.
		_, err := db.RetryDelivery(b.ctx, rendering.ID)
		must(t, err)
		if d := settleDelivery(t, b, rendering.ID); d.Status != herald.StatusFailed || d.Attempts != 1 || bad.total() != 0 {
			t.Errorf("the retried unrenderable delivery: %s after %d attempts (%q); the sink saw %d requests", d.Status, d.Attempts, d.LastError, bad.total())
		}
	})
}

// TestEngine_RetryUsesCurrentNotifier fixes a notifier's header after its
// delivery failed, and retries: the retry carries the corrected header.
func TestEngine_RetryUsesCurrentNotifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		var mu sync.Mutex
		var keys []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			keys = append(keys, r.Header.Get("X-Api-Key"))
			mu.Unlock()
			if r.Header.Get("X-Api-Key") != "right" {
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		t.Cleanup(srv.Close)
		n := b.notifier(t, herald.NotifierWebhook, "hook", herald.NotifierConfig{URL: srv.URL, HTTPHeaders: map[string]string{"X-Api-Key": "wrong"}}, "")
		b.deploy(t, on(n, "build.failed"))
		startEngine(t, db, testConfig())
		ev := settle(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID)
		d := one(t, ev, n)
		if d.Status != herald.StatusFailed || d.Attempts != 1 {
			t.Fatalf("with the wrong key: %s after %d attempts, want failed after 1 (401)", d.Status, d.Attempts)
		}
		n.Config.HTTPHeaders = map[string]string{"X-Api-Key": "right"}
		must(t, db.UpdateNotifier(b.ctx, n))
		_, err := db.RetryDelivery(b.ctx, d.ID)
		must(t, err)
		if d = settleDelivery(t, b, d.ID); d.Status != herald.StatusDelivered {
			t.Fatalf("after fixing the key: %s (%s)", d.Status, d.LastError)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(keys, []string{"wrong", "right"}) {
			t.Fatalf("keys sent %q, want [wrong right]", keys)
		}
	})
}
