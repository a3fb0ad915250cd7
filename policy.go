package herald

import (
	"context"
	"fmt"
)

// Resource is a kind of tenant data the access policy rules over.
type Resource string

// The resources of the policy table.
const (
	ResProject              Resource = "project"
	ResSource               Resource = "source"
	ResNotifier             Resource = "notifier"
	ResSettings             Resource = "settings"
	ResNotificationSettings Resource = "notification_settings"
	ResTemplates            Resource = "templates"
	ResDirectory            Resource = "directory"
	ResEvent                Resource = "event"
	ResDelivery             Resource = "delivery"
	ResInbox                Resource = "inbox"
	ResPush                 Resource = "push"
	ResToken                Resource = "token"
	ResOTP                  Resource = "otp"
	// ResPreferences are one person's preferences.
	ResPreferences Resource = "preferences"
	// ResPreferencePolicy is a project's preference policy, and
	// ResTenantPreferencePolicy the tenant's (every project's default).
	ResPreferencePolicy       Resource = "preference_policy"
	ResTenantPreferencePolicy Resource = "tenant_preference_policy"
	// ResEndUserKey is the key a project's end-user tokens are signed with.
	ResEndUserKey Resource = "end_user_key"
	// ResPushPolicy is the tenant's rule for approving pushes.
	ResPushPolicy Resource = "push_policy"
)

// Action is what a request does to a resource.
type Action string

// The actions of the policy table.
const (
	ActRead    Action = "read"
	ActCreate  Action = "create"
	ActUpdate  Action = "update"
	ActDelete  Action = "delete"
	ActApprove Action = "approve" // pushes: approve or reject
	ActRetry   Action = "retry"   // deliveries
	ActSend    Action = "send"    // one-time codes: send and verify
)

// Rule is what one resource × action needs.
type Rule struct {
	// Perm is the permission the token must hold; "" admits any valid
	// token (still within its tenant and project scope).
	Perm Permission
	// TenantWide marks data that belongs to no single project (the
	// directory, pushes, tokens, projects themselves): a token scoped to
	// one project may not do the action.
	TenantWide bool
	// Self admits an end-user token too, for its own person's data only
	// (AuthorizeUser); every other rule refuses end-user tokens.
	Self bool
}

// Policy is Herald's one access table: resource × action → what it needs.
// Every domain service checks it (through Authorize) for every method that
// reads or changes tenant data, so every entry point — the native API, the
// console, each vendor surface, OTP and the CLI — gets the same answer.
// docs/SECURITY.md explains each row.
var Policy = map[Resource]map[Action]Rule{
	// A project's name and id are what every surface resolves first; any
	// token whose scope admits the project may read it.
	ResProject: {
		ActRead:   {},
		ActCreate: {Perm: PermSettingsWrite, TenantWide: true},
		ActUpdate: {Perm: PermSettingsWrite},
		ActDelete: {Perm: PermSettingsWrite, TenantWide: true},
	},
	ResSource: {
		ActRead:   {Perm: PermSettingsRead},
		ActCreate: {Perm: PermSettingsWrite},
		ActUpdate: {Perm: PermSettingsWrite},
		ActDelete: {Perm: PermSettingsWrite},
	},
	// Notifiers are read redacted (no credential in clear, ever); writing
	// one sets where credentials go, so it needs notifiers:write on every
	// surface. The one exception is the credential-less inbox notifier a
	// settings surface ensures (ResSettings/ActUpdate covers it).
	ResNotifier: {
		ActRead:   {Perm: PermNotifiersRead},
		ActCreate: {Perm: PermNotifiersWrite},
		ActUpdate: {Perm: PermNotifiersWrite},
		ActDelete: {Perm: PermNotifiersWrite},
		ActSend:   {Perm: PermNotifiersWrite}, // a test message through its credentials
	},
	ResSettings: {
		ActRead:   {Perm: PermSettingsRead},
		ActUpdate: {Perm: PermSettingsWrite}, // edit the draft, deploy, revert, apply
	},
	ResNotificationSettings: {
		ActRead:   {Perm: PermSettingsRead},
		ActUpdate: {Perm: PermSettingsWrite},
	},
	// A project's message templates: what a message says, where settings
	// say who receives it and which payload fields it shows. Same
	// workflow (draft, deploy, revert), same power over what reaches
	// whom: the settings permissions. Previewing is reading (the stored
	// event and the recipient it names are what settings:read reads).
	ResTemplates: {
		ActRead:   {Perm: PermSettingsRead},
		ActUpdate: {Perm: PermSettingsWrite}, // edit the draft, deploy, revert
	},
	// People are shared by the tenant's projects: a scoped token may read
	// them (to choose recipients) but only an unscoped one changes them.
	ResDirectory: {
		ActRead:   {Perm: PermDirectoryRead},
		ActCreate: {Perm: PermDirectoryWrite, TenantWide: true},
		ActUpdate: {Perm: PermDirectoryWrite, TenantWide: true},
		ActDelete: {Perm: PermDirectoryWrite, TenantWide: true},
	},
	ResEvent: {
		ActRead:   {Perm: PermSettingsRead},
		ActCreate: {Perm: PermEventsWrite},
	},
	ResDelivery: {
		ActRead:  {Perm: PermSettingsRead},
		ActRetry: {Perm: PermEventsWrite},
	},
	// A user's inbox: reading it and marking it read. A scoped token sees
	// only the messages of its project's events (no tenant-wide pushes);
	// so does the person's own end-user token (the embedded inbox).
	ResInbox: {
		ActRead:   {Perm: PermInboxRead, Self: true},
		ActUpdate: {Perm: PermInboxRead, Self: true},
	},
	ResPush: {
		ActRead:    {Perm: PermPushRead, TenantWide: true},
		ActCreate:  {Perm: PermPushWrite, TenantWide: true},
		ActUpdate:  {Perm: PermPushWrite, TenantWide: true},
		ActApprove: {Perm: PermPushApprove, TenantWide: true},
	},
	ResToken: {
		ActRead:   {Perm: PermAdmin, TenantWide: true},
		ActCreate: {Perm: PermAdmin, TenantWide: true},
		ActDelete: {Perm: PermAdmin, TenantWide: true},
	},
	ResOTP: {
		ActSend: {Perm: PermOTPSend},
	},
	// A person's preferences are directory data (the person is the
	// tenant's); the person may read and change their own with an
	// end-user token.
	ResPreferences: {
		ActRead:   {Perm: PermDirectoryRead, Self: true},
		ActUpdate: {Perm: PermDirectoryWrite, TenantWide: true, Self: true},
	},
	// The administrator's side of preferences is part of the settings: a
	// project's with its settings, the tenant's (every project's default)
	// with an unscoped token.
	ResPreferencePolicy: {
		ActRead:   {Perm: PermSettingsRead},
		ActUpdate: {Perm: PermSettingsWrite},
	},
	ResTenantPreferencePolicy: {
		ActRead:   {Perm: PermSettingsRead},
		ActUpdate: {Perm: PermSettingsWrite, TenantWide: true},
	},
	// The end-user key signs tokens acting for any person of the tenant:
	// only an admin token (it may be scoped to the project) sets it.
	ResEndUserKey: {
		ActCreate: {Perm: PermAdmin},
		ActDelete: {Perm: PermAdmin},
	},
	// Whoever reads pushes may read the approval rule; only an admin
	// changes it: an approver must not lift the four eyes on itself.
	ResPushPolicy: {
		ActRead:   {Perm: PermPushRead, TenantWide: true},
		ActUpdate: {Perm: PermAdmin, TenantWide: true},
	},
}

