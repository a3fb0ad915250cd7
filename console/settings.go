package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// The settings matrix of a source (or, with source 0, of the project
// default): rows are event types, columns the project's notifiers; a cell
// switches an event on for a notifier and opens its recipients. The draft
// is edited; live is shown beside it and cells that differ are marked.

// scopeOf reads and checks the project and source of a matrix path.
func (c *Console) scopeOf(r *http.Request) (*herald.Project, *herald.Source, herald.SettingsScope, error) {
	var scope herald.SettingsScope
	pid, err := pathID(r, "pid", false)
	if err != nil {
		return nil, nil, scope, err
	}
	sid, err := pathID(r, "sid", true)
	if err != nil {
		return nil, nil, scope, err
	}
	ctx := r.Context()
	pr, err := c.findProject(ctx, pid)
	if err != nil {
		return nil, nil, scope, err
	}
	var src *herald.Source
	if sid != 0 {
		if src, err = c.findSource(ctx, pid, sid); err != nil {
			return nil, nil, scope, err
		}
	}
	return pr, src, herald.SettingsScope{ProjectID: pid, SourceID: sid}, nil
}

type matrixCol struct {
	ID       int64
	Name     string
	Type     string
	DraftOn  bool
	LiveOn   bool
	Differs  bool
	InDraft  bool
	Disabled bool
}

type matrixCell struct {
	NotifierID      int64
	Event           string
	DraftOn         bool
	LiveOn          bool
	DraftRecipients int
	LiveRecipients  int
	Differs         bool
}

type matrixRow struct {
	Type  string
	Cells []matrixCell
	// Removable rows are not the source kind's own: custom types, or
	// types the settings carry from elsewhere.
	Removable bool
	// Removed rows are gone from the draft but still live until deployed.
	Removed bool
}

// conflict tells a person whose write named a stale revision what
// happened since the revision they saw.
type conflict struct {
	Yours   int64
	Current *herald.Settings
	Changes []*herald.SettingsChange
	// Kept says the page shows the person's unsaved edits on top of the
	// current draft, ready to be saved or deployed again.
	Kept bool
}

type matrixData struct {
	Project       *herald.Project
	Source        *herald.Source
	Path          string
	Draft         *herald.Settings
	Live          *herald.Settings
	Cols          []matrixCol
	Rows          []matrixRow
	NextNotifiers string
	Differs       bool
	Conflict      *conflict
	CanWrite      bool
	// Records are a Kintone app's per-record and reminder notifications.
	Records *recordsData
	// Unsaved says Draft shows edits the person made that are not saved.
	Unsaved bool
	// AddType is the event type typed into the add-row field, and
	// AddTypeError why it was refused.
	AddType      string
	AddTypeError string
	// CanSendEvent shows the test event form of a source.
	CanSendEvent bool
}

// eventTypes are the matrix rows: the native types of the source's kind
// (every native type for the project default) and any other type either
// version uses; the second result marks the latter.
func eventTypes(src *herald.Source, ss ...*herald.Settings) ([]string, map[string]bool) {
	kind := ""
	if src != nil {
		kind = src.Kind
	}
	out, extra := herald.EventTypesOf(kind), map[string]bool{}
	for _, s := range ss {
		for _, ch := range s.Channels {
			for _, e := range ch.Events {
				if !slices.Contains(out, e.Type) {
					out = append(out, e.Type)
					extra[e.Type] = true
				}
			}
		}
	}
	return out, extra
}

// eventOf returns the settings of event t on notifier id, or nil.
func eventOf(s *herald.Settings, id int64, t string) *herald.EventSettings {
	if ch := s.Channel(id); ch != nil {
		return ch.Event(t)
	}
	return nil
}

// sameEvent compares two cells, an absent event being an off one without
// recipients.
func sameEvent(a, b *herald.EventSettings) bool {
	if a == nil {
		a = &herald.EventSettings{}
	}
	if b == nil {
		b = &herald.EventSettings{}
	}
	if a.Enabled != b.Enabled || len(a.Recipients) != len(b.Recipients) {
		return false
	}
	return len(a.Recipients) == 0 || reflect.DeepEqual(a.Recipients, b.Recipients)
}

