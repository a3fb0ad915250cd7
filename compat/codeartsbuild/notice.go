package codeartsbuild

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/heraldhq/herald/internal/jsonbody"
	"io"
	"slices"
	"strings"

	"github.com/heraldhq/herald"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// noticeType is a vendor notice type and the notifier type it uses.
type noticeType struct {
	name     string // the vendor's notice_type
	notifier string // herald notifier type
	label    string // for messages
}

// noticeTypes lists every notice type in the order GET answers them.
var noticeTypes = []noticeType{
	{"MESSAGE", herald.NotifierInbox, "system message (inbox)"},
	{"MAIL", herald.NotifierEmail, "email"},
	{"DING_TALK", herald.NotifierDingTalk, "DingTalk"},
	{"FEISHU", herald.NotifierLark, "Feishu"},
	{"WECOM", herald.NotifierWeCom, "WeCom"},
}

// buildEvent is a vendor event name and its native event type.
type buildEvent struct{ vendor, native string }

// buildEvents lists the vendor's event names.
var buildEvents = []buildEvent{
	{"buildJobSuccess", "build.succeeded"},
	{"buildJobFail", "build.failed"},
	{"updateConfigJob", "job.updated"},
	{"deleteJob", "job.deleted"},
	{"forbiddenJob", "job.disabled"},
}

// roles are the receivers param_config may name; each is the FIELD_ENTITY
// recipient of the same code.
var roles = []string{"creator", "executor", "follower"}

// receiversKey is param_config's member holding the receivers per event.
const receiversKey = "eventTypeNamesReceivers"

// extParamConfig is the ChannelSettings.Ext key keeping param_config's
// other members.
const extParamConfig = "param_config"

func eventNames() string {
	names := make([]string, len(buildEvents))
	for i, e := range buildEvents {
		names[i] = e.vendor
	}
	return strings.Join(names, ", ")
}

func findNoticeType(name string) (noticeType, bool) {
	for _, nt := range noticeTypes {
		if nt.name == name {
			return nt, true
		}
	}
	return noticeType{}, false
}

func isBuildEvent(name string) bool {
	return slices.ContainsFunc(buildEvents, func(e buildEvent) bool { return e.vendor == name })
}

// noticeBody is the PUT body as it arrives. Booleans may be JSON booleans
// or the strings "true"/"false", so they are read raw.
type noticeBody struct {
	NoticeType            *string         `json:"notice_type"`
	EnabledEventTypeNames *[]string       `json:"enabled_event_type_names"`
	SendSwitch            json.RawMessage `json:"send_switch"`
	ParamConfig           *string         `json:"param_config"`
	UseProjectNotice      json.RawMessage `json:"use_project_notice"`
}

// notice is a validated PUT: what to change in the job's settings.
type notice struct {
	typ        noticeType
	enabled    map[string]bool // vendor event name -> on
	sendSwitch *bool
	useProject *bool
	// receivers maps vendor event names to roles; nil: no param_config,
	// leave recipients alone.
	receivers map[string][]string
	// extra is param_config without its receivers ("" for none); only
	// meaningful when receivers is not nil.
	extra string
}

