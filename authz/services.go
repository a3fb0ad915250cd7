package authz

import (
	"context"
	"time"

	"github.com/heraldhq/herald"
)

var (
	_ herald.ProjectService              = projects{}
	_ herald.SourceService               = sources{}
	_ herald.NotifierService             = notifiers{}
	_ herald.NotifierSender              = notifiers{}
	_ herald.SettingsService             = settings{}
	_ herald.NotificationSettingsService = notificationSettings{}
	_ herald.DirectoryService            = directory{}
	_ herald.EventService                = events{}
	_ herald.DeliveryService             = deliveries{}
	_ herald.InboxService                = inbox{}
	_ herald.PushService                 = pushes{}
	_ herald.TokenService                = tokens{}
	_ herald.OTPService                  = otp{}
	_ DeliveryLog                        = deliveryLog{}
	_ herald.PushDirectory               = pushDirectory{}
)

type projects struct{ g *guard }

func (s projects) FindProjectByID(ctx context.Context, id int64) (*herald.Project, error) {
	if err := project(ctx, herald.ResProject, herald.ActRead, id, notFound("project", id)); err != nil {
		return nil, err
	}
	return s.g.raw.Projects.FindProjectByID(ctx, id)
}

// FindProjects lists the projects in scope: a scoped token sees its own.
func (s projects) FindProjects(ctx context.Context, page herald.Page) ([]*herald.Project, string, error) {
	p, err := herald.Authorize(ctx, herald.ResProject, herald.ActRead)
	if err != nil {
		return nil, "", err
	}
	if p.ProjectID == 0 {
		return s.g.raw.Projects.FindProjects(ctx, page)
	}
	pr, err := s.g.raw.Projects.FindProjectByID(ctx, p.ProjectID)
	if herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && page.Cursor != "") {
		return []*herald.Project{}, "", nil
	} else if err != nil {
		return nil, "", err
	}
	return []*herald.Project{pr}, "", nil
}

