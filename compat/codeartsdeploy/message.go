package codeartsdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/heraldhq/herald/internal/jsonbody"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// msgType is a vendor msg_type and the notifier type it uses.
type msgType struct {
	name      string // the vendor's msg_type
	notifier  string // herald notifier type
	sortIndex int    // the page's sort_index
	dedicated bool   // a notifier of the application's own
}

var msgTypes = []msgType{
	{"message", herald.NotifierInbox, -1, false},
	{"email", herald.NotifierEmail, 0, false},
	{"dingtalk", herald.NotifierDingTalk, 1, true},
	{"wechat", herald.NotifierWeCom, 2, true},
	{"lark", herald.NotifierLark, 3, true},
	{"webhook", herald.NotifierWebhook, 4, true},
}

func msgTypeByName(name string) (msgType, bool) {
	for _, mt := range msgTypes {
		if mt.name == name {
			return mt, true
		}
	}
	return msgType{}, false
}

func msgTypeByNotifier(typ string) (msgType, bool) {
	for _, mt := range msgTypes {
		if mt.notifier == typ {
			return mt, true
		}
	}
	return msgType{}, false
}

// stateEvents maps the state switches to native event types, in the order
// GET lists them.
var stateEvents = []struct{ name, native string }{
	{"success", "deploy.succeeded"},
	{"failure", "deploy.failed"},
	{"update", "app.updated"},
	{"delete", "app.deleted"},
}

func stateNative(name string) string {
	for _, e := range stateEvents {
		if e.name == name {
			return e.native
		}
	}
	return ""
}

func isStateEvent(native string) bool {
	return slices.ContainsFunc(stateEvents, func(e struct{ name, native string }) bool { return e.native == native })
}

// Message levels.
const (
	levelProject  = "project"
	levelInstance = "instance"
)

// secretMask is what GET shows for a stored secret (the page's example).
const secretMask = "xxxx"

// keepsSecret reports whether a secret_info sent leaves the stored one.
func keepsSecret(s string) bool { return s == "" || s == secretMask || s == herald.SecretMask }

// ChannelSettings.Ext keys of the vendor attributes.
const (
	extID            = "id"
	extTaskID        = "task_id"
	extUserID        = "user_id"
	extExtParams     = "ext_params"
	extSortIndex     = "sort_index"
	extCreated       = "create_time"
	extStateSort     = "state_sort"
	extBodySort      = "body_sort"
	extWechatUserIDs = "wechat_user_ids"
	// On the shared inbox and email notifiers' channels only:
	extSendURL     = "send_url"
	extMessageBody = "message_body"
	extHTTPHeaders = "http_headers"
	extAtUserIDs   = "at_user_ids"
	extAtMobiles   = "at_mobiles"
)

// taskMsgOut is a TaskMsgBody as GET answers it.
type taskMsgOut struct {
	ID            string      `json:"id"`
	AppID         string      `json:"app_id"`
	MsgType       string      `json:"msg_type"`
	TaskID        string      `json:"task_id"`
	MsgState      bool        `json:"msg_state"`
	SortIndex     int         `json:"sort_index"`
	SendURL       string      `json:"send_url"`
	SecretInfo    string      `json:"secret_info"`
	WechatUserIDs []string    `json:"wechat_user_ids"`
	AtUserIDs     []string    `json:"at_user_ids"`
	AtMobiles     []string    `json:"at_mobiles"`
	MsgLevel      string      `json:"msg_level"`
	StateSwitch   []switchOut `json:"state_switch"`
	HTTPHeaders   []string    `json:"http_headers"`
	MessageBody   string      `json:"message_body"`
	BodySwitch    []switchOut `json:"body_switch"`
	ExtParams     *string     `json:"ext_params"`
	UserID        string      `json:"user_id"`
	CreateTime    string      `json:"create_time"`
	UpdateTime    string      `json:"update_time"`
}

// switchOut is a MsgSwitchBody as GET answers it; Receivers nil is null.
type switchOut struct {
	Name      string   `json:"name"`
	Open      bool     `json:"open"`
	Sort      int      `json:"sort"`
	Receivers []string `json:"receivers"`
}