// loadMatrix reads everything the matrix page shows; unsaved, when not
// nil, is the person's edit, shown on top of the current draft.
func (c *Console) loadMatrix(r *http.Request, unsaved func(*herald.Settings) error) (*matrixData, error) {
	pr, src, scope, err := c.scopeOf(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	d := &matrixData{Project: pr, Source: src, Path: sourcePath(scope.ProjectID, scope.SourceID),
		CanWrite: can(ctx, herald.ResSettings, herald.ActUpdate)}
	if d.Draft, err = c.Settings.FindSettings(ctx, scope, herald.VersionDraft); err != nil {
		return nil, err
	}
	if d.Live, err = c.Settings.FindSettings(ctx, scope, herald.VersionLive); err != nil {
		return nil, err
	}
	if unsaved != nil {
		edited, err := cloneSettings(d.Draft)
		if err != nil {
			return nil, err
		}
		// An edit that fails (a bad type to add) shows what it did up to
		// there; the page says why.
		_ = unsaved(edited)
		d.Draft, d.Unsaved = edited, true
	}
	d.CanSendEvent = src != nil && can(ctx, herald.ResEvent, herald.ActCreate)
	// A project has at most a few dozen notifiers (settings take 50
	// channels); they are still paged, a page of columns at a time.
	ns, next, err := c.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: scope.ProjectID}, pageOf(r, "notifiers"))
	if err != nil {
		return nil, err
	}
	if next != "" {
		d.NextNotifiers = withQuery(r, "notifiers", next)
	}
	if d.Records, err = c.loadRecords(r, src, scope); err != nil {
		return nil, err
	}
	d.Differs = d.Draft.InheritProject != d.Live.InheritProject || d.Draft.NotifyCommenters != d.Live.NotifyCommenters
	d.Differs = d.Differs || (d.Records != nil && d.Records.Differs)
	for _, n := range ns {
		col := matrixCol{ID: n.ID, Name: n.Name, Type: n.Type}
		if ch := d.Draft.Channel(n.ID); ch != nil {
			col.DraftOn, col.InDraft = ch.Enabled, true
		}
		if ch := d.Live.Channel(n.ID); ch != nil {
			col.LiveOn = ch.Enabled
		}
		col.Differs = col.DraftOn != col.LiveOn
		d.Differs = d.Differs || col.Differs
		d.Cols = append(d.Cols, col)
	}
	types, extra := eventTypes(src, d.Draft, d.Live)
	for _, t := range types {
		row := matrixRow{Type: t, Removable: extra[t]}
		if extra[t] {
			row.Removed = true
			for _, ch := range d.Draft.Channels {
				row.Removed = row.Removed && ch.Event(t) == nil
			}
		}
		for _, col := range d.Cols {
			de, le := eventOf(d.Draft, col.ID, t), eventOf(d.Live, col.ID, t)
			cell := matrixCell{NotifierID: col.ID, Event: t, Differs: !sameEvent(de, le)}
			if de != nil {
				cell.DraftOn, cell.DraftRecipients = de.Enabled, len(de.Recipients)
			}
			if le != nil {
				cell.LiveOn, cell.LiveRecipients = le.Enabled, len(le.Recipients)
			}
			d.Differs = d.Differs || cell.Differs
			row.Cells = append(row.Cells, cell)
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

func (c *Console) handleMatrix(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := c.loadMatrix(r, nil)
	if err != nil {
		return err
	}
	return c.page(w, "matrix", "Notification settings", v, d)
}

// revisionOf reads the revision a form was rendered at.
func revisionOf(r *http.Request) (int64, error) {
	rev, err := strconv.ParseInt(r.PostForm.Get("revision"), 10, 64)
	if err != nil || rev < 0 {
		return 0, herald.Errorf(herald.EINVALID, "revision", "the form carries no revision")
	}
	return rev, nil
}

// writeSettings applies edit to the draft at the form's revision and
// saves it; a stale revision re-renders the matrix with what changed.
// kept, when not nil, is the edit to show again on a conflict (the
// matrix form's).
func (c *Console) writeSettings(w http.ResponseWriter, r *http.Request, v *view, back string, edit, kept func(s *herald.Settings) error) error {
	_, _, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	rev, err := revisionOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	draft, err := c.Settings.FindSettings(ctx, scope, herald.VersionDraft)
	if err != nil {
		return err
	}
	if draft.Revision != rev {
		return c.showConflict(w, r, v, rev, kept)
	}
	if err := edit(draft); err != nil {
		if kept != nil && herald.ErrorField(err) == "event_type" {
			return c.showAddTypeError(w, r, v, kept, err)
		}
		return err
	}
	_, err = c.Settings.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: rev}, draft)
	if isCode(err, herald.ECONFLICT) && herald.ErrorField(err) == "revision" {
		return c.showConflict(w, r, v, rev, kept)
	} else if err != nil {
		return err
	}
	return redirect(w, r, back, "Draft saved.")
}

