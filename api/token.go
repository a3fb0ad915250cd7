package api

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// createdToken is the answer to a token creation: the only time the secret
// is shown.
type createdToken struct {
	*herald.Token
	Secret string `json:"secret"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
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
	var c herald.TokenCreate
	if err := decode(w, r, &c); err != nil {
		return err
	}

	t, secret, err := s.Tokens.CreateToken(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdToken{Token: t, Secret: secret})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) error {
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
