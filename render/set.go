package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
)

// Set is a project's templates, parsed once for many renders: the engine
// parses the live templates once per fan-out job. A template whose part
// does not parse is kept, failing each render that picks it (a stored
// template was checked when it was saved and deployed; this is the guard
// for one that no longer parses).
type Set struct {
	byKey map[herald.TemplateKey]*compiledTemplate
}

// compiledTemplate is one template, its parts parsed.
type compiledTemplate struct {
	t     *herald.Template
	parts map[string]*compiled
	// errs are the parts that do not parse.
	errs map[string]error
	// recipient: a part names recipient, so each recipient gets a
	// rendering of their own.
	recipient bool
	// native marks a built-in template, which nativeRender renders.
	native bool
}

// NewSet parses templates for rendering.
func NewSet(ts []herald.Template) *Set { return newSetOf(ts) }

func newSetOf(ts []herald.Template) *Set {
	s := &Set{byKey: make(map[herald.TemplateKey]*compiledTemplate, len(ts))}
	for i := range ts {
		t := ts[i]
		ct := &compiledTemplate{t: &t, parts: map[string]*compiled{}, errs: map[string]error{}}
		for _, p := range herald.TemplatePartOrder {
			src := t.Part(p)
			if src == "" {
				continue
			}
			c, err := parse(src)
			if err != nil {
				ct.errs[p] = err
				continue
			}
			ct.parts[p] = c
			ct.recipient = ct.recipient || strings.Contains(src, "recipient")
		}
		s.byKey[t.Key()] = ct
	}
	return s
}

// find returns the template for an event type on a channel in a locale:
// its own, else the "*" one, else nil.
func (s *Set) find(eventType, channel, locale string) *compiledTemplate {
	if s == nil {
		return nil
	}
	if ct, ok := s.byKey[herald.TemplateKey{EventType: eventType, Channel: channel, Locale: locale}]; ok {
		return ct
	}
	return s.byKey[herald.TemplateKey{EventType: herald.AnyEventType, Channel: channel, Locale: locale}]
}

// Has reports whether the set has a template for the event type on the
// channel in the locale (its own or a "*" one).
func (s *Set) Has(eventType, channel, locale string) bool {
	return s.find(eventType, channel, locale) != nil
}

// localeOf is the locale a message renders in: zh or en.
func localeOf(l string) string {
	if l == herald.LocaleZH {
		return l
	}
	return herald.LocaleEN
}

// pick returns the template a message renders with.
func pick(in Input, channel string) *compiledTemplate {
	locale := localeOf(in.Locale)
	if ct := in.Templates.find(in.Event.Type, channel, locale); ct != nil {
		return ct
	}
	if ct := builtin.find(herald.AnyEventType, channel, locale); ct != nil {
		return ct
	}
	return builtin.find(herald.AnyEventType, "", locale)
}

// NeedsRecipient reports whether the message of in depends on its
// recipient (its template names recipient): a sender of one message to
// many renders it once per locale otherwise.
func NeedsRecipient(in Input) bool {
	typ := ""
	if in.Notifier != nil {
		typ = in.Notifier.Type
	}
	return pick(in, typ).recipient
}

// partError is a part that failed, for a check to name its field.
type partError struct {
	part string
	err  error
}

func (e *partError) Error() string { return e.part + ": " + e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

// render renders each part the template sets, in order (a part sees
// those before it as message.<part>), skipping the body when skipBody.
func (ct *compiledTemplate) render(d *Data, in Input, skipBody bool) (channel.Message, error) {
	var m channel.Message
	fail := func(part string, err error) (channel.Message, error) {
		return m, fmt.Errorf("render: the %s template of %s (%s): %w", ct.t.Channel, ct.t.EventType, ct.t.Locale, &partError{part, err})
	}
	for _, p := range herald.TemplatePartOrder {
		if err := ct.errs[p]; err != nil {
			return fail(p, err)
		}
	}
	if ct.native {
		if m, ok := nativeRender(ct.t.Channel, ct.t.Locale, d, in, skipBody); ok {
			return m, nil
		}
	}
	b := bindingsOf(d, in)
	msg := map[string]any{}
	b["message"] = msg
	for _, p := range herald.TemplatePartOrder {
		c := ct.parts[p]
		if c == nil || (p == herald.PartBody && skipBody) {
			continue
		}
		vars := b
		if p == herald.PartHTML {
			vars = escapeHTML(b).(map[string]any)
		}
		out, err := c.run(vars, in.Limits, nil)
		if err != nil {
			return fail(p, err)
		}
		switch p {
		case herald.PartSubject:
			m.Subject = out
		case herald.PartText:
			m.Text = out
		case herald.PartHTML:
			m.HTML = out
		case herald.PartMarkdown:
			m.Markdown = out
		case herald.PartCard:
			if err := checkJSON(out, true); err != nil {
				return fail(p, err)
			}
			m.Card = json.RawMessage(out)
		case herald.PartBody:
			if err := checkJSON(out, false); err != nil {
				return fail(p, err)
			}
			m.Body = []byte(out)
		}
		msg[p] = out
	}
	return m, nil
}

// checkJSON insists that a JSON part renders JSON (a card: an object).
func checkJSON(s string, object bool) error {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return &SyntaxError{Msg: "does not render valid JSON (insert values with the json filter: {{ title | json }}): " + err.Error()}
	}
	if _, ok := v.(map[string]any); object && !ok {
		return &SyntaxError{Msg: "does not render a JSON object"}
	}
	return nil
}

