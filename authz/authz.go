// Package authz is Herald's access policy applied to every domain service.
//
// Guard wraps the services the store implements with ones that check, in
// every method that reads or changes tenant data, the principal the context
// carries against herald.Policy: authenticated, holding the permission the
// resource × action needs, and within its project scope (a project outside
// it answers exactly as an unknown id does). Every entry point — the native
// API, the console, each vendor surface, OTP and the CLI — is given the
// guarded services and holds no access rule of its own; the delivery engine,
// which acts for the system, uses the store directly.
//
// Notifiers leave a guarded service redacted: no read on any surface sees a
// credential in clear.
//
// Lists are narrowed to the principal's project in two ways: a list with a
// project filter gets the scoped project forced into it here; the delivery,
// event and inbox queries, whose rows reach a project only through a join,
// are narrowed by the store from the same principal.
package authz

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

// DeliveryLog is the console's delivery log queries (console.LogStore).
type DeliveryLog interface {
	FindDeliveriesNewest(ctx context.Context, f herald.DeliveryFilter, p herald.Page) ([]*herald.Delivery, string, error)
	FindEventsNewest(ctx context.Context, projectID int64, p herald.Page) ([]*herald.Event, string, error)
	CountDeliveriesByMinute(ctx context.Context, since time.Time) (map[time.Time]map[string]int, error)
	// CountDeliveriesUpTo counts a filter's deliveries, up to limit.
	CountDeliveriesUpTo(ctx context.Context, f herald.DeliveryFilter, limit int) (int, error)
	// NameDeliveries gives deliveries the names the log shows.
	NameDeliveries(ctx context.Context, ds []*herald.Delivery) ([]*herald.DeliveryEntry, error)
}

// Services is every service an entry point may call.
type Services struct {
	Projects             herald.ProjectService
	Sources              herald.SourceService
	Notifiers            herald.NotifierService
	NotifierSender       herald.NotifierSender // set by Guard
	Settings             herald.SettingsService
	NotificationSettings herald.NotificationSettingsService
	RecordNotifications  herald.RecordNotificationService
	Templates            herald.TemplateService
	Directory            herald.DirectoryService
	Events               herald.EventService
	Deliveries           herald.DeliveryService
	Inbox                herald.InboxService
	Pushes               herald.PushService
	PushDirectory        herald.PushDirectory
	Tokens               herald.TokenService
	OTP                  herald.OTPService
	Log                  DeliveryLog
	Preferences          herald.PreferenceService
	EndUserKeys          herald.EndUserKeyService
}

// Guard returns the services of raw behind the access policy. A nil service
// stays nil.
func Guard(raw Services) Services {
	g := &guard{raw: raw}
	out := Services{
		Projects:  projects{g},
		Sources:   sources{g},
		Notifiers: notifiers{g},
		// The raw notifier service reads credentials in clear (the
		// engine needs them); the guarded one hands them out only to send.
		NotifierSender: notifiers{g},
		Settings:       settings{g},
		Directory:      directory{g},
		Events:         events{g},
		Deliveries:     deliveries{g},
		Inbox:          inbox{g},
		Tokens:         tokens{g},
	}
	if raw.NotificationSettings != nil {
		out.NotificationSettings = notificationSettings{g}
	}
	if raw.RecordNotifications != nil {
		out.RecordNotifications = recordNotifications{g}
	}
	if raw.Templates != nil {
		out.Templates = templates{g}
	}
	if raw.Pushes != nil {
		out.Pushes = pushes{g}
	}
	if raw.PushDirectory != nil {
		out.PushDirectory = pushDirectory{g}
	}
	if raw.OTP != nil {
		out.OTP = otp{g}
	}
	if raw.Log != nil {
		out.Log = deliveryLog{g}
	}
	if raw.Preferences != nil {
		out.Preferences = preferences{g}
	}
	if raw.EndUserKeys != nil {
		out.EndUserKeys = endUserKeys{g}
	}
	return out
}

// guard holds the raw services: the wrappers call them for the work and
// for the look-ups that tell which project a resource belongs to.
type guard struct{ raw Services }

// project checks res × act on the project projectID, answering nf() (the
// error of an unknown id) when it lies outside the principal's scope. The
// error is built only then: an allowed request, the common case, formats
// no message.
func project(ctx context.Context, res herald.Resource, act herald.Action, projectID int64, nf func() error) error {
	err := herald.AuthorizeProject(ctx, res, act, projectID, errOutOfScope)
	if err == errOutOfScope {
		return nf()
	}
	return err
}

// errOutOfScope stands for project's nf until it is needed.
var errOutOfScope = errors.New("project out of scope")

// notFound is herald.NotFound(what, id), built when called.
func notFound(what string, id int64) func() error {
	return func() error { return herald.NotFound(what, id) }
}

// scopedFilter returns the project a list may show: the one asked for,
// which must be in scope, or the principal's own when it is scoped.
func scopedFilter(ctx context.Context, res herald.Resource, requested int64) (int64, error) {
	p, err := herald.Authorize(ctx, res, herald.ActRead)
	if err != nil {
		return 0, err
	}
	switch {
	case requested != 0 && !p.CanSeeProject(requested):
		return 0, herald.NotFound("project", requested)
	case requested == 0:
		return p.ProjectID, nil
	}
	return requested, nil
}

// sourceProject returns the project of a source, nf when unknown.
func (g *guard) sourceProject(ctx context.Context, id int64) (int64, error) {
	src, err := g.raw.Sources.FindSourceByID(ctx, id)
	if err != nil {
		return 0, err
	}
	return src.ProjectID, nil
}

// settingsProject returns the project a settings scope belongs to.
func (g *guard) settingsProject(ctx context.Context, s herald.SettingsScope) (int64, error) {
	if s.SourceID == 0 {
		return s.ProjectID, nil
	}
	id, err := g.sourceProject(ctx, s.SourceID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return 0, herald.NotFound("source", s.SourceID)
	}
	return id, err
}

// settingsNotFound is what an unknown settings scope answers.
func settingsNotFound(s herald.SettingsScope) func() error {
	if s.SourceID != 0 {
		return notFound("source", s.SourceID)
	}
	return notFound("project", s.ProjectID)
}

// checkSettings authorizes act on the settings of scope.
func (g *guard) checkSettings(ctx context.Context, act herald.Action, scope herald.SettingsScope) error {
	if _, err := herald.Authorize(ctx, herald.ResSettings, act); err != nil {
		return err
	}
	pid, err := g.settingsProject(ctx, scope)
	if err != nil {
		return err
	}
	return project(ctx, herald.ResSettings, act, pid, settingsNotFound(scope))
}
