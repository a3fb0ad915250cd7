package queue_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// appBundle is a tenant with a project and Kintone app 1 whose live record
// notifications are set by deployRecords.
type appBundle struct {
	*testBundle
	users map[string]*herald.User
}

func setupApp(t *testing.T, db *store.DB) *appBundle {
	t.Helper()
	b := &appBundle{testBundle: &testBundle{ctx: storetest.NewTenant(t, db, "acme"), db: db, project: &herald.Project{Name: "Sales"}},
		users: map[string]*herald.User{}}
	must(t, db.CreateProject(b.ctx, b.project))
	b.source = &herald.Source{ProjectID: b.project.ID, Kind: herald.SourceApp, ExternalID: "1", Name: "Deals"}
	must(t, db.CreateSource(b.ctx, b.source))
	sales := &herald.Department{Code: "sales", Name: "Sales"}
	must(t, db.CreateDepartment(b.ctx, sales))
	east := &herald.Department{Code: "sales-east", Name: "Sales East", ParentID: &sales.ID}
	must(t, db.CreateDepartment(b.ctx, east))
	for _, u := range []struct {
		code  string
		depts []int64
	}{{"ann", nil}, {"bob", nil}, {"carl", []int64{east.ID}}, {"dan", nil}} {
		b.users[u.code] = b.user(t, &herald.User{Code: u.code, Name: u.code, DepartmentIDs: u.depts})
	}
	return b
}

// deployRecords writes change into the draft and deploys it.
func (b *appBundle) deployRecords(t *testing.T, change herald.RecordNotificationsChangeFunc) {
	t.Helper()
	ref := herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: b.project.ID, SourceID: b.source.ID}, Revision: herald.NoRevisionCheck}
	_, err := b.db.UpdateRecordNotifications(b.ctx, ref, change)
	must(t, err)
	_, err = b.db.DeploySettings(b.ctx, []herald.SettingsRef{ref}, false)
	must(t, err)
}

// recordEvent is an event of the app carrying a record, as Kintone's
// webhooks send one.
func (b *appBundle) recordEvent(typ, id string, fields map[string]any) *herald.Event {
	rec := map[string]any{"$id": map[string]any{"type": "__ID__", "value": id}}
	for k, v := range fields {
		rec[k] = v
	}
	payload, _ := json.Marshal(map[string]any{"type": "UPDATE_RECORD", "record": rec})
	return &herald.Event{SourceID: b.source.ID, Type: typ, Payload: payload}
}

// inbox returns a user's inbox titles.
func (b *appBundle) inbox(t *testing.T, code string) []string {
	t.Helper()
	msgs, _, err := b.db.FindInbox(b.ctx, b.users[code].ID, herald.InboxFilter{}, herald.Page{})
	must(t, err)
	var out []string
	for _, m := range msgs {
		out = append(out, m.Title)
	}
	return out
}

func field(typ string, v any) map[string]any { return map[string]any{"type": typ, "value": v} }

// TestPerRecordNotifications: a record that meets a per-record
// notification's condition tells its targets (a FIELD_ENTITY taken from
// the record, a department with its sub-departments), with its title; one
// that does not, or an event that saves no record (a comment), tells no
// one.
func TestPerRecordNotifications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupApp(t, db)
		b.deployRecords(t, func(rn *herald.RecordNotifications) error {
			rn.PerRecord = []herald.PerRecordNotification{
				{FilterCond: `Status in ("Done") and Amount >= 100`, Title: "Deal closed", Targets: []herald.Recipient{
					{Type: herald.EntityUser, Code: "ann"}, {Type: herald.EntityFieldEntity, Code: "担当者"}}},
				{FilterCond: `Amount > 1000 or (Status = "Lost" and Note like "urgent")`, Targets: []herald.Recipient{
					{Type: herald.EntityOrganization, Code: "sales", IncludeSubs: true}}},
			}
			return nil
		})
		startEngine(t, db, testConfig())
		done := b.recordEvent("record.edited", "7", map[string]any{"Status": field("DROP_DOWN", "Done"), "Amount": field("NUMBER", "500"),
			"担当者": field("USER_SELECT", []any{map[string]any{"code": "bob", "name": "Bob"}}), "Note": field("MULTI_LINE_TEXT", "")})
		open := b.recordEvent("record.added", "8", map[string]any{"Status": field("DROP_DOWN", "Open"), "Amount": field("NUMBER", "50"),
			"担当者": field("USER_SELECT", []any{map[string]any{"code": "dan", "name": "Dan"}}), "Note": field("MULTI_LINE_TEXT", "urgent")})
		comment := b.recordEvent("comment.added", "7", map[string]any{"Status": field("DROP_DOWN", "Done"), "Amount": field("NUMBER", "5000")})
		big := b.recordEvent("status.changed", "9", map[string]any{"Status": field("DROP_DOWN", "Lost"), "Amount": field("NUMBER", "5000"),
			"Note": field("MULTI_LINE_TEXT", "URGENT: call")})
		// One batch, one fan-out job: when the last event's deliveries
		// are in, every event's are.
		must(t, db.CreateEvents(b.ctx, []*herald.Event{done, open, comment, big}))
		deadline := time.Now().Add(settleTimeout)
		for {
			got, err := db.FindEventByID(b.ctx, big.ID)
			must(t, err)
			if len(got.Deliveries) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the last event was not fanned out")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for code, want := range map[string][]string{
			"ann":  {"Deal closed"},
			"bob":  {"Deal closed"},
			"carl": {"Record 9 of Deals"},
			"dan":  nil,
		} {
			if got := b.inbox(t, code); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s's inbox %q, want %q", code, got, want)
			}
		}
		for _, ev := range []*herald.Event{open, comment} {
			got, err := db.FindEventByID(b.ctx, ev.ID)
			must(t, err)
			if len(got.Deliveries) != 0 {
				t.Errorf("event %d (%s) caused %d deliveries", ev.ID, ev.Type, len(got.Deliveries))
			}
		}
	})
}

