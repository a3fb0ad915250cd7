package codeartsdeploy

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/compat/internal/apig"
)

// Surface is the CodeArts Deploy application messages API. Set the services
// and mount it with Register (api.Server does, through its Surfaces).
type Surface struct {
	Projects  herald.ProjectService
	Sources   herald.SourceService
	Notifiers herald.NotifierService
	Settings  herald.SettingsService
	// Location is the time zone of create_time and update_time. Nil: UTC.
	Location *time.Location
	// Logger receives internal errors. Nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock of create_time. Nil: time.Now.
	Now func() time.Time
}

// Register mounts the surface's routes on mux.
func (s *Surface) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/projects/{project_id}/applications/{app_id}/messages", s.handleGetMessages)
	mux.HandleFunc("POST /v2/projects/{project_id}/applications/{app_id}/messages", s.handlePostMessages)
	// What the gateway answers for the rest of the surface's paths: a
	// method no API defines, and a path no API has.
	mux.HandleFunc("/v2/projects/{project_id}/applications/{app_id}/messages", apig.NoMethod)
	mux.HandleFunc("/v2/projects/", apig.NoAPI)
	mux.HandleFunc("/v2/projects", apig.NoAPI)
}

// listAnswer is the vendor's answer: the application's TaskMsgBody list.
type listAnswer struct {
	Result []taskMsgOut `json:"result"`
	Status string       `json:"status"`
}

func (s *Surface) handleGetMessages(w http.ResponseWriter, r *http.Request) {
	a, err := s.application(r)
	if err == nil {
		var items []taskMsgOut
		if items, err = s.list(r.Context(), a); err == nil {
			apig.WriteJSON(w, http.StatusOK, listAnswer{Result: items, Status: "success"})
			return
		}
	}
	s.writeError(w, r, err)
}

func (s *Surface) handlePostMessages(w http.ResponseWriter, r *http.Request) {
	a, err := s.application(r)
	if err == nil {
		if err = s.replace(w, r, a); err == nil {
			var items []taskMsgOut
			if items, err = s.list(r.Context(), a); err == nil {
				apig.WriteJSON(w, http.StatusOK, listAnswer{Result: items, Status: "success"})
				return
			}
		}
	}
	s.writeError(w, r, err)
}

// app is the path's application with its project.
type app struct {
	src     *herald.Source
	project *herald.Project
}

func (a *app) scope() herald.SettingsScope {
	return herald.SettingsScope{ProjectID: a.src.ProjectID, SourceID: a.src.ID}
}

// application authenticates the request and finds the path's application
// in the path's project; the services decide what the token may do
// (anything it may not see is not found, like an unknown application).
func (s *Surface) application(r *http.Request) (*app, error) {
	if err := apig.AuthFailure(r); err != nil {
		return nil, err
	}
	projectID, appID := r.PathValue("project_id"), r.PathValue("app_id")
	if !herald.IsExternalID32(projectID) {
		return nil, herald.Errorf(herald.EINVALID, "project_id", "Invalid parameter: project_id must be exactly 32 letters or digits.")
	}
	if !herald.IsExternalID32(appID) {
		return nil, herald.Errorf(herald.EINVALID, "app_id", "Invalid parameter: app_id must be exactly 32 letters or digits.")
	}
	notFound := herald.Errorf(herald.ENOTFOUND, "", "Application does not exist: %s.", appID)
	src, err := s.Sources.FindSourceByExternalID(r.Context(), herald.SourceApplication, appID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	project, err := s.Projects.FindProjectByID(r.Context(), src.ProjectID)
	if herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && project.ExternalID != projectID) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	return &app{src: src, project: project}, nil
}

// projectNotifiers lists the notifiers of the application's project.
func (s *Surface) projectNotifiers(ctx context.Context, projectID int64) ([]*herald.Notifier, error) {
	var out []*herald.Notifier
	page := herald.Page{Limit: herald.MaxPageLimit}
	for {
		ns, next, err := s.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: projectID}, page)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

func (s *Surface) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// timeLayout is the vendor's yyyy-MM-dd HH:mm:ss.
const timeLayout = "2006-01-02 15:04:05"

func (s *Surface) format(t time.Time) string {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(timeLayout)
}
