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
	ExternalID string `json:"external_id,omitempty"`
	// AllowedOrigins are the web origins the project's end-user tokens
	// may be used from (CORS), "https://app.example.com"; see origin.go.
	AllowedOrigins []string  `json:"allowed_origins"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Validate checks a project.
func (p *Project) Validate() error {
	if err := checkText(p); err != nil {
		return err
	}
	if err := validateName("name", p.Name); err != nil {
		return err
	}
	if err := validateOptional("description", p.Description, 2000); err != nil {
		return err
	}
	if p.ExternalID != "" && !IsExternalID32(p.ExternalID) {
		return Errorf(EINVALID, "external_id", "external_id must be exactly 32 letters or digits")
	}
	origins, err := validateOrigins("allowed_origins", p.AllowedOrigins)
	if err != nil {
		return err
	}
	p.AllowedOrigins = origins
	return nil
}

// ProjectService manages projects; creating one also creates its default
// settings.
type ProjectService interface {
	FindProjectByID(ctx context.Context, id int64) (*Project, error)
	FindProjects(ctx context.Context, page Page) ([]*Project, string, error)
	CreateProject(ctx context.Context, p *Project) error
	// UpdateProject saves p's mutable fields (name, description, external
	// id, allowed origins).
	UpdateProject(ctx context.Context, p *Project) error
	// DeleteProject deletes a project with its sources, notifiers and
	// settings. A project with history (events, and so deliveries) is
	// refused with a conflict on the field "force" unless force is set:
	// its events and deliveries would go with it.
	DeleteProject(ctx context.Context, id int64, force bool) error
}