func (s projects) CreateProject(ctx context.Context, p *herald.Project) error {
	if _, err := herald.Authorize(ctx, herald.ResProject, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Projects.CreateProject(ctx, p)
}

func (s projects) UpdateProject(ctx context.Context, p *herald.Project) error {
	if err := project(ctx, herald.ResProject, herald.ActUpdate, p.ID, notFound("project", p.ID)); err != nil {
		return err
	}
	return s.g.raw.Projects.UpdateProject(ctx, p)
}

func (s projects) DeleteProject(ctx context.Context, id int64, force bool) error {
	if _, err := herald.Authorize(ctx, herald.ResProject, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Projects.DeleteProject(ctx, id, force)
}

type sources struct{ g *guard }

// find reads a source after checking act on it; a source of a project out
// of scope is not found, like an unknown one.
func (s sources) find(ctx context.Context, act herald.Action, id int64) (*herald.Source, error) {
	if _, err := herald.Authorize(ctx, herald.ResSource, act); err != nil {
		return nil, err
	}
	src, err := s.g.raw.Sources.FindSourceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := project(ctx, herald.ResSource, act, src.ProjectID, notFound("source", id)); err != nil {
		return nil, err
	}
	return src, nil
}

func (s sources) FindSourceByID(ctx context.Context, id int64) (*herald.Source, error) {
	return s.find(ctx, herald.ActRead, id)
}

func (s sources) FindSourceByExternalID(ctx context.Context, kind, externalID string) (*herald.Source, error) {
	if _, err := herald.Authorize(ctx, herald.ResSource, herald.ActRead); err != nil {
		return nil, err
	}
	src, err := s.g.raw.Sources.FindSourceByExternalID(ctx, kind, externalID)
	if err != nil {
		return nil, err
	}
	if err := project(ctx, herald.ResSource, herald.ActRead, src.ProjectID, func() error { return herald.Errorf(herald.ENOTFOUND, "", "%s %q not found", kind, externalID) }); err != nil {
		return nil, err
	}
	return src, nil
}

func (s sources) FindSources(ctx context.Context, f herald.SourceFilter, page herald.Page) ([]*herald.Source, string, error) {
	pid, err := scopedFilter(ctx, herald.ResSource, f.ProjectID)
	if err != nil {
		return nil, "", err
	}
	f.ProjectID = pid
	return s.g.raw.Sources.FindSources(ctx, f, page)
}

func (s sources) CreateSource(ctx context.Context, src *herald.Source) error {
	if err := project(ctx, herald.ResSource, herald.ActCreate, src.ProjectID, notFound("project", src.ProjectID)); err != nil {
		return err
	}
	return s.g.raw.Sources.CreateSource(ctx, src)
}

func (s sources) UpdateSource(ctx context.Context, src *herald.Source) error {
	if _, err := s.find(ctx, herald.ActUpdate, src.ID); err != nil {
		return err
	}
	return s.g.raw.Sources.UpdateSource(ctx, src)
}

func (s sources) DeleteSource(ctx context.Context, id int64) error {
	if _, err := s.find(ctx, herald.ActDelete, id); err != nil {
		return err
	}
	return s.g.raw.Sources.DeleteSource(ctx, id)
}

type notifiers struct{ g *guard }

func (s notifiers) find(ctx context.Context, act herald.Action, id int64) (*herald.Notifier, error) {
	if _, err := herald.Authorize(ctx, herald.ResNotifier, act); err != nil {
		return nil, err
	}
	n, err := s.g.raw.Notifiers.FindNotifierByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := project(ctx, herald.ResNotifier, act, n.ProjectID, notFound("notifier", id)); err != nil {
		return nil, err
	}
	return n, nil
}

// FindNotifierByID returns the notifier redacted.
func (s notifiers) FindNotifierByID(ctx context.Context, id int64) (*herald.Notifier, error) {
	n, err := s.find(ctx, herald.ActRead, id)
	if err != nil {
		return nil, err
	}
	return n.Redacted(), nil
}

// FindNotifiers lists notifiers redacted.
func (s notifiers) FindNotifiers(ctx context.Context, f herald.NotifierFilter, page herald.Page) ([]*herald.Notifier, string, error) {
	pid, err := scopedFilter(ctx, herald.ResNotifier, f.ProjectID)
	if err != nil {
		return nil, "", err
	}
	f.ProjectID = pid
	list, next, err := s.g.raw.Notifiers.FindNotifiers(ctx, f, page)
	for i, n := range list {
		list[i] = n.Redacted()
	}
	return list, next, err
}

// FindNotifierForSend returns the notifier with its credentials, to send
// a test message through it; it needs the right to set them.
func (s notifiers) FindNotifierForSend(ctx context.Context, id int64) (*herald.Notifier, error) {
	return s.find(ctx, herald.ActSend, id)
}

func (s notifiers) CreateNotifier(ctx context.Context, n *herald.Notifier) error {
	if err := project(ctx, herald.ResNotifier, herald.ActCreate, n.ProjectID, notFound("project", n.ProjectID)); err != nil {
		return err
	}
	return redactAfter(n, s.g.raw.Notifiers.CreateNotifier(ctx, n))
}

func (s notifiers) UpdateNotifier(ctx context.Context, n *herald.Notifier) error {
	if _, err := s.find(ctx, herald.ActUpdate, n.ID); err != nil {
		return err
	}
	return redactAfter(n, s.g.raw.Notifiers.UpdateNotifier(ctx, n))
}

func (s notifiers) DeleteNotifier(ctx context.Context, id int64) error {
	if _, err := s.find(ctx, herald.ActDelete, id); err != nil {
		return err
	}
	return s.g.raw.Notifiers.DeleteNotifier(ctx, id)
}

// redactAfter masks the credentials a write left in n, which its caller
// encodes as the answer.
func redactAfter(n *herald.Notifier, err error) error {
	if err == nil {
		*n = *n.Redacted()
	}
	return err
}

type settings struct{ g *guard }

func (s settings) FindSettings(ctx context.Context, scope herald.SettingsScope, version string) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActRead, scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.FindSettings(ctx, scope, version)
}

// settingsJSONFinder is a settings service that answers FindSettings
// already encoded (the store, from its read cache).
type settingsJSONFinder interface {
	FindSettingsJSON(ctx context.Context, scope herald.SettingsScope, version string) (string, error)
}

// FindSettingsJSON is FindSettings encoded as JSON (what json.Encoder
// writes), under the same check; ok false when the service underneath
// cannot answer so, and the caller encodes FindSettings itself.
func (s settings) FindSettingsJSON(ctx context.Context, scope herald.SettingsScope, version string) (js string, ok bool, err error) {
	raw, ok := s.g.raw.Settings.(settingsJSONFinder)
	if !ok {
		return "", false, nil
	}
	if err := s.g.checkSettings(ctx, herald.ActRead, scope); err != nil {
		return "", true, err
	}
	js, err = raw.FindSettingsJSON(ctx, scope, version)
	return js, true, err
}

func (s settings) UpdateSettings(ctx context.Context, ref herald.SettingsRef, st *herald.Settings) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.UpdateSettings(ctx, ref, st)
}

