package authz

import (
	"context"

	"github.com/heraldhq/herald"
)

var (
	_ herald.PreferenceService = preferences{}
	_ herald.EndUserKeyService = endUserKeys{}
)

// preferences: a person's are directory data, which the person may read
// and change with their own end-user token (herald.AuthorizeUser); the
// policies are the settings' (a project's) or the tenant's.
type preferences struct{ g *guard }

func (s preferences) FindUserPreferences(ctx context.Context, userID int64) (*herald.UserPreferences, error) {
	if err := herald.AuthorizeUser(ctx, herald.ResPreferences, herald.ActRead, userID, herald.NotFound("user", userID)); err != nil {
		return nil, err
	}
	return s.g.raw.Preferences.FindUserPreferences(ctx, userID)
}

func (s preferences) UpdateUserPreferences(ctx context.Context, p *herald.UserPreferences) (*herald.UserPreferences, error) {
	if err := herald.AuthorizeUser(ctx, herald.ResPreferences, herald.ActUpdate, p.UserID, herald.NotFound("user", p.UserID)); err != nil {
		return nil, err
	}
	return s.g.raw.Preferences.UpdateUserPreferences(ctx, p)
}

func (s preferences) SetUserPreference(ctx context.Context, userID int64, r herald.PreferenceRule) (*herald.UserPreferences, error) {
	if err := herald.AuthorizeUser(ctx, herald.ResPreferences, herald.ActUpdate, userID, herald.NotFound("user", userID)); err != nil {
		return nil, err
	}
	return s.g.raw.Preferences.SetUserPreference(ctx, userID, r)
}

// FindPreferencePanel is the person's own preferences (read) shown for a
// project the principal can see: an end-user token's own project only.
func (s preferences) FindPreferencePanel(ctx context.Context, projectID, userID int64) (*herald.PreferencePanel, error) {
	if err := herald.AuthorizeUser(ctx, herald.ResPreferences, herald.ActRead, userID, herald.NotFound("user", userID)); err != nil {
		return nil, err
	}
	if !herald.PrincipalFromContext(ctx).CanSeeProject(projectID) {
		return nil, herald.NotFound("project", projectID)
	}
	return s.g.raw.Preferences.FindPreferencePanel(ctx, projectID, userID)
}

// policyCheck authorizes act on a project's policy, or (projectID 0) the
// tenant's.
func policyCheck(ctx context.Context, act herald.Action, projectID int64) error {
	if projectID == 0 {
		_, err := herald.Authorize(ctx, herald.ResTenantPreferencePolicy, act)
		return err
	}
	return project(ctx, herald.ResPreferencePolicy, act, projectID, notFound("project", projectID))
}

func (s preferences) FindPreferencePolicy(ctx context.Context, projectID int64) (*herald.PreferencePolicy, error) {
	if err := policyCheck(ctx, herald.ActRead, projectID); err != nil {
		return nil, err
	}
	return s.g.raw.Preferences.FindPreferencePolicy(ctx, projectID)
}

func (s preferences) UpdatePreferencePolicy(ctx context.Context, p *herald.PreferencePolicy) (*herald.PreferencePolicy, error) {
	if err := policyCheck(ctx, herald.ActUpdate, p.ProjectID); err != nil {
		return nil, err
	}
	return s.g.raw.Preferences.UpdatePreferencePolicy(ctx, p)
}

// endUserKeys: the key signs tokens for any person of the tenant; only an
// admin token of the project sets it.
type endUserKeys struct{ g *guard }

func (s endUserKeys) RotateEndUserKey(ctx context.Context, projectID int64) (string, error) {
	if err := project(ctx, herald.ResEndUserKey, herald.ActCreate, projectID, notFound("project", projectID)); err != nil {
		return "", err
	}
	return s.g.raw.EndUserKeys.RotateEndUserKey(ctx, projectID)
}

func (s endUserKeys) DeleteEndUserKey(ctx context.Context, projectID int64) error {
	if err := project(ctx, herald.ResEndUserKey, herald.ActDelete, projectID, notFound("project", projectID)); err != nil {
		return err
	}
	return s.g.raw.EndUserKeys.DeleteEndUserKey(ctx, projectID)
}