// taskMsgIn is a TaskMsgBody as POST sends it. Booleans may be JSON
// booleans or strings, so they are read raw.
type taskMsgIn struct {
	ID            *string         `json:"id"`
	AppID         *string         `json:"app_id"`
	MsgType       *string         `json:"msg_type"`
	TaskID        *string         `json:"task_id"`
	MsgState      json.RawMessage `json:"msg_state"`
	SortIndex     *int            `json:"sort_index"`
	SendURL       *string         `json:"send_url"`
	SecretInfo    *string         `json:"secret_info"`
	WechatUserIDs []string        `json:"wechat_user_ids"`
	AtUserIDs     []string        `json:"at_user_ids"`
	AtMobiles     []string        `json:"at_mobiles"`
	MsgLevel      *string         `json:"msg_level"`
	StateSwitch   []switchIn      `json:"state_switch"`
	HTTPHeaders   []string        `json:"http_headers"`
	MessageBody   *string         `json:"message_body"`
	BodySwitch    []switchIn      `json:"body_switch"`
	ExtParams     *string         `json:"ext_params"`
	UserID        *string         `json:"user_id"`
	// The server decides these; they are accepted as GET sends them.
	CreateTime *string `json:"create_time"`
	UpdateTime *string `json:"update_time"`
}

// switchIn is a MsgSwitchBody as POST sends it.
type switchIn struct {
	Name      *string         `json:"name"`
	Open      json.RawMessage `json:"open"`
	Sort      *int            `json:"sort"`
	Receivers []string        `json:"receivers"`
}

// item is one validated TaskMsgBody of a POST and the notifier it uses.
type item struct {
	f     string // the item's place in the body, for errors
	mt    msgType
	spec  herald.NotifierSpec // the notifier, ensured when the POST is written
	ch    herald.ChannelSettings
	level string
	id    string // "" when not sent
}

func invalid(field, format string, args ...any) error {
	return herald.Errorf(herald.EINVALID, field, "Invalid parameter: "+field+": "+format, args...)
}

// replace validates the POST body, writes the dedicated notifiers and
// replaces the application's channels.
func (s *Surface) replace(w http.ResponseWriter, r *http.Request, a *app) error {
	var in []taskMsgIn
	if err := decodeArray(http.MaxBytesReader(w, r.Body, maxBodyBytes), &in); err != nil {
		return err
	}
	ctx := r.Context()
	ns, err := s.projectNotifiers(ctx, a.project.ID)
	if err != nil {
		return err
	}
	items := make([]*item, 0, len(in))
	level := ""
	seen := map[string]bool{}
	for i := range in {
		it, err := s.validate(fmt.Sprintf("[%d]", i), &in[i], a, ns)
		if err != nil {
			return err
		}
		if seen[it.mt.name] {
			return invalid(fmt.Sprintf("[%d].msg_type", i), "msg_type %q appears twice; send one item per msg_type.", it.mt.name)
		}
		seen[it.mt.name] = true
		if level != "" && it.level != level {
			return invalid(fmt.Sprintf("[%d].msg_level", i), "every item must have the same msg_level (%s, not %s).", level, it.level)
		}
		level = it.level
		items = append(items, it)
	}
	// Everything is valid: write the notifiers and the settings in one
	// transaction, straight to live (the vendor has no preview).
	created := s.format(s.now())
	ref := herald.SettingsRef{Scope: a.scope(), Revision: herald.NoRevisionCheck}
	_, err = s.Settings.ApplyLive(ctx, ref, func(tx herald.SettingsTx, st *herald.Settings) error {
		ids := make([]int64, len(items))
		for i, it := range items {
			n, err := tx.EnsureNotifier(it.spec)
			if err != nil {
				return it.notifierError(err)
			}
			ids[i] = n.ID
		}
		ns, err := tx.Notifiers()
		if err != nil {
			return err
		}
		types := map[int64]string{}
		for _, n := range ns {
			types[n.ID] = n.Type
		}
		old := st.Channels
		st.Channels = nil
		for _, ch := range old {
			if _, ours := msgTypeByNotifier(types[ch.NotifierID]); !ours && types[ch.NotifierID] != "" {
				st.Channels = append(st.Channels, ch) // a channel the vendor cannot express
			}
		}
		for i, it := range items {
			ch := it.ch
			ch.NotifierID = ids[i]
			ch.Ext = cloneExt(ch.Ext)
			if prev := channelOf(old, ch.NotifierID); prev != nil {
				mergeNative(&ch, prev)
				if it.id == "" && prev.Ext[extID] != "" {
					ch.Ext[extID] = prev.Ext[extID]
				}
				if prev.Ext[extCreated] != "" {
					ch.Ext[extCreated] = prev.Ext[extCreated]
				}
			}
			if ch.Ext[extCreated] == "" {
				ch.Ext[extCreated] = created
			}
			st.Channels = append(st.Channels, ch)
		}
		if level != "" {
			st.InheritProject = level == levelProject
		}
		return nil
	})
	return err
}

