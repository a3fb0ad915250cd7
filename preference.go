package herald

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Preferences are the people's side of who hears what. The administrator's
// live settings decide what may reach a person (which channels, which event
// types, which recipients); a person only narrows that, per channel and
// event type (or category of event types), and may ask for quiet hours.
// Nothing here widens the settings, so every vendor surface, which reads
// and writes the settings alone, keeps working unchanged.
//
// A project's administrator gives the defaults a person starts from, names
// categories, and marks event types required (a person cannot turn them
// off) or urgent (they bypass quiet hours) in the project's
// PreferencePolicy; the tenant's policy is the default of every project.
// ResolvePreference decides one channel × event type for one person, in
// the order required > the person's choice > the project's default > the
// tenant's default > on.

// PreferenceChannels are the notifier types a person can be told over, and
// so can switch: a webhook tells a system, not a person.
var PreferenceChannels = []string{NotifierInbox, NotifierEmail, NotifierSMS, NotifierDingTalk, NotifierLark, NotifierWeCom}

// QuietChannels are the channels quiet hours hold: those that reach one
// person's phone. The inbox always receives at once, and a robot's post
// is its chat's, not one person's.
var QuietChannels = []string{NotifierEmail, NotifierSMS}

// Why a delivery was skipped or held (Delivery.Reason).
const (
	ReasonPreference = "preference"  // the person turned this channel × event type off
	ReasonQuietHours = "quiet_hours" // held until the person's quiet hours end
	ReasonNoAddress  = "no_address"  // the person has no address on this channel
)

// PreferenceRule switches one channel for one subject: an event type, a
// category (Category set), or every event type (neither set).
type PreferenceRule struct {
	Channel   string `json:"channel"`
	EventType string `json:"event_type,omitempty"`
	Category  string `json:"category,omitempty"`
	Enabled   bool   `json:"enabled"`
}

// Category is a named group of event types a person can switch at once
// (Knock's and Novu's "categories"). An event type belongs to at most one
// category of a policy.
type Category struct {
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	EventTypes []string `json:"event_types"`
}

// QuietHours are the quiet windows of one channel. A person's quiet hours
// of a channel replace the project's (and tenant's) for that channel, also
// when they list no window: "no quiet hours for me".
type QuietHours struct {
	Channel string        `json:"channel"`
	Windows []QuietWindow `json:"windows"`
}

// QuietWindow is a stretch of each listed day, in the person's time zone:
// from Start to End ("22:00" to "08:00"); an End at or before Start ends on
// the next day. Days are the days a window starts on ("mon" … "sun", or
// "weekdays", "weekends"); none means every day.
type QuietWindow struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// PreferencePolicy is an administrator's side of preferences: the
// project's (ProjectID set) or, with ProjectID 0, the tenant's, which is
// the default of every project.
type PreferencePolicy struct {
	ProjectID int64 `json:"project_id,omitempty"`
	// Revision grows on every write; a write naming another revision than
	// the current one is ECONFLICT (NoRevisionCheck skips the check).
	Revision   int64      `json:"revision"`
	Categories []Category `json:"categories"`
	// Required event types reach every recipient whatever they chose.
	Required []string `json:"required"`
	// Urgent event types are sent during quiet hours.
	Urgent     []string         `json:"urgent"`
	Defaults   []PreferenceRule `json:"defaults"`
	QuietHours []QuietHours     `json:"quiet_hours"`
	UpdatedAt  time.Time        `json:"updated_at"`
	UpdatedBy  string           `json:"updated_by"`
}

