package api

import (
	"encoding/json"
	htmltemplate "html/template"
	"net/http"

	"github.com/heraldhq/herald"
)

// preferencesBody is the body of a preferences PUT: the document as GET
// answers it and the revision the writer read (absent: no check). What
// the server decides is accepted and ignored.
type preferencesBody struct {
	Revision   *int64                  `json:"revision"`
	Rules      []herald.PreferenceRule `json:"rules"`
	QuietHours []herald.QuietHours     `json:"quiet_hours"`

	UserID    json.RawMessage `json:"user_id"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// userPreferences answers GET (put nil) or PUT of the preferences of the
// person userOf names.
func (s *Server) userPreferences(put bool, userOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := userOf(r)
		if err != nil {
			return err
		}
		if !put {
			p, err := s.Preferences.FindUserPreferences(r.Context(), id)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, p)
		}
		var b preferencesBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		rev, err := expectedRevision(b.Revision)
		if err != nil {
			return err
		}
		p, err := s.Preferences.UpdateUserPreferences(r.Context(), &herald.UserPreferences{UserID: id, Revision: rev, Rules: b.Rules, QuietHours: b.QuietHours})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, p)
	}
}

// pathUser is the person the path's {id} names.
func pathUser(r *http.Request) (int64, error) { return pathID(r, "id") }

// me is the person an end-user token acts for.
func me(r *http.Request) (int64, error) {
	p := principalOf(r.Context())
	if !p.EndUser() {
		return 0, herald.Errorf(herald.EFORBIDDEN, "", "/api/v1/me is the person of an end-user token (hlu_…): no permission of an API token admits it; name the person instead, /api/v1/users/{id}/…")
	}
	return p.UserID, nil
}

// handlePreferencePanel answers the preferences panel of the end-user
// token's person for the token's project.
func (s *Server) handlePreferencePanel(w http.ResponseWriter, r *http.Request) error {
	id, err := me(r)
	if err != nil {
		return err
	}
	p, err := s.Preferences.FindPreferencePanel(r.Context(), principalOf(r.Context()).ProjectID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// policyBody is the body of a preference policy PUT.
type policyBody struct {
	Revision   *int64                  `json:"revision"`
	Categories []herald.Category       `json:"categories"`
	Required   []string                `json:"required"`
	Urgent     []string                `json:"urgent"`
	Defaults   []herald.PreferenceRule `json:"defaults"`
	QuietHours []herald.QuietHours     `json:"quiet_hours"`

	ProjectID json.RawMessage `json:"project_id"`
	UpdatedAt json.RawMessage `json:"updated_at"`
	UpdatedBy json.RawMessage `json:"updated_by"`
}

// preferencePolicy answers GET or PUT of the policy of the project
// projectOf names (nil: the tenant's).
func (s *Server) preferencePolicy(put bool, projectOf func(r *http.Request) (int64, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var id int64
		if projectOf != nil {
			var err error
			if id, err = projectOf(r); err != nil {
				return err
			}
		}
		if !put {
			p, err := s.Preferences.FindPreferencePolicy(r.Context(), id)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, p)
		}
		var b policyBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		rev, err := expectedRevision(b.Revision)
		if err != nil {
			return err
		}
		p, err := s.Preferences.UpdatePreferencePolicy(r.Context(), &herald.PreferencePolicy{ProjectID: id, Revision: rev,
			Categories: b.Categories, Required: b.Required, Urgent: b.Urgent, Defaults: b.Defaults, QuietHours: b.QuietHours})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, p)
	}
}

// endUserKey is the answer of POST …/end-user-key: the key, shown once.
type endUserKey struct {
	ProjectID int64  `json:"project_id"`
	Key       string `json:"key"`
}

func (s *Server) handleRotateEndUserKey(w http.ResponseWriter, r *http.Request) error {
	id, err := s.projectParent(r)
	if err != nil {
		return err
	}
	key, err := s.EndUserKeys.RotateEndUserKey(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, endUserKey{ProjectID: id, Key: key})
}

func (s *Server) handleDeleteEndUserKey(w http.ResponseWriter, r *http.Request) error {
	id, err := s.projectParent(r)
	if err != nil {
		return err
	}
	if err := s.EndUserKeys.DeleteEndUserKey(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unsubscribePage is what a person sees at an unsubscribe link: a GET
// changes nothing (mail scanners follow links), the button POSTs as the
// mail client's one-click does.
var unsubscribePage = htmltemplate.Must(htmltemplate.New("unsubscribe").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
{{if .Error}}<p>{{.Error}}</p>
{{else if .Done}}<p>Done: you will no longer receive these emails ({{.What}}).</p><p>已退订：您将不再收到此类邮件（{{.What}}）。</p>
{{else}}<p>Stop receiving these emails ({{.What}})?</p><p>不再接收此类邮件（{{.What}}）？</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe / 退订</button></form>
{{end}}</body></html>
`))

// handleUnsubscribe serves one-click unsubscribe links (RFC 8058): the
// link is its own credential, acting as its person (an end-user
// principal) for one change to their preferences, so the one policy
// still decides.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	page := func(status int, data map[string]any) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		return unsubscribePage.Execute(w, data)
	}
	if len(s.UnsubscribeKey) == 0 {
		return page(http.StatusNotFound, map[string]any{"Error": "This link is not valid."})
	}
	c, err := herald.VerifyUnsubscribe(s.UnsubscribeKey, r.PathValue("token"))
	if err != nil {
		return page(http.StatusNotFound, map[string]any{"Error": "This link is not valid."})
	}
	what := c.Rule.EventType
	if c.Rule.Category != "" {
		what = c.Rule.Category
	}
	if r.Method != http.MethodPost {
		return page(http.StatusOK, map[string]any{"What": what})
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseMultipartForm(64 << 10); err != nil && err != http.ErrNotMultipart {
		return page(http.StatusBadRequest, map[string]any{"Error": "The request is not a form."})
	}
	if r.PostFormValue("List-Unsubscribe") != "One-Click" {
		return page(http.StatusBadRequest, map[string]any{"Error": "A one-click unsubscribe posts List-Unsubscribe=One-Click."})
	}
	ctx := herald.NewContextWithPrincipal(r.Context(), &herald.Principal{TenantID: c.TenantID, UserID: c.UserID, TokenName: "unsubscribe link"})
	if _, err := s.Preferences.SetUserPreference(ctx, c.UserID, c.Rule); herald.ErrorCode(err) == herald.ENOTFOUND {
		return page(http.StatusNotFound, map[string]any{"Error": "This link is not valid any more."})
	} else if err != nil {
		return err
	}
	return page(http.StatusOK, map[string]any{"Done": true, "What": what})
}
