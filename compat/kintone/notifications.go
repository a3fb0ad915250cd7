package kintone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/heraldhq/herald"
)

// orderEvent is the switched-off event type whose recipients are every
// Kintone entry in the order written (see the package doc).
const orderEvent = "custom.kintone.notifications"

// flagEvents are the native event types of Kintone's flags, in the order
// of notification.flags.
var flagEvents = [5]string{"record.added", "record.edited", "comment.added", "status.changed", "file.imported"}

// flagNames are the flags' JSON names, in the same order.
var flagNames = [5]string{"recordAdded", "recordEdited", "commentAdded", "statusChanged", "fileImported"}

// entity is Kintone's recipient.
type entity struct {
	Type string `json:"type"`
	Code string `json:"code"`
}

// notification is one "Recipients and Conditions" entry.
type notification struct {
	Entity        entity `json:"entity"`
	IncludeSubs   bool   `json:"includeSubs"`
	RecordAdded   bool   `json:"recordAdded"`
	RecordEdited  bool   `json:"recordEdited"`
	CommentAdded  bool   `json:"commentAdded"`
	StatusChanged bool   `json:"statusChanged"`
	FileImported  bool   `json:"fileImported"`
}

// flags points at the entry's flags in flagEvents order.
func (n *notification) flags() [5]*bool {
	return [5]*bool{&n.RecordAdded, &n.RecordEdited, &n.CommentAdded, &n.StatusChanged, &n.FileImported}
}

func (n *notification) recipient() herald.Recipient {
	return herald.Recipient{Type: n.Entity.Type, Code: n.Entity.Code, IncludeSubs: n.IncludeSubs}
}

// generalSettings is the answer of the GET endpoints.
type generalSettings struct {
	Notifications     []notification `json:"notifications"`
	NotifyToCommenter bool           `json:"notifyToCommenter"`
	Revision          string         `json:"revision"`
}

// revisionAnswer is the answer of the PUT endpoint.
type revisionAnswer struct {
	Revision string `json:"revision"`
}

// findApp returns the source of app as the request's path may see it: an
// app of another project scope, or of another space than the path's
// (none for /k/v1), is not found.
func (s *Surface) findApp(r *http.Request, app string) (*herald.Source, error) {
	src, err := s.Sources.FindSourceByExternalID(r.Context(), herald.SourceApp, app)
	if err != nil {
		return nil, forApp(err, app)
	}
	if src.SpaceID != r.PathValue("spaceId") {
		return nil, appNotFound(app)
	}
	return src, nil
}

func scopeOf(src *herald.Source) herald.SettingsScope {
	return herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}
}

// inboxNotifiers lists the project's inbox notifiers, oldest first.
func (s *Surface) inboxNotifiers(ctx context.Context, projectID int64) ([]*herald.Notifier, error) {
	ns, _, err := s.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: projectID, Type: herald.NotifierInbox},
		herald.Page{Limit: herald.MaxPageLimit})
	return ns, err
}

// inboxOf keeps the inbox notifiers of ns.
func inboxOf(ns []*herald.Notifier) []*herald.Notifier {
	var out []*herald.Notifier
	for _, n := range ns {
		if n.Type == herald.NotifierInbox {
			out = append(out, n)
		}
	}
	return out
}

// kintoneChannel returns the settings' first channel whose notifier is
// one of inbox, or nil.
func kintoneChannel(st *herald.Settings, inbox []*herald.Notifier) *herald.ChannelSettings {
	for i := range st.Channels {
		if slices.ContainsFunc(inbox, func(n *herald.Notifier) bool { return n.ID == st.Channels[i].NotifierID }) {
			return &st.Channels[i]
		}
	}
	return nil
}

