package herald_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/kquery"
)

func TestReminderTiming_Due(t *testing.T) {
	t.Parallel()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	rec, err := kquery.ParseRecord(json.RawMessage(`{
		"Due": {"type": "DATE", "value": "2024-03-12"},
		"Meeting": {"type": "DATETIME", "value": "2024-03-09T15:00:00Z"},
		"作成日時": {"type": "CREATED_TIME", "value": "2024-05-01T23:30:00Z"},
		"Empty": {"type": "DATE", "value": ""},
		"Title": {"type": "SINGLE_LINE_TEXT", "value": "2024-03-12"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		timing herald.ReminderTiming
		loc    *time.Location
		want   string // RFC 3339; "" for no reminder
	}{
		// The help page's example: Due Date, 1 day before, 9:00.
		{herald.ReminderTiming{Code: "Due", DaysLater: -1, Time: "09:00"}, tokyo, "2024-03-11T09:00:00+09:00"},
		{herald.ReminderTiming{Code: "Due", DaysLater: 0, HoursLater: 2}, tokyo, "2024-03-12T02:00:00+09:00"},
		{herald.ReminderTiming{Code: "Due", DaysLater: 2, HoursLater: -3}, time.UTC, "2024-03-13T21:00:00Z"},
		// A date and time: days are calendar days in the app's zone (the
		// US clocks moved on 10 March 2024: 10:00 stays 10:00).
		{herald.ReminderTiming{Code: "Meeting", DaysLater: 2, HoursLater: 0}, ny, "2024-03-11T10:00:00-04:00"},
		{herald.ReminderTiming{Code: "Meeting", DaysLater: 1, Time: "08:30"}, ny, "2024-03-10T08:30:00-04:00"},
		// The page's sample: created datetime, 1 day and 2 hours later.
		{herald.ReminderTiming{Code: "作成日時", DaysLater: 1, HoursLater: 2}, tokyo, "2024-05-03T10:30:00+09:00"},
		{herald.ReminderTiming{Code: "Empty", DaysLater: 1, Time: "09:00"}, tokyo, ""},
		{herald.ReminderTiming{Code: "Missing", DaysLater: 1, Time: "09:00"}, tokyo, ""},
		{herald.ReminderTiming{Code: "Title", DaysLater: 1, Time: "09:00"}, tokyo, ""},
	} {
		got, ok := c.timing.Due(rec, c.loc)
		switch {
		case c.want == "" && ok:
			t.Errorf("%v: due %s, want none", c.timing, got)
		case c.want != "" && !ok:
			t.Errorf("%v: no reminder, want %s", c.timing, c.want)
		case c.want != "":
			want, _ := time.Parse(time.RFC3339, c.want)
			if !got.Equal(want) {
				t.Errorf("%v: due %s, want %s", c.timing, got, want)
			}
		}
	}
}

func TestRecordNotifications_Validate(t *testing.T) {
	t.Parallel()
	ok := func(rn herald.RecordNotifications) {
		t.Helper()
		if err := rn.Validate(); err != nil {
			t.Errorf("%+v: %v", rn, err)
		}
	}
	bad := func(rn herald.RecordNotifications, field string) {
		t.Helper()
		err := rn.Validate()
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != field {
			t.Errorf("%+v: %v (field %q), want EINVALID on %s", rn, err, herald.ErrorField(err), field)
		}
	}
	user := []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}
	timing := herald.ReminderTiming{Code: "期限", DaysLater: -1, Time: "09:20"}
	ok(herald.RecordNotifications{Timezone: "Asia/Tokyo"})
	ok(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{FilterCond: `ユーザー選択_0 in ("user1")`, Title: "user1が選択されました", Targets: user}}})
	ok(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: timing, Targets: user}}})
	ok(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "Due", DaysLater: 10000, HoursLater: -10000}}}})

	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{}, {FilterCond: `Due < TODAY()`}}}, "notifications[1].filterCond")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{FilterCond: `a = 1 order by a`}}}, "notifications[0].filterCond")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{Title: strings.Repeat("あ", 101)}}}, "notifications[0].title")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{Targets: append(user, user...)}}}, "notifications[0].targets[1].entity")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{Targets: []herald.Recipient{{Type: "ROBOT", Code: "x"}}}}}, "notifications[0].targets[0].entity.type")
	bad(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "Due", DaysLater: 10001}}}}, "notifications[0].timing.daysLater")
	bad(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "Due", HoursLater: -10001}}}}, "notifications[0].timing.hoursLater")
	bad(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "Due", Time: "09:25"}}}}, "notifications[0].timing.time")
	bad(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "Due", Time: "24:00"}}}}, "notifications[0].timing.time")
	bad(herald.RecordNotifications{Reminders: []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "1st"}}}}, "notifications[0].timing.code")
	bad(herald.RecordNotifications{Reminders: make([]herald.ReminderNotification, 11)}, "notifications")
	bad(herald.RecordNotifications{Timezone: "Mars/Olympus"}, "timezone")
	bad(herald.RecordNotifications{Timezone: "Local"}, "timezone")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{Title: "a\x00"}}}, "notifications[0].title")
	bad(herald.RecordNotifications{PerRecord: []herald.PerRecordNotification{{FilterCond: "a = \"\x00\""}}}, "notifications[0].filterCond")
}

func TestRecordTargets(t *testing.T) {
	t.Parallel()
	rec, err := kquery.ParseRecord(json.RawMessage(`{
		"作成者": {"type": "CREATOR", "value": {"code": "ann", "name": "Ann"}},
		"担当者": {"type": "USER_SELECT", "value": [{"code": "bob"}, {"code": "cid"}]},
		"部署": {"type": "ORGANIZATION_SELECT", "value": [{"code": "sales"}]},
		"班": {"type": "GROUP_SELECT", "value": [{"code": "team"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := herald.RecordTargets([]herald.Recipient{
		{Type: herald.EntityFieldEntity, Code: "作成者"},
		{Type: herald.EntityFieldEntity, Code: "担当者"},
		{Type: herald.EntityFieldEntity, Code: "部署", IncludeSubs: true},
		{Type: herald.EntityFieldEntity, Code: "班"},
		{Type: herald.EntityFieldEntity, Code: "executor"},
		{Type: herald.EntityUser, Code: "dan"},
	}, rec)
	want := []herald.Recipient{
		{Type: herald.EntityUser, Code: "ann"},
		{Type: herald.EntityUser, Code: "bob"}, {Type: herald.EntityUser, Code: "cid"},
		{Type: herald.EntityOrganization, Code: "sales", IncludeSubs: true},
		{Type: herald.EntityGroup, Code: "team"},
		{Type: herald.EntityFieldEntity, Code: "executor"},
		{Type: herald.EntityUser, Code: "dan"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("targets\n%v\nwant\n%v", got, want)
	}
}

func TestRecordOfEvent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		payload string
		id      string
		deleted bool
		ok      bool
	}{
		{`{"type":"ADD_RECORD","record":{"$id":{"type":"__ID__","value":"7"}}}`, "7", false, true},
		{`{"record":{"レコード番号":{"type":"RECORD_NUMBER","value":"APP-8"}}}`, "8", false, true},
		{`{"recordId":9,"record":{"a":{"type":"NUMBER","value":"1"}}}`, "9", false, true},
		{`{"type":"DELETE_RECORD","recordId":"10"}`, "10", true, true},
		{`{"record":{"a":{"type":"NUMBER","value":"1"}}}`, "", false, false},
		{`{"record":"x"}`, "", false, false},
		{`{"record_id":"42"}`, "", false, false},
	} {
		er, ok := herald.RecordOfEvent(&herald.Event{Payload: json.RawMessage(c.payload)})
		if ok != c.ok || (ok && (er.ID != c.id || er.Deleted != c.deleted)) {
			t.Errorf("%s: %+v %v", c.payload, er, ok)
		}
	}
}

func TestRecordNotifications_ReminderKeys(t *testing.T) {
	t.Parallel()
	due := herald.ReminderTiming{Code: "Due", DaysLater: -1, Time: "09:00"}
	rn := herald.RecordNotifications{Reminders: []herald.ReminderNotification{
		{Timing: due, Title: "a"}, {Timing: due, Title: "b"}, {Timing: due, FilterCond: `x = 1`}}}
	keys := rn.ReminderKeys()
	if keys[0] == keys[1] || keys[0] == keys[2] || keys[1] == keys[2] {
		t.Fatalf("keys are not distinct: %v", keys)
	}
	// A title or target changed keeps the key; a timing, condition or time
	// zone changed does not.
	rn.Reminders[0].Title, rn.Reminders[0].Targets = "new", []herald.Recipient{{Type: herald.EntityUser, Code: "ann"}}
	if k := rn.ReminderKeys(); !slices.Equal(k, keys) {
		t.Errorf("keys moved with the title: %v, were %v", k, keys)
	}
	rn.Reminders[2].Timing.Time = "09:10"
	if k := rn.ReminderKeys(); k[2] == keys[2] || k[0] != keys[0] {
		t.Errorf("keys after a timing change: %v, were %v", k, keys)
	}
	rn.Timezone = "Asia/Tokyo"
	if k := rn.ReminderKeys(); k[0] == keys[0] {
		t.Errorf("the time zone does not change the key: %v", k)
	}
}
