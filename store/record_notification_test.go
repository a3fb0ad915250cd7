package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func perRecord(cond string) herald.RecordNotificationsChangeFunc {
	return func(rn *herald.RecordNotifications) error {
		rn.PerRecord = []herald.PerRecordNotification{{FilterCond: cond, Title: "t",
			Targets: []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}}}
		return nil
	}
}

// TestRecordNotificationService shows record notifications share the
// settings' revision, stay in the draft until deployed with the settings,
// are reverted with them, and ensure the project's inbox.
func TestRecordNotificationService(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		find := func(version string) *herald.RecordNotifications {
			t.Helper()
			rn, err := db.FindRecordNotifications(b.ctx, b.scope, version)
			must(t, err)
			return rn
		}
		if rn := find(herald.VersionDraft); rn.Revision != 1 || len(rn.PerRecord) != 0 || len(rn.Reminders) != 0 || rn.Timezone != "" {
			t.Fatalf("a new source's record notifications: %+v", rn)
		}
		rn, err := db.UpdateRecordNotifications(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, perRecord(`Amount > 10`))
		must(t, err)
		if rn.Revision != 2 || b.find(t, herald.VersionDraft).Revision != 2 {
			t.Fatalf("revision %d, settings at %d: one revision for the app", rn.Revision, b.find(t, herald.VersionDraft).Revision)
		}
		if live := find(herald.VersionLive); len(live.PerRecord) != 0 || live.Revision != 1 {
			t.Fatalf("live before deploy: %+v", live)
		}
		if ns := b.notifiers(t); len(ns) != 2 || ns[1].Type != herald.NotifierInbox {
			t.Fatalf("the project's inbox was not ensured: %v", ns)
		}
		// A stale revision changes nothing.
		_, err = db.UpdateRecordNotifications(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, perRecord(`Amount > 99`))
		if herald.ErrorCode(err) != herald.ECONFLICT {
			t.Fatalf("stale revision: %v", err)
		}
		// An invalid condition changes nothing either.
		_, err = db.UpdateRecordNotifications(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, perRecord(`Due = TODAY()`))
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "notifications[0].filterCond" {
			t.Fatalf("TODAY(): %v", err)
		}
		if d := find(herald.VersionDraft); d.PerRecord[0].FilterCond != `Amount > 10` || d.Revision != 2 {
			t.Fatalf("draft after refused writes: %+v", d)
		}

		_, err = db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: b.scope, Revision: 2}}, false)
		must(t, err)
		if live := find(herald.VersionLive); len(live.PerRecord) != 1 || live.PerRecord[0].FilterCond != `Amount > 10` || live.Revision != 2 {
			t.Fatalf("live after deploy: %+v", live)
		}

		_, err = db.UpdateRecordNotifications(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 2}, func(rn *herald.RecordNotifications) error {
			rn.PerRecord = nil
			rn.Timezone = "Asia/Tokyo"
			return nil
		})
		must(t, err)
		_, err = db.DeploySettings(b.ctx, []herald.SettingsRef{{Scope: b.scope, Revision: 3}}, true)
		must(t, err)
		if d := find(herald.VersionDraft); len(d.PerRecord) != 1 || d.Timezone != "" || d.Revision != 4 {
			t.Fatalf("draft after revert: %+v", d)
		}
		// The project default has none.
		if _, err := db.FindRecordNotifications(b.ctx, herald.SettingsScope{ProjectID: b.f.project.ID}, herald.VersionLive); herald.ErrorCode(err) != herald.EINVALID {
			t.Fatalf("project default: %v", err)
		}
	})
}

