package api

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// Token endpoints need the admin permission on a tenant-wide token: a
// project-scoped admin could otherwise mint or revoke tokens beyond its
// project.
func requireTenantAdmin(r *http.Request) error {
	if principalOf(r.Context()).ProjectID != 0 {
		return herald.Errorf(herald.EFORBIDDEN, "", "token management needs a token that is not scoped to a project")
	}
	return nil
}

// createdToken is the answer to a token creation: the only time the secret
// is shown.
type createdToken struct {
	*herald.Token
	Secret string `json:"secret"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
	if err := requireTenantAdmin(r); err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Tokens.FindTokens(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireTenantAdmin(r); err != nil {
		return err
	}
	var c herald.TokenCreate
	if err := decode(w, r, &c); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ProjectID < 0 {
		return herald.Errorf(herald.EINVALID, "project_id", "project_id must be a project id, or 0 for every project")
	}
	if c.ProjectID != 0 {
		if _, err := s.findProject(r.Context(), c.ProjectID); herald.ErrorCode(err) == herald.ENOTFOUND {
			return herald.Errorf(herald.EINVALID, "project_id", "project_id %d names no project", c.ProjectID)
		} else if err != nil {
			return err
		}
	}
	t, secret, err := s.Tokens.CreateToken(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdToken{Token: t, Secret: secret})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireTenantAdmin(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Tokens.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