// notifierError words an error ensuring the item's notifier the vendor's
// way, naming the item.
func (it *item) notifierError(err error) error {
	switch {
	case herald.ErrorCode(err) == herald.ENOTFOUND && herald.ErrorField(err) == "type":
		return invalid(it.f+".msg_type", "the project has no %s notifier; create one first.", it.mt.notifier)
	case herald.ErrorCode(err) == herald.EINVALID:
		return notifierError(it.f, err)
	}
	return err
}

func cloneExt(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func channelOf(chs []herald.ChannelSettings, notifierID int64) *herald.ChannelSettings {
	for i := range chs {
		if chs[i].NotifierID == notifierID {
			return &chs[i]
		}
	}
	return nil
}

// mergeNative keeps what the vendor cannot express from the channel's
// previous settings: other event types and recipients other than users.
func mergeNative(ch *herald.ChannelSettings, prev *herald.ChannelSettings) {
	for _, pe := range prev.Events {
		if !isStateEvent(pe.Type) {
			ch.Events = append(ch.Events, pe)
			continue
		}
		es := ch.Event(pe.Type)
		if es == nil {
			ch.Events = append(ch.Events, herald.EventSettings{Type: pe.Type})
			es = &ch.Events[len(ch.Events)-1]
		}
		for _, r := range pe.Recipients {
			if r.Type != herald.EntityUser {
				es.Recipients = append(es.Recipients, r)
			}
		}
	}
}

// validate checks one TaskMsgBody and plans its notifier and channel; it
// writes nothing.
func (s *Surface) validate(f string, in *taskMsgIn, a *app, ns []*herald.Notifier) (*item, error) {
	if in.MsgType == nil || *in.MsgType == "" {
		return nil, invalid(f+".msg_type", "msg_type is required (email, dingtalk, wechat, message, lark or webhook).")
	}
	mt, ok := msgTypeByName(*in.MsgType)
	if !ok {
		return nil, invalid(f+".msg_type", "%q is not one of email, dingtalk, wechat, message, lark, webhook.", *in.MsgType)
	}
	it := &item{f: f, mt: mt, level: levelInstance, ch: herald.ChannelSettings{Ext: map[string]string{}}}
	ext := it.ch.Ext
	if in.AppID != nil && *in.AppID != "" && *in.AppID != a.src.ExternalID {
		return nil, invalid(f+".app_id", "app_id %q is not the application of the path.", *in.AppID)
	}
	for _, id := range []struct {
		field, key string
		v          *string
	}{{".id", extID, in.ID}, {".task_id", extTaskID, in.TaskID}} {
		if id.v == nil || *id.v == "" {
			continue
		}
		if !herald.IsExternalID32(*id.v) {
			return nil, invalid(f+id.field, "must be exactly 32 letters or digits.")
		}
		ext[id.key] = *id.v
	}
	it.id = ext[extID]
	if in.UserID != nil && *in.UserID != "" {
		if err := checkText(f+".user_id", *in.UserID, 128); err != nil {
			return nil, err
		}
		ext[extUserID] = *in.UserID
	}
	if in.ExtParams != nil {
		if err := checkText(f+".ext_params", *in.ExtParams, 4000); err != nil {
			return nil, err
		}
		ext[extExtParams] = *in.ExtParams
	}
	for _, t := range []*string{in.CreateTime, in.UpdateTime} {
		if t != nil && len(*t) > 64 {
			return nil, invalid(f+".create_time", "create_time and update_time are at most 64 characters.")
		}
	}
	on, err := parseBool(f+".msg_state", in.MsgState)
	if err != nil {
		return nil, err
	}
	it.ch.Enabled = on != nil && *on
	if in.SortIndex != nil {
		if *in.SortIndex < -1 || *in.SortIndex > 4 {
			return nil, invalid(f+".sort_index", "must be -1 to 4.")
		}
		ext[extSortIndex] = fmt.Sprint(*in.SortIndex)
	}
	if in.MsgLevel != nil && *in.MsgLevel != "" {
		if *in.MsgLevel != levelProject && *in.MsgLevel != levelInstance {
			return nil, invalid(f+".msg_level", "must be project or instance, not %q.", *in.MsgLevel)
		}
		it.level = *in.MsgLevel
	}

	// state_switch: the four events, their switches and user receivers.
	sorts := map[string]int{}
	for j, sw := range in.StateSwitch {
		sf := fmt.Sprintf("%s.state_switch[%d]", f, j)
		if sw.Name == nil || stateNative(*sw.Name) == "" {
			return nil, invalid(sf+".name", "must be success, failure, update or delete.")
		}
		native := stateNative(*sw.Name)
		if it.ch.Event(native) != nil {
			return nil, invalid(sf+".name", "%q appears twice.", *sw.Name)
		}
		open, err := parseBool(sf+".open", sw.Open)
		if err != nil {
			return nil, err
		}
		es := herald.EventSettings{Type: native, Enabled: open != nil && *open, Recipients: []herald.Recipient{}}
		if len(sw.Receivers) > 1000 {
			return nil, invalid(sf+".receivers", "at most 1000 receivers.")
		}
		for k, code := range sw.Receivers {
			rc := herald.Recipient{Type: herald.EntityUser, Code: code}
			if err := rc.Validate(fmt.Sprintf("%s.receivers[%d]", sf, k)); err != nil {
				return nil, invalid(fmt.Sprintf("%s.receivers[%d]", sf, k), "a receiver must be a user id of 1-128 letters, digits or _.@/+-.")
			}
			if !slices.Contains(es.Recipients, rc) {
				es.Recipients = append(es.Recipients, rc)
			}
		}
		if sw.Sort != nil {
			sorts[*sw.Name] = *sw.Sort
		}
		it.ch.Events = append(it.ch.Events, es)
	}
	if len(sorts) > 0 {
		ext[extStateSort] = mustJSON(sorts)
	}

	// body_switch: which fields the message shows.
	bodySorts := map[string]int{}
	for j, sw := range in.BodySwitch {
		sf := fmt.Sprintf("%s.body_switch[%d]", f, j)
		if sw.Name == nil || *sw.Name == "" {
			return nil, invalid(sf+".name", "name is required.")
		}
		if len(sw.Receivers) > 0 {
			return nil, invalid(sf+".receivers", "receivers apply to state_switch only.")
		}
		open, err := parseBool(sf+".open", sw.Open)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(it.ch.BodyFields, func(b herald.BodyField) bool { return b.Name == *sw.Name }) {
			return nil, invalid(sf+".name", "%q appears twice.", *sw.Name)
		}
		it.ch.BodyFields = append(it.ch.BodyFields, herald.BodyField{Name: *sw.Name, Shown: open != nil && *open})
		if sw.Sort != nil {
			bodySorts[*sw.Name] = *sw.Sort
		}
	}
	if len(bodySorts) > 0 {
		ext[extBodySort] = mustJSON(bodySorts)
	}

	headers, err := parseHeaders(f+".http_headers", in.HTTPHeaders)
	if err != nil {
		return nil, err
	}
	for _, l := range []struct {
		field string
		v     []string
	}{{".wechat_user_ids", in.WechatUserIDs}, {".at_user_ids", in.AtUserIDs}, {".at_mobiles", in.AtMobiles}} {
		if len(l.v) > 100 {
			return nil, invalid(f+l.field, "at most 100 entries.")
		}
		for _, v := range l.v {
			if v == "" || utf8.RuneCountInString(v) > 128 || strings.ContainsAny(v, "\r\n") {
				return nil, invalid(f+l.field, "entries must be 1-128 characters on one line.")
			}
		}
	}
	if len(in.WechatUserIDs) > 0 {
		ext[extWechatUserIDs] = mustJSON(in.WechatUserIDs)
	}
	sendURL, body := deref(in.SendURL), deref(in.MessageBody)
	secret := deref(in.SecretInfo)

	if !mt.dedicated {
		// The shared notifier is not this surface's to change: the
		// endpoint attributes stay vendor attributes of the channel.
		if err := checkText(f+".send_url", sendURL, 2000); err != nil {
			return nil, err
		}
		if err := checkText(f+".message_body", body, 4000); err != nil {
			return nil, err
		}
		for k, v := range map[string]string{extSendURL: sendURL, extMessageBody: body} {
			if v != "" {
				ext[k] = v
			}
		}
		for k, v := range map[string][]string{extHTTPHeaders: in.HTTPHeaders, extAtUserIDs: in.AtUserIDs, extAtMobiles: in.AtMobiles} {
			if len(v) > 0 {
				ext[k] = mustJSON(v)
			}
		}
		if !keepsSecret(secret) {
			return nil, invalid(f+".secret_info", "a %s item takes no secret.", mt.name)
		}
		// The project's shared notifier of the type: one the rule cannot
		// create when missing (any but the inbox) must exist.
		it.spec = herald.NotifierSpec{ProjectID: a.project.ID, Type: mt.notifier}
		if it.spec.Match(ns) == nil {
			if _, err := it.spec.New(); err != nil {
				return nil, it.notifierError(err)
			}
		}
		return it, s.checkExt(f, it)
	}

	// A dedicated notifier: found by name, or new, and pointed where the
	// item says.
	name := a.src.Name + " " + mt.name
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200-len(mt.name)-1]) + " " + mt.name
	}
	atMobiles, atUserIDs := slices.Clone(in.AtMobiles), slices.Clone(in.AtUserIDs)
	for _, id := range in.WechatUserIDs {
		if !slices.Contains(atUserIDs, id) {
			atUserIDs = append(atUserIDs, id)
		}
	}
	it.spec = herald.NotifierSpec{ProjectID: a.project.ID, Type: mt.notifier, Name: name, Configure: func(n *herald.Notifier) {
		n.Config.URL, n.Config.MessageBody, n.Config.HTTPHeaders = sendURL, body, headers
		n.Config.AtMobiles, n.Config.AtUserIDs = slices.Clone(atMobiles), slices.Clone(atUserIDs)
		n.Secret = ""
		if !keepsSecret(secret) {
			n.Secret = secret
		}
	}}
	// Check the notifier as it will be written, before anything is.
	if found := it.spec.Match(ns); found != nil {
		_, _, err = it.spec.Reconfigure(found)
	} else {
		_, err = it.spec.New()
	}
	if err != nil {
		return nil, notifierError(f, err)
	}
	return it, s.checkExt(f, it)
}

