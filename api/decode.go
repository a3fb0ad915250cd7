package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/heraldhq/herald/internal/jsonbody"
	"io"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// decode reads r's JSON body into v. The body is bounded (ETOOLARGE beyond
// MaxBodyBytes); unknown fields, wrong types, malformed JSON, trailing data
// and an empty body are EINVALID naming the field where there is one.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(http.MaxBytesReader(w, r.Body, MaxBodyBytes), v, false)
}

// decodeOptional is decode for bodies that may be empty (deploy, revert):
// an empty body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(http.MaxBytesReader(w, r.Body, MaxBodyBytes), v, true)
}

func decodeJSON(body io.Reader, v any, allowEmpty bool) error {
	return jsonbody.Decode(body, v, jsonbody.Object, allowEmpty)
}

// pathID parses the path parameter name as a positive integer id.
func pathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, herald.Errorf(herald.EINVALID, name, "%s must be a positive integer, not %q", name, s)
	}
	return id, nil
}

// queryPage reads the limit and cursor query parameters.
func queryPage(r *http.Request) (herald.Page, error) {
	q := r.URL.Query()
	p := herald.Page{Limit: herald.DefaultPageLimit, Cursor: q.Get("cursor")}
	if q.Has("limit") {
		s := q.Get("limit")
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > herald.MaxPageLimit {
			return p, herald.Errorf(herald.EINVALID, "limit", "limit must be an integer from 1 to %d, not %q", herald.MaxPageLimit, s)
		}
		p.Limit = n
	}
	if _, err := p.After(); err != nil {
		return p, err
	}
	return p, nil
}

// queryInt64 reads an optional non-negative integer query parameter.
func queryInt64(r *http.Request, name string) (*int64, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil, nil
	}
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || n < 0 {
		return nil, herald.Errorf(herald.EINVALID, name, "%s must be a non-negative integer, not %q", name, q.Get(name))
	}
	return &n, nil
}

// listPage is the answer of every list endpoint.
type listPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func writeList[T any](w http.ResponseWriter, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return writeJSON(w, http.StatusOK, listPage[T]{Items: items, NextCursor: next})
}

// writeJSON encodes v before writing anything, so an encoding failure is
// still answered with a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	writeJSONHeader(w, status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// writeEncoded writes an answer writeJSON's way from JSON already encoded.
func writeEncoded(w http.ResponseWriter, status int, js string) {
	writeJSONHeader(w, status)
	_, _ = io.WriteString(w, js)
}

func writeJSONHeader(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
}
