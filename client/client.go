// Package client is a Go client of Herald's native API, generated from its
// OpenAPI document (api/openapi.json) by oapi-codegen, plus New and
// ProblemError to make it convenient. The CLI's commands that talk to a
// running server use it, so the document is exercised by real code.
//
// Regenerate after changing the document:
//
//	go generate ./client
//
// TestGenerated_IsCurrent fails while client.gen.go is stale.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../api/openapi.json

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// New returns a client of the server at baseURL (e.g.
// http://127.0.0.1:8080; /api/v1 is added) sending token as a bearer
// token.
func New(baseURL, token string, opts ...ClientOption) (*ClientWithResponses, error) {
	base := strings.TrimSuffix(baseURL, "/")
	if !strings.HasSuffix(base, "/api/v1") {
		base += "/api/v1"
	}
	opts = append([]ClientOption{WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	})}, opts...)
	return NewClientWithResponses(base, opts...)
}

// ProblemError is a problem document the server answered with.
type ProblemError struct {
	Status int
	Problem
}

func (e *ProblemError) Error() string {
	if e.Field != nil && *e.Field != "" {
		return fmt.Sprintf("%s (%s: %s)", e.Detail, *e.Field, e.Code)
	}
	return fmt.Sprintf("%s (%s)", e.Detail, e.Code)
}

// Check returns nil for a 2xx status, else the server's problem as a
// *ProblemError (or a plain error when the body is not a problem).
func Check(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Detail == "" {
		return fmt.Errorf("server answered %d %s: %.200s", status, http.StatusText(status), body)
	}
	return &ProblemError{Status: status, Problem: p}
}