func (s settings) DeploySettings(ctx context.Context, refs []herald.SettingsRef, revert bool) ([]*herald.Settings, error) {
	for _, ref := range refs {
		if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
			return nil, err
		}
	}
	return s.g.raw.Settings.DeploySettings(ctx, refs, revert)
}

func (s settings) EffectiveSettings(ctx context.Context, scope herald.SettingsScope) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActRead, scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.EffectiveSettings(ctx, scope)
}

func (s settings) FindSettingsHistory(ctx context.Context, scope herald.SettingsScope, page herald.Page) ([]*herald.SettingsChange, string, error) {
	if err := s.g.checkSettings(ctx, herald.ActRead, scope); err != nil {
		return nil, "", err
	}
	return s.g.raw.Settings.FindSettingsHistory(ctx, scope, page)
}

// ApplyLive checks settings:write on the scope; notifiers the change
// ensures are checked as they are ensured.
func (s settings) ApplyLive(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.ApplyLive(ctx, ref, guardChange(ctx, change))
}

// ApplyDraft is ApplyLive for the draft.
func (s settings) ApplyDraft(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.ApplyDraft(ctx, ref, guardChange(ctx, change))
}

// SaveAndDeploy is ApplyDraft, then a deploy, in one transaction.
func (s settings) SaveAndDeploy(ctx context.Context, ref herald.SettingsRef, change herald.SettingsChangeFunc) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.SaveAndDeploy(ctx, ref, guardChange(ctx, change))
}

// RestoreSettings writes the draft: settings:write on the scope.
func (s settings) RestoreSettings(ctx context.Context, ref herald.SettingsRef, changeID int64) (*herald.Settings, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.Settings.RestoreSettings(ctx, ref, changeID)
}

func (s settings) EnsureNotifier(ctx context.Context, spec herald.NotifierSpec) (*herald.Notifier, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, herald.SettingsScope{ProjectID: spec.ProjectID}); err != nil {
		return nil, err
	}
	if err := checkSpec(ctx, spec); err != nil {
		return nil, err
	}
	n, err := s.g.raw.Settings.EnsureNotifier(ctx, spec)
	if err != nil {
		return nil, err
	}
	return n.Redacted(), nil
}

// checkSpec: ensuring a notifier a surface configures (an endpoint and
// credentials) is writing a notifier; finding one, or creating the
// credential-less inbox, is part of the settings write.
func checkSpec(ctx context.Context, spec herald.NotifierSpec) error {
	if spec.Configure == nil {
		return nil
	}
	_, err := herald.Authorize(ctx, herald.ResNotifier, herald.ActUpdate)
	return err
}

// guardChange hands change a transaction whose notifier calls are checked
// and whose notifiers come out redacted.
func guardChange(ctx context.Context, change herald.SettingsChangeFunc) herald.SettingsChangeFunc {
	return func(tx herald.SettingsTx, st *herald.Settings) error {
		return change(settingsTx{ctx: ctx, tx: tx}, st)
	}
}

type settingsTx struct {
	ctx context.Context
	tx  herald.SettingsTx
}

func (t settingsTx) Notifiers() ([]*herald.Notifier, error) {
	list, err := t.tx.Notifiers()
	out := make([]*herald.Notifier, len(list))
	for i, n := range list {
		out[i] = n.Redacted()
	}
	return out, err
}

func (t settingsTx) EnsureNotifier(spec herald.NotifierSpec) (*herald.Notifier, error) {
	if err := checkSpec(t.ctx, spec); err != nil {
		return nil, err
	}
	n, err := t.tx.EnsureNotifier(spec)
	if err != nil {
		return nil, err
	}
	return n.Redacted(), nil
}

type notificationSettings struct{ g *guard }