// decodeNotice reads and validates a PUT body.
func decodeNotice(body io.Reader) (*notice, error) {
	var b noticeBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, err
	}
	in := &notice{enabled: map[string]bool{}}
	if b.NoticeType == nil || *b.NoticeType == "" {
		return nil, herald.Errorf(herald.EINVALID, "notice_type", "Invalid parameter: notice_type is required (MESSAGE, MAIL, DING_TALK, FEISHU or WECOM).")
	}
	nt, ok := findNoticeType(*b.NoticeType)
	if !ok {
		return nil, herald.Errorf(herald.EINVALID, "notice_type", "Invalid parameter: notice_type %q is not one of MESSAGE, MAIL, DING_TALK, FEISHU, WECOM.", *b.NoticeType)
	}
	in.typ = nt
	if b.EnabledEventTypeNames == nil {
		return nil, herald.Errorf(herald.EINVALID, "enabled_event_type_names", "Invalid parameter: enabled_event_type_names is required (an array, possibly empty).")
	}
	for _, name := range *b.EnabledEventTypeNames {
		if !isBuildEvent(name) {
			return nil, herald.Errorf(herald.EINVALID, "enabled_event_type_names", "Invalid parameter: enabled_event_type_names holds %q, not one of %s.", name, eventNames())
		}
		in.enabled[name] = true
	}
	var err error
	if in.sendSwitch, err = parseBool("send_switch", b.SendSwitch); err != nil {
		return nil, err
	}
	if in.useProject, err = parseBool("use_project_notice", b.UseProjectNotice); err != nil {
		return nil, err
	}
	if b.ParamConfig != nil && *b.ParamConfig != "" {
		if in.receivers, in.extra, err = parseParamConfig(*b.ParamConfig); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// parseBool reads a boolean given as true/false or "true"/"false"; null or
// absent is nil.
func parseBool(field string, raw json.RawMessage) (*bool, error) {
	var v bool
	switch strings.TrimSpace(string(raw)) {
	case "", "null":
		return nil, nil
	case "true", `"true"`:
		v = true
	case "false", `"false"`:
		v = false
	default:
		return nil, herald.Errorf(herald.EINVALID, field, "Invalid parameter: %s must be true or false (a boolean or the string).", field)
	}
	return &v, nil
}

// parseParamConfig reads param_config: a JSON object whose
// eventTypeNamesReceivers maps event names to roles. Its other members are
// returned, re-encoded, as extra.
func parseParamConfig(s string) (map[string][]string, string, error) {
	bad := func(format string, args ...any) error {
		return herald.Errorf(herald.EINVALID, "param_config", "Invalid parameter: param_config "+format, args...)
	}
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, "", bad("must be a string holding a JSON object, e.g. {\"%s\":{\"buildJobFail\":[\"creator\"]}}.", receiversKey)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", bad("must hold a single JSON object.")
	}
	receivers := map[string][]string{}
	if raw, ok := doc[receiversKey]; ok {
		delete(doc, receiversKey)
		var m map[string][]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, "", bad("%s must map event names to arrays of roles.", receiversKey)
		}
		for ev, rs := range m {
			if !isBuildEvent(ev) {
				return nil, "", bad("names event %q, not one of %s.", ev, eventNames())
			}
			seen := map[string]bool{}
			for _, role := range rs {
				if !slices.Contains(roles, role) {
					return nil, "", bad("gives event %s the receiver %q, not one of creator, executor, follower.", ev, role)
				}
				if !seen[role] {
					seen[role] = true
					receivers[ev] = append(receivers[ev], role)
				}
			}
		}
	}
	extra := ""
	if len(doc) > 0 {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, "", bad("is not valid JSON.")
		}
		if len(b) > 4000 {
			return nil, "", bad("is too long: at most 4000 characters besides %s.", receiversKey)
		}
		extra = string(b)
	}
	return receivers, extra, nil
}

// write applies the notice to the job's live settings in one transaction
// with the notifier it needs (the project's inbox is created for MESSAGE
// when missing). The vendor has no preview: the change goes live at once,
// and a draft edited natively and not deployed keeps its edits pending.
func (s *Surface) write(ctx context.Context, scope herald.SettingsScope, in *notice) error {
	ref := herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}
	_, err := s.Settings.ApplyLive(ctx, ref, func(tx herald.SettingsTx, st *herald.Settings) error {
		n, err := tx.EnsureNotifier(herald.NotifierSpec{Type: in.typ.notifier})
		if herald.ErrorCode(err) == herald.ENOTFOUND && herald.ErrorField(err) == "type" {
			return herald.Errorf(herald.EINVALID, "notice_type",
				"Invalid parameter: the project has no %s notifier (type %s) for notice_type %s; create one first.", in.typ.label, in.typ.notifier, in.typ.name)
		}
		if err != nil {
			return err
		}
		in.apply(st, n.ID)
		return nil
	})
	return err
}

