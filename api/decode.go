package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

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
	// First one JSON value and nothing after it but white space…
	var raw json.RawMessage
	dec := json.NewDecoder(body)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) && allowEmpty {
			return nil
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err)
		}
		return herald.Errorf(herald.EINVALID, "", "request body must hold a single JSON value; found data after it")
	}
	// … which is an object (null would decode as "no change" silently) …
	if raw[0] != '{' {
		return herald.Errorf(herald.EINVALID, "", "request body must be a JSON object")
	}
	// … whose members are all known and of the right type.
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns encoding/json's errors into herald errors naming the
// field at fault.
func decodeError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return herald.Errorf(herald.ETOOLARGE, "", "request body exceeds %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return herald.Errorf(herald.EINVALID, "", "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return herald.Errorf(herald.EINVALID, "", "request body is malformed JSON: it ends too early")
	case errors.As(err, &syntax):
		return herald.Errorf(herald.EINVALID, "", "request body is malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return herald.Errorf(herald.EINVALID, "", "request body must be a JSON %s, not %s", jsonKind(typ.Type.String()), typ.Value)
		}
		return herald.Errorf(herald.EINVALID, typ.Field, "%s must be %s, not %s", typ.Field, jsonKind(typ.Type.String()), typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil {
			name = f
		}
		return herald.Errorf(herald.EINVALID, name, "unknown field %q", name)
	}
	var herr *herald.Error
	if errors.As(err, &herr) {
		return herr
	}
	return herald.Errorf(herald.EINVALID, "", "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind describes a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string", goType == "herald.Permission", goType == "time.Time":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		return "an object"
	}
	return "a " + goType
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
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
