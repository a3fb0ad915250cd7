package herald

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	_ "time/tzdata" // reminders are computed in any IANA time zone, whatever the host has

	"github.com/heraldhq/herald/kquery"
)

// Record notifications are Kintone's per-record and reminder notifications
// of an app: conditions on the app's records, and who is told when a
// record meets one (at once, or at a time taken from one of its date
// fields). They are part of the source's settings: they have a draft and
// a live version, share the settings' one revision (an app has one
// revision in Kintone, whichever of its notification settings is written)
// and are deployed and reverted with them. Their field names are
// Kintone's, who defines them (notifications[i].filterCond …).
//
// They are delivered to the source's project's inbox (NotifierSpec{Type:
// NotifierInbox}), as Kintone's notifications are in-app ones.

// RecordNotifications are the per-record and reminder notifications of a
// source, in one version.
type RecordNotifications struct {
	ProjectID int64  `json:"project_id"`
	SourceID  int64  `json:"source_id"`
	Version   string `json:"version"`
	// Revision is the settings' revision (see Settings.Revision).
	Revision  int64                   `json:"revision"`
	PerRecord []PerRecordNotification `json:"per_record"`
	Reminders []ReminderNotification  `json:"reminders"`
	// Timezone is the IANA time zone reminders are computed in; ""
	// reads as DefaultTimezone.
	Timezone string `json:"timezone"`
}

// PerRecordNotification tells Targets, with Title, when an event carries
// a record that meets FilterCond (a Kintone query; "" for every record).
type PerRecordNotification struct {
	FilterCond string      `json:"filter_cond"`
	Title      string      `json:"title"`
	Targets    []Recipient `json:"targets"`
}

// ReminderNotification tells Targets, with Title, at the time Timing
// computes from a record that meets FilterCond.
type ReminderNotification struct {
	Timing     ReminderTiming `json:"timing"`
	FilterCond string         `json:"filter_cond"`
	Title      string         `json:"title"`
	Targets    []Recipient    `json:"targets"`
}

// ReminderTiming says when a reminder is due: DaysLater days after the
// date (or date and time) in the record's field Code, then either at Time
// ("HH:mm", in 10-minute steps) of that day or HoursLater hours after
// (Time empty).
type ReminderTiming struct {
	Code       string `json:"code"`
	DaysLater  int    `json:"days_later"`
	HoursLater int    `json:"hours_later"`
	Time       string `json:"time,omitempty"`
}

// DefaultTimezone is the time zone of an app whose reminders name none:
// Herald's own default, as Kintone's is its domain's.
const DefaultTimezone = "UTC"

// Bounds on record notifications. Kintone's help page on reminder
// notifications allows 10 of them per app, and its update pages allow
// -10,000 to 10,000 days or hours and a title of up to 100 characters; it
// states no limit on per-record notifications (100 is Herald's).
const (
	MaxPerRecordNotifications = 100
	MaxReminderNotifications  = 10
	MaxReminderOffset         = 10000
	MaxNotificationTitle      = 100
)

var reReminderTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5]0$`)

// Validate checks the document, naming fields in Kintone's terms, and
// fills empty lists. Every string is checked as ValidText wants.
func (rn *RecordNotifications) Validate() error {
	if len(rn.PerRecord) > MaxPerRecordNotifications {
		return Errorf(EINVALID, "notifications", "at most %d per-record notifications", MaxPerRecordNotifications)
	}
	if len(rn.Reminders) > MaxReminderNotifications {
		return Errorf(EINVALID, "notifications", "at most %d reminder notifications", MaxReminderNotifications)
	}
	if rn.PerRecord == nil {
		rn.PerRecord = []PerRecordNotification{}
	}
	if rn.Reminders == nil {
		rn.Reminders = []ReminderNotification{}
	}
	for i := range rn.PerRecord {
		if err := rn.PerRecord[i].Validate(indexField("notifications", i)); err != nil {
			return err
		}
	}
	for i := range rn.Reminders {
		if err := rn.Reminders[i].Validate(indexField("notifications", i)); err != nil {
			return err
		}
	}
	return ValidateTimezone("timezone", rn.Timezone)
}

// ValidateTimezone returns EINVALID naming field unless tz is "" or an
// IANA time zone name (Asia/Tokyo, UTC …).
func ValidateTimezone(field, tz string) error {
	if tz == "" {
		return nil
	}
	if err := ValidText(field, tz); err != nil {
		return err
	}
	if tz == "Local" || len(tz) > 64 {
		return Errorf(EINVALID, field, "%s must be an IANA time zone such as Asia/Tokyo", field)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Errorf(EINVALID, field, "%s must be an IANA time zone such as Asia/Tokyo", field)
	}
	return nil
}

// Location is the time zone the reminders are computed in.
func (rn *RecordNotifications) Location() *time.Location {
	if rn.Timezone != "" {
		if loc, err := time.LoadLocation(rn.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// ValidateCondition checks a Kintone query: EINVALID naming field, the
// message naming the query's field, for anything kquery cannot evaluate.
func ValidateCondition(field, q string) error {
	if err := ValidText(field, q); err != nil {
		return err
	}
	if _, err := kquery.Parse(q); err != nil {
		return Errorf(EINVALID, field, "%s", err.Error())
	}
	return nil
}

// ValidateTitle checks a record notification's title (its summary).
func ValidateTitle(field, s string) error {
	if err := ValidText(field, s); err != nil {
		return err
	}
	if utf8.RuneCountInString(s) > MaxNotificationTitle {
		return Errorf(EINVALID, field, "Enter at most %d characters.", MaxNotificationTitle)
	}
	return nil
}

// validateTargets checks each target and refuses the same one twice.
func validateTargets(field string, ts []Recipient) error {
	if len(ts) > maxRecipients {
		return Errorf(EINVALID, field, "at most %d targets", maxRecipients)
	}
	for i, r := range ts {
		f := indexField(field, i)
		if err := r.Validate(f + ".entity"); err != nil {
			return err
		}
		if j := slices.Index(ts[:i], r); j >= 0 {
			return Errorf(EINVALID, f+".entity", "The same entity as %s.", indexField(field, j))
		}
	}
	return nil
}

// Validate checks one per-record notification; field is its place.
func (n *PerRecordNotification) Validate(field string) error {
	if n.Targets == nil {
		n.Targets = []Recipient{}
	}
	if err := ValidateCondition(field+".filterCond", n.FilterCond); err != nil {
		return err
	}
	if err := ValidateTitle(field+".title", n.Title); err != nil {
		return err
	}
	return validateTargets(field+".targets", n.Targets)
}

// Validate checks one reminder notification; field is its place.
func (n *ReminderNotification) Validate(field string) error {
	if n.Targets == nil {
		n.Targets = []Recipient{}
	}
	if err := n.Timing.Validate(field + ".timing"); err != nil {
		return err
	}
	if err := ValidateCondition(field+".filterCond", n.FilterCond); err != nil {
		return err
	}
	if err := ValidateTitle(field+".title", n.Title); err != nil {
		return err
	}
	return validateTargets(field+".targets", n.Targets)
}

// Validate checks a timing; field is its place.
func (t ReminderTiming) Validate(field string) error {
	if !IsFieldCode(t.Code) {
		return Errorf(EINVALID, field+".code", "Enter the field code of a date, date and time, created or updated datetime field.")
	}
	if t.DaysLater < -MaxReminderOffset || t.DaysLater > MaxReminderOffset {
		return Errorf(EINVALID, field+".daysLater", "Enter an integer from -%d to %d.", MaxReminderOffset, MaxReminderOffset)
	}
	if t.HoursLater < -MaxReminderOffset || t.HoursLater > MaxReminderOffset {
		return Errorf(EINVALID, field+".hoursLater", "Enter an integer from -%d to %d.", MaxReminderOffset, MaxReminderOffset)
	}
	if t.Time != "" {
		if t.HoursLater != 0 {
			return Errorf(EINVALID, field, "Enter either hoursLater or time, not both.")
		}
		if !reReminderTime.MatchString(t.Time) {
			return Errorf(EINVALID, field+".time", "Enter a time as HH:mm in 10-minute steps (e.g. 09:20).")
		}
	}
	return nil
}

// ReminderKeys name the reminder notifications for the reminders
// scheduled from them, in order: a digest of what decides whether and when
// a record is reminded (its timing and condition, and the time zone), with
// the rank among notifications alike. A notification whose title or
// targets change keeps its reminders, which are sent as it now says; one
// whose timing or condition changes (or that is removed) no longer matches
// its reminders' key, and they are dropped when they fall due.
func (rn *RecordNotifications) ReminderKeys() []string {
	keys := make([]string, len(rn.Reminders))
	seen := map[string]int{}
	for i, n := range rn.Reminders {
		b, _ := json.Marshal(struct {
			Timing     ReminderTiming `json:"timing"`
			FilterCond string         `json:"filter_cond"`
			Timezone   string         `json:"timezone"`
		}{n.Timing, n.FilterCond, rn.Timezone})
		sum := sha256.Sum256(b)
		k := hex.EncodeToString(sum[:12])
		keys[i] = fmt.Sprintf("%s.%d", k, seen[k])
		seen[k]++
	}
	return keys
}

// Match reports whether the record meets the notification's condition.
func (n *PerRecordNotification) Match(rec kquery.Record, loc *time.Location) bool {
	return matchCondition(n.FilterCond, rec, loc)
}

// Match reports whether the record meets the reminder's condition.
func (n *ReminderNotification) Match(rec kquery.Record, loc *time.Location) bool {
	return matchCondition(n.FilterCond, rec, loc)
}

func matchCondition(cond string, rec kquery.Record, loc *time.Location) bool {
	q, err := kquery.Parse(cond)
	return err == nil && q.Match(rec, loc) // a stored condition always parses
}

// Due returns when the reminder falls due for rec, in loc: the value of
// Timing.Code (a DATE, or a DATETIME, CREATED_TIME or UPDATED_TIME field)
// DaysLater calendar days on, then at Time of that day, or HoursLater
// hours on. A date without a time starts at midnight. ok is false when the
// record has no such field, or it is empty.
func (t ReminderTiming) Due(rec kquery.Record, loc *time.Location) (time.Time, bool) {
	f := rec[t.Code]
	if f == nil || len(f.Values) == 0 || f.Values[0] == "" {
		return time.Time{}, false
	}
	var base time.Time
	switch f.Type {
	case "DATE":
		d, err := time.ParseInLocation(time.DateOnly, f.Values[0], loc)
		if err != nil {
			return time.Time{}, false
		}
		base = d
	case "DATETIME", "CREATED_TIME", "UPDATED_TIME":
		d, ok := kquery.ParseDateTime(f.Values[0])
		if !ok {
			return time.Time{}, false
		}
		base = d.In(loc)
	default:
		return time.Time{}, false
	}
	day := base.AddDate(0, 0, t.DaysLater)
	if t.Time != "" {
		hm, _ := time.Parse("15:04", t.Time)
		y, m, d := day.Date()
		return time.Date(y, m, d, hm.Hour(), hm.Minute(), 0, 0, loc), true
	}
	return day.Add(time.Duration(t.HoursLater) * time.Hour), true
}

// RecordTargets resolves the targets of a record notification against
// the record: a FIELD_ENTITY naming one of the record's user, department
// or group selection fields (Created By, Updated By, the assignees …)
// becomes the users, departments (with its includeSubs) or groups the
// field holds; any other target is kept, a FIELD_ENTITY then being the
// event's role of that name.
func RecordTargets(targets []Recipient, rec kquery.Record) []Recipient {
	out := make([]Recipient, 0, len(targets))
	for _, t := range targets {
		if t.Type != EntityFieldEntity {
			out = append(out, t)
			continue
		}
		kind, codes, ok := rec.Entities(t.Code)
		if !ok {
			out = append(out, t)
			continue
		}
		for _, c := range codes {
			r := Recipient{Type: kind, Code: c}
			if kind == EntityOrganization {
				r.IncludeSubs = t.IncludeSubs
			}
			out = append(out, r)
		}
	}
	return out
}

// PerRecordEventTypes are the event types per-record notifications are
// checked on: a record added, edited, or moved on in its process (which
// edits its status), as Kintone checks them when a record is saved.
var PerRecordEventTypes = []string{"record.added", "record.edited", "status.changed"}

// EventRecord is the Kintone record an event carries.
type EventRecord struct {
	// ID is the record's id.
	ID     string
	Record kquery.Record
	// Deleted marks an event saying the record was deleted (Kintone's
	// webhook type DELETE_RECORD); Record is then nil.
	Deleted bool
}

// RecordOfEvent returns the record an event's payload carries, in the
// shape of Kintone's webhooks: {"record": {"$id": {"type": "__ID__",
// "value": "1"}, …}}, or {"type": "DELETE_RECORD", "recordId": "1"} for a
// deleted one. ok is false for any other payload, or a record without an
// id.
func RecordOfEvent(ev *Event) (*EventRecord, bool) {
	var p struct {
		Type     string          `json:"type"`
		RecordID json.RawMessage `json:"recordId"`
		Record   json.RawMessage `json:"record"`
	}
	if json.Unmarshal(ev.Payload, &p) != nil {
		return nil, false
	}
	if p.Type == "DELETE_RECORD" {
		id := idString(p.RecordID)
		return &EventRecord{ID: id, Deleted: true}, id != ""
	}
	if len(p.Record) == 0 {
		return nil, false
	}
	rec, err := kquery.ParseRecord(p.Record)
	if err != nil {
		return nil, false
	}
	id := rec.ID()
	if id == "" {
		id = idString(p.RecordID)
	}
	return &EventRecord{ID: id, Record: rec}, id != "" && len(id) <= 64
}

// idString reads a record id sent as a string or a number.
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// RecordNotificationsChangeFunc edits a draft of record notifications
// inside the update's transaction; an error changes nothing.
type RecordNotificationsChangeFunc func(rn *RecordNotifications) error

// RecordNotificationService reads and writes record notifications.
type RecordNotificationService interface {
	// FindRecordNotifications returns the draft or live record
	// notifications of a source; a source never written has none, at the
	// settings' revision.
	FindRecordNotifications(ctx context.Context, scope SettingsScope, version string) (*RecordNotifications, error)
	// UpdateRecordNotifications applies change to the draft in one
	// transaction: the document is validated, the project's inbox
	// notifier ensured when any notification has a target, and the
	// settings' revision moved on (the history records the settings'
	// draft with ActionUpdate). A stale ref.Revision is ECONFLICT and
	// changes nothing. DeploySettings deploys or reverts them with the
	// rest of the settings. Needs settings:write.
	UpdateRecordNotifications(ctx context.Context, ref SettingsRef, change RecordNotificationsChangeFunc) (*RecordNotifications, error)
}

// String names a reminder's timing for people: "Due +1 day 09:00".
func (t ReminderTiming) String() string {
	s := fmt.Sprintf("%s %+d day(s)", t.Code, t.DaysLater)
	if t.Time != "" {
		return s + " at " + t.Time
	}
	return fmt.Sprintf("%s %+d hour(s)", s, t.HoursLater)
}
