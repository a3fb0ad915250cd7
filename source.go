package herald

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Source kinds. A build_job and an application carry CodeArts' 32-character
// ids; an app carries Kintone's positive integer app id.
const (
	SourceBuildJob    = "build_job"
	SourceApplication = "application"
	SourceApp         = "app"
	SourceGeneric     = "generic"
)

// Source is anything that emits events and has notification settings of
// its own.
type Source struct {
	ID         int64  `json:"id"`
	ProjectID  int64  `json:"project_id"`
	Kind       string `json:"kind"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	// SpaceID is the space holding the source, e.g. Kintone's guest space
	// id; empty for none.
	SpaceID   string    `json:"space_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the kind and that the external id has the kind's form.
func (s *Source) Validate() error {
	if err := checkText(s); err != nil {
		return err
	}
	if err := validateName("name", s.Name); err != nil {
		return err
	}
	if s.SpaceID != "" && !rePositive.MatchString(s.SpaceID) {
		return Errorf(EINVALID, "space_id", "space_id must be a positive integer")
	}
	switch s.Kind {
	case SourceBuildJob, SourceApplication:
		if !IsExternalID32(s.ExternalID) {
			return Errorf(EINVALID, "external_id", "external_id of a %s must be exactly 32 letters or digits", s.Kind)
		}
	case SourceApp:
		if !rePositive.MatchString(s.ExternalID) {
			return Errorf(EINVALID, "external_id", "external_id of an app must be a positive integer")
		}
	case SourceGeneric:
		if err := validateCode("external_id", s.ExternalID); err != nil {
			return err
		}
	case "":
		return Errorf(EINVALID, "kind", "kind is required")
	default:
		return Errorf(EINVALID, "kind", "kind must be one of %s", strings.Join(SourceKinds, ", "))
	}
	return nil
}

// SourceKinds lists every source kind.
var SourceKinds = []string{SourceBuildJob, SourceApplication, SourceApp, SourceGeneric}

// SourceFilter narrows FindSources; FindSourceByExternalID checks its kind
// and external id as one.
type SourceFilter struct {
	ProjectID  int64
	Kind       string
	ExternalID string
}

// Validate checks a filter's text and kind, so that a look-up no source
// could match answers EINVALID rather than reach the database.
func (f SourceFilter) Validate() error {
	if err := ValidText("kind", f.Kind); err != nil {
		return err
	}
	if err := ValidText("external_id", f.ExternalID); err != nil {
		return err
	}
	if f.Kind != "" && !slices.Contains(SourceKinds, f.Kind) {
		return Errorf(EINVALID, "kind", "kind must be one of %s", strings.Join(SourceKinds, ", "))
	}
	return nil
}

// SourceService manages sources; creating one also creates its settings.
type SourceService interface {
	FindSourceByID(ctx context.Context, id int64) (*Source, error)
	// FindSourceByExternalID finds a source by kind and vendor id within
	// the tenant.
	FindSourceByExternalID(ctx context.Context, kind, externalID string) (*Source, error)
	FindSources(ctx context.Context, f SourceFilter, page Page) ([]*Source, string, error)
	CreateSource(ctx context.Context, s *Source) error
	// UpdateSource saves s's name and space; kind and external id are fixed at creation.
	UpdateSource(ctx context.Context, s *Source) error
	DeleteSource(ctx context.Context, id int64) error
}
