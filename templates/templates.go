// Package templates is the service of a project's message templates: it
// keeps them in the store with the settings' draft → deploy → revision
// workflow, refuses a template that cannot parse or render (with the line
// and column of the fault, package render's check) when it is saved and
// again when it is deployed, serves the built-in templates to copy, and
// previews a message for one recipient. Access is checked around it
// (authz); the delivery engine reads the live templates from the store.
package templates

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/render"
)

// Store is what the service reads and writes (store.DB).
type Store interface {
	FindTemplates(ctx context.Context, projectID int64, version string) (*herald.TemplateSet, error)
	UpdateTemplates(ctx context.Context, projectID, revision int64, ts []herald.Template) (*herald.TemplateSet, error)
	DeployTemplates(ctx context.Context, projectID, revision int64, revert bool) (*herald.TemplateSet, error)
	FindTemplatesHistory(ctx context.Context, projectID int64, page herald.Page) ([]*herald.TemplateSetChange, string, error)
	FindEventByID(ctx context.Context, id int64) (*herald.Event, error)
	FindSourceByID(ctx context.Context, id int64) (*herald.Source, error)
	FindUserByID(ctx context.Context, id int64) (*herald.User, error)
}

// Service implements herald.TemplateService over a Store.
type Service struct {
	store Store
	// Now is the clock of sample events; default time.Now.
	Now func() time.Time
}

var _ herald.TemplateService = (*Service)(nil)

// New returns the service of store's templates.
func New(store Store) *Service { return &Service{store: store, Now: time.Now} }

// FindTemplates returns a project's draft or live templates.
func (s *Service) FindTemplates(ctx context.Context, projectID int64, version string) (*herald.TemplateSet, error) {
	return s.store.FindTemplates(ctx, projectID, version)
}

// check refuses a set of a bad shape or with a template that does not
// parse or render, every fault at once.
func check(ts []herald.Template) error {
	set := &herald.TemplateSet{Templates: ts}
	if err := set.Validate(); err != nil {
		return err
	}
	return render.CheckTemplates(set.Templates)
}

// UpdateTemplates checks the templates and replaces the draft.
func (s *Service) UpdateTemplates(ctx context.Context, projectID, revision int64, ts []herald.Template) (*herald.TemplateSet, error) {
	if err := check(ts); err != nil {
		return nil, err
	}
	return s.store.UpdateTemplates(ctx, projectID, revision, ts)
}

// DeployTemplates checks the draft again and deploys exactly the draft it
// checked (a draft written in between is a conflict), or reverts.
func (s *Service) DeployTemplates(ctx context.Context, projectID, revision int64, revert bool) (*herald.TemplateSet, error) {
	if revert {
		return s.store.DeployTemplates(ctx, projectID, revision, true)
	}
	draft, err := s.store.FindTemplates(ctx, projectID, herald.VersionDraft)
	if err != nil {
		return nil, err
	}
	if revision == herald.NoRevisionCheck {
		revision = draft.Revision
	}
	if revision == draft.Revision {
		if err := check(draft.Templates); err != nil {
			return nil, err
		}
	}
	return s.store.DeployTemplates(ctx, projectID, revision, false)
}

// FindTemplatesHistory lists the changes, newest first.
func (s *Service) FindTemplatesHistory(ctx context.Context, projectID int64, page herald.Page) ([]*herald.TemplateSetChange, string, error) {
	return s.store.FindTemplatesHistory(ctx, projectID, page)
}

// DefaultTemplates returns the built-in templates, once the project is
// known (its templates are read for that).
func (s *Service) DefaultTemplates(ctx context.Context, projectID int64) ([]herald.Template, error) {
	if _, err := s.store.FindTemplates(ctx, projectID, herald.VersionLive); err != nil {
		return nil, err
	}
	return render.Defaults(), nil
}

// maxSamplePayload bounds a sample event's payload, as an event's.
const maxSamplePayload = 256 << 10