// checkExt validates the planned channel with the domain's rules, naming
// the item at fault.
func (s *Surface) checkExt(f string, it *item) error {
	ch := it.ch
	ch.NotifierID = 1 // not chosen yet for a new notifier
	st := herald.Settings{Channels: []herald.ChannelSettings{ch}}
	if err := st.Validate(); err != nil {
		return invalid(f, "%s", strings.TrimPrefix(herald.ErrorMessage(err), "channels[0]"))
	}
	return nil
}

// notifierError names the vendor field behind a notifier validation error.
func notifierError(f string, err error) error {
	field := map[string]string{
		"config.url": "send_url", "config.http_headers": "http_headers", "config.message_body": "message_body",
		"config.at_mobiles": "at_mobiles", "secret": "secret_info", "name": "msg_type",
	}[herald.ErrorField(err)]
	if field == "" {
		field = "msg_type"
	}
	msg := herald.ErrorMessage(err)
	msg = strings.ReplaceAll(msg, "config.url", "send_url")
	return invalid(f+"."+field, "%s.", strings.TrimSuffix(msg, "."))
}

// parseHeaders reads "Key: Value" strings into a map.
func parseHeaders(field string, lines []string) (map[string]string, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	if len(lines) > 50 {
		return nil, invalid(field, "at most 50 headers.")
	}
	out := map[string]string{}
	for i, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "a header must be \"Key: Value\", not %q.", l)
		}
		if _, dup := out[k]; dup {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "header %q appears twice.", k)
		}
		out[k] = v
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return invalid(field, "must be text of at most %d characters.", max)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps and slices of strings and ints always marshal
	}
	return string(b)
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
		return nil, invalid(field, "must be true or false (a boolean or the string).")
	}
	return &v, nil
}