// showConflict renders the matrix afresh, with a 409 and a note naming the
// current revision, who wrote it and when, and the changes since the
// revision the person saw.
// With kept, the page shows the person's edit on top of the current
// draft, at the current revision, so that nothing they did is lost.
func (c *Console) showConflict(w http.ResponseWriter, r *http.Request, v *view, yours int64, kept func(*herald.Settings) error) error {
	d, err := c.loadMatrix(r, kept)
	if err != nil {
		return err
	}
	cf := &conflict{Yours: yours, Current: d.Draft, Kept: kept != nil}
	if kept != nil {
		d.AddType = r.PostForm.Get("add_type")
	}
	_, _, scope, _ := c.scopeOf(r)
	changes, _, err := c.Settings.FindSettingsHistory(r.Context(), scope, herald.Page{Limit: 10})
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if ch.Revision > yours || ch.Action == herald.ActionDeploy && ch.Revision >= yours {
			cf.Changes = append(cf.Changes, ch)
		}
	}
	d.Conflict = cf
	v.Title, v.Data = "Notification settings", d
	c.render(w, http.StatusConflict, "matrix", v)
	return nil
}

// showAddTypeError renders the matrix with the person's edits kept and
// the add-row field's error beside it.
func (c *Console) showAddTypeError(w http.ResponseWriter, r *http.Request, v *view, kept func(*herald.Settings) error, err error) error {
	d, lerr := c.loadMatrix(r, kept)
	if lerr != nil {
		return lerr
	}
	d.AddType, d.AddTypeError = r.PostForm.Get("add_type"), translate(v.Lang, herald.ErrorMessage(err))
	v.Title, v.Data = "Notification settings", d
	c.render(w, http.StatusBadRequest, "matrix", v)
	return nil
}

// matrixEdit is the edit the matrix form asks for: the switches of each
// column and row shown, then a row added (add_type) or removed
// (remove_type).
func matrixEdit(scope herald.SettingsScope, f url.Values) func(s *herald.Settings) error {
	return func(s *herald.Settings) error {
		if err := matrixSwitches(scope, f, s); err != nil {
			return err
		}
		if t := strings.TrimSpace(f.Get("remove_type")); t != "" {
			s.RemoveEventType(t)
		}
		if t := strings.TrimSpace(f.Get("add_type")); t != "" {
			var ids []int64
			for _, col := range f["col"] {
				id, _ := strconv.ParseInt(col, 10, 64)
				ids = append(ids, id)
			}
			return s.AddEventType(t, ids)
		}
		return nil
	}
}

// withoutAdd is the matrix form's edit without its new row: what a page
// that refused the row shows again.
func withoutAdd(scope herald.SettingsScope, f url.Values) func(s *herald.Settings) error {
	g := url.Values{}
	for k, vs := range f {
		if k != "add_type" {
			g[k] = vs
		}
	}
	return matrixEdit(scope, g)
}

// matrixSwitches applies the matrix form's checkboxes to s.
func matrixSwitches(scope herald.SettingsScope, f url.Values, s *herald.Settings) error {
	if scope.SourceID != 0 {
		s.InheritProject = f.Get("inherit") == "on"
	}
	rows := f["row"]
	for _, col := range f["col"] {
		id, err := strconv.ParseInt(col, 10, 64)
		if err != nil {
			return herald.Errorf(herald.EINVALID, "col", "bad notifier column")
		}
		key := strconv.FormatInt(id, 10)
		on := f.Get("on:"+key) == "on"
		ch := s.Channel(id)
		if ch == nil {
			any := on
			for _, t := range rows {
				any = any || f.Get("ev:"+key+":"+t) == "on"
			}
			if !any {
				continue
			}
			s.Channels = append(s.Channels, herald.ChannelSettings{NotifierID: id, Events: []herald.EventSettings{}, BodyFields: []herald.BodyField{}})
			ch = &s.Channels[len(s.Channels)-1]
		}
		ch.Enabled = on
		for _, t := range rows {
			checked := f.Get("ev:"+key+":"+t) == "on"
			if e := ch.Event(t); e != nil {
				e.Enabled = checked
			} else if checked {
				ch.Events = append(ch.Events, herald.EventSettings{Type: t, Enabled: true, Recipients: []herald.Recipient{}})
			}
		}
	}
	return nil
}