// bindingsOf is what a template sees.
func bindingsOf(d *Data, in Input) map[string]any {
	fields := make([]any, len(d.Fields))
	for i, f := range d.Fields {
		fields[i] = map[string]any{"name": f.Name, "value": f.Value}
	}
	src := map[string]any{"id": int64(0), "name": d.Source, "kind": d.SourceKind, "external_id": d.ExternalID}
	if in.Source != nil {
		src["id"] = in.Source.ID
	}
	var recipient any
	if u := in.Recipient; u != nil {
		recipient = map[string]any{"code": u.Code, "name": u.Name, "locale": localeOf(u.Locale)}
	}
	var payload any
	if d.Payload != nil {
		payload = d.Payload
	}
	return map[string]any{
		"title": d.Title, "type": d.Type, "event_id": d.EventID, "actor": d.Actor,
		"time": d.Time, "timestamp": in.Event.CreatedAt.UTC().Format(time.RFC3339), "locale": localeOf(in.Locale),
		"source": src, "fields": fields, "roles": d.Roles, "payload": payload, "recipient": recipient,
	}
}

// escapeHTML copies v with every string HTML-escaped.
func escapeHTML(v any) any {
	switch v := v.(type) {
	case string:
		return html.EscapeString(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = escapeHTML(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = escapeHTML(x)
		}
		return out
	case map[string][]string:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = escapeHTML(x)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = html.EscapeString(x)
		}
		return out
	}
	return v
}

// checkBudget is how long checking a whole set may take: each part has
// its render limits, and together they have this.
const checkBudget = 5 * time.Second

// Sample data a template is checked against.
var (
	sampleSource = &herald.Source{ID: 1, Kind: herald.SourceBuildJob, ExternalID: "0123456789abcdef0123456789abcdef", Name: "payments-build"}
	sampleTime   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func sampleEvent(typ string) *herald.Event {
	if typ == herald.AnyEventType || typ == "" {
		typ = "build.failed"
	}
	return &herald.Event{ID: 1, SourceID: sampleSource.ID, Type: typ, Actor: "ann", CreatedAt: sampleTime,
		Roles:   map[string][]string{"creator": {"ann"}, "followers": {"bob", "li"}},
		Payload: json.RawMessage(`{"build":"#42","branch":"main","duration_s":93}`)}
}

// perRecipient reports a channel that sends to each person.
func perRecipient(channel string) bool {
	return channel == herald.NotifierEmail || channel == herald.NotifierSMS || channel == herald.NotifierInbox
}

// CheckTemplates checks templates as the engine will use them: every part
// must parse, and the template must render a sample event (of its event
// type, for a sample recipient of its locale) within the render limits,
// JSON parts as JSON. Every fault is reported at once (herald.FieldErrors),
// on the part's field (templates[i].html) with its line and column.
func CheckTemplates(ts []herald.Template) error {
	var errs herald.FieldErrors
	deadline := time.Now().Add(checkBudget)
	for i := range ts {
		t := &ts[i]
		f := fmt.Sprintf("templates[%d]", i)
		ct := newSetOf([]herald.Template{*t}).byKey[t.Key()]
		bad := false
		for _, p := range herald.TemplatePartOrder {
			if err := ct.errs[p]; err != nil {
				errs = append(errs, herald.Errorf(herald.EINVALID, f+"."+p, "%s", err.Error()))
				bad = true
			}
		}
		if bad {
			continue
		}
		left := time.Until(deadline)
		if left <= 0 {
			errs = append(errs, herald.Errorf(herald.EINVALID, f, "not checked: the templates took longer than %s to check together", checkBudget))
			continue
		}
		in := Input{Event: sampleEvent(t.EventType), Source: sampleSource, Notifier: &herald.Notifier{Type: t.Channel}, Locale: t.Locale,
			Limits: Limits{Timeout: min(DefaultLimits.Timeout, left)}}
		if perRecipient(t.Channel) {
			in.Recipient = &herald.User{ID: 1, Code: "ann", Name: "Ann", Locale: t.Locale}
		}
		d, err := NewData(in)
		if err != nil {
			return err
		}
		if _, err := ct.render(d, in, false); err != nil {
			var pe *partError
			if errors.As(err, &pe) {
				errs = append(errs, herald.Errorf(herald.EINVALID, f+"."+pe.part, "%s", pe.err.Error()))
				continue
			}
			return err
		}
	}
	return errs.Err()
}
