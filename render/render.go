// Package render turns an event into the message one channel sends: title
// and text in the recipient's language (English or Chinese), markdown for
// robots, HTML for email, and a webhook's JSON body from the notifier's
// own template when it has one. The shown-body-field switches of the
// settings decide which payload fields appear.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
)

// Input is what a message is rendered from.
type Input struct {
	Event    *herald.Event
	Source   *herald.Source
	Notifier *herald.Notifier
	// BodyFields are the channel's shown-body-field switches.
	BodyFields []herald.BodyField
	// Locale is the recipient's (en when empty or unknown).
	Locale string
	// TimeZone is the recipient's IANA time zone, which times are written
	// in ("" is UTC).
	TimeZone string
	// Templates are the project's templates (the engine passes the live
	// ones); nil, or a set without one for the event, renders with the
	// built-in templates.
	Templates *Set
	// Recipient is the user a per-user message (email, SMS, inbox) is
	// for; nil for a post to many (robots, webhooks). Templates see it as
	// recipient.
	Recipient *herald.User
	// Limits bound the render of each part (zero: DefaultLimits).
	Limits Limits
}

// Field is one shown payload field.
type Field struct {
	Name  string
	Value string
}

// Data is what every template sees.
type Data struct {
	Title      string
	Type       string
	Source     string
	SourceKind string
	ExternalID string
	Actor      string
	Fields     []Field
	Time       string
	EventID    int64
	Roles      map[string][]string
	Payload    map[string]any
}

var titles = map[string][2]string{
	"build.succeeded":  {"Build succeeded", "构建成功"},
	"build.failed":     {"Build failed", "构建失败"},
	"job.updated":      {"Build job updated", "构建任务已更新"},
	"job.deleted":      {"Build job deleted", "构建任务已删除"},
	"job.disabled":     {"Build job disabled", "构建任务已禁用"},
	"deploy.succeeded": {"Deployment succeeded", "部署成功"},
	"deploy.failed":    {"Deployment failed", "部署失败"},
	"app.updated":      {"Application updated", "应用已更新"},
	"app.deleted":      {"Application deleted", "应用已删除"},
	"record.added":     {"Record added", "记录已添加"},
	"record.edited":    {"Record edited", "记录已编辑"},
	"comment.added":    {"Comment added", "新评论"},
	"status.changed":   {"Status changed", "状态已变更"},
	"file.imported":    {"File imported", "文件已导入"},
}

// Title is the event type's title in locale.
func Title(eventType, locale string) string {
	t, ok := titles[eventType]
	if !ok {
		return eventType
	}
	if locale == herald.LocaleZH {
		return t[1]
	}
	return t[0]
}

// funcs are available to a notifier's own templates (a webhook's
// message_body, Go text/template).
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// NewData builds the template data of an input.
func NewData(in Input) (*Data, error) {
	locale := in.Locale
	if locale != herald.LocaleZH {
		locale = herald.LocaleEN
	}
	var payload map[string]any
	if len(in.Event.Payload) > 0 {
		if err := json.Unmarshal(in.Event.Payload, &payload); err != nil {
			return nil, fmt.Errorf("render: payload: %w", err)
		}
	}
	d := &Data{
		Title: Title(in.Event.Type, locale), Type: in.Event.Type, Actor: in.Event.Actor,
		Time: FormatTime(in.Event.CreatedAt, in.TimeZone, locale), EventID: in.Event.ID,
		Roles: in.Event.Roles, Payload: payload,
	}
	if in.Source != nil {
		d.Source, d.SourceKind, d.ExternalID = in.Source.Name, in.Source.Kind, in.Source.ExternalID
	}
	d.Fields = shownFields(payload, in.BodyFields)
	return d, nil
}

// shownFields lists payload fields by name, leaving out those switched off.
func shownFields(payload map[string]any, switches []herald.BodyField) []Field {
	hidden := map[string]bool{}
	for _, b := range switches {
		if !b.Shown {
			hidden[b.Name] = true
		}
	}
	var out []Field
	for k, v := range payload {
		if hidden[k] {
			continue
		}
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		out = append(out, Field{Name: k, Value: s})
	}
	slices.SortFunc(out, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Message renders the message for the input's notifier type: with the
// project's template for the event's type, channel and locale when
// in.Templates has one, else with the built-in template. A webhook
// notifier's own message_body (Go text/template) makes its body.
func Message(in Input) (channel.Message, error) {
	d, err := NewData(in)
	if err != nil {
		return channel.Message{}, err
	}
	typ, cfg := "", herald.NotifierConfig{}
	if in.Notifier != nil {
		typ, cfg = in.Notifier.Type, in.Notifier.Config
	}
	ct := pick(in, typ)
	skipBody := typ == herald.NotifierWebhook && cfg.MessageBody != ""
	m, err := ct.render(d, in, skipBody)
	if err != nil {
		return m, err
	}
	if skipBody {
		// The notifier's http_headers are not copied into the message:
		// the sender reads them from the notifier at every attempt, so a
		// corrected header reaches a retried delivery, and header secrets
		// (an API key) are not stored with every message.
		tmpl, err := template.New("body").Funcs(funcs).Parse(cfg.MessageBody)
		if err != nil {
			return m, fmt.Errorf("render: message_body: %w", err)
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, d); err != nil {
			return m, fmt.Errorf("render: message_body: %w", err)
		}
		m.Body = b.Bytes()
	}
	return m, nil
}
