package herald

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Settings versions.
const (
	VersionDraft = "draft"
	VersionLive  = "live"
)

// Recipient entity types (Kintone's names, used natively too).
const (
	EntityUser         = "USER"
	EntityGroup        = "GROUP"
	EntityOrganization = "ORGANIZATION"
	EntityFieldEntity  = "FIELD_ENTITY"
)

// EventTypes are the native event types a setting can switch on; a custom
// type is "custom." followed by a name.
var EventTypes = []string{
	"build.succeeded", "build.failed", "job.updated", "job.deleted", "job.disabled",
	"deploy.succeeded", "deploy.failed", "app.updated", "app.deleted",
	"record.added", "record.edited", "comment.added", "status.changed", "file.imported",
}

var reCustomEvent = regexp.MustCompile(`^custom\.[a-z0-9_.\-]{1,64}$`)

// IsEventType reports whether t is a known or custom event type.
func IsEventType(t string) bool {
	return slices.Contains(EventTypes, t) || reCustomEvent.MatchString(t)
}

// NoRevisionCheck, given as the expected revision, skips the check (as
// Kintone does for -1 or an absent revision).
const NoRevisionCheck int64 = -1

// SettingsScope names whose settings: a source's, or (SourceID 0) the
// project default.
type SettingsScope struct {
	ProjectID int64
	SourceID  int64
}

// Settings are the notification settings of a source or a project. They
// have a draft and a live version sharing one revision counter, which grows
// on every write to the draft; deploy copies the draft to live.
type Settings struct {
	ProjectID int64  `json:"project_id"`
	SourceID  int64  `json:"source_id,omitempty"`
	Version   string `json:"version"`
	// Revision is the draft's revision; on the live version it is the
	// revision that was deployed.
	Revision int64 `json:"revision"`
	// InheritProject makes the source follow the project's live settings.
	InheritProject bool `json:"inherit_project"`
	// NotifyCommenters adds everyone who commented on the record to the
	// recipients of comment.added (Kintone's notifyToCommenter).
	NotifyCommenters bool              `json:"notify_commenters"`
	Channels         []ChannelSettings `json:"channels"`
	UpdatedAt        time.Time         `json:"updated_at"`
	UpdatedBy        string            `json:"updated_by"`
}

// ChannelSettings are the settings of one notifier.
type ChannelSettings struct {
	NotifierID int64           `json:"notifier_id"`
	Enabled    bool            `json:"enabled"`
	Events     []EventSettings `json:"events"`
	BodyFields []BodyField     `json:"body_fields"`
	// Ext keeps a vendor surface's attributes of this channel that have no
	// native meaning (e.g. CodeArts' message id, task_id, ext_params), so
	// that surface reads back what it wrote.
	Ext map[string]string `json:"ext,omitempty"`
}

// EventSettings switch one event type on a channel and name its recipients.
type EventSettings struct {
	Type       string      `json:"type"`
	Enabled    bool        `json:"enabled"`
	Recipients []Recipient `json:"recipients"`
}

// Recipient is an entity to notify: a user, a group, a department (with or
// without its sub-departments) or a role taken from the event.
type Recipient struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	IncludeSubs bool   `json:"include_subs"`
}

// BodyField switches one field of the message body.
type BodyField struct {
	Name  string `json:"name"`
	Shown bool   `json:"shown"`
}

// Bounds on a settings document.
const (
	maxChannels   = 50
	maxEvents     = 100
	maxRecipients = 1000
	maxBodyFields = 100
)

