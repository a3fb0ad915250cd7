package herald

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// AnyEventType, as a template's event type, makes the template serve every
// event type that has no template of its own on that channel and locale.
const AnyEventType = "*"

// Template parts: the pieces of a message a template writes. Which parts
// a channel takes is TemplateParts's.
const (
	PartSubject  = "subject"  // email subject, inbox title, robots' title
	PartText     = "text"     // plain text: email text part, SMS, inbox body, robots' text
	PartHTML     = "html"     // email HTML part
	PartMarkdown = "markdown" // DingTalk and WeCom markdown
	PartCard     = "card"     // a Feishu/Lark card (JSON), shown by DingTalk and WeCom too
	PartBody     = "body"     // a webhook's JSON body
)

// TemplatePartOrder is the order parts render in: a part sees the parts
// before it as message.<part> (a webhook body can embed the text).
var TemplatePartOrder = []string{PartSubject, PartText, PartHTML, PartMarkdown, PartCard, PartBody}

// TemplateParts lists, per channel (notifier type), the parts a template
// may set, and the groups of which it must set at least one part each:
// a message the channel cannot send is refused when it is saved, not when
// an event arrives.
var TemplateParts = map[string]struct {
	Allowed  []string
	Required [][]string
}{
	NotifierEmail:    {[]string{PartSubject, PartText, PartHTML}, [][]string{{PartSubject}, {PartText, PartHTML}}},
	NotifierSMS:      {[]string{PartSubject, PartText}, [][]string{{PartText}}},
	NotifierInbox:    {[]string{PartSubject, PartText}, [][]string{{PartSubject}, {PartText}}},
	NotifierDingTalk: {[]string{PartSubject, PartText, PartMarkdown, PartCard}, [][]string{{PartText, PartMarkdown, PartCard}}},
	NotifierWeCom:    {[]string{PartSubject, PartText, PartMarkdown, PartCard}, [][]string{{PartText, PartMarkdown, PartCard}}},
	NotifierLark:     {[]string{PartSubject, PartText, PartCard}, [][]string{{PartText, PartCard}}},
	NotifierWebhook:  {[]string{PartSubject, PartText, PartBody}, [][]string{{PartBody}}},
}

// Template is a project's message template for one event type on one
// channel in one locale, written in Liquid. Each part it sets is rendered
// into that part of the message; a part it leaves empty stays empty (the
// built-in templates, GET …/templates/defaults, are the starting point to
// copy). In the html part every value is HTML-escaped before the template
// sees it; a JSON part (card, body) inserts values with the json filter.
type Template struct {
	// EventType is a native event type, a custom one (custom.*), or
	// AnyEventType.
	EventType string `json:"event_type"`
	// Channel is the notifier type the template is for.
	Channel string `json:"channel"`
	// Locale is en or zh: the template serves recipients of that locale.
	Locale   string `json:"locale"`
	Subject  string `json:"subject,omitempty"`
	Text     string `json:"text,omitempty"`
	HTML     string `json:"html,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	Card     string `json:"card,omitempty"`
	Body     string `json:"body,omitempty"`
}

// Part returns the source of a part (PartSubject …).
func (t *Template) Part(name string) string {
	switch name {
	case PartSubject:
		return t.Subject
	case PartText:
		return t.Text
	case PartHTML:
		return t.HTML
	case PartMarkdown:
		return t.Markdown
	case PartCard:
		return t.Card
	case PartBody:
		return t.Body
	}
	return ""
}

// Key names the slot a template fills.
func (t *Template) Key() TemplateKey {
	return TemplateKey{EventType: t.EventType, Channel: t.Channel, Locale: t.Locale}
}

// TemplateKey is an event type × channel × locale.
type TemplateKey struct {
	EventType, Channel, Locale string
}

// Bounds on templates.
const (
	// MaxTemplates is the most templates a project holds.
	MaxTemplates = 500
	// MaxTemplatePart is the longest part's source, in characters.
	MaxTemplatePart = 64 << 10
)

// validate checks one template's shape (not its Liquid: the template
// service parses and renders it); field is its place in the document.
func (t *Template) validate(field string) FieldErrors {
	var errs FieldErrors
	if t.EventType != AnyEventType && !IsEventType(t.EventType) {
		errs = append(errs, Errorf(EINVALID, field+".event_type", "event_type must be a known event type, custom.<name>, or * (any), not %q", t.EventType))
	}
	parts, ok := TemplateParts[t.Channel]
	if !ok {
		errs = append(errs, Errorf(EINVALID, field+".channel", "channel must be one of %s", strings.Join(NotifierTypes, ", ")))
	}
	if t.Locale != LocaleEN && t.Locale != LocaleZH {
		errs = append(errs, Errorf(EINVALID, field+".locale", "locale must be en or zh"))
	}
	for _, p := range TemplatePartOrder {
		src := t.Part(p)
		if src == "" {
			continue
		}
		pf := field + "." + p
		if err := ValidText(pf, src); err != nil {
			errs = append(errs, err.(*Error))
			continue
		}
		if n := len([]rune(src)); n > MaxTemplatePart {
			errs = append(errs, Errorf(EINVALID, pf, "%s is %d characters long; at most %d", pf, n, MaxTemplatePart))
		}
		if ok && !slices.Contains(parts.Allowed, p) {
			errs = append(errs, Errorf(EINVALID, pf, "a %s template has no %s part (it takes %s)", t.Channel, p, strings.Join(parts.Allowed, ", ")))
		}
	}
	if ok {
		for _, group := range parts.Required {
			if !slices.ContainsFunc(group, func(p string) bool { return t.Part(p) != "" }) {
				errs = append(errs, Errorf(EINVALID, field+"."+group[0], "a %s template needs %s", t.Channel, strings.Join(group, " or ")))
			}
		}
	}
	return errs
}

// TemplateSet is a project's templates. Like settings, it has a draft and
// a live version sharing one revision counter, which grows on every write
// to the draft; deploy copies the draft to live, revert the live back to
// the draft. The delivery engine renders with the live version, and with
// the built-in templates where it has none.
type TemplateSet struct {
	ProjectID int64  `json:"project_id"`
	Version   string `json:"version"`
	// Revision is the draft's revision; on the live version it is the
	// revision that was deployed. A project whose templates were never
	// written is at revision 0.
	Revision  int64      `json:"revision"`
	Templates []Template `json:"templates"`
	UpdatedAt time.Time  `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
}