// list renders the application's live channels the vendor can express.
func (s *Surface) list(ctx context.Context, a *app) ([]taskMsgOut, error) {
	live, err := s.Settings.FindSettings(ctx, a.scope(), herald.VersionLive)
	if err != nil {
		return nil, err
	}
	ns, err := s.projectNotifiers(ctx, a.project.ID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*herald.Notifier{}
	for _, n := range ns {
		byID[n.ID] = n
	}
	out := []taskMsgOut{}
	for i := range live.Channels {
		ch := &live.Channels[i]
		n := byID[ch.NotifierID]
		if n == nil {
			continue // deleted since
		}
		mt, ok := msgTypeByNotifier(n.Type)
		if !ok {
			continue
		}
		out = append(out, s.render(a, live, ch, n, mt))
	}
	return out, nil
}

// render builds one TaskMsgBody from a channel and its notifier.
func (s *Surface) render(a *app, live *herald.Settings, ch *herald.ChannelSettings, n *herald.Notifier, mt msgType) taskMsgOut {
	ext := ch.Ext
	o := taskMsgOut{
		ID: ext[extID], AppID: a.src.ExternalID, MsgType: mt.name, TaskID: ext[extTaskID], MsgState: ch.Enabled,
		SortIndex: mt.sortIndex, MsgLevel: levelInstance, UserID: ext[extUserID],
		WechatUserIDs: []string{}, AtUserIDs: []string{}, AtMobiles: []string{}, HTTPHeaders: []string{},
		StateSwitch: []switchOut{}, BodySwitch: []switchOut{},
		CreateTime: ext[extCreated], UpdateTime: s.format(live.UpdatedAt),
	}
	if o.ID == "" {
		sum := sha256.Sum256(fmt.Appendf(nil, "codeartsdeploy/%d/%d", a.src.ID, n.ID))
		o.ID = hex.EncodeToString(sum[:16])
	}
	if o.CreateTime == "" {
		o.CreateTime = s.format(n.CreatedAt)
	}
	if live.InheritProject {
		o.MsgLevel = levelProject
	}
	if v, ok := ext[extSortIndex]; ok {
		fmt.Sscan(v, &o.SortIndex)
	}
	if v, ok := ext[extExtParams]; ok {
		o.ExtParams = &v
	}
	readJSON(ext[extWechatUserIDs], &o.WechatUserIDs)
	if mt.dedicated {
		// Shown redacted: robot tokens and header values masked; a POST
		// that sends them back keeps the stored ones (the store's rule).
		n = n.Redacted()
		o.SendURL, o.MessageBody = n.Config.URL, n.Config.MessageBody
		if n.Secret != "" {
			o.SecretInfo = secretMask
		}
		for _, id := range n.Config.AtUserIDs {
			if !slices.Contains(o.WechatUserIDs, id) {
				o.AtUserIDs = append(o.AtUserIDs, id)
			}
		}
		o.AtMobiles = append(o.AtMobiles, n.Config.AtMobiles...)
		keys := make([]string, 0, len(n.Config.HTTPHeaders))
		for k := range n.Config.HTTPHeaders {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o.HTTPHeaders = append(o.HTTPHeaders, k+": "+n.Config.HTTPHeaders[k])
		}
	} else {
		o.SendURL, o.MessageBody = ext[extSendURL], ext[extMessageBody]
		readJSON(ext[extHTTPHeaders], &o.HTTPHeaders)
		readJSON(ext[extAtUserIDs], &o.AtUserIDs)
		readJSON(ext[extAtMobiles], &o.AtMobiles)
	}
	sorts, bodySorts := map[string]int{}, map[string]int{}
	readJSON(ext[extStateSort], &sorts)
	readJSON(ext[extBodySort], &bodySorts)
	for _, se := range stateEvents {
		sw := switchOut{Name: se.name, Sort: sorts[se.name]}
		if es := ch.Event(se.native); es != nil {
			sw.Open = es.Enabled
			for _, r := range es.Recipients {
				if r.Type == herald.EntityUser {
					sw.Receivers = append(sw.Receivers, r.Code)
				}
			}
		}
		o.StateSwitch = append(o.StateSwitch, sw)
	}
	for _, b := range ch.BodyFields {
		o.BodySwitch = append(o.BodySwitch, switchOut{Name: b.Name, Open: b.Shown, Sort: bodySorts[b.Name]})
	}
	return o
}

// readJSON decodes a stored vendor attribute; a missing or unreadable one
// leaves v as it is.
func readJSON(s string, v any) {
	if s != "" {
		_ = json.Unmarshal([]byte(s), v)
	}
}

// decodeArray reads one JSON array into v: malformed JSON, trailing data,
// a body that is not an array and wrong types are invalid parameters; a
// body over the limit is too large. Unknown members are ignored, as the
// vendor's Java service does.
func decodeArray(body io.Reader, v any) error {
	return invalidParameter(jsonbody.DecodeLenient(body, v, jsonbody.Array, false))
}

// invalidParameter words a decoding error the vendor's way.
func invalidParameter(err error) error {
	if err == nil {
		return nil
	}
	return herald.Errorf(herald.ErrorCode(err), herald.ErrorField(err), "Invalid parameter: %s.", herald.ErrorMessage(err))
}