// Validate checks a settings document and fills empty lists, so that a
// document reads back exactly as it was written.
func (s *Settings) Validate() error {
	if err := checkText(s); err != nil {
		return err
	}
	if len(s.Channels) > maxChannels {
		return Errorf(EINVALID, "channels", "at most %d channels", maxChannels)
	}
	if s.Channels == nil {
		s.Channels = []ChannelSettings{}
	}
	seen := map[int64]bool{}
	for i := range s.Channels {
		c := &s.Channels[i]
		f := indexField("channels", i)
		if c.NotifierID <= 0 {
			return Errorf(EINVALID, f+".notifier_id", "notifier_id is required")
		}
		if seen[c.NotifierID] {
			return Errorf(EINVALID, f+".notifier_id", "notifier %d appears twice", c.NotifierID)
		}
		seen[c.NotifierID] = true
		if err := c.validate(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *ChannelSettings) validate(f string) error {
	if len(c.Events) > maxEvents {
		return Errorf(EINVALID, f+".events", "at most %d event types", maxEvents)
	}
	if len(c.BodyFields) > maxBodyFields {
		return Errorf(EINVALID, f+".body_fields", "at most %d body fields", maxBodyFields)
	}
	if c.Events == nil {
		c.Events = []EventSettings{}
	}
	if len(c.Ext) > 20 {
		return Errorf(EINVALID, f+".ext", "at most 20 ext attributes")
	}
	for k, v := range c.Ext {
		if err := validateCode(f+".ext", k); err != nil {
			return err
		}
		if err := validateOptional(f+".ext."+k, v, 4000); err != nil {
			return err
		}
	}
	if c.BodyFields == nil {
		c.BodyFields = []BodyField{}
	}
	types := map[string]bool{}
	for j := range c.Events {
		e := &c.Events[j]
		ef := indexField(f+".events", j)
		if !IsEventType(e.Type) {
			return Errorf(EINVALID, ef+".type", "unknown event type %q", e.Type)
		}
		if types[e.Type] {
			return Errorf(EINVALID, ef+".type", "event type %q appears twice", e.Type)
		}
		types[e.Type] = true
		if len(e.Recipients) > maxRecipients {
			return Errorf(EINVALID, ef+".recipients", "at most %d recipients", maxRecipients)
		}
		if e.Recipients == nil {
			e.Recipients = []Recipient{}
		}
		for k, r := range e.Recipients {
			if err := r.Validate(subField(ef, indexField("recipients", k))); err != nil {
				return err
			}
		}
	}
	names := map[string]bool{}
	for j, b := range c.BodyFields {
		bf := indexField(f+".body_fields", j) + ".name"
		if err := validateCode(bf, b.Name); err != nil {
			return err
		}
		if names[b.Name] {
			return Errorf(EINVALID, bf, "body field %q appears twice", b.Name)
		}
		names[b.Name] = true
	}
	return nil
}

// Validate checks a recipient; field is its place in the document.
func (r Recipient) Validate(field string) error {
	switch r.Type {
	case EntityUser, EntityGroup:
		if r.IncludeSubs {
			return Errorf(EINVALID, field+".include_subs", "include_subs applies to ORGANIZATION and FIELD_ENTITY only")
		}
	case EntityFieldEntity:
		return validateRoleName(field+".code", r.Code)
	case EntityOrganization:
	default:
		return Errorf(EINVALID, field+".type", "type must be USER, GROUP, ORGANIZATION or FIELD_ENTITY")
	}
	return validateCode(field+".code", r.Code)
}

// Channel returns the settings of notifier id, or nil.
func (s *Settings) Channel(id int64) *ChannelSettings {
	for i := range s.Channels {
		if s.Channels[i].NotifierID == id {
			return &s.Channels[i]
		}
	}
	return nil
}

// Event returns the settings of event type t on the channel, or nil.
func (c *ChannelSettings) Event(t string) *EventSettings {
	for i := range c.Events {
		if c.Events[i].Type == t {
			return &c.Events[i]
		}
	}
	return nil
}

// SettingsRef names one scope's settings and the revision a writer
// expects (NoRevisionCheck to skip the check).
type SettingsRef struct {
	Scope    SettingsScope
	Revision int64
}

// SettingsChange is one entry of the settings history.
type SettingsChange struct {
	ID       int64     `json:"id"`
	Revision int64     `json:"revision"`
	Action   string    `json:"action"` // update, deploy, revert, apply
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
	Settings *Settings `json:"settings"`
}

// Settings history actions.
const (
	ActionUpdate = "update"
	ActionDeploy = "deploy"
	ActionRevert = "revert"
	// ActionApply is a change applied to the live settings directly (a
	// vendor surface without a preview); its entry holds the live version.
	ActionApply = "apply"
)

// SettingsService reads and writes notification settings.
type SettingsService interface {
	// FindSettings returns the draft or live settings of a scope.
	FindSettings(ctx context.Context, scope SettingsScope, version string) (*Settings, error)
	// UpdateSettings replaces the draft if ref.Revision is current (or
	// NoRevisionCheck), and returns the new draft. A stale revision is
	// ECONFLICT; notifiers named must belong to the project.
	UpdateSettings(ctx context.Context, ref SettingsRef, s *Settings) (*Settings, error)
	// DeploySettings copies each draft to live, or with revert discards
	// each draft back to live; all refs succeed or none changes.
	DeploySettings(ctx context.Context, refs []SettingsRef, revert bool) ([]*Settings, error)
	// EffectiveSettings returns a scope's live settings after inheritance.
	EffectiveSettings(ctx context.Context, scope SettingsScope) (*Settings, error)
	// FindSettingsHistory lists changes, newest first.
	FindSettingsHistory(ctx context.Context, scope SettingsScope, page Page) ([]*SettingsChange, string, error)

	// ApplyLive applies change to the live settings of ref.Scope in one
	// transaction, for a surface whose vendor has no preview. A draft
	// without pending edits becomes the new live settings; a draft with
	// pending edits (one that differs from live) gets the same change and
	// keeps its edits pending, undeployed. The revision grows by one and
	// names both versions; the history records the live version with
	// ActionApply. A stale ref.Revision (checked against the draft's, as
	// UpdateSettings does) is ECONFLICT and changes nothing.
	//
	// change runs inside the transaction, once on the live settings and,
	// when the draft has pending edits, once more on the draft: it must
	// give the same result for the same input. Notifiers it ensures
	// through tx are written in the same transaction: when change or any
	// later step fails, nothing at all changes.
	//
	// Needs settings:write, and whatever EnsureNotifier needs for the
	// notifiers change ensures.
	ApplyLive(ctx context.Context, ref SettingsRef, change SettingsChangeFunc) (*Settings, error)
	// ApplyDraft applies change to the draft of ref.Scope in one
	// transaction, as UpdateSettings writes it (the revision grows, the
	// history records ActionUpdate, live is untouched), for a surface with
	// a preview of its own whose write also ensures notifiers. A stale
	// ref.Revision is ECONFLICT and changes nothing; without a check the
	// draft read and written is the current one, so no concurrent write is
	// lost.
	//
	// Needs settings:write, and whatever EnsureNotifier needs for the
	// notifiers change ensures.
	ApplyDraft(ctx context.Context, ref SettingsRef, change SettingsChangeFunc) (*Settings, error)
	// SaveAndDeploy applies change to the draft of ref.Scope, as ApplyDraft
	// does, and deploys the result, in one transaction: a person's unsaved
	// edits and the deploy succeed together or not at all. A stale
	// ref.Revision is ECONFLICT and changes nothing. A change that leaves
	// the draft as it was writes no new revision; the draft is deployed as
	// it is. It returns the new live settings.
	//
	// Needs settings:write, as ApplyDraft.
	SaveAndDeploy(ctx context.Context, ref SettingsRef, change SettingsChangeFunc) (*Settings, error)
	// RestoreSettings makes the document of history entry changeID (of
	// ref.Scope's history) the draft, as UpdateSettings writes it: the
	// revision grows, the history records ActionUpdate, live is untouched
	// until deployed. Channels of notifiers deleted since are left out. A
	// stale ref.Revision is ECONFLICT and changes nothing; an entry of
	// another scope is ENOTFOUND.
	//
	// Needs settings:write.
	RestoreSettings(ctx context.Context, ref SettingsRef, changeID int64) (*Settings, error)
	// EnsureNotifier returns the notifier spec asks for, creating or
	// re-pointing it as NotifierSpec says, in a transaction of its own.
	//
	// Needs settings:write to find a shared notifier or create the
	// project's inbox (which holds no credentials), and notifiers:write
	// too for a spec with Configure, which may create or re-point a
	// notifier with an endpoint and credentials (herald.Policy).
	EnsureNotifier(ctx context.Context, spec NotifierSpec) (*Notifier, error)
}

// SettingsChangeFunc edits a settings document inside a settings
// workflow's transaction; tx reads and ensures the project's notifiers in
// that same transaction. An error rolls everything back.
type SettingsChangeFunc func(tx SettingsTx, s *Settings) error

// SettingsTx is what a SettingsChangeFunc may do besides editing the
// document it is given. Everything it does commits with the settings or
// not at all.
type SettingsTx interface {
	// Notifiers lists the notifiers of the settings' project, oldest first.
	Notifiers() ([]*Notifier, error)
	// EnsureNotifier returns the notifier of the settings' project that
	// spec asks for, creating or re-pointing it as NotifierSpec says (a
	// spec's ProjectID may be 0; another project's is EINVALID). Calling it
	// again with the same spec writes nothing more. It needs what the
	// service's EnsureNotifier needs.
	EnsureNotifier(spec NotifierSpec) (*Notifier, error)
}

// InboxNotifierName names the inbox notifier created for a project that
// has none when a surface needs one.
const InboxNotifierName = "system message"

// NotifierSpec asks for the notifier a surface needs in a project. It is
// the one rule every surface finds or creates its notifiers by:
//
//   - Name empty: the project's shared notifier of Type, its oldest. When
//     the project has none, an inbox notifier is created, named
//     InboxNotifierName (it needs no configuration); any other type is
//     ENOTFOUND, since only a person can give its endpoint and
//     credentials.
//   - Name set: a notifier of the project's own for one purpose (CodeArts
//     Deploy's robots dedicated to one application, named "<application>
//     <msg_type>"): the project's oldest notifier of Type with that Name,
//     created when there is none. Configure, when set, is called with it
//     (or with the new notifier, holding only ProjectID, Type and Name) to
//     point it where it must: it may set Config and Secret (masked values
//     keep the stored credentials, by Notifier.MergeStored). A notifier Configure leaves as
//     it was is not written.
type NotifierSpec struct {
	ProjectID int64
	Type      string
	Name      string
	Configure func(n *Notifier)
}

// Validate checks the spec's type and name.
func (spec NotifierSpec) Validate() error {
	if !slices.Contains(NotifierTypes, spec.Type) {
		return Errorf(EINVALID, "type", "type must be one of %s", strings.Join(NotifierTypes, ", "))
	}
	if spec.Name == "" {
		if spec.Configure != nil {
			return Errorf(EINVALID, "name", "a shared notifier is not configured by a surface: name the notifier to configure")
		}
		return nil
	}
	return validateName("name", spec.Name)
}

// Match returns the notifier of ns (a project's, oldest first) that spec
// asks for, or nil.
func (spec NotifierSpec) Match(ns []*Notifier) *Notifier {
	for _, n := range ns {
		if n.ProjectID == spec.ProjectID && n.Type == spec.Type && (spec.Name == "" || n.Name == spec.Name) {
			return n
		}
	}
	return nil
}

// New returns the notifier to create when the project has none matching
// spec, configured and validated; ENOTFOUND for a shared notifier other
// than the inbox.
func (spec NotifierSpec) New() (*Notifier, error) {
	n := &Notifier{ProjectID: spec.ProjectID, Type: spec.Type, Name: spec.Name}
	if spec.Name == "" {
		if spec.Type != NotifierInbox {
			return nil, Errorf(ENOTFOUND, "type", "project %d has no %s notifier; create one first", spec.ProjectID, spec.Type)
		}
		n.Name = InboxNotifierName
	}
	if spec.Configure != nil {
		spec.Configure(n)
		n.ProjectID, n.Type, n.Name = spec.ProjectID, spec.Type, spec.Name
	}
	if err := n.MergeStored(nil); err != nil {
		return nil, err
	}
	return n, n.Validate()
}

// Reconfigure applies spec's Configure to a copy of the notifier found,
// validated, and reports whether it changed (its configuration or secret).
func (spec NotifierSpec) Reconfigure(found *Notifier) (*Notifier, bool, error) {
	if spec.Configure == nil {
		return found, false, nil
	}
	n := found.clone()
	spec.Configure(n)
	n.ID, n.ProjectID, n.Type, n.Name, n.CreatedAt, n.UpdatedAt = found.ID, found.ProjectID, found.Type, found.Name, found.CreatedAt, found.UpdatedAt
	if err := n.MergeStored(found); err != nil {
		return nil, false, err
	}
	if err := n.Validate(); err != nil {
		return nil, false, err
	}
	was, err := json.Marshal(found.Config)
	if err != nil {
		return nil, false, err
	}
	now, err := json.Marshal(n.Config)
	if err != nil {
		return nil, false, err
	}
	return n, n.Secret != found.Secret || string(now) != string(was), nil
}

// clone copies a notifier deeply enough that editing the copy's config
// leaves n as it is.
func (n *Notifier) clone() *Notifier {
	c := *n
	c.Config.HTTPHeaders = maps.Clone(n.Config.HTTPHeaders)
	c.Config.AtMobiles = slices.Clone(n.Config.AtMobiles)
	c.Config.AtUserIDs = slices.Clone(n.Config.AtUserIDs)
	if n.Config.RateLimit != nil {
		r := *n.Config.RateLimit
		c.Config.RateLimit = &r
	}
	return &c
}

// eventTypesByKind are the native event types each source kind emits:
// CodeArts Build's jobs, CodeArts Deploy's applications and Kintone's apps.
// A generic source emits only types of its own (custom.<name>).
var eventTypesByKind = map[string][]string{
	SourceBuildJob:    {"build.succeeded", "build.failed", "job.updated", "job.deleted", "job.disabled"},
	SourceApplication: {"deploy.succeeded", "deploy.failed", "app.updated", "app.deleted"},
	SourceApp:         {"record.added", "record.edited", "comment.added", "status.changed", "file.imported"},
	SourceGeneric:     {},
}

// EventTypesOf returns the native event types a source of kind emits, the
// rows its settings offer; for "" (the project default, which any source
// may inherit) every native type. The result is the caller's to change.
func EventTypesOf(kind string) []string {
	if kind == "" {
		return slices.Clone(EventTypes)
	}
	return slices.Clone(eventTypesByKind[kind])
}

// IsCustomEventType reports whether t is a custom event type.
func IsCustomEventType(t string) bool { return reCustomEvent.MatchString(t) }

// ValidateCustomEventType checks a custom event type a person names;
// field is the form or document member it came from.
func ValidateCustomEventType(field, t string) error {
	if !reCustomEvent.MatchString(t) {
		return Errorf(EINVALID, field, "an event type of your own is custom. followed by 1 to 64 lower-case letters, digits, '_', '.' or '-', e.g. custom.order_paid")
	}
	return nil
}

// AddEventType gives the settings a row for event type t: switched off on
// each of notifierIDs (whose channels are added, switched off, when the
// settings have none), so that the row stays until it is removed. A type
// the settings already carry keeps its cells.
func (s *Settings) AddEventType(t string, notifierIDs []int64) error {
	if !IsEventType(t) {
		return ValidateCustomEventType("event_type", t)
	}
	if len(notifierIDs) == 0 {
		return Errorf(EINVALID, "event_type", "the project has no notifiers yet: create one before adding event types")
	}
	for _, id := range notifierIDs {
		ch := s.Channel(id)
		if ch == nil {
			s.Channels = append(s.Channels, ChannelSettings{NotifierID: id, Events: []EventSettings{}, BodyFields: []BodyField{}})
			ch = &s.Channels[len(s.Channels)-1]
		}
		if ch.Event(t) == nil {
			ch.Events = append(ch.Events, EventSettings{Type: t, Recipients: []Recipient{}})
		}
	}
	return nil
}

// RemoveEventType removes event type t, with its recipients, from every
// channel.
func (s *Settings) RemoveEventType(t string) {
	for i := range s.Channels {
		ch := &s.Channels[i]
		ch.Events = slices.DeleteFunc(ch.Events, func(e EventSettings) bool { return e.Type == t })
	}
}

// SettingsDiff is one difference between two versions of settings: a
// switch of the document (Event and NotifierID empty), a channel switched
// on or off (Event empty), or an event's cell: switched, or its
// recipients added or removed.
type SettingsDiff struct {
	// Field is "inherit_project", "notify_commenters", "channel" or
	// "event".
	Field      string
	NotifierID int64
	Event      string
	// WasOn and On are the switch before and after; an absent channel or
	// event is off.
	WasOn, On bool
	// Added and Removed are an event's recipients that came and went.
	Added, Removed []Recipient
}

// Switched reports whether the diff switched something on or off.
func (d SettingsDiff) Switched() bool { return d.WasOn != d.On }

// DiffSettings lists what changed from a to b: channels by a's order then
// b's new ones, events likewise. A nil a is empty settings.
func DiffSettings(a, b *Settings) []SettingsDiff {
	if a == nil {
		a = &Settings{}
	}
	if b == nil {
		b = &Settings{}
	}
	var out []SettingsDiff
	if a.InheritProject != b.InheritProject {
		out = append(out, SettingsDiff{Field: "inherit_project", WasOn: a.InheritProject, On: b.InheritProject})
	}
	if a.NotifyCommenters != b.NotifyCommenters {
		out = append(out, SettingsDiff{Field: "notify_commenters", WasOn: a.NotifyCommenters, On: b.NotifyCommenters})
	}
	var ids []int64
	for _, ss := range []*Settings{a, b} {
		for _, ch := range ss.Channels {
			if !slices.Contains(ids, ch.NotifierID) {
				ids = append(ids, ch.NotifierID)
			}
		}
	}
	for _, id := range ids {
		ca, cb := a.Channel(id), b.Channel(id)
		if ca == nil {
			ca = &ChannelSettings{NotifierID: id}
		}
		if cb == nil {
			cb = &ChannelSettings{NotifierID: id}
		}
		if ca.Enabled != cb.Enabled {
			out = append(out, SettingsDiff{Field: "channel", NotifierID: id, WasOn: ca.Enabled, On: cb.Enabled})
		}
		var types []string
		for _, c := range []*ChannelSettings{ca, cb} {
			for _, e := range c.Events {
				if !slices.Contains(types, e.Type) {
					types = append(types, e.Type)
				}
			}
		}
		for _, t := range types {
			ea, eb := ca.Event(t), cb.Event(t)
			if ea == nil {
				ea = &EventSettings{Type: t}
			}
			if eb == nil {
				eb = &EventSettings{Type: t}
			}
			d := SettingsDiff{Field: "event", NotifierID: id, Event: t, WasOn: ea.Enabled, On: eb.Enabled,
				Added: recipientsMissing(eb.Recipients, ea.Recipients), Removed: recipientsMissing(ea.Recipients, eb.Recipients)}
			if d.Switched() || len(d.Added) > 0 || len(d.Removed) > 0 {
				out = append(out, d)
			}
		}
	}
	return out
}

// recipientsMissing lists the recipients of rs that are not in from.
func recipientsMissing(rs, from []Recipient) []Recipient {
	var out []Recipient
	for _, r := range rs {
		if !slices.Contains(from, r) {
			out = append(out, r)
		}
	}
	return out
}