// TestReminders shows how events set a record's reminders, and that a
// reminder is sent once, at the seq its job names.
func TestReminders(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		var events []int64
		for i := range 5 {
			ev := &herald.Event{SourceID: b.f.source.ID, Type: "record.edited", Payload: json.RawMessage(`{"n":` + digit(i) + `}`)}
			must(t, db.CreateEvents(b.ctx, []*herald.Event{ev}))
			events = append(events, ev.ID)
		}
		set := func(eventID int64, due map[string]time.Time) {
			t.Helper()
			_, err := db.RecordFanouts(b.ctx, []store.Fanout{{EventID: eventID, Reminders: &store.RecordReminders{
				ProjectID: b.f.project.ID, SourceID: b.f.source.ID, RecordID: "42", EventID: eventID, Due: due}}})
			must(t, err)
		}
		list := func() map[string]*store.Reminder {
			t.Helper()
			rs, _, err := db.FindReminders(b.ctx, b.f.source.ID, herald.Page{})
			must(t, err)
			out := map[string]*store.Reminder{}
			for _, r := range rs {
				out[r.RuleKey] = r
			}
			return out
		}
		t1 := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
		t2 := t1.Add(24 * time.Hour)
		set(events[1], map[string]time.Time{"a": t1, "b": t1})
		rs := list()
		if len(rs) != 2 || !rs["a"].DueAt.Equal(t1) || rs["a"].Seq != 1 || rs["a"].EventID != events[1] {
			t.Fatalf("reminders %+v", rs)
		}
		a := rs["a"]
		// An older event of the record, fanned out late, changes nothing.
		set(events[0], map[string]time.Time{})
		if len(list()) != 2 {
			t.Fatal("an older event cancelled the reminders")
		}
		// A later one moves a, keeps b's time, drops nothing else.
		set(events[2], map[string]time.Time{"a": t2, "b": t1})
		rs = list()
		if rs["a"].Seq != 2 || !rs["a"].DueAt.Equal(t2) || rs["b"].Seq != 1 || rs["a"].ID != a.ID {
			t.Fatalf("after the move: a %+v, b %+v", rs["a"], rs["b"])
		}
		// The job of the old time does nothing; the new one sends once.
		user := &herald.User{Code: "ann", Name: "Ann"}
		must(t, db.CreateUser(b.ctx, user))
		inbox := []store.NewDelivery{{NotifierID: b.f.notifier.ID, Channel: herald.NotifierInbox, UserID: user.ID, Target: "ann",
			Status: herald.StatusDelivered, Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: user.ID, Title: "Due", Body: "soon"}}}
		for _, c := range []struct {
			seq  int64
			want bool
		}{{1, false}, {2, true}, {2, false}} {
			fired, err := db.FireReminder(b.ctx, a.ID, c.seq, inbox)
			must(t, err)
			if fired != c.want {
				t.Fatalf("fire at seq %d: %v, want %v", c.seq, fired, c.want)
			}
		}
		msgs, _, err := db.FindInbox(b.ctx, user.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 1 || msgs[0].Title != "Due" || msgs[0].EventID != events[2] {
			t.Fatalf("inbox %+v", msgs)
		}
		if r, err := db.FindReminder(b.ctx, a.ID); err != nil || r.FiredAt == nil {
			t.Fatalf("fired reminder: %+v %v", r, err)
		}
		// The same time again leaves a sent reminder sent; a reminder the
		// record no longer meets is cancelled: its job finds nothing to send.
		set(events[3], map[string]time.Time{"a": t2})
		rs = list()
		if len(rs) != 2 || rs["a"].FiredAt == nil || rs["a"].Seq != 2 || rs["b"].CancelledAt == nil || rs["b"].Seq != 2 {
			t.Fatalf("after the last event: a %+v, b %+v", rs["a"], rs["b"])
		}
		if fired, err := db.FireReminder(b.ctx, rs["b"].ID, 1, inbox); err != nil || fired {
			t.Fatalf("the cancelled reminder's job sent it: %v %v", fired, err)
		}
		// An older event fanned out after the cancel does not bring it
		// back; a later one does, with a new job.
		set(events[2], map[string]time.Time{"a": t2, "b": t1})
		if rs = list(); rs["b"].CancelledAt == nil {
			t.Fatalf("an older event revived the cancelled reminder: %+v", rs["b"])
		}
		set(events[4], map[string]time.Time{"b": t1})
		if rs = list(); rs["b"].CancelledAt != nil || rs["b"].Seq != 3 || rs["a"].CancelledAt == nil {
			t.Fatalf("after a later event: a %+v, b %+v", rs["a"], rs["b"])
		}
		if _, err := db.FindReminder(b.ctx, a.ID+1000); herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Fatalf("unknown reminder: %v", err)
		}
		// Another tenant sees none of them.
		other := storetest.NewTenant(t, db, "other")
		if _, err := db.FindReminder(other, a.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
			t.Fatalf("another tenant's reminder: %v", err)
		}
	})
}

func digit(i int) string { return string(rune('0' + i)) }
