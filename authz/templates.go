package authz

import (
	"context"

	"github.com/heraldhq/herald"
)

var _ herald.TemplateService = templates{}

// templates guards a project's message templates: reading (and previewing)
// is templates read, every write (draft, deploy, revert) templates update,
// on the project named; a project outside the principal's scope is not
// found.
type templates struct{ g *guard }

func checkTemplates(ctx context.Context, act herald.Action, projectID int64) error {
	return project(ctx, herald.ResTemplates, act, projectID, notFound("project", projectID))
}

func (s templates) FindTemplates(ctx context.Context, projectID int64, version string) (*herald.TemplateSet, error) {
	if err := checkTemplates(ctx, herald.ActRead, projectID); err != nil {
		return nil, err
	}
	return s.g.raw.Templates.FindTemplates(ctx, projectID, version)
}

func (s templates) UpdateTemplates(ctx context.Context, projectID, revision int64, ts []herald.Template) (*herald.TemplateSet, error) {
	if err := checkTemplates(ctx, herald.ActUpdate, projectID); err != nil {
		return nil, err
	}
	return s.g.raw.Templates.UpdateTemplates(ctx, projectID, revision, ts)
}

func (s templates) DeployTemplates(ctx context.Context, projectID, revision int64, revert bool) (*herald.TemplateSet, error) {
	if err := checkTemplates(ctx, herald.ActUpdate, projectID); err != nil {
		return nil, err
	}
	return s.g.raw.Templates.DeployTemplates(ctx, projectID, revision, revert)
}

func (s templates) FindTemplatesHistory(ctx context.Context, projectID int64, page herald.Page) ([]*herald.TemplateSetChange, string, error) {
	if err := checkTemplates(ctx, herald.ActRead, projectID); err != nil {
		return nil, "", err
	}
	return s.g.raw.Templates.FindTemplatesHistory(ctx, projectID, page)
}

func (s templates) DefaultTemplates(ctx context.Context, projectID int64) ([]herald.Template, error) {
	if err := checkTemplates(ctx, herald.ActRead, projectID); err != nil {
		return nil, err
	}
	return s.g.raw.Templates.DefaultTemplates(ctx, projectID)
}

// PreviewTemplate is a read of the project's templates. The stored event
// it names must be the project's (the service checks), and the recipient
// is a directory user: what templates read (settings:read) reads already.
func (s templates) PreviewTemplate(ctx context.Context, req herald.TemplatePreviewRequest) (*herald.TemplatePreview, error) {
	if err := checkTemplates(ctx, herald.ActRead, req.ProjectID); err != nil {
		return nil, err
	}
	return s.g.raw.Templates.PreviewTemplate(ctx, req)
}
