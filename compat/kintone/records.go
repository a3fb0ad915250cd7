package kintone

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/heraldhq/herald"
)

// Per-record and reminder notifications: herald.RecordNotifications in
// Kintone's shapes (see the package doc).

// target is a recipient of a per-record or reminder notification.
type target struct {
	Entity      entity `json:"entity"`
	IncludeSubs bool   `json:"includeSubs"`
}

type perRecordNotification struct {
	FilterCond string   `json:"filterCond"`
	Title      string   `json:"title"`
	Targets    []target `json:"targets"`
}

type perRecordSettings struct {
	Notifications []perRecordNotification `json:"notifications"`
	Revision      string                  `json:"revision"`
}

// timing is a reminder's timing as the Get page answers it: numbers as
// strings, and hoursLater or time, whichever the reminder has.
type timing struct {
	Code       string  `json:"code"`
	DaysLater  string  `json:"daysLater"`
	HoursLater *string `json:"hoursLater,omitempty"`
	Time       *string `json:"time,omitempty"`
}

type reminderNotification struct {
	Timing     timing   `json:"timing"`
	FilterCond string   `json:"filterCond"`
	Title      string   `json:"title"`
	Targets    []target `json:"targets"`
}

type reminderSettings struct {
	Notifications []reminderNotification `json:"notifications"`
	Timezone      string                 `json:"timezone"`
	Revision      string                 `json:"revision"`
}

func toTargets(rs []herald.Recipient) []target {
	out := make([]target, len(rs))
	for i, r := range rs {
		out[i] = target{Entity: entity{Type: r.Type, Code: r.Code}, IncludeSubs: r.IncludeSubs}
	}
	return out
}

// findRecords reads the app the request names and its record
// notifications of version.
func (s *Surface) findRecords(w http.ResponseWriter, r *http.Request, version string) (*herald.RecordNotifications, error) {
	m, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if q := r.URL.Query(); q.Has("app") {
		m["app"], _ = json.Marshal(q.Get("app"))
	}
	fe := fieldErrors{}
	app := appID(fe, "app", m["app"])
	if err := fe.err(); err != nil {
		return nil, err
	}
	src, err := s.findApp(r, app)
	if err != nil {
		return nil, err
	}
	rn, err := s.Records.FindRecordNotifications(r.Context(), scopeOf(src), version)
	return rn, forApp(err, app)
}