// UserPreferences are one person's choices, for every project of the
// tenant (the person is the tenant's).
type UserPreferences struct {
	UserID     int64            `json:"user_id"`
	Revision   int64            `json:"revision"`
	Rules      []PreferenceRule `json:"rules"`
	QuietHours []QuietHours     `json:"quiet_hours"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

// Bounds on preference documents.
const (
	maxPreferenceRules = 500
	maxCategories      = 100
	maxQuietWindows    = 14
)

var reCategory = regexp.MustCompile(`^[a-z0-9][a-z0-9_.\-]{0,63}$`)

// Validate checks a rule; field is its place in the document.
func (r *PreferenceRule) Validate(field string) error {
	if !slices.Contains(PreferenceChannels, r.Channel) {
		return Errorf(EINVALID, field+".channel", "channel must be one of %s", strings.Join(PreferenceChannels, ", "))
	}
	switch {
	case r.EventType != "" && r.Category != "":
		return Errorf(EINVALID, field+".category", "a rule names an event type or a category, not both")
	case r.EventType != "" && !IsEventType(r.EventType):
		return Errorf(EINVALID, field+".event_type", "unknown event type %q", r.EventType)
	case r.Category != "" && !reCategory.MatchString(r.Category):
		return Errorf(EINVALID, field+".category", "a category key is 1-64 lower-case letters, digits or _.-")
	}
	return nil
}

// subject names what a rule switches, for finding duplicates.
func (r PreferenceRule) subject() string {
	switch {
	case r.EventType != "":
		return "type " + r.EventType
	case r.Category != "":
		return "category " + r.Category
	}
	return "every event type"
}

func validateRules(field string, rules []PreferenceRule) error {
	if len(rules) > maxPreferenceRules {
		return Errorf(EINVALID, field, "at most %d rules", maxPreferenceRules)
	}
	seen := map[string]bool{}
	for i := range rules {
		f := indexField(field, i)
		if err := rules[i].Validate(f); err != nil {
			return err
		}
		key := rules[i].Channel + " " + rules[i].subject()
		if seen[key] {
			return Errorf(EINVALID, f, "%s on %s appears twice", rules[i].subject(), rules[i].Channel)
		}
		seen[key] = true
	}
	return nil
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Validate checks a window and spells its days out ("weekdays" becomes
// mon … fri), sorted from Monday; field is its place in the document.
func (w *QuietWindow) Validate(field string) error {
	start, ok := parseClock(w.Start)
	if !ok {
		return Errorf(EINVALID, field+".start", "start must be a time of day, HH:MM")
	}
	end, ok := parseClock(w.End)
	if !ok {
		return Errorf(EINVALID, field+".end", "end must be a time of day, HH:MM")
	}
	if start == end {
		return Errorf(EINVALID, field+".end", "end must differ from start")
	}
	var days []string
	for j, d := range w.Days {
		switch d = strings.ToLower(d); d {
		case "weekdays":
			days = append(days, "mon", "tue", "wed", "thu", "fri")
		case "weekends":
			days = append(days, "sat", "sun")
		default:
			if _, ok := weekdays[d]; !ok {
				return Errorf(EINVALID, indexField(field+".days", j), "a day is mon, tue, wed, thu, fri, sat, sun, weekdays or weekends")
			}
			days = append(days, d)
		}
	}
	monday := func(d string) int { return (int(weekdays[d]) + 6) % 7 } // mon … sun
	slices.SortFunc(days, func(a, b string) int { return monday(a) - monday(b) })
	w.Days = slices.Compact(days)
	if w.Days == nil {
		w.Days = []string{}
	}
	return nil
}

func validateQuietHours(field string, qs []QuietHours) error {
	seen := map[string]bool{}
	for i := range qs {
		q := &qs[i]
		f := indexField(field, i)
		if !slices.Contains(QuietChannels, q.Channel) {
			return Errorf(EINVALID, f+".channel", "quiet hours apply to %s only", strings.Join(QuietChannels, ", "))
		}
		if seen[q.Channel] {
			return Errorf(EINVALID, f+".channel", "channel %s appears twice", q.Channel)
		}
		seen[q.Channel] = true
		if len(q.Windows) > maxQuietWindows {
			return Errorf(EINVALID, f+".windows", "at most %d windows", maxQuietWindows)
		}
		if q.Windows == nil {
			q.Windows = []QuietWindow{}
		}
		for j := range q.Windows {
			if err := q.Windows[j].Validate(indexField(f+".windows", j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateEventTypes(field string, types []string) ([]string, error) {
	if len(types) > maxEvents {
		return nil, Errorf(EINVALID, field, "at most %d event types", maxEvents)
	}
	for i, t := range types {
		if !IsEventType(t) {
			return nil, Errorf(EINVALID, indexField(field, i), "unknown event type %q", t)
		}
	}
	out := slices.Compact(slices.Sorted(slices.Values(types)))
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// Validate checks a policy and fills empty lists.
func (p *PreferencePolicy) Validate() error {
	if err := checkText(p); err != nil {
		return err
	}
	if p.Revision < NoRevisionCheck {
		return Errorf(EINVALID, "revision", "revision must be -1 (no check) or a revision number")
	}
	if len(p.Categories) > maxCategories {
		return Errorf(EINVALID, "categories", "at most %d categories", maxCategories)
	}
	keys, member := map[string]bool{}, map[string]string{}
	for i := range p.Categories {
		c := &p.Categories[i]
		f := indexField("categories", i)
		if !reCategory.MatchString(c.Key) {
			return Errorf(EINVALID, f+".key", "a category key is 1-64 lower-case letters, digits or _.-")
		}
		if keys[c.Key] {
			return Errorf(EINVALID, f+".key", "category %q appears twice", c.Key)
		}
		keys[c.Key] = true
		if c.Name == "" {
			c.Name = c.Key
		}
		if err := validateName(f+".name", c.Name); err != nil {
			return err
		}
		types, err := validateEventTypes(f+".event_types", c.EventTypes)
		if err != nil {
			return err
		}
		c.EventTypes = types
		for _, t := range types {
			if other, ok := member[t]; ok {
				return Errorf(EINVALID, f+".event_types", "event type %q is already in category %q", t, other)
			}
			member[t] = c.Key
		}
	}
	if p.Categories == nil {
		p.Categories = []Category{}
	}
	var err error
	if p.Required, err = validateEventTypes("required", p.Required); err != nil {
		return err
	}
	if p.Urgent, err = validateEventTypes("urgent", p.Urgent); err != nil {
		return err
	}
	if err := validateRules("defaults", p.Defaults); err != nil {
		return err
	}
	if p.Defaults == nil {
		p.Defaults = []PreferenceRule{}
	}
	if err := validateQuietHours("quiet_hours", p.QuietHours); err != nil {
		return err
	}
	if p.QuietHours == nil {
		p.QuietHours = []QuietHours{}
	}
	return nil
}

// Validate checks a person's preferences and fills empty lists.
func (u *UserPreferences) Validate() error {
	if err := checkText(u); err != nil {
		return err
	}
	if u.Revision < NoRevisionCheck {
		return Errorf(EINVALID, "revision", "revision must be -1 (no check) or a revision number")
	}
	if err := validateRules("rules", u.Rules); err != nil {
		return err
	}
	if u.Rules == nil {
		u.Rules = []PreferenceRule{}
	}
	if err := validateQuietHours("quiet_hours", u.QuietHours); err != nil {
		return err
	}
	if u.QuietHours == nil {
		u.QuietHours = []QuietHours{}
	}
	return nil
}

// Set replaces the person's rule for r's channel and subject with r (or
// adds it), as a one-click unsubscribe does.
func (u *UserPreferences) Set(r PreferenceRule) {
	for i := range u.Rules {
		if u.Rules[i].Channel == r.Channel && u.Rules[i].subject() == r.subject() {
			u.Rules[i] = r
			return
		}
	}
	u.Rules = append(u.Rules, r)
}

// Preference levels: what decided a resolution.
const (
	ByRequired = "required"
	ByPerson   = "person"
	ByProject  = "project"
	ByTenant   = "tenant"
	ByDefault  = "default" // nobody said anything: on
)

// PreferenceScope is what one person's resolutions are made from: their
// choices and the policies of the event's project and of the tenant. Any
// may be nil (nothing said).
type PreferenceScope struct {
	Person  *UserPreferences
	Project *PreferencePolicy
	Tenant  *PreferencePolicy
}

// Resolution is whether a channel × event type is on for a person, and
// who decided.
type Resolution struct {
	Enabled bool
	By      string // ByRequired, ByPerson, ByProject, ByTenant or ByDefault
	// Rule is the rule that decided (nil for ByRequired and ByDefault).
	Rule *PreferenceRule
}

// policies returns the project's policy and then the tenant's, those set.
func (s PreferenceScope) policies() []*PreferencePolicy {
	var out []*PreferencePolicy
	for _, p := range []*PreferencePolicy{s.Project, s.Tenant} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Required reports whether the project or the tenant marks t required.
func (s PreferenceScope) Required(t string) bool {
	return slices.ContainsFunc(s.policies(), func(p *PreferencePolicy) bool { return slices.Contains(p.Required, t) })
}

// Urgent reports whether the project or the tenant marks t urgent.
func (s PreferenceScope) Urgent(t string) bool {
	return slices.ContainsFunc(s.policies(), func(p *PreferencePolicy) bool { return slices.Contains(p.Urgent, t) })
}

// CategoryOf returns the key of the category event type t belongs to: the
// project's category that lists it, else the tenant's; "" when none does.
func (s PreferenceScope) CategoryOf(t string) string {
	for _, p := range s.policies() {
		for _, c := range p.Categories {
			if slices.Contains(c.EventTypes, t) {
				return c.Key
			}
		}
	}
	return ""
}

// match returns the rule of rules that decides channel × event type t of
// category cat: the event type's own, else the category's, else the
// channel's rule for every event type; nil when none applies.
func match(rules []PreferenceRule, channel, t, cat string) *PreferenceRule {
	var byCat, byAll *PreferenceRule
	for i := range rules {
		r := &rules[i]
		if r.Channel != channel {
			continue
		}
		switch {
		case r.EventType == t:
			return r
		case r.EventType != "":
		case r.Category != "":
			if r.Category == cat && cat != "" {
				byCat = r
			}
		default:
			byAll = r
		}
	}
	if byCat != nil {
		return byCat
	}
	return byAll
}

// ResolvePreference decides whether event type t may reach the person
// over channel, in this order: an event type the project or tenant marks
// required is on; else the person's own rule; else the project's default;
// else the tenant's; else on. Within one level the most specific rule
// decides: the event type's, then its category's, then the channel's rule
// for every event type.
func ResolvePreference(s PreferenceScope, channel, t string) Resolution {
	if s.Required(t) {
		return Resolution{Enabled: true, By: ByRequired}
	}
	cat := s.CategoryOf(t)
	return s.resolve(func(rules []PreferenceRule) *PreferenceRule { return match(rules, channel, t, cat) })
}

// resolve walks the levels below required: the first rule pick finds in
// the person's rules, the project's defaults, then the tenant's decides;
// none, and it is on.
func (s PreferenceScope) resolve(pick func([]PreferenceRule) *PreferenceRule) Resolution {
	if s.Person != nil {
		if r := pick(s.Person.Rules); r != nil {
			return Resolution{Enabled: r.Enabled, By: ByPerson, Rule: r}
		}
	}
	for _, lv := range []struct {
		p  *PreferencePolicy
		by string
	}{{s.Project, ByProject}, {s.Tenant, ByTenant}} {
		if lv.p == nil {
			continue
		}
		if r := pick(lv.p.Defaults); r != nil {
			return Resolution{Enabled: r.Enabled, By: lv.by, Rule: r}
		}
	}
	return Resolution{Enabled: true, By: ByDefault}
}

// QuietWindows returns the quiet windows of channel for the person: their
// own for the channel if they set any (even none), else the project's,
// else the tenant's. Channels other than QuietChannels have none: the
// inbox always receives at once.
func (s PreferenceScope) QuietWindows(channel string) []QuietWindow {
	if !slices.Contains(QuietChannels, channel) {
		return nil
	}
	var levels [][]QuietHours
	if s.Person != nil {
		levels = append(levels, s.Person.QuietHours)
	}
	for _, p := range s.policies() {
		levels = append(levels, p.QuietHours)
	}
	for _, qs := range levels {
		for _, q := range qs {
			if q.Channel == channel {
				return q.Windows
			}
		}
	}
	return nil
}

// QuietUntil reports whether now falls inside one of windows, read in loc,
// and if so when the quiet ends: the end of the window, or of the last of
// a chain of windows that start before the previous ends.
func QuietUntil(now time.Time, loc *time.Location, windows []QuietWindow) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	until, quiet := now, false
	// A chain of windows cannot last longer than a week of them.
	for range 8 * maxQuietWindows {
		end, ok := windowEnd(until, loc, windows)
		if !ok || !end.After(until) {
			break
		}
		until, quiet = end, true
	}
	return until, quiet
}

// windowEnd returns the latest end of the windows that hold t.
func windowEnd(t time.Time, loc *time.Location, windows []QuietWindow) (time.Time, bool) {
	local := t.In(loc)
	var (
		latest time.Time
		found  bool
	)
	for _, w := range windows {
		start, ok1 := parseClock(w.Start)
		end, ok2 := parseClock(w.End)
		if !ok1 || !ok2 {
			continue
		}
		// A window that holds t started today or, crossing midnight,
		// yesterday.
		for back := 0; back <= 1; back++ {
			day := time.Date(local.Year(), local.Month(), local.Day()-back, 0, 0, 0, 0, loc)
			if len(w.Days) > 0 && !slices.ContainsFunc(w.Days, func(d string) bool { return weekdays[d] == day.Weekday() }) {
				continue
			}
			from := time.Date(day.Year(), day.Month(), day.Day(), start/60, start%60, 0, 0, loc)
			endDay := day.Day()
			if end <= start {
				endDay++
			}
			to := time.Date(day.Year(), day.Month(), endDay, end/60, end%60, 0, 0, loc)
			if !t.Before(from) && t.Before(to) && to.After(latest) {
				latest, found = to, true
			}
		}
	}
	return latest, found
}

// LoadTimeZone returns the location of an IANA zone name; "" is UTC. An
// unknown name is UTC too: the name was checked when it was stored.
func LoadTimeZone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Verdict is what the engine does with one delivery to one person.
type Verdict struct {
	Send bool // false: skipped, Reason ReasonPreference
	// DueAt, when set, holds the delivery until then (quiet hours).
	DueAt      time.Time
	Resolution Resolution
}

// Decide is the engine's one call per person × channel × event: whether
// the person's preferences let event type t through on channel, and
// whether quiet hours hold it at now (never the inbox, never an urgent
// event type). zone is the person's IANA time zone.
func Decide(s PreferenceScope, channel, t string, now time.Time, zone string) Verdict {
	res := ResolvePreference(s, channel, t)
	v := Verdict{Send: res.Enabled, Resolution: res}
	if !v.Send || s.Urgent(t) {
		return v
	}
	if until, quiet := QuietUntil(now, LoadTimeZone(zone), s.QuietWindows(channel)); quiet {
		v.DueAt = until
	}
	return v
}

// PreferenceService reads and writes preferences. A person's own
// preferences are reachable with an end-user token for that person.
type PreferenceService interface {
	// FindUserPreferences returns a person's preferences (empty ones, at
	// revision 0, when they never set any).
	FindUserPreferences(ctx context.Context, userID int64) (*UserPreferences, error)
	// UpdateUserPreferences replaces a person's preferences if
	// p.Revision is current (or NoRevisionCheck).
	UpdateUserPreferences(ctx context.Context, p *UserPreferences) (*UserPreferences, error)
	// SetUserPreference sets one rule of a person's preferences, keeping
	// the others (one-click unsubscribe).
	SetUserPreference(ctx context.Context, userID int64, r PreferenceRule) (*UserPreferences, error)

	// FindPreferencePolicy returns a project's policy, or with projectID 0
	// the tenant's (an empty one at revision 0 when none was written).
	FindPreferencePolicy(ctx context.Context, projectID int64) (*PreferencePolicy, error)
	// UpdatePreferencePolicy replaces a policy if p.Revision is current
	// (or NoRevisionCheck).
	UpdatePreferencePolicy(ctx context.Context, p *PreferencePolicy) (*PreferencePolicy, error)

	// FindPreferencePanel lays out a person's preferences for a project's
	// panel (BuildPreferencePanel).
	FindPreferencePanel(ctx context.Context, projectID, userID int64) (*PreferencePanel, error)
}

// PreferencePanel is what a person's preferences panel shows for one
// project (the embedded inbox's): each category of event types, with a
// switch per channel the project can reach the person over, on or off as
// the person's preferences resolve, and disabled where the administrator
// marks every event type of the category required.
type PreferencePanel struct {
	// Channels are the PreferenceChannels the project has a notifier of,
	// in PreferenceChannels' order.
	Channels   []string        `json:"channels"`
	Categories []PanelCategory `json:"categories"`
}

// PanelCategory is one row of a PreferencePanel.
type PanelCategory struct {
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	EventTypes []string `json:"event_types"`
	// Required: every event type of the category is required, so no
	// switch of the person changes what reaches them.
	Required bool          `json:"required"`
	Switches []PanelSwitch `json:"switches"`
}

// PanelSwitch is one channel of a PanelCategory.
type PanelSwitch struct {
	Channel  string `json:"channel"`
	Enabled  bool   `json:"enabled"`
	Required bool   `json:"required"`
	// By says who decided Enabled (ByRequired, ByPerson, ByProject,
	// ByTenant, ByDefault).
	By string `json:"by"`
}

// BuildPreferencePanel lays out s for a panel over channels (the types of
// the project's notifiers): the project's categories, then the tenant's
// whose key the project does not use. A category's switch resolves as a
// rule for the whole category would: the person's category rule, else
// their rule for every event type, else the project's and the tenant's
// defaults the same way, else on.
func BuildPreferencePanel(s PreferenceScope, channels []string) *PreferencePanel {
	out := &PreferencePanel{Channels: []string{}, Categories: []PanelCategory{}}
	for _, c := range PreferenceChannels {
		if slices.Contains(channels, c) {
			out.Channels = append(out.Channels, c)
		}
	}
	seen := map[string]bool{}
	for _, p := range s.policies() {
		for _, c := range p.Categories {
			if seen[c.Key] {
				continue
			}
			seen[c.Key] = true
			row := PanelCategory{Key: c.Key, Name: c.Name, EventTypes: slices.Clone(c.EventTypes), Switches: []PanelSwitch{}}
			if row.EventTypes == nil {
				row.EventTypes = []string{}
			}
			row.Required = len(c.EventTypes) > 0 && !slices.ContainsFunc(c.EventTypes, func(t string) bool { return !s.Required(t) })
			for _, ch := range out.Channels {
				sw := PanelSwitch{Channel: ch, Enabled: true, Required: row.Required, By: ByRequired}
				if !row.Required {
					res := resolveCategory(s, ch, c.Key)
					sw.Enabled, sw.By = res.Enabled, res.By
				}
				row.Switches = append(row.Switches, sw)
			}
			out.Categories = append(out.Categories, row)
		}
	}
	return out
}

// resolveCategory resolves channel for category cat as a whole.
func resolveCategory(s PreferenceScope, channel, cat string) Resolution {
	pick := func(rules []PreferenceRule) *PreferenceRule {
		var byAll *PreferenceRule
		for i := range rules {
			r := &rules[i]
			switch {
			case r.Channel != channel || r.EventType != "":
			case r.Category == cat:
				return r
			case r.Category == "":
				byAll = r
			}
		}
		return byAll
	}
	return s.resolve(pick)
}