func (s notificationSettings) FindNotificationSettings(ctx context.Context, projectID int64) (*herald.NotificationSettings, error) {
	if err := project(ctx, herald.ResNotificationSettings, herald.ActRead, projectID, notFound("project", projectID)); err != nil {
		return nil, err
	}
	return s.g.raw.NotificationSettings.FindNotificationSettings(ctx, projectID)
}

func (s notificationSettings) UpdateNotificationSettings(ctx context.Context, projectID int64, u herald.NotificationSettingsUpdate) (*herald.NotificationSettings, error) {
	if err := project(ctx, herald.ResNotificationSettings, herald.ActUpdate, projectID, notFound("project", projectID)); err != nil {
		return nil, err
	}
	return s.g.raw.NotificationSettings.UpdateNotificationSettings(ctx, projectID, u)
}

type events struct{ g *guard }

// CreateEvents checks the permission; the store keeps each event to a
// source of the principal's project while it loads the sources anyway
// (an event batch may name 500 of them).
func (s events) CreateEvents(ctx context.Context, list []*herald.Event) error {
	if _, err := herald.Authorize(ctx, herald.ResEvent, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Events.CreateEvents(ctx, list)
}

func (s events) FindEventByID(ctx context.Context, id int64) (*herald.Event, error) {
	if _, err := herald.Authorize(ctx, herald.ResEvent, herald.ActRead); err != nil {
		return nil, err
	}
	e, err := s.g.raw.Events.FindEventByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := project(ctx, herald.ResEvent, herald.ActRead, e.ProjectID, notFound("event", id)); err != nil {
		return nil, err
	}
	return e, nil
}

type deliveries struct{ g *guard }

// find reads a delivery after checking act on the project of its notifier.
func (s deliveries) find(ctx context.Context, act herald.Action, id int64) (*herald.Delivery, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, act); err != nil {
		return nil, err
	}
	d, err := s.g.raw.Deliveries.FindDeliveryByID(ctx, id)
	if err != nil {
		return nil, err
	}
	n, err := s.g.raw.Notifiers.FindNotifierByID(ctx, d.NotifierID)
	if err != nil {
		return nil, err
	}
	if err := project(ctx, herald.ResDelivery, act, n.ProjectID, notFound("delivery", id)); err != nil {
		return nil, err
	}
	return d, nil
}

func (s deliveries) FindDeliveryByID(ctx context.Context, id int64) (*herald.Delivery, error) {
	return s.find(ctx, herald.ActRead, id)
}

// FindDeliveries lists deliveries; the store narrows a scoped principal's
// list to its project's notifiers.
func (s deliveries) FindDeliveries(ctx context.Context, f herald.DeliveryFilter, page herald.Page) ([]*herald.Delivery, string, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Deliveries.FindDeliveries(ctx, f, page)
}

func (s deliveries) RetryDelivery(ctx context.Context, id int64) (*herald.Delivery, error) {
	if _, err := s.find(ctx, herald.ActRetry, id); err != nil {
		return nil, err
	}
	return s.g.raw.Deliveries.RetryDelivery(ctx, id)
}

// RetryDeliveries needs what retrying one delivery needs; the store keeps
// a scoped principal's filter to its project, so a filter naming another
// project's notifier or source matches nothing.
func (s deliveries) RetryDeliveries(ctx context.Context, f herald.DeliveryFilter) (herald.BulkRetry, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRetry); err != nil {
		return herald.BulkRetry{}, err
	}
	return s.g.raw.Deliveries.RetryDeliveries(ctx, f)
}

type deliveryLog struct{ g *guard }

func (s deliveryLog) CountDeliveriesUpTo(ctx context.Context, f herald.DeliveryFilter, limit int) (int, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRead); err != nil {
		return 0, err
	}
	return s.g.raw.Log.CountDeliveriesUpTo(ctx, f, limit)
}

func (s deliveryLog) NameDeliveries(ctx context.Context, ds []*herald.Delivery) ([]*herald.DeliveryEntry, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Log.NameDeliveries(ctx, ds)
}

func (s deliveryLog) FindDeliveriesNewest(ctx context.Context, f herald.DeliveryFilter, p herald.Page) ([]*herald.Delivery, string, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Log.FindDeliveriesNewest(ctx, f, p)
}

