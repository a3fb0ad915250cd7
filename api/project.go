package api

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// projectParent checks the project named by the path's {id}.
func (s *Server) projectParent(r *http.Request) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	p, err := s.Projects.FindProjectByID(r.Context(), id)
	if err != nil {
		return 0, err
	}
	return p.ID, nil
}

func (s *Server) handleListProjects(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Projects.FindProjects(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateProject(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(nil, func(p *herald.Project, _ int64) {
		p.ID, p.CreatedAt, p.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Projects.CreateProject)(w, r)
}

func (s *Server) handleGetProject(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Projects.FindProjectByID)(w, r)
}

func (s *Server) handleUpdateProject(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Projects.FindProjectByID, func(cur, next *herald.Project) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Projects.UpdateProject)(w, r)
}

// handleDeleteProject deletes a project; one with events needs
// ?force=true, since its events and deliveries go with it.
func (s *Server) handleDeleteProject(w http.ResponseWriter, r *http.Request) error {
	var force bool
	switch v := r.URL.Query().Get("force"); v {
	case "", "false":
	case "true":
		force = true
	default:
		return herald.Errorf(herald.EINVALID, "force", "force must be true or false, not %q", v)
	}
	return handleDelete(s.Projects.FindProjectByID, func(ctx context.Context, id int64) error {
		err := s.Projects.DeleteProject(ctx, id, force)
		if herald.ErrorCode(err) == herald.ECONFLICT && herald.ErrorField(err) == "force" {
			return herald.Errorf(herald.ECONFLICT, "force", "%s (repeat with ?force=true)", herald.ErrorMessage(err))
		}
		return err
	})(w, r)
}

func (s *Server) handleListSources(w http.ResponseWriter, r *http.Request) error {
	projectID, err := s.projectParent(r)
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	f := herald.SourceFilter{ProjectID: projectID, Kind: r.URL.Query().Get("kind"), ExternalID: r.URL.Query().Get("external_id")}
	items, next, err := s.Sources.FindSources(r.Context(), f, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateSource(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(s.projectParent, func(src *herald.Source, projectID int64) {
		src.ID, src.ProjectID, src.CreatedAt, src.UpdatedAt = 0, projectID, time.Time{}, time.Time{}
	}, s.Sources.CreateSource)(w, r)
}

func (s *Server) handleGetSource(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Sources.FindSourceByID)(w, r)
}

// handleUpdateSource changes a source's name: its project, kind and
// external id are fixed at creation.
func (s *Server) handleUpdateSource(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Sources.FindSourceByID, func(cur, next *herald.Source) {
		next.ID, next.ProjectID, next.Kind, next.ExternalID = cur.ID, cur.ProjectID, cur.Kind, cur.ExternalID
		next.CreatedAt, next.UpdatedAt = cur.CreatedAt, cur.UpdatedAt
	}, s.Sources.UpdateSource)(w, r)
}

func (s *Server) handleDeleteSource(w http.ResponseWriter, r *http.Request) error {
	return handleDelete(s.Sources.FindSourceByID, s.Sources.DeleteSource)(w, r)
}

func (s *Server) handleListNotifiers(w http.ResponseWriter, r *http.Request) error {
	projectID, err := s.projectParent(r)
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	f := herald.NotifierFilter{ProjectID: projectID, Type: r.URL.Query().Get("type")}
	items, next, err := s.Notifiers.FindNotifiers(r.Context(), f, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateNotifier(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(s.projectParent, func(n *herald.Notifier, projectID int64) {
		n.ID, n.ProjectID, n.CreatedAt, n.UpdatedAt = 0, projectID, time.Time{}, time.Time{}
	}, s.Notifiers.CreateNotifier)(w, r)
}

func (s *Server) handleGetNotifier(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Notifiers.FindNotifierByID)(w, r)
}

// handleUpdateNotifier changes a notifier; its project is fixed. The patch
// applies to the redacted notifier (the service reads and answers notifiers
// redacted), so credentials left out, or sent back
// masked, keep the stored ones (the store applies herald.Notifier's
// MergeStored rule, which also refuses a new destination without them).
func (s *Server) handleUpdateNotifier(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Notifiers.FindNotifierByID, func(cur, next *herald.Notifier) {
		next.ID, next.ProjectID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.ProjectID, cur.CreatedAt, cur.UpdatedAt
	}, s.Notifiers.UpdateNotifier)(w, r)
}

func (s *Server) handleDeleteNotifier(w http.ResponseWriter, r *http.Request) error {
	return handleDelete(s.Notifiers.FindNotifierByID, s.Notifiers.DeleteNotifier)(w, r)
}
