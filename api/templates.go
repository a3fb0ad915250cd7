package api

import (
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald"
)

// A project's message templates, beside its settings and in their shape:
// GET answers the draft (or ?version=live), PUT replaces the draft naming
// the revision it read, deploy and revert move between the two, history
// lists the changes; defaults are the built-in templates, as a document
// PUT takes; preview renders one message.

// templatesBody is the body of a templates PUT: the set as GET answers it
// and the revision the writer read. What the server decides is accepted,
// whatever its value, and ignored.
type templatesBody struct {
	Revision  *int64            `json:"revision"`
	Templates []herald.Template `json:"templates"`

	ProjectID json.RawMessage `json:"project_id"`
	Version   json.RawMessage `json:"version"`
	UpdatedAt json.RawMessage `json:"updated_at"`
	UpdatedBy json.RawMessage `json:"updated_by"`
}

// templatesProject is the project {id} whose templates a request reads or
// writes.
func (s *Server) templatesProject(r *http.Request) (int64, error) {
	if s.Templates == nil {
		return 0, herald.Errorf(herald.ENOTFOUND, "", "templates are not enabled on this server")
	}
	return pathID(r, "id")
}

func (s *Server) handleGetTemplates(w http.ResponseWriter, r *http.Request) error {
	id, err := s.templatesProject(r)
	if err != nil {
		return err
	}
	version, err := versionParam(r)
	if err != nil {
		return err
	}
	set, err := s.Templates.FindTemplates(r.Context(), id, version)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}

func (s *Server) handlePutTemplates(w http.ResponseWriter, r *http.Request) error {
	id, err := s.templatesProject(r)
	if err != nil {
		return err
	}
	var b templatesBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	rev, err := expectedRevision(b.Revision)
	if err != nil {
		return err
	}
	set, err := s.Templates.UpdateTemplates(r.Context(), id, rev, b.Templates)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}

// handleDeployTemplates copies the draft to live, or with revert the live
// back to the draft, and answers the version written.
func (s *Server) handleDeployTemplates(revert bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.templatesProject(r)
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
		set, err := s.Templates.DeployTemplates(r.Context(), id, rev, revert)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, set)
	}
}

func (s *Server) handleTemplatesHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := s.templatesProject(r)
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Templates.FindTemplatesHistory(r.Context(), id, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

// handleDefaultTemplates answers the built-in templates as {"templates":
// […]}, a body PUT takes as it is.
func (s *Server) handleDefaultTemplates(w http.ResponseWriter, r *http.Request) error {
	id, err := s.templatesProject(r)
	if err != nil {
		return err
	}
	ts, err := s.Templates.DefaultTemplates(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"templates": ts})
}

// previewBody asks for one message: a template (or the project's), an
// event (stored or sample) and a recipient.
type previewBody struct {
	Template *herald.Template `json:"template"`
	Version  string           `json:"version"`
	Channel  string           `json:"channel"`
	Locale   string           `json:"locale"`
	EventID  int64            `json:"event_id"`
	Event    *struct {
		Type     string              `json:"type"`
		SourceID int64               `json:"source_id"`
		Actor    string              `json:"actor"`
		Roles    map[string][]string `json:"roles"`
		Payload  json.RawMessage     `json:"payload"`
	} `json:"event"`
	UserID int64 `json:"user_id"`
}

func (s *Server) handlePreviewTemplate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.templatesProject(r)
	if err != nil {
		return err
	}
	var b previewBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	req := herald.TemplatePreviewRequest{ProjectID: id, Template: b.Template, Version: b.Version, Channel: b.Channel, Locale: b.Locale,
		EventID: b.EventID, UserID: b.UserID}
	if e := b.Event; e != nil {
		req.Event = &herald.Event{Type: e.Type, SourceID: e.SourceID, Actor: e.Actor, Roles: e.Roles, Payload: e.Payload}
	}
	pv, err := s.Templates.PreviewTemplate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pv)
}