// handleGetPerRecord answers the live or pre-live per-record
// notifications.
func (s *Surface) handleGetPerRecord(version string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rn, err := s.findRecords(w, r, version)
		if err != nil {
			return err
		}
		out := perRecordSettings{Notifications: make([]perRecordNotification, len(rn.PerRecord)), Revision: strconv.FormatInt(rn.Revision, 10)}
		for i, n := range rn.PerRecord {
			out.Notifications[i] = perRecordNotification{FilterCond: n.FilterCond, Title: n.Title, Targets: toTargets(n.Targets)}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// handleGetReminder answers the live or pre-live reminder notifications
// and their time zone.
func (s *Surface) handleGetReminder(version string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rn, err := s.findRecords(w, r, version)
		if err != nil {
			return err
		}
		out := reminderSettings{Notifications: make([]reminderNotification, len(rn.Reminders)), Timezone: rn.Timezone,
			Revision: strconv.FormatInt(rn.Revision, 10)}
		if out.Timezone == "" {
			out.Timezone = herald.DefaultTimezone
		}
		for i, n := range rn.Reminders {
			t := timing{Code: n.Timing.Code, DaysLater: strconv.Itoa(n.Timing.DaysLater)}
			if n.Timing.Time != "" {
				t.Time = &n.Timing.Time
			} else {
				h := strconv.Itoa(n.Timing.HoursLater)
				t.HoursLater = &h
			}
			out.Notifications[i] = reminderNotification{Timing: t, FilterCond: n.FilterCond, Title: n.Title, Targets: toTargets(n.Targets)}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// putRecords decodes a PUT's app and revision, then writes the change
// decode makes of its members into the app's pre-live record
// notifications.
func (s *Surface) putRecords(w http.ResponseWriter, r *http.Request, decode func(fe fieldErrors, m map[string]json.RawMessage) herald.RecordNotificationsChangeFunc) error {
	m, err := readBody(w, r)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	app, rev := appID(fe, "app", m["app"]), revision(fe, "revision", m["revision"])
	change := decode(fe, m)
	if err := fe.err(); err != nil {
		return err
	}
	src, err := s.findApp(r, app)
	if err != nil {
		return err
	}
	rn, err := s.Records.UpdateRecordNotifications(r.Context(), herald.SettingsRef{Scope: scopeOf(src), Revision: rev}, change)
	if err != nil {
		return forApp(err, app)
	}
	writeJSON(w, http.StatusOK, revisionAnswer{Revision: strconv.FormatInt(rn.Revision, 10)})
	return nil
}

// handlePutPerRecord updates the pre-live per-record notifications.
func (s *Surface) handlePutPerRecord(w http.ResponseWriter, r *http.Request) error {
	return s.putRecords(w, r, func(fe fieldErrors, m map[string]json.RawMessage) herald.RecordNotificationsChangeFunc {
		items, ok := decodeList(fe, m)
		if !ok {
			return func(*herald.RecordNotifications) error { return nil }
		}
		ns := make([]herald.PerRecordNotification, 0, len(items))
		for i, item := range items {
			f := fmt.Sprintf("notifications[%d]", i)
			if item == nil {
				fe.add(f, "Enter an object.")
				continue
			}
			ns = append(ns, herald.PerRecordNotification{
				FilterCond: condition(fe, f+".filterCond", item["filterCond"]),
				Title:      title(fe, f+".title", item["title"]),
				Targets:    decodeTargets(fe, f+".targets", item["targets"]),
			})
		}
		return func(rn *herald.RecordNotifications) error {
			rn.PerRecord = ns
			return nil
		}
	})
}

// handlePutReminder updates the pre-live reminder notifications and their
// time zone.
func (s *Surface) handlePutReminder(w http.ResponseWriter, r *http.Request) error {
	return s.putRecords(w, r, func(fe fieldErrors, m map[string]json.RawMessage) herald.RecordNotificationsChangeFunc {
		tz, tzSet := "", present(m["timezone"])
		if tzSet {
			tz = optionalString(fe, "timezone", m["timezone"])
			if tz == "" {
				fe.add("timezone", "Enter an IANA time zone such as Asia/Tokyo.")
			} else if err := herald.ValidateTimezone("timezone", tz); err != nil {
				fe.add("timezone", herald.ErrorMessage(err))
			}
		}
		var ns []herald.ReminderNotification
		items, listed := decodeList(fe, m)
		for i, item := range items {
			f := fmt.Sprintf("notifications[%d]", i)
			if item == nil {
				fe.add(f, "Enter an object.")
				continue
			}
			ns = append(ns, herald.ReminderNotification{
				Timing:     decodeTiming(fe, f+".timing", item["timing"]),
				FilterCond: condition(fe, f+".filterCond", item["filterCond"]),
				Title:      title(fe, f+".title", item["title"]),
				Targets:    decodeTargets(fe, f+".targets", item["targets"]),
			})
		}
		if listed && len(ns) > herald.MaxReminderNotifications {
			fe.add("notifications", fmt.Sprintf("Enter at most %d notifications.", herald.MaxReminderNotifications))
		}
		return func(rn *herald.RecordNotifications) error {
			if listed {
				rn.Reminders = ns
			}
			if tzSet {
				rn.Timezone = tz
			}
			return nil
		}
	})
}

// decodeList reads the optional notifications member: ok is false when
// it is absent (no change).
func decodeList(fe fieldErrors, m map[string]json.RawMessage) ([]map[string]json.RawMessage, bool) {
	raw := m["notifications"]
	if !present(raw) {
		return nil, false
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		fe.add("notifications", "Enter an array of objects.")
		return nil, false
	}
	return items, true
}

// optionalString reads an optional string member (absent or null: "").
func optionalString(fe fieldErrors, field string, raw json.RawMessage) string {
	if !present(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		fe.add(field, "Enter a string.")
	}
	return s
}

// condition reads an optional filterCond (absent or null: every record)
// and checks it by the domain's rule.
func condition(fe fieldErrors, field string, raw json.RawMessage) string {
	before := len(fe)
	s := optionalString(fe, field, raw)
	if len(fe) == before {
		addErr(fe, herald.ValidateCondition(field, s))
	}
	return s
}

// title reads an optional title and checks it by the domain's rule.
func title(fe fieldErrors, field string, raw json.RawMessage) string {
	before := len(fe)
	s := optionalString(fe, field, raw)
	if len(fe) == before {
		addErr(fe, herald.ValidateTitle(field, s))
	}
	return s
}

// addErr adds a domain error, under the field it names.
func addErr(fe fieldErrors, err error) {
	if err != nil {
		fe.add(herald.ErrorField(err), herald.ErrorMessage(err))
	}
}

// decodeTargets reads a required list of targets; includeSubs is kept for
// departments and fields only, as for general notifications. Each is
// checked by the domain's recipient rules; the same one twice is refused.
func decodeTargets(fe fieldErrors, field string, raw json.RawMessage) []herald.Recipient {
	if !present(raw) {
		fe.add(field, msgRequired)
		return nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		fe.add(field, "Enter an array of objects.")
		return nil
	}
	out := make([]herald.Recipient, 0, len(items))
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if item == nil {
			fe.add(f, "Enter an object.")
			continue
		}
		var n notification
		var e map[string]json.RawMessage
		switch {
		case !present(item["entity"]):
			fe.add(f+".entity", msgRequired)
			continue
		case json.Unmarshal(item["entity"], &e) != nil || e == nil:
			fe.add(f+".entity", "Enter an object.")
			continue
		}
		for _, m := range []struct {
			name string
			dst  *string
		}{{"type", &n.Entity.Type}, {"code", &n.Entity.Code}} {
			if !present(e[m.name]) {
				fe.add(f+".entity."+m.name, msgRequired)
			} else if err := json.Unmarshal(e[m.name], m.dst); err != nil {
				fe.add(f+".entity."+m.name, "Enter a string.")
			}
		}
		before := len(fe)
		n.IncludeSubs, _ = optionalBool(fe, f+".includeSubs", item["includeSubs"], false)
		if n.Entity.Type == herald.EntityUser || n.Entity.Type == herald.EntityGroup {
			n.IncludeSubs = false
		}
		r := n.recipient()
		if len(fe) == before && n.Entity.Type != "" && n.Entity.Code != "" {
			if err := r.Validate(f + ".entity"); err != nil {
				addErr(fe, err)
			} else if j := slices.Index(out, r); j >= 0 {
				fe.add(f+".entity", fmt.Sprintf("The same entity as %s[%d].", field, j))
			}
		}
		out = append(out, r)
	}
	return out
}

// decodeTiming reads a reminder's timing: code and daysLater, and
// hoursLater or time.
func decodeTiming(fe fieldErrors, field string, raw json.RawMessage) herald.ReminderTiming {
	var t herald.ReminderTiming
	var m map[string]json.RawMessage
	switch {
	case !present(raw):
		fe.add(field, msgRequired)
		return t
	case json.Unmarshal(raw, &m) != nil || m == nil:
		fe.add(field, "Enter an object.")
		return t
	}
	if !present(m["code"]) {
		fe.add(field+".code", msgRequired)
	} else if err := json.Unmarshal(m["code"], &t.Code); err != nil {
		fe.add(field+".code", "Enter a string.")
	}
	offset := func(name string) int {
		n, ok := integer(m[name])
		if !ok || n < -herald.MaxReminderOffset || n > herald.MaxReminderOffset {
			fe.add(field+"."+name, fmt.Sprintf("Enter an integer from -%d to %d.", herald.MaxReminderOffset, herald.MaxReminderOffset))
		}
		return int(n)
	}
	if !present(m["daysLater"]) {
		fe.add(field+".daysLater", msgRequired)
	} else {
		t.DaysLater = offset("daysLater")
	}
	hours, at := present(m["hoursLater"]), present(m["time"])
	switch {
	case hours && at:
		fe.add(field, "Enter either hoursLater or time, not both.")
	case hours:
		t.HoursLater = offset("hoursLater")
	case at:
		if err := json.Unmarshal(m["time"], &t.Time); err != nil || t.Time == "" {
			fe.add(field+".time", "Enter a time as HH:mm in 10-minute steps (e.g. 09:20).")
		}
	default:
		fe.add(field+".hoursLater", "Enter hoursLater or time.")
	}
	if t.Code != "" {
		// The code and time by the domain's rule (the offsets were
		// checked above).
		addErr(fe, herald.ReminderTiming{Code: t.Code, Time: t.Time}.Validate(field))
	}
	return t
}