// toKintone lists the entries of the Kintone channel: the recorded order
// first, then recipients only the native API added, each once.
func toKintone(st *herald.Settings, inbox []*herald.Notifier) []notification {
	out := []notification{}
	ch := kintoneChannel(st, inbox)
	if ch == nil {
		return out
	}
	var keys []herald.Recipient
	seen := map[herald.Recipient]bool{}
	add := func(es *herald.EventSettings) {
		if es == nil {
			return
		}
		for _, r := range es.Recipients {
			if !seen[r] {
				seen[r] = true
				keys = append(keys, r)
			}
		}
	}
	add(ch.Event(orderEvent))
	for _, t := range flagEvents {
		add(ch.Event(t))
	}
	for _, k := range keys {
		n := notification{Entity: entity{Type: k.Type, Code: k.Code}, IncludeSubs: k.IncludeSubs}
		for i, f := range n.flags() {
			es := ch.Event(flagEvents[i])
			*f = ch.Enabled && es != nil && es.Enabled && slices.Contains(es.Recipients, k)
		}
		out = append(out, n)
	}
	return out
}

// applyKintone replaces the Kintone event types of ch with entries,
// keeping its other event types and body fields.
func applyKintone(ch *herald.ChannelSettings, entries []notification) {
	events := make([]herald.EventSettings, 0, len(ch.Events)+len(flagEvents)+1)
	for _, e := range ch.Events {
		if e.Type != orderEvent && !slices.Contains(flagEvents[:], e.Type) {
			events = append(events, e)
		}
	}
	if len(entries) > 0 {
		ch.Enabled = true
		order := herald.EventSettings{Type: orderEvent, Enabled: false, Recipients: make([]herald.Recipient, 0, len(entries))}
		for i := range entries {
			order.Recipients = append(order.Recipients, entries[i].recipient())
		}
		events = append(events, order)
		for j, t := range flagEvents {
			es := herald.EventSettings{Type: t, Enabled: true}
			for i := range entries {
				if *entries[i].flags()[j] {
					es.Recipients = append(es.Recipients, entries[i].recipient())
				}
			}
			if len(es.Recipients) > 0 {
				events = append(events, es)
			}
		}
	}
	ch.Events = events
}

// handleGetNotifications answers the live or pre-live settings.
func (s *Surface) handleGetNotifications(version string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, err := readBody(w, r)
		if err != nil {
			return err
		}
		if q := r.URL.Query(); q.Has("app") {
			m["app"], _ = json.Marshal(q.Get("app"))
		}
		fe := fieldErrors{}
		app := appID(fe, "app", m["app"])
		if err := fe.err(); err != nil {
			return err
		}
		src, err := s.findApp(r, app)
		if err != nil {
			return err
		}
		st, err := s.Settings.FindSettings(r.Context(), scopeOf(src), version)
		if err != nil {
			return forApp(err, app)
		}
		inbox, err := s.inboxNotifiers(r.Context(), src.ProjectID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, generalSettings{
			Notifications:     toKintone(st, inbox),
			NotifyToCommenter: st.NotifyCommenters,
			Revision:          strconv.FormatInt(st.Revision, 10),
		})
		return nil
	}
}

// putRequest is a decoded PUT body.
type putRequest struct {
	app string
	// notifications is nil when absent (no change), empty to remove all.
	notifications []notification
	notify        bool
	notifySet     bool
	revision      int64
}

// decodePut reads and checks a PUT body, naming every invalid field.
func decodePut(m map[string]json.RawMessage) (*putRequest, error) {
	fe := fieldErrors{}
	req := &putRequest{app: appID(fe, "app", m["app"]), revision: revision(fe, "revision", m["revision"])}
	req.notify, req.notifySet = optionalBool(fe, "notifyToCommenter", m["notifyToCommenter"], false)
	if raw := m["notifications"]; present(raw) {
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			fe.add("notifications", "Enter an array of objects.")
		} else {
			req.notifications = make([]notification, 0, len(items))
			seen := map[herald.Recipient]int{}
			for i, item := range items {
				n, ok := decodeNotification(fe, fmt.Sprintf("notifications[%d]", i), item)
				if !ok {
					continue
				}
				if j, dup := seen[n.recipient()]; dup {
					fe.add(fmt.Sprintf("notifications[%d].entity", i), fmt.Sprintf("The same entity as notifications[%d].", j))
					continue
				}
				seen[n.recipient()] = i
				req.notifications = append(req.notifications, n)
			}
		}
	}
	return req, fe.err()
}

