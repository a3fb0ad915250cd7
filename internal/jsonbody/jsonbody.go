// Package jsonbody decodes request bodies strictly, the same way for every
// surface: exactly one JSON value of the expected kind, no unknown members,
// right types, bounded size, with herald errors that name the field at
// fault. Surfaces word these errors in their own envelopes. A surface whose
// vendor ignores unknown members (a Java service behind Jackson with
// FAIL_ON_UNKNOWN_PROPERTIES off) uses the same decoder in its lenient mode,
// DecodeLenient.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// Kinds of top-level value.
const (
	Object byte = '{'
	Array  byte = '['
)

// Decode reads exactly one JSON value of kind want from body into v.
// Malformed JSON, trailing data, another kind (null included, which would
// otherwise decode as "no change"), unknown members and wrong types are
// EINVALID; a body over an http.MaxBytesReader limit is ETOOLARGE. With
// allowEmpty an empty body leaves v as it is.
func Decode(body io.Reader, v any, want byte, allowEmpty bool) error {
	return decode(body, v, want, allowEmpty, true)
}

// DecodeLenient is Decode in lenient mode: unknown members, at any depth,
// are ignored instead of refused. Everything else is checked as by Decode.
func DecodeLenient(body io.Reader, v any, want byte, allowEmpty bool) error {
	return decode(body, v, want, allowEmpty, false)
}

func decode(body io.Reader, v any, want byte, allowEmpty, strict bool) error {
	var raw json.RawMessage
	dec := json.NewDecoder(body)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) && allowEmpty {
			return nil
		}
		return Error(err, want)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Error(err, want)
		}
		return herald.Errorf(herald.EINVALID, "", "request body must hold a single JSON value; found data after it")
	}
	if raw[0] != want {
		return herald.Errorf(herald.EINVALID, "", "request body must be a JSON %s", kindName(want))
	}
	dec = json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return Error(err, want)
	}
	return nil
}

func kindName(k byte) string {
	if k == Array {
		return "array"
	}
	return "object"
}

// Error turns encoding/json's errors into herald errors naming the field.
func Error(err error, want byte) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		herr     *herald.Error
	)
	switch {
	case errors.As(err, &herr):
		return herr
	case errors.As(err, &tooLarge):
		return herald.Errorf(herald.ETOOLARGE, "", "request body exceeds %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return herald.Errorf(herald.EINVALID, "", "request body is empty; a JSON %s is required", kindName(want))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return herald.Errorf(herald.EINVALID, "", "request body is malformed JSON: it ends too early")
	case errors.As(err, &syntax):
		return herald.Errorf(herald.EINVALID, "", "request body is malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return herald.Errorf(herald.EINVALID, "", "request body must be a JSON %s, not %s", kindName(want), typ.Value)
		}
		return herald.Errorf(herald.EINVALID, typ.Field, "%s must be %s, not %s", typ.Field, Kind(typ.Type.String()), typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil {
			name = f
		}
		return herald.Errorf(herald.EINVALID, name, "unknown field %q", name)
	}
	return herald.Errorf(herald.EINVALID, "", "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// Kind describes a Go type the way a JSON client thinks of it.
func Kind(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string", goType == "herald.Permission", goType == "time.Time":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case goType == "[]string":
		return "an array of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		return "an object"
	}
	return "a " + goType
}