// Authorize checks that ctx's principal may do act on res, whatever the
// project: it is authenticated, holds the rule's permission, and is not
// scoped to one project when the rule is tenant-wide. A resource × action
// missing from Policy is refused (a forgotten row must not open a door).
// An end-user token is refused: only AuthorizeUser, which checks whose
// data it is, admits one.
func Authorize(ctx context.Context, res Resource, act Action) (*Principal, error) {
	p := PrincipalFromContext(ctx)
	if p == nil || p.TenantID == 0 {
		return nil, Errorf(EUNAUTHORIZED, "", "authentication required")
	}
	rule, ok := Policy[res][act]
	if !ok {
		return nil, Errorf(EFORBIDDEN, "", "%s %s is not allowed", act, res)
	}
	if p.EndUser() {
		return nil, Errorf(EFORBIDDEN, "", "an end-user token may not %s %s", act, res)
	}
	if rule.Perm != "" {
		if err := p.Require(rule.Perm); err != nil {
			return nil, err
		}
	}
	if rule.TenantWide && p.ProjectID != 0 {
		return nil, Errorf(EFORBIDDEN, "", "this token is scoped to project %d; %s %s needs a token of the whole tenant", p.ProjectID, act, res)
	}
	return p, nil
}

// AuthorizeProject is Authorize for data of one project: a project outside
// the principal's scope answers notFound, the error an unknown id gets, so
// that a foreign id cannot be told from a missing one.
func AuthorizeProject(ctx context.Context, res Resource, act Action, projectID int64, notFound error) error {
	p, err := Authorize(ctx, res, act)
	if err != nil {
		return err
	}
	if !p.CanSeeProject(projectID) {
		return notFound
	}
	return nil
}

// AuthorizeUser is Authorize for one person's data: an end-user token is
// admitted where the rule says Self, for its own person only (another
// person answers notFound, as an unknown id); any other token as
// Authorize decides.
func AuthorizeUser(ctx context.Context, res Resource, act Action, userID int64, notFound error) error {
	p := PrincipalFromContext(ctx)
	if !p.EndUser() {
		_, err := Authorize(ctx, res, act)
		return err
	}
	rule, ok := Policy[res][act]
	switch {
	case p.TenantID == 0:
		return Errorf(EUNAUTHORIZED, "", "authentication required")
	case !ok || !rule.Self:
		return Errorf(EFORBIDDEN, "", "an end-user token may not %s %s", act, res)
	case userID != p.UserID:
		return notFound
	}
	return nil
}

// NotFound is the error every service answers for an unknown id of what,
// and for one outside the caller's project scope.
func NotFound(what string, id int64) error {
	return Errorf(ENOTFOUND, "", "%s %d not found", what, id)
}

// String names the rule for documentation: its permission and scope.
func (r Rule) String() string {
	perm := string(r.Perm)
	if perm == "" {
		perm = "any valid token"
	}
	if r.TenantWide {
		perm = fmt.Sprintf("%s, unscoped token", perm)
	}
	if r.Self {
		perm += "; or the person's own end-user token"
	}
	return perm
}