func (s deliveryLog) FindEventsNewest(ctx context.Context, projectID int64, p herald.Page) ([]*herald.Event, string, error) {
	pid, err := scopedFilter(ctx, herald.ResEvent, projectID)
	if err != nil {
		return nil, "", err
	}
	return s.g.raw.Log.FindEventsNewest(ctx, pid, p)
}

func (s deliveryLog) CountDeliveriesByMinute(ctx context.Context, since time.Time) (map[time.Time]map[string]int, error) {
	if _, err := herald.Authorize(ctx, herald.ResDelivery, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Log.CountDeliveriesByMinute(ctx, since)
}

// inbox checks the inbox permission, or that an end-user token is the
// person's own (herald.AuthorizeUser); the store keeps a scoped principal,
// an end-user token's too, to the messages of its project's events.
type inbox struct{ g *guard }

func inboxCheck(ctx context.Context, act herald.Action, userID int64) error {
	return herald.AuthorizeUser(ctx, herald.ResInbox, act, userID, herald.NotFound("user", userID))
}

func (s inbox) FindInbox(ctx context.Context, userID int64, f herald.InboxFilter, page herald.Page) ([]*herald.InboxMessage, string, error) {
	if err := inboxCheck(ctx, herald.ActRead, userID); err != nil {
		return nil, "", err
	}
	return s.g.raw.Inbox.FindInbox(ctx, userID, f, page)
}

func (s inbox) CountUnreadInbox(ctx context.Context, userID int64) (int, error) {
	if err := inboxCheck(ctx, herald.ActRead, userID); err != nil {
		return 0, err
	}
	return s.g.raw.Inbox.CountUnreadInbox(ctx, userID)
}

func (s inbox) MarkInboxRead(ctx context.Context, userID, messageID int64) error {
	if err := inboxCheck(ctx, herald.ActUpdate, userID); err != nil {
		return err
	}
	return s.g.raw.Inbox.MarkInboxRead(ctx, userID, messageID)
}

func (s inbox) MarkAllInboxRead(ctx context.Context, userID int64) (int, error) {
	if err := inboxCheck(ctx, herald.ActUpdate, userID); err != nil {
		return 0, err
	}
	return s.g.raw.Inbox.MarkAllInboxRead(ctx, userID)
}

type tokens struct{ g *guard }

// Authenticate is how a principal comes to be: it needs none.
func (s tokens) Authenticate(ctx context.Context, secret string) (*herald.Principal, error) {
	return s.g.raw.Tokens.Authenticate(ctx, secret)
}

// CreateToken also keeps a token within its maker's reach: a token's
// project must be one the tenant has.
func (s tokens) CreateToken(ctx context.Context, c herald.TokenCreate) (*herald.Token, string, error) {
	if _, err := herald.Authorize(ctx, herald.ResToken, herald.ActCreate); err != nil {
		return nil, "", err
	}
	return s.g.raw.Tokens.CreateToken(ctx, c)
}

func (s tokens) FindTokens(ctx context.Context, page herald.Page) ([]*herald.Token, string, error) {
	if _, err := herald.Authorize(ctx, herald.ResToken, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Tokens.FindTokens(ctx, page)
}

func (s tokens) RevokeToken(ctx context.Context, id int64) error {
	if _, err := herald.Authorize(ctx, herald.ResToken, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Tokens.RevokeToken(ctx, id)
}

type otp struct{ g *guard }

// SendOTP checks the permission and an explicitly named project; the OTP
// service resolves an unnamed one within the principal's scope
// (herald.ProjectOf).
func (s otp) SendOTP(ctx context.Context, in herald.OTPSend) (*herald.OTP, error) {
	if err := s.check(ctx, in.ProjectID); err != nil {
		return nil, err
	}
	return s.g.raw.OTP.SendOTP(ctx, in)
}

func (s otp) VerifyOTP(ctx context.Context, in herald.OTPVerify) (*herald.OTP, error) {
	if err := s.check(ctx, in.ProjectID); err != nil {
		return nil, err
	}
	return s.g.raw.OTP.VerifyOTP(ctx, in)
}

func (s otp) check(ctx context.Context, projectID int64) error {
	if projectID == 0 {
		_, err := herald.Authorize(ctx, herald.ResOTP, herald.ActSend)
		return err
	}
	return project(ctx, herald.ResOTP, herald.ActSend, projectID, notFound("project", projectID))
}
