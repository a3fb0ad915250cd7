package codeartsbuild

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
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
}

// envelope is the vendor's success answer.
type envelope struct {
	Result any    `json:"result"`
	Error  any    `json:"error"`
	Status string `json:"status"`
}

// handlePutNotice updates one notice type of a job: draft, then deploy.
func (s *Surface) handlePutNotice(w http.ResponseWriter, r *http.Request) {
	if err := s.putNotice(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope{Status: "success"})
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
	ctx := r.Context()
	n, err := s.notifier(ctx, src.ProjectID, in.typ, true)
	if err != nil {
		return err
	}
	scope := herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}
	return s.update(ctx, scope, func(st *herald.Settings) { in.apply(st, n.ID) })
}

// handleGetNotice answers every notice type of a job from its live settings.
func (s *Surface) handleGetNotice(w http.ResponseWriter, r *http.Request) {
	items, err := s.getNotice(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope{Result: items, Status: "success"})
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
		n, err := s.notifier(ctx, src.ProjectID, nt, false)
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
	p := herald.PrincipalFromContext(r.Context())
	if err := herald.AuthErrorFromContext(r.Context()); p == nil && herald.ErrorCode(err) == herald.EINTERNAL {
		return nil, err // the token could not be checked: not the client's fault
	}
	if p == nil {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "Authentication failed: send a valid token in X-Auth-Token.")
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

// notifier returns the project's notifier of a notice type: its first
// notifier of that type. With create, the inbox notifier is created when
// missing and any other missing notifier is an invalid parameter; without,
// a missing notifier is nil.
func (s *Surface) notifier(ctx context.Context, projectID int64, nt noticeType, create bool) (*herald.Notifier, error) {
	ns, _, err := s.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: projectID, Type: nt.notifier}, herald.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	switch {
	case len(ns) > 0:
		return ns[0], nil
	case !create:
		return nil, nil
	case nt.notifier == herald.NotifierInbox:
		n := &herald.Notifier{ProjectID: projectID, Type: herald.NotifierInbox, Name: inboxName}
		if err := s.Notifiers.CreateNotifier(ctx, n); err != nil {
			return nil, err
		}
		return n, nil
	default:
		return nil, herald.Errorf(herald.EINVALID, "notice_type",
			"Invalid parameter: the project has no %s notifier (type %s) for notice_type %s; create one first.", nt.label, nt.notifier, nt.name)
	}
}

// inboxName names the inbox notifier created for MESSAGE.
const inboxName = "system message"

// maxWriteAttempts bounds the retries when another writer changes the
// settings between this surface's read and write.
const maxWriteAttempts = 4

// update applies change to the draft, writes it naming the revision read,
// and deploys what it wrote; a concurrent write makes it start over.
func (s *Surface) update(ctx context.Context, scope herald.SettingsScope, change func(*herald.Settings)) error {
	for attempt := 1; ; attempt++ {
		draft, err := s.Settings.FindSettings(ctx, scope, herald.VersionDraft)
		if err != nil {
			return err
		}
		change(draft)
		draft.ProjectID, draft.SourceID, draft.Version = scope.ProjectID, scope.SourceID, herald.VersionDraft
		saved, err := s.Settings.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: draft.Revision}, draft)
		if err == nil {
			_, err = s.Settings.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: saved.Revision}}, false)
		}
		if herald.ErrorCode(err) == herald.ECONFLICT && attempt < maxWriteAttempts {
			continue
		}
		return err
	}
}
