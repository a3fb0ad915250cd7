package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/heraldhq/herald"
)

// scopeFinder resolves the path's {id} to a settings scope the principal
// may see.
type scopeFinder func(r *http.Request) (herald.SettingsScope, error)

// sourceScope is the scope of the source {id}; loading the source finds its
// project (and answers 404 for a foreign one).
func (s *Server) sourceScope(r *http.Request) (herald.SettingsScope, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return herald.SettingsScope{}, err
	}
	src, err := s.Sources.FindSourceByID(r.Context(), id)
	if err != nil {
		return herald.SettingsScope{}, err
	}
	return herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}, nil
}

// projectScope is the default settings of the project {id}.
func (s *Server) projectScope(r *http.Request) (herald.SettingsScope, error) {
	id, err := s.projectParent(r)
	if err != nil {
		return herald.SettingsScope{}, err
	}
	return herald.SettingsScope{ProjectID: id}, nil
}

// settingsBody is the body of a settings PUT: the settings document as GET
// answers it, and the revision the writer read (a pointer, so that an
// absent revision can be told from 0). The members the server decides are
// accepted, whatever their value, and ignored.
type settingsBody struct {
	Revision         *int64                   `json:"revision"`
	InheritProject   bool                     `json:"inherit_project"`
	NotifyCommenters bool                     `json:"notify_commenters"`
	Channels         []herald.ChannelSettings `json:"channels"`

	ProjectID json.RawMessage `json:"project_id"`
	SourceID  json.RawMessage `json:"source_id"`
	Version   json.RawMessage `json:"version"`
	UpdatedAt json.RawMessage `json:"updated_at"`
	UpdatedBy json.RawMessage `json:"updated_by"`
}

// revisionBody is the body of deploy and revert.
type revisionBody struct {
	Revision *int64 `json:"revision"`
}

// expectedRevision turns an optional revision into the one to check.
func expectedRevision(rev *int64) (int64, error) {
	if rev == nil {
		return herald.NoRevisionCheck, nil
	}
	if *rev < herald.NoRevisionCheck {
		return 0, herald.Errorf(herald.EINVALID, "revision", "revision must be a revision number, or -1 to skip the check")
	}
	return *rev, nil
}

// decodeSettings reads a settings PUT body: the document the client may
// write (inherit_project, notify_commenters, channels) and the expected
// revision. What the server decides (project, source, version, who and
// when) is read back as sent by GET, so it is accepted and ignored. The
// document is not validated yet.
func decodeSettings(body io.Reader) (*herald.Settings, int64, error) {
	var b settingsBody
	if err := decodeJSON(body, &b, false); err != nil {
		return nil, 0, err
	}
	rev, err := expectedRevision(b.Revision)
	if err != nil {
		return nil, 0, err
	}
	return &herald.Settings{
		InheritProject:   b.InheritProject,
		NotifyCommenters: b.NotifyCommenters,
		Channels:         b.Channels,
	}, rev, nil
}

// versionParam is the ?version= a GET of a draft/live document asks for:
// draft (the default) or live.
func versionParam(r *http.Request) (string, error) {
	version := herald.VersionDraft
	if q := r.URL.Query(); q.Has("version") {
		version = q.Get("version")
	}
	if version != herald.VersionDraft && version != herald.VersionLive {
		return "", herald.Errorf(herald.EINVALID, "version", "version must be draft or live, not %q", version)
	}
	return version, nil
}

// settingsJSONFinder is a settings service that can answer FindSettings
// already encoded, byte for byte what writeJSON would write (authz's,
// over the store's read cache); ok false when it cannot.
type settingsJSONFinder interface {
	FindSettingsJSON(ctx context.Context, scope herald.SettingsScope, version string) (js string, ok bool, err error)
}

// handleGetSettings answers the draft (default) or live settings.
func (s *Server) handleGetSettings(scope scopeFinder) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sc, err := scope(r)
		if err != nil {
			return err
		}
		version, err := versionParam(r)
		if err != nil {
			return err
		}
		if f, ok := s.Settings.(settingsJSONFinder); ok {
			js, ok, err := f.FindSettingsJSON(r.Context(), sc, version)
			if err != nil {
				return err
			}
			if ok {
				writeEncoded(w, http.StatusOK, js)
				return nil
			}
		}
		st, err := s.Settings.FindSettings(r.Context(), sc, version)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// handlePutSettings replaces the draft, checking the revision.
func (s *Server) handlePutSettings(scope scopeFinder) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sc, err := scope(r)
		if err != nil {
			return err
		}
		doc, rev, err := decodeSettings(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			return err
		}
		if err := doc.Validate(); err != nil {
			return err
		}
		doc.ProjectID, doc.SourceID, doc.Version = sc.ProjectID, sc.SourceID, herald.VersionDraft
		st, err := s.Settings.UpdateSettings(r.Context(), herald.SettingsRef{Scope: sc, Revision: rev}, doc)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// handleDeploySettings copies the draft to live, or with revert discards
// the draft back to live; it answers the resulting live (deploy) or draft
// (revert) settings.
func (s *Server) handleDeploySettings(scope scopeFinder, revert bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sc, err := scope(r)
		if err != nil {
			return err
		}
		var b revisionBody
		if err := decodeOptional(w, r, &b); err != nil {
			return err
		}
		rev, err := expectedRevision(b.Revision)
		if err != nil {
			return err
		}
		out, err := s.Settings.DeploySettings(r.Context(), []herald.SettingsRef{{Scope: sc, Revision: rev}}, revert)
		if err != nil {
			return err
		}
		if len(out) != 1 {
			return fmt.Errorf("deploy returned %d settings for one scope", len(out))
		}
		return writeJSON(w, http.StatusOK, out[0])
	}
}

// handleEffectiveSettings answers the live settings after inheritance.
func (s *Server) handleEffectiveSettings(scope scopeFinder) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sc, err := scope(r)
		if err != nil {
			return err
		}
		st, err := s.Settings.EffectiveSettings(r.Context(), sc)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// handleSettingsHistory lists the changes, newest first.
func (s *Server) handleSettingsHistory(scope scopeFinder) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sc, err := scope(r)
		if err != nil {
			return err
		}
		page, err := queryPage(r)
		if err != nil {
			return err
		}
		items, next, err := s.Settings.FindSettingsHistory(r.Context(), sc, page)
		if err != nil {
			return err
		}
		return writeList(w, items, next)
	}
}