// cloneSettings copies a settings document deeply.
func cloneSettings(s *herald.Settings) (*herald.Settings, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var out herald.Settings
	return &out, json.Unmarshal(b, &out)
}

func (c *Console) handleSaveMatrix(w http.ResponseWriter, r *http.Request, v *view) error {
	_, _, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	return c.writeSettings(w, r, v, sourcePath(scope.ProjectID, scope.SourceID), matrixEdit(scope, f), withoutAdd(scope, f))
}

type cellData struct {
	Matrix   *matrixData
	Notifier *herald.Notifier
	Event    string
	Draft    *herald.EventSettings
	Live     *herald.EventSettings
	Types    []string
	Roles    []string
	Users    []*herald.User
	Groups   []*herald.Group
	Depts    []*herald.Department
	AddRows  []int
}

// roles offered for FIELD_ENTITY recipients; any role the event carries
// may be typed.
var roles = []string{"creator", "executor", "follower", "commenter", "updater", "actor", "assignee"}

// cellOf reads the notifier and event type a cell form names.
func (c *Console) cellOf(r *http.Request, pid int64) (*herald.Notifier, string, error) {
	id, err := formID(r, "notifier")
	if err != nil {
		return nil, "", err
	}
	n, err := c.findNotifier(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	if n.ProjectID != pid {
		return nil, "", herald.Errorf(herald.ENOTFOUND, "", "notifier %d not found", id)
	}
	t := r.FormValue("event")
	if !herald.IsEventType(t) {
		return nil, "", herald.Errorf(herald.EINVALID, "event", "unknown event type %q", t)
	}
	return n, t, nil
}

func (c *Console) handleCell(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := c.loadMatrix(r, nil)
	if err != nil {
		return err
	}
	n, t, err := c.cellOf(r, m.Project.ID)
	if err != nil {
		return err
	}
	d := cellData{Matrix: m, Notifier: n, Event: t, Draft: eventOf(m.Draft, n.ID, t), Live: eventOf(m.Live, n.ID, t),
		Types: []string{herald.EntityUser, herald.EntityGroup, herald.EntityOrganization, herald.EntityFieldEntity},
		Roles: roles, AddRows: []int{0, 1, 2}}
	// The pickers offer the first page of each list; any code may be typed.
	ctx := r.Context()
	first := herald.Page{Limit: herald.DefaultPageLimit}
	if d.Users, _, err = c.Directory.FindUsers(ctx, first); err != nil {
		return err
	}
	if d.Groups, _, err = c.Directory.FindGroups(ctx, first); err != nil {
		return err
	}
	if d.Depts, _, err = c.Directory.FindDepartments(ctx, herald.DepartmentFilter{}, first); err != nil {
		return err
	}
	return c.page(w, "cell", "Recipients", v, d)
}

func (c *Console) handleSaveCell(w http.ResponseWriter, r *http.Request, v *view) error {
	pr, _, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	n, t, err := c.cellOf(r, pr.ID)
	if err != nil {
		return err
	}
	f := r.PostForm
	back := sourcePath(scope.ProjectID, scope.SourceID) + "/cell?notifier=" + strconv.FormatInt(n.ID, 10) + "&event=" + t
	return c.writeSettings(w, r, v, back, func(s *herald.Settings) error {
		ch := s.Channel(n.ID)
		if ch == nil {
			s.Channels = append(s.Channels, herald.ChannelSettings{NotifierID: n.ID, Events: []herald.EventSettings{}, BodyFields: []herald.BodyField{}})
			ch = &s.Channels[len(s.Channels)-1]
		}
		e := ch.Event(t)
		if e == nil {
			ch.Events = append(ch.Events, herald.EventSettings{Type: t, Recipients: []herald.Recipient{}})
			e = &ch.Events[len(ch.Events)-1]
		}
		e.Enabled = f.Get("enabled") == "on"
		kept := []herald.Recipient{}
		for i, rc := range e.Recipients {
			if f.Get("remove:"+strconv.Itoa(i)) != "on" {
				kept = append(kept, rc)
			}
		}
		for i := range 3 {
			k := strconv.Itoa(i)
			code := strings.TrimSpace(f.Get("code:" + k))
			if code == "" {
				continue
			}
			rc := herald.Recipient{Type: f.Get("type:" + k), Code: code}
			rc.IncludeSubs = f.Get("subs:"+k) == "on" && (rc.Type == herald.EntityOrganization || rc.Type == herald.EntityFieldEntity)
			if !slices.Contains(kept, rc) {
				kept = append(kept, rc)
			}
		}
		e.Recipients = kept
		return nil
	}, nil)
}

// handleDeploy deploys the matrix: the form's edits, saved and deployed
// in one step (SaveAndDeploy), so that nothing a person changed on the
// page is lost. A post without the matrix's columns deploys the draft as
// it is; discard throws the draft away.
func (c *Console) handleDeploy(w http.ResponseWriter, r *http.Request, v *view) error {
	_, _, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	rev, err := revisionOf(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	revert := f.Get("action") == "discard"
	ref := herald.SettingsRef{Scope: scope, Revision: rev}
	var kept func(*herald.Settings) error
	if !revert && len(f["col"]) > 0 {
		edit := matrixEdit(scope, f)
		kept = withoutAdd(scope, f)
		_, err = c.Settings.SaveAndDeploy(r.Context(), ref, func(_ herald.SettingsTx, s *herald.Settings) error { return edit(s) })
	} else {
		_, err = c.Settings.DeploySettings(r.Context(), []herald.SettingsRef{ref}, revert)
	}
	if isCode(err, herald.ECONFLICT) && herald.ErrorField(err) == "revision" {
		return c.showConflict(w, r, v, rev, kept)
	} else if kept != nil && herald.ErrorField(err) == "event_type" {
		return c.showAddTypeError(w, r, v, kept, err)
	} else if err != nil {
		return err
	}
	flash := "Deployed."
	if revert {
		flash = "Draft discarded."
	}
	return redirect(w, r, sourcePath(scope.ProjectID, scope.SourceID), flash)
}

type historyData struct {
	Project *herald.Project
	Source  *herald.Source
	Path    string
	Rows    []historyRow
	Next    string
	// Revision is the draft's, which a restore names.
	Revision int64
	CanWrite bool
}

// historyRow is one entry of the history with what it changed, said with
// names: the notifiers' and the recipients'.
type historyRow struct {
	*herald.SettingsChange
	Diff []diffLine
	// Since is the revision the diff is taken from (0: the first).
	Since int64
	// Known says the entry before this one was found, so Diff is whole.
	Known bool
	// Current is the draft as it is: nothing to restore.
	Current bool
}

// diffLine is one herald.SettingsDiff, named.
type diffLine struct {
	Field    string
	Notifier string
	Event    string
	Switched bool
	On       bool
	Added    []string
	Removed  []string
}

// before returns the entry a change is compared with among the older
// ones: for a deploy (or a vendor's apply), the live version before it;
// for a draft write, the entry just before.
func before(ch *herald.SettingsChange, older []*herald.SettingsChange) *herald.SettingsChange {
	live := ch.Action == herald.ActionDeploy || ch.Action == herald.ActionApply
	for _, o := range older {
		if !live || o.Action == herald.ActionDeploy || o.Action == herald.ActionApply {
			return o
		}
	}
	return nil
}

// namer names notifiers and recipients for the history: by the project's
// notifiers and the first page of each directory list; a code it does not
// know is shown as it is.
type namer struct {
	notifiers map[int64]string
	entities  map[string]string // type + ":" + code
}

func (c *Console) newNamer(r *http.Request, pid int64) (*namer, error) {
	ctx := r.Context()
	nm := &namer{notifiers: map[int64]string{}, entities: map[string]string{}}
	ns, _, err := c.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: pid}, herald.Page{Limit: herald.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		nm.notifiers[n.ID] = n.Name
	}
	// Names are a courtesy: a principal who may not read the directory
	// sees codes.
	if !can(ctx, herald.ResDirectory, herald.ActRead) {
		return nm, nil
	}
	page := herald.Page{Limit: herald.MaxPageLimit}
	us, _, err := c.Directory.FindUsers(ctx, page)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		nm.entities[herald.EntityUser+":"+u.Code] = u.Name
	}
	gs, _, err := c.Directory.FindGroups(ctx, page)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		nm.entities[herald.EntityGroup+":"+g.Code] = g.Name
	}
	ds, _, err := c.Directory.FindDepartments(ctx, herald.DepartmentFilter{}, page)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		nm.entities[herald.EntityOrganization+":"+d.Code] = d.Name
	}
	return nm, nil
}

