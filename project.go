package herald

import (
	"context"
	"time"
)

// Project groups sources, notifiers and the project's default settings.
type Project struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// ExternalID is the vendor's project id (CodeArts: 32 letters/digits),
	// optional.
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ProjectService manages projects; creating one also creates its default
// settings.
type ProjectService interface {
	FindProjectByID(ctx context.Context, id int64) (*Project, error)
	FindProjects(ctx context.Context, page Page) ([]*Project, string, error)
	CreateProject(ctx context.Context, p *Project) error
	// UpdateProject saves p's mutable fields (name, description, external id).
	UpdateProject(ctx context.Context, p *Project) error
	DeleteProject(ctx context.Context, id int64) error
}
