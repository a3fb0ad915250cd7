package api

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// findProject loads a project of the tenant that the principal's project
// scope admits.
func (s *Server) findProject(ctx context.Context, id int64) (*herald.Project, error) {
	p, err := s.Projects.FindProjectByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !principalOf(ctx).CanSeeProject(p.ID) {
		return nil, notFound("project", id)
	}
	return p, nil
}

// projectParent checks the project named by the path's {id}.
func (s *Server) projectParent(r *http.Request) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	p, err := s.findProject(r.Context(), id)
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
	if pid := principalOf(r.Context()).ProjectID; pid != 0 {
		// A project-scoped token sees one project.
		p, err := s.findProject(r.Context(), pid)
		if herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && page.Cursor != "") {
			return writeList[*herald.Project](w, nil, "")
		} else if err != nil {
			return err
		}
		return writeList(w, []*herald.Project{p}, "")
	}
	items, next, err := s.Projects.FindProjects(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateProject(w http.ResponseWriter, r *http.Request) error {
	if principalOf(r.Context()).ProjectID != 0 {
		return herald.Errorf(herald.EFORBIDDEN, "", "a token scoped to one project cannot create projects")
	}
	return handleCreate(nil, func(p *herald.Project, _ int64) {
		p.ID, p.CreatedAt, p.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Projects.CreateProject)(w, r)
}

func (s *Server) handleGetProject(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.findProject)(w, r)
}

func (s *Server) handleUpdateProject(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.findProject, func(cur, next *herald.Project) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Projects.UpdateProject)(w, r)
}

func (s *Server) handleDeleteProject(w http.ResponseWriter, r *http.Request) error {
	return handleDelete(s.findProject, s.Projects.DeleteProject)(w, r)
}

// findSource loads a source the principal's project scope admits.
func (s *Server) findSource(ctx context.Context, id int64) (*herald.Source, error) {
	src, err := s.Sources.FindSourceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !principalOf(ctx).CanSeeProject(src.ProjectID) {
		return nil, notFound("source", id)
	}
	return src, nil
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
	return handleGet(s.findSource)(w, r)
}

// handleUpdateSource changes a source's name: its project, kind and
// external id are fixed at creation.
func (s *Server) handleUpdateSource(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.findSource, func(cur, next *herald.Source) {
		next.ID, next.ProjectID, next.Kind, next.ExternalID = cur.ID, cur.ProjectID, cur.Kind, cur.ExternalID
		next.CreatedAt, next.UpdatedAt = cur.CreatedAt, cur.UpdatedAt
	}, s.Sources.UpdateSource)(w, r)
}

func (s *Server) handleDeleteSource(w http.ResponseWriter, r *http.Request) error {
	return handleDelete(s.findSource, s.Sources.DeleteSource)(w, r)
}

// findNotifier loads a notifier the principal's project scope admits.
func (s *Server) findNotifier(ctx context.Context, id int64) (*herald.Notifier, error) {
	n, err := s.Notifiers.FindNotifierByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !principalOf(ctx).CanSeeProject(n.ProjectID) {
		return nil, notFound("notifier", id)
	}
	return n, nil
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
	return handleGet(s.findNotifier)(w, r)
}

// handleUpdateNotifier changes a notifier; its project is fixed, and a
// secret left out, empty or masked keeps the stored one (the store sees to
// it).
func (s *Server) handleUpdateNotifier(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.findNotifier, func(cur, next *herald.Notifier) {
		next.ID, next.ProjectID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.ProjectID, cur.CreatedAt, cur.UpdatedAt
	}, s.Notifiers.UpdateNotifier)(w, r)
}

func (s *Server) handleDeleteNotifier(w http.ResponseWriter, r *http.Request) error {
	return handleDelete(s.findNotifier, s.Notifiers.DeleteNotifier)(w, r)
}
