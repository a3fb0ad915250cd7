package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the hand-maintained OpenAPI 3.1 document of the native API;
// TestOpenAPI_MatchesRoutes keeps it and routes() listing the same
// operations.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document of the native API.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
	return nil
}