// Validate checks every template's shape and that no slot is filled
// twice, reporting every fault at once (FieldErrors), and fills an empty
// list so that the set reads back as written.
func (s *TemplateSet) Validate() error {
	if s.Templates == nil {
		s.Templates = []Template{}
	}
	if len(s.Templates) > MaxTemplates {
		return Errorf(EINVALID, "templates", "at most %d templates", MaxTemplates)
	}
	var errs FieldErrors
	seen := map[TemplateKey]int{}
	for i := range s.Templates {
		t := &s.Templates[i]
		f := indexField("templates", i)
		errs = append(errs, t.validate(f)...)
		if j, dup := seen[t.Key()]; dup {
			errs = append(errs, Errorf(EINVALID, f, "templates[%d] is already the %s template of %s in %s", j, t.Channel, t.EventType, t.Locale))
		} else {
			seen[t.Key()] = i
		}
	}
	return errs.Err()
}

// Find returns the set's template for an event type on a channel in a
// locale: the event type's own, else the AnyEventType one, else nil.
func (s *TemplateSet) Find(eventType, channel, locale string) *Template {
	var any *Template
	for i := range s.Templates {
		t := &s.Templates[i]
		if t.Channel != channel || t.Locale != locale {
			continue
		}
		switch t.EventType {
		case eventType:
			return t
		case AnyEventType:
			any = t
		}
	}
	return any
}

// TemplateSetChange is one entry of the templates' history.
type TemplateSetChange struct {
	ID       int64        `json:"id"`
	Revision int64        `json:"revision"`
	Action   string       `json:"action"` // update, deploy, revert
	Actor    string       `json:"actor"`
	At       time.Time    `json:"at"`
	Set      *TemplateSet `json:"templates"`
}

// TemplatePreviewRequest asks to render a template for one recipient.
type TemplatePreviewRequest struct {
	ProjectID int64
	// Template is the template to render (it need not be saved); nil
	// renders what the engine would: the Version's template for the
	// event's type, Channel and Locale, else the built-in one.
	Template *Template
	// Version is draft (the default) or live, when Template is nil.
	Version string
	// Channel is the notifier type (Template's when it is given).
	Channel string
	// Locale is en or zh; empty takes Template's, else the recipient's,
	// else en.
	Locale string
	// EventID names a stored event of the project; else Event is a sample
	// (its Type, Actor, Roles, Payload and, optionally, SourceID).
	EventID int64
	Event   *Event
	// UserID is the recipient (optional): its name, code and locale are
	// what the template sees as recipient.
	UserID int64
}

// TemplatePreview is a rendered message.
type TemplatePreview struct {
	EventType string `json:"event_type"`
	Channel   string `json:"channel"`
	Locale    string `json:"locale"`
	// From says which template rendered it: "request" (the one sent),
	// "project" (the project's draft or live one) or "default" (built-in).
	From     string          `json:"from"`
	Subject  string          `json:"subject"`
	Text     string          `json:"text"`
	HTML     string          `json:"html"`
	Markdown string          `json:"markdown"`
	Card     json.RawMessage `json:"card,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
}

// Where a preview's template came from.
const (
	TemplateFromRequest = "request"
	TemplateFromProject = "project"
	TemplateFromDefault = "default"
)

// TemplateService reads and writes a project's message templates.
// Writes are checked as the engine will render: every part must parse, and
// render a sample event within the render limits, or the write is refused
// with the line and column of the fault.
type TemplateService interface {
	// FindTemplates returns a project's draft or live templates.
	FindTemplates(ctx context.Context, projectID int64, version string) (*TemplateSet, error)
	// UpdateTemplates replaces the draft if revision is current (or
	// NoRevisionCheck) and answers the new draft; a stale revision is
	// ECONFLICT.
	UpdateTemplates(ctx context.Context, projectID, revision int64, ts []Template) (*TemplateSet, error)
	// DeployTemplates copies the draft to live (checking it again), or
	// with revert copies live back to the draft.
	DeployTemplates(ctx context.Context, projectID, revision int64, revert bool) (*TemplateSet, error)
	// FindTemplatesHistory lists changes, newest first.
	FindTemplatesHistory(ctx context.Context, projectID int64, page Page) ([]*TemplateSetChange, string, error)
	// DefaultTemplates returns the built-in templates (event type "*",
	// every channel and locale), to copy.
	DefaultTemplates(ctx context.Context, projectID int64) ([]Template, error)
	// PreviewTemplate renders a template against a stored or sample event
	// for one recipient.
	PreviewTemplate(ctx context.Context, req TemplatePreviewRequest) (*TemplatePreview, error)
}