// decodeNotification reads one entry; the entity is checked by the
// domain's recipient rules.
func decodeNotification(fe fieldErrors, f string, item map[string]json.RawMessage) (notification, bool) {
	var n notification
	if item == nil {
		fe.add(f, "Enter an object.")
		return n, false
	}
	before := len(fe)
	var e map[string]json.RawMessage
	if !present(item["entity"]) {
		fe.add(f+".entity", msgRequired)
	} else if err := json.Unmarshal(item["entity"], &e); err != nil || e == nil {
		fe.add(f+".entity", "Enter an object.")
	} else {
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
	}
	n.IncludeSubs, _ = optionalBool(fe, f+".includeSubs", item["includeSubs"], false)
	for i, p := range n.flags() {
		*p, _ = optionalBool(fe, f+"."+flagNames[i], item[flagNames[i]], false)
	}
	if len(fe) > before {
		return n, false
	}
	// includeSubs applies to departments (and department selection
	// fields) only; for a user or a group it is ignored.
	if n.Entity.Type == herald.EntityUser || n.Entity.Type == herald.EntityGroup {
		n.IncludeSubs = false
	}
	if err := n.recipient().Validate(f + ".entity"); err != nil {
		fe.add(herald.ErrorField(err), herald.ErrorMessage(err))
		return n, false
	}
	return n, true
}

// handlePutNotifications updates the pre-live settings.
func (s *Surface) handlePutNotifications(w http.ResponseWriter, r *http.Request) error {
	m, err := readBody(w, r)
	if err != nil {
		return err
	}
	req, err := decodePut(m)
	if err != nil {
		return err
	}
	src, err := s.findApp(r, req.app)
	if err != nil {
		return err
	}
	// The draft is read, changed and written in one transaction with the
	// inbox notifier it may need: without a revision to check, no
	// concurrent write is lost.
	ref := herald.SettingsRef{Scope: scopeOf(src), Revision: req.revision}
	out, err := s.Settings.ApplyDraft(r.Context(), ref, func(tx herald.SettingsTx, st *herald.Settings) error {
		return apply(tx, st, req)
	})
	if err != nil {
		return forApp(err, req.app)
	}
	writeJSON(w, http.StatusOK, revisionAnswer{Revision: strconv.FormatInt(out.Revision, 10)})
	return nil
}

// apply writes req into the draft st: the app's own settings from now on,
// notifyToCommenter and the Kintone channel's entries when sent. The
// channel is created on the project's inbox notifier (herald.NotifierSpec's
// rule) when the settings have none and req names recipients.
func apply(tx herald.SettingsTx, st *herald.Settings, req *putRequest) error {
	st.InheritProject = false
	if req.notifySet {
		st.NotifyCommenters = req.notify
	}
	if req.notifications == nil {
		return nil
	}
	ns, err := tx.Notifiers()
	if err != nil {
		return err
	}
	ch := kintoneChannel(st, inboxOf(ns))
	if ch == nil {
		if len(req.notifications) == 0 {
			return nil
		}
		n, err := tx.EnsureNotifier(herald.NotifierSpec{Type: herald.NotifierInbox})
		if err != nil {
			return err
		}
		st.Channels = append(st.Channels, herald.ChannelSettings{NotifierID: n.ID, Enabled: true})
		ch = &st.Channels[len(st.Channels)-1]
	}
	applyKintone(ch, req.notifications)
	return nil
}