// PreviewTemplate renders the message one recipient would get.
func (s *Service) PreviewTemplate(ctx context.Context, req herald.TemplatePreviewRequest) (*herald.TemplatePreview, error) {
	// An unknown project is not found, whatever the request says.
	set, err := s.store.FindTemplates(ctx, req.ProjectID, herald.VersionDraft)
	if err != nil {
		return nil, err
	}
	channel, locale := req.Channel, req.Locale
	var errs herald.FieldErrors
	if req.Template != nil {
		t := *req.Template
		if channel == "" {
			channel = t.Channel
		}
		if locale == "" {
			locale = t.Locale
		}
		if t.EventType == "" {
			t.EventType = herald.AnyEventType
		}
		t.Channel, t.Locale = channel, localeOr(locale, herald.LocaleEN)
		if err := check([]herald.Template{t}); err != nil {
			// The template is the request's own: name its fields so.
			for _, e := range herald.ErrorFields(err) {
				errs = append(errs, herald.Errorf(e.Code, strings.Replace(e.Field, "templates[0]", "template", 1), "%s", e.Message))
			}
			return nil, errs.Err()
		}
	}
	if _, ok := herald.TemplateParts[channel]; !ok {
		errs = append(errs, herald.Errorf(herald.EINVALID, "channel", "channel must be one of %s", strings.Join(herald.NotifierTypes, ", ")))
	}
	if locale != "" && locale != herald.LocaleEN && locale != herald.LocaleZH {
		errs = append(errs, herald.Errorf(herald.EINVALID, "locale", "locale must be en or zh"))
	}
	version := req.Version
	if version == "" {
		version = herald.VersionDraft
	}
	if version != herald.VersionDraft && version != herald.VersionLive {
		errs = append(errs, herald.Errorf(herald.EINVALID, "version", "version must be draft or live"))
	}
	if (req.EventID == 0) == (req.Event == nil) {
		errs = append(errs, herald.Errorf(herald.EINVALID, "event_id", "name a stored event (event_id) or give a sample event (event), one of them"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if version == herald.VersionLive {
		if set, err = s.store.FindTemplates(ctx, req.ProjectID, version); err != nil {
			return nil, err
		}
	}
	ev, src, err := s.previewEvent(ctx, req)
	if err != nil {
		return nil, err
	}
	var user *herald.User
	if req.UserID != 0 {
		if user, err = s.store.FindUserByID(ctx, req.UserID); err != nil {
			if herald.ErrorCode(err) == herald.ENOTFOUND {
				return nil, herald.Errorf(herald.EINVALID, "user_id", "user %d does not exist", req.UserID)
			}
			return nil, err
		}
		locale = localeOr(locale, user.Locale)
	}
	locale = localeOr(locale, herald.LocaleEN)

	in := render.Input{Event: ev, Source: src, Notifier: &herald.Notifier{Type: channel}, Locale: locale, Recipient: user}
	out := &herald.TemplatePreview{EventType: ev.Type, Channel: channel, Locale: locale}
	switch {
	case req.Template != nil:
		t := *req.Template
		t.EventType, t.Channel, t.Locale = ev.Type, channel, locale
		in.Templates, out.From = render.NewSet([]herald.Template{t}), herald.TemplateFromRequest
	case set.Find(ev.Type, channel, locale) != nil:
		in.Templates, out.From = render.NewSet(set.Templates), herald.TemplateFromProject
	default:
		out.From = herald.TemplateFromDefault
	}
	m, err := render.Message(in)
	if err != nil {
		return nil, herald.Errorf(herald.EINVALID, "template", "%s", strings.TrimPrefix(err.Error(), "render: "))
	}
	out.Subject, out.Text, out.HTML, out.Markdown = m.Subject, m.Text, m.HTML, m.Markdown
	if len(m.Card) > 0 {
		out.Card = m.Card
	}
	if len(m.Body) > 0 {
		out.Body = json.RawMessage(m.Body)
	}
	return out, nil
}

func localeOr(l, fallback string) string {
	if l == "" {
		return fallback
	}
	return l
}

// previewEvent is the stored event the request names (the project's
// own) or its sample, with its source.
func (s *Service) previewEvent(ctx context.Context, req herald.TemplatePreviewRequest) (*herald.Event, *herald.Source, error) {
	if req.EventID != 0 {
		ev, err := s.store.FindEventByID(ctx, req.EventID)
		if herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && ev.ProjectID != req.ProjectID) {
			return nil, nil, herald.Errorf(herald.EINVALID, "event_id", "event %d is not an event of project %d", req.EventID, req.ProjectID)
		}
		if err != nil {
			return nil, nil, err
		}
		src, err := s.store.FindSourceByID(ctx, ev.SourceID)
		if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
			return nil, nil, err
		}
		return ev, src, nil
	}
	e := *req.Event
	var errs herald.FieldErrors
	if !herald.IsEventType(e.Type) {
		errs = append(errs, herald.Errorf(herald.EINVALID, "event.type", "unknown event type %q", e.Type))
	}
	if e.Actor != "" && (len(e.Actor) > 128 || !herald.IsText(e.Actor)) {
		errs = append(errs, herald.Errorf(herald.EINVALID, "event.actor", "actor must be text of at most 128 bytes"))
	}
	for name, codes := range e.Roles {
		if !herald.IsRoleName(name) || slices.ContainsFunc(codes, func(c string) bool { return !herald.IsText(c) || len(c) > 128 }) {
			errs = append(errs, herald.Errorf(herald.EINVALID, "event.roles", "role %q is not valid", name))
		}
	}
	if len(e.Payload) > 0 {
		var obj map[string]any
		if len(e.Payload) > maxSamplePayload || json.Unmarshal(e.Payload, &obj) != nil || obj == nil {
			errs = append(errs, herald.Errorf(herald.EINVALID, "event.payload", "payload must be a JSON object of at most %d bytes", maxSamplePayload))
		}
	}
	var src *herald.Source
	if e.SourceID != 0 {
		var err error
		src, err = s.store.FindSourceByID(ctx, e.SourceID)
		switch {
		case herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && src.ProjectID != req.ProjectID):
			errs = append(errs, herald.Errorf(herald.EINVALID, "event.source_id", "source %d is not a source of project %d", e.SourceID, req.ProjectID))
		case err != nil:
			return nil, nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	e.ProjectID, e.CreatedAt = req.ProjectID, s.Now().UTC()
	return &e, src, nil
}