// apply writes the notice into the settings' channel of notifier id,
// adding the channel when the job has none for it yet.
func (in *notice) apply(st *herald.Settings, notifierID int64) {
	if in.useProject != nil {
		st.InheritProject = *in.useProject
	}
	ch := st.Channel(notifierID)
	if ch == nil {
		st.Channels = append(st.Channels, herald.ChannelSettings{NotifierID: notifierID, Enabled: true})
		ch = &st.Channels[len(st.Channels)-1]
	}
	if in.sendSwitch != nil {
		ch.Enabled = *in.sendSwitch
	}
	for _, be := range buildEvents {
		es := ch.Event(be.native)
		if es == nil {
			ch.Events = append(ch.Events, herald.EventSettings{Type: be.native})
			es = &ch.Events[len(ch.Events)-1]
		}
		es.Enabled = in.enabled[be.vendor]
		if in.receivers == nil {
			continue
		}
		// Replace the roles the vendor can name; keep every other recipient.
		kept := es.Recipients[:0:0]
		for _, r := range es.Recipients {
			if !isVendorRole(r) {
				kept = append(kept, r)
			}
		}
		for _, role := range in.receivers[be.vendor] {
			kept = append(kept, herald.Recipient{Type: herald.EntityFieldEntity, Code: role})
		}
		es.Recipients = kept
	}
	if in.receivers != nil {
		if in.extra == "" {
			delete(ch.Ext, extParamConfig)
		} else {
			if ch.Ext == nil {
				ch.Ext = map[string]string{}
			}
			ch.Ext[extParamConfig] = in.extra
		}
		if len(ch.Ext) == 0 {
			ch.Ext = nil
		}
	}
}

func isVendorRole(r herald.Recipient) bool {
	return r.Type == herald.EntityFieldEntity && slices.Contains(roles, r.Code)
}

// noticeItem is one notice type in GET's answer.
type noticeItem struct {
	NoticeType  string          `json:"notice_type"`
	EnableMap   map[string]bool `json:"enable_map"`
	ParamConfig string          `json:"param_config"`
}

// itemOf renders one notice type from its channel (nil: no channel).
func itemOf(nt noticeType, ch *herald.ChannelSettings) noticeItem {
	item := noticeItem{NoticeType: nt.name, EnableMap: map[string]bool{}}
	receivers := map[string][]string{}
	doc := map[string]any{}
	for _, be := range buildEvents {
		item.EnableMap[be.vendor] = false
		if ch == nil {
			continue
		}
		es := ch.Event(be.native)
		if es == nil {
			continue
		}
		item.EnableMap[be.vendor] = es.Enabled
		for _, r := range es.Recipients {
			if isVendorRole(r) && !slices.Contains(receivers[be.vendor], r.Code) {
				receivers[be.vendor] = append(receivers[be.vendor], r.Code)
			}
		}
	}
	if ch != nil && ch.Ext[extParamConfig] != "" {
		var extra map[string]any
		if json.Unmarshal([]byte(ch.Ext[extParamConfig]), &extra) == nil {
			doc = extra
		}
	}
	doc[receiversKey] = receivers
	b, _ := json.Marshal(doc) // maps of strings always marshal
	item.ParamConfig = string(b)
	return item
}

// decodeJSON reads one JSON object into v: malformed JSON, trailing data,
// a body that is not an object and wrong types are invalid parameters; a
// body over the limit is too large. Unknown members are ignored, as the
// vendor's Java service does.
func decodeJSON(body io.Reader, v any) error {
	return invalidParameter(jsonbody.DecodeLenient(body, v, jsonbody.Object, false))
}

// invalidParameter words a decoding error the vendor's way.
func invalidParameter(err error) error {
	if err == nil {
		return nil
	}
	return herald.Errorf(herald.ErrorCode(err), herald.ErrorField(err), "Invalid parameter: %s.", herald.ErrorMessage(err))
}