func (nm *namer) notifier(id int64) string {
	if n, ok := nm.notifiers[id]; ok {
		return n
	}
	return "#" + strconv.FormatInt(id, 10)
}

// recipient names a recipient in lang: its name and code, or a role.
func (nm *namer) recipient(lang string, rc herald.Recipient) string {
	var s string
	switch {
	case rc.Type == herald.EntityFieldEntity:
		s = translate(lang, "Role") + ": " + rc.Code
	case nm.entities[rc.Type+":"+rc.Code] != "":
		s = nm.entities[rc.Type+":"+rc.Code] + " (" + rc.Code + ")"
	default:
		s = rc.Code
	}
	if rc.Type == herald.EntityGroup {
		s = translate(lang, "Group") + " " + s
	} else if rc.Type == herald.EntityOrganization {
		s = translate(lang, "Department") + " " + s
	}
	if rc.IncludeSubs {
		s += " + " + translate(lang, "Include sub-departments")
	}
	return s
}

func (nm *namer) lines(lang string, ds []herald.SettingsDiff) []diffLine {
	var out []diffLine
	for _, d := range ds {
		l := diffLine{Field: d.Field, Event: d.Event, Switched: d.Switched(), On: d.On}
		if d.NotifierID != 0 {
			l.Notifier = nm.notifier(d.NotifierID)
		}
		for _, rc := range d.Added {
			l.Added = append(l.Added, nm.recipient(lang, rc))
		}
		for _, rc := range d.Removed {
			l.Removed = append(l.Removed, nm.recipient(lang, rc))
		}
		out = append(out, l)
	}
	return out
}

