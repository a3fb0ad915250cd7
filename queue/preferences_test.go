package queue_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// prefClock runs from a chosen time at the real pace, and can jump ahead:
// quiet hours are read on it, while leases and polls keep their rhythm.
type prefClock struct {
	mu     sync.Mutex
	base   time.Time
	start  time.Time
	offset time.Duration
}

func newPrefClock(at time.Time) *prefClock { return &prefClock{base: at, start: time.Now()} }

func (c *prefClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.start) + c.offset)
}

func (c *prefClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// clockDB opens a migrated database of dialect on clk.
func clockDB(t *testing.T, dialect string, clk *prefClock) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: storetest.NewURL(t, dialect), SecretKey: storetest.Key(), Now: clk.now})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	must(t, db.Migrate(context.Background()))
	return db
}

// byUser returns the event's delivery of notifier n to user u.
func byUser(t *testing.T, ev *herald.Event, n *herald.Notifier, u *herald.User) *herald.Delivery {
	t.Helper()
	for _, d := range byNotifier(ev, n) {
		if d.UserID == u.ID {
			return d
		}
	}
	t.Fatalf("no %s delivery to %s", n.Type, u.Code)
	return nil
}

// waitFanout waits until the event has deliveries and none is pending or
// sending (deferred ones wait for their time).
func waitFanout(t *testing.T, b *testBundle, id int64) *herald.Event {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		ev, err := b.db.FindEventByID(b.ctx, id)
		must(t, err)
		if len(ev.Deliveries) > 0 && !slices.ContainsFunc(ev.Deliveries, func(d *herald.Delivery) bool {
			return d.Status == herald.StatusPending || d.Status == herald.StatusSending
		}) {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %d: deliveries still on their way after %s", id, settleTimeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestEngine_Preferences: the live settings say who may be told; each
// person narrows it. An opted-out person gets a skipped delivery (reason
// preference) in the delivery log and is not mentioned by a robot; a
// person in quiet hours gets a deferred delivery due at their end, sent
// then (the clock moved, nothing slept through); the inbox and urgent
// event types go at once; times are written in the person's zone.
func TestEngine_Preferences(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			// 23:00 UTC on a Monday.
			clk := newPrefClock(time.Date(2030, 1, 7, 23, 0, 0, 0, time.UTC))
			db := clockDB(t, dialect, clk)
			b := setup(t, db)
			ann := b.user(t, &herald.User{Code: "ann", Name: "Ann", Email: "ann@example.com", DingTalkID: "ding-ann"})
			bob := b.user(t, &herald.User{Code: "bob", Name: "Bob", Email: "bob@example.com", DingTalkID: "ding-bob"})
			// Carol lives in Shanghai: 07:00 there, her quiet hours until 08:00.
			carol := b.user(t, &herald.User{Code: "carol", Name: "Carol", Email: "carol@example.com", TimeZone: "Asia/Shanghai", Locale: herald.LocaleZH})
			smtpd := newSMTPServer(t)
			dingPeer := newPeer(t, `{"errcode":0,"errmsg":"ok"}`)
			email := b.notifier(t, herald.NotifierEmail, "email", smtpd.config(), "")
			inbox := b.notifier(t, herald.NotifierInbox, "inbox", herald.NotifierConfig{}, "")
			ding := b.notifier(t, herald.NotifierDingTalk, "ding", herald.NotifierConfig{URL: dingPeer.srv.URL + "/robot/send?access_token=t"}, "")
			everyone := []herald.Recipient{userR("ann"), userR("bob"), userR("carol")}
			var channels []herald.ChannelSettings
			for _, n := range []*herald.Notifier{email, inbox, ding} {
				c := on(n, "build.failed", everyone...)
				c.Events = append(c.Events, herald.EventSettings{Type: "deploy.failed", Enabled: true, Recipients: everyone})
				channels = append(channels, c)
			}
			b.deploy(t, channels...)

			_, err := db.UpdatePreferencePolicy(b.ctx, &herald.PreferencePolicy{ProjectID: b.project.ID, Revision: -1,
				Categories: []herald.Category{{Key: "builds", EventTypes: []string{"build.failed", "build.succeeded"}}},
				Urgent:     []string{"deploy.failed"},
				QuietHours: []herald.QuietHours{{Channel: "email", Windows: []herald.QuietWindow{{Start: "22:00", End: "08:00"}}}}})
			must(t, err)
			// Ann turns build emails and the DingTalk robot off; Bob wants
			// his email at night.
			_, err = db.UpdateUserPreferences(b.ctx, &herald.UserPreferences{UserID: ann.ID, Revision: -1, Rules: []herald.PreferenceRule{
				{Channel: "email", Category: "builds"}, {Channel: "dingtalk"}}})
			must(t, err)
			_, err = db.UpdateUserPreferences(b.ctx, &herald.UserPreferences{UserID: bob.ID, Revision: -1,
				QuietHours: []herald.QuietHours{{Channel: "email", Windows: []herald.QuietWindow{}}}})
			must(t, err)

			startEngine(t, db, testConfig())
			posted := b.post(t, &herald.Event{Type: "build.failed", Actor: "bob", Payload: json.RawMessage(`{}`)})
			ev := waitFanout(t, b, posted.ID)

			skipped := byUser(t, ev, email, ann)
			if skipped.Status != herald.StatusSkipped || skipped.Reason != herald.ReasonPreference || !strings.Contains(skipped.LastError, "category builds") {
				t.Errorf("ann's email: %s, reason %q, %q; want skipped for her preference", skipped.Status, skipped.Reason, skipped.LastError)
			}
			log, _, err := db.FindDeliveries(b.ctx, herald.DeliveryFilter{EventID: posted.ID, Status: herald.StatusSkipped}, herald.Page{})
			must(t, err)
			if len(log) != 1 || log[0].ID != skipped.ID || log[0].Reason != herald.ReasonPreference {
				t.Errorf("the delivery log's skipped deliveries: %+v", log)
			}
			if d := byUser(t, ev, email, bob); d.Status != herald.StatusDelivered {
				t.Errorf("bob's email (no quiet hours for him): %s %q", d.Status, d.LastError)
			}
			held := byUser(t, ev, email, carol)
			due := time.Date(2030, 1, 8, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
			if held.Status != herald.StatusDeferred || held.Reason != herald.ReasonQuietHours || held.NextAttemptAt == nil || !held.NextAttemptAt.Equal(due) {
				t.Errorf("carol's email: %s, reason %q, due %v; want deferred to %s", held.Status, held.Reason, held.NextAttemptAt, due)
			}
			for _, u := range []*herald.User{ann, bob, carol} {
				if d := byUser(t, ev, inbox, u); d.Status != herald.StatusDelivered {
					t.Errorf("%s's inbox: %s, want delivered at once", u.Code, d.Status)
				}
			}
			// The robot posts once, mentioning those who did not turn it off.
			r := dingPeer.only(t)
			var body struct {
				At struct {
					AtUserIDs []string `json:"atUserIds"`
				} `json:"at"`
			}
			must(t, json.Unmarshal(r.body, &body))
			if slices.Contains(body.At.AtUserIDs, "ding-ann") || !slices.Contains(body.At.AtUserIDs, "ding-bob") {
				t.Errorf("the robot mentions %v; want bob and not ann", body.At.AtUserIDs)
			}
			if got := smtpd.rcpts(); !slices.Equal(got, []string{"bob@example.com"}) {
				t.Fatalf("mail sent at 23:00 to %v, want bob only", got)
			}

			// An urgent type bypasses quiet hours; ann did not turn deploys off.
			urgent := b.post(t, &herald.Event{Type: "deploy.failed", Payload: json.RawMessage(`{}`)})
			uev := settle(t, b, urgent.ID)
			if d := byUser(t, uev, email, carol); d.Status != herald.StatusDelivered {
				t.Errorf("an urgent email to carol in her quiet hours: %s", d.Status)
			}
			if d := byUser(t, uev, email, ann); d.Status != herald.StatusDelivered {
				t.Errorf("ann's deploy email: %s", d.Status)
			}

			// The quiet hours end: carol's email goes, written in her zone.
			clk.jump(due.Sub(clk.now()) + time.Second)
			sent := settleDelivery(t, b, held.ID)
			if sent.Status != herald.StatusDelivered || sent.Reason != herald.ReasonQuietHours {
				t.Fatalf("carol's email after her quiet hours: %s (%s)", sent.Status, sent.Reason)
			}
			var text string
			for _, m := range smtpd.mails() {
				if subject, body, _ := parseMail(t, m.data); slices.Contains(m.rcpts, "carol@example.com") && strings.HasPrefix(subject, "构建失败") {
					text = body
				}
			}
			at := posted.CreatedAt.In(time.FixedZone("", 8*3600)).Format("2006年01月02日 15:04:05") + " (UTC+08:00)"
			if !strings.Contains(text, "时间："+at) {
				t.Errorf("carol's email reads %q, want the time %s", text, at)
			}
		})
	}
}
