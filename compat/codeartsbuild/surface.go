package codeartsbuild

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/compat/internal/apig"
)

// Surface is the CodeArts Build notice API. Set the services and mount it
// with Register (api.Server does, through its Surfaces).
type Surface struct {
	Sources   herald.SourceService
	Notifiers herald.NotifierService
	Settings  herald.SettingsService
	// Logger receives internal errors. Nil: slog.Default().
	Logger *slog.Logger
}

// Register mounts the surface's routes on mux.
func (s *Surface) Register(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/job/{job_id}/notice", s.handlePutNotice)
	mux.HandleFunc("PUT /v1/job/{job_id}/notice/update", s.handlePutNotice)
	mux.HandleFunc("GET /v1/job/{job_id}/notice", s.handleGetNotice)
	// What the gateway answers for the rest of the surface's paths: a
	// method no API defines, and a path no API has.
	mux.HandleFunc("/v1/job/{job_id}/notice", apig.NoMethod)
	mux.HandleFunc("/v1/job/{job_id}/notice/update", apig.NoMethod)
	mux.HandleFunc("/v1/job/", apig.NoAPI)
	mux.HandleFunc("/v1/job", apig.NoAPI)
}

// envelope is the vendor's success answer.
type envelope struct {
	Result any    `json:"result"`
	Error  any    `json:"error"`
	Status string `json:"status"`
}

// handlePutNotice updates one notice type of a job in its live settings.
func (s *Surface) handlePutNotice(w http.ResponseWriter, r *http.Request) {
	if err := s.putNotice(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	apig.WriteJSON(w, http.StatusOK, envelope{Status: "success"})
}

func (s *Surface) putNotice(w http.ResponseWriter, r *http.Request) error {
	src, err := s.job(r)
	if err != nil {
		return err
	}
	in, err := decodeNotice(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return err
	}
	return s.write(r.Context(), herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}, in)
}

// handleGetNotice answers every notice type of a job from its live settings.
func (s *Surface) handleGetNotice(w http.ResponseWriter, r *http.Request) {
	items, err := s.getNotice(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	apig.WriteJSON(w, http.StatusOK, envelope{Result: items, Status: "success"})
}

func (s *Surface) getNotice(r *http.Request) ([]noticeItem, error) {
	src, err := s.job(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	live, err := s.Settings.FindSettings(ctx, herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}, herald.VersionLive)
	if err != nil {
		return nil, err
	}
	items := make([]noticeItem, 0, len(noticeTypes))
	for _, nt := range noticeTypes {
		n, err := s.notifier(ctx, src.ProjectID, nt)
		if err != nil {
			return nil, err
		}
		var ch *herald.ChannelSettings
		if n != nil {
			ch = live.Channel(n.ID)
		}
		items = append(items, itemOf(nt, ch))
	}
	return items, nil
}

// job authenticates the request and finds the path's build job; the
// services decide what the token may do (a job it may not see is not
// found, like an unknown one).
func (s *Surface) job(r *http.Request) (*herald.Source, error) {
	if err := apig.AuthFailure(r); err != nil {
		return nil, err
	}
	id := r.PathValue("job_id")
	if !herald.IsExternalID32(id) {
		return nil, herald.Errorf(herald.EINVALID, fieldJobID, "Invalid task ID: job_id must be exactly 32 letters or digits.")
	}
	src, err := s.Sources.FindSourceByExternalID(r.Context(), herald.SourceBuildJob, id)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil, herald.Errorf(herald.ENOTFOUND, "", "The build task %s does not exist.", id)
	} else if err != nil {
		return nil, err
	}
	return src, nil
}

// notifier returns the project's notifier of a notice type, its first
// notifier of that type (the shared notifier herald.NotifierSpec names),
// or nil when it has none.
func (s *Surface) notifier(ctx context.Context, projectID int64, nt noticeType) (*herald.Notifier, error) {
	ns, _, err := s.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: projectID, Type: nt.notifier}, herald.Page{Limit: 1})
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	return ns[0], nil
}