func (c *Console) handleHistory(w http.ResponseWriter, r *http.Request, v *view) error {
	pr, src, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := historyData{Project: pr, Source: src, Path: sourcePath(scope.ProjectID, scope.SourceID), CanWrite: can(ctx, herald.ResSettings, herald.ActUpdate)}
	changes, next, err := c.Settings.FindSettingsHistory(ctx, scope, pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	if next != "" {
		d.Next = withQuery(r, "cursor", next)
	}
	draft, err := c.Settings.FindSettings(ctx, scope, herald.VersionDraft)
	if err != nil {
		return err
	}
	d.Revision = draft.Revision
	// The oldest entries of this page are compared with the next page's.
	older, all := changes, next == ""
	if next != "" {
		more, moreNext, err := c.Settings.FindSettingsHistory(ctx, scope, herald.Page{Limit: herald.DefaultPageLimit, Cursor: next})
		if err != nil {
			return err
		}
		older, all = append(slices.Clone(changes), more...), moreNext == ""
	}
	nm, err := c.newNamer(r, scope.ProjectID)
	if err != nil {
		return err
	}
	for i, ch := range changes {
		row := historyRow{SettingsChange: ch, Current: ch.Revision == d.Revision && ch.Action != herald.ActionDeploy}
		prev := before(ch, older[i+1:])
		switch {
		case prev != nil:
			row.Known, row.Since = true, prev.Revision
			row.Diff = nm.lines(v.Lang, herald.DiffSettings(prev.Settings, ch.Settings))
		case all:
			// The first entry of all, or the first deploy: compared
			// with nothing.
			row.Known = true
			row.Diff = nm.lines(v.Lang, herald.DiffSettings(nil, ch.Settings))
		}
		d.Rows = append(d.Rows, row)
	}
	return c.page(w, "history", "Settings history", v, d)
}

// handleRestore puts a revision of the history into the draft.
func (c *Console) handleRestore(w http.ResponseWriter, r *http.Request, v *view) error {
	_, _, scope, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	rev, err := revisionOf(r)
	if err != nil {
		return err
	}
	id, err := formID(r, "change")
	if err != nil {
		return err
	}
	_, err = c.Settings.RestoreSettings(r.Context(), herald.SettingsRef{Scope: scope, Revision: rev}, id)
	if isCode(err, herald.ECONFLICT) && herald.ErrorField(err) == "revision" {
		return c.showConflict(w, r, v, rev, nil)
	} else if err != nil {
		return err
	}
	return redirect(w, r, sourcePath(scope.ProjectID, scope.SourceID), flashRestored)
}

// flashRestored is the flash after a restore.
const flashRestored = "Revision restored into the draft. Review it, then deploy."

func init() { flashes[flashRestored] = true }

// fmtTime formats a time for the pages, in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Span is the width of the matrix in cells: the row heads and a column
// per notifier.
func (d *matrixData) Span() int { return len(d.Cols) + 1 }