// testClock is real time moved on by what the test advances it by, so
// that jobs enqueued at real time stay due for River.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// TestReminderNotifications: a record meeting a reminder notification
// gets a reminder at the time its date field says, in the app's time
// zone; it is sent when the (injected) clock reaches it, to its targets,
// once. A record that stops meeting the condition loses its reminder, and
// one that never met it gets none.
func TestReminderNotifications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupApp(t, db)
		tokyo, err := time.LoadLocation("Asia/Tokyo")
		must(t, err)
		b.deployRecords(t, func(rn *herald.RecordNotifications) error {
			rn.Timezone = "Asia/Tokyo"
			rn.Reminders = []herald.ReminderNotification{{
				Timing:     herald.ReminderTiming{Code: "期限", DaysLater: -1, Time: "09:00"},
				FilterCond: `Status not in ("Done")`, Title: "Due soon",
				Targets: []herald.Recipient{{Type: herald.EntityFieldEntity, Code: "作成者"}, {Type: herald.EntityUser, Code: "dan"}}}}
			return nil
		})
		clock := &testClock{}
		cfg := testConfig()
		cfg.Now = clock.Now
		startEngine(t, db, cfg)

		deadlineDay := clock.Now().In(tokyo).AddDate(0, 0, 3)
		y, m, d := deadlineDay.Date()
		due := time.Date(y, m, d-1, 9, 0, 0, 0, tokyo)
		record := func(typ, id, creator, status string) *herald.Event {
			return b.recordEvent(typ, id, map[string]any{"Status": field("DROP_DOWN", status),
				"期限": field("DATE", deadlineDay.Format(time.DateOnly)), "作成者": field("CREATOR", map[string]any{"code": creator})})
		}
		// Record 1 (ann's) is reminded; record 2 (bob's) is reminded, then
		// done; record 3 (carl's) was done from the start.
		for _, ev := range []*herald.Event{record("record.added", "1", "ann", "Open"), record("record.added", "2", "bob", "Open"),
			record("record.added", "3", "carl", "Done")} {
			must(t, db.CreateEvents(b.ctx, []*herald.Event{ev}))
		}
		reminders := func() map[string]*store.Reminder {
			t.Helper()
			rs, _, err := db.FindReminders(b.ctx, b.source.ID, herald.Page{})
			must(t, err)
			out := map[string]*store.Reminder{}
			for _, r := range rs {
				out[r.RecordID] = r
			}
			return out
		}
		waitFor := func(what string, ok func() bool) {
			t.Helper()
			deadline := time.Now().Add(settleTimeout)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("timed out waiting for %s", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitFor("reminders of records 1 and 2", func() bool { return len(reminders()) == 2 })
		rs := reminders()
		if !rs["1"].DueAt.Equal(due) || !rs["2"].DueAt.Equal(due) {
			t.Fatalf("due %s and %s, want %s", rs["1"].DueAt, rs["2"].DueAt, due)
		}
		must(t, db.CreateEvents(b.ctx, []*herald.Event{record("record.edited", "2", "bob", "Done")}))
		waitFor("record 2's reminder cancelled", func() bool { return reminders()["2"].CancelledAt != nil })
		if got := b.inbox(t, "ann"); len(got) != 0 {
			t.Fatalf("reminded before the time: %q", got)
		}

		// A new title, deployed before the time, is the one sent: the
		// reminder keeps its notification.
		b.deployRecords(t, func(rn *herald.RecordNotifications) error {
			rn.Reminders[0].Title = "Tomorrow is the deadline"
			return nil
		})
		clock.Advance(due.Sub(clock.Now()) + time.Minute)
		waitFor("the reminder sent", func() bool { return len(b.inbox(t, "ann")) > 0 })
		for code, want := range map[string][]string{"ann": {"Tomorrow is the deadline"}, "dan": {"Tomorrow is the deadline"}, "bob": nil, "carl": nil} {
			if got := b.inbox(t, code); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s's inbox %q, want %q", code, got, want)
			}
		}
		if r := reminders()["1"]; r.FiredAt == nil {
			t.Errorf("reminder not marked sent: %+v", r)
		}
	})
}
