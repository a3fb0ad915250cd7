package herald

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Every surface maps these to its own status and envelope;
// nothing else decides an HTTP status.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ERATELIMITED  = "rate_limited"
	ETOOLARGE     = "too_large"
	ENOTALLOWED   = "not_allowed" // the operation is not allowed in the object's state
	EINTERNAL     = "internal"
)

// Error is the one error type users see. Field names the input at fault,
// in the native API's JSON naming (e.g. "channels[0].events[1].type").
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("herald error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("herald error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message about field (may be "").
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for anything not an *Error,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic message so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field an *Error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// FieldErrors is a validation error about several fields at once: each
// element names its field, in the order found. It reads as its first
// element (ErrorCode, ErrorField and ErrorMessage see that one, so a
// surface that reports one field keeps working); ErrorFields lists them
// all, for a surface that reports every field at once. Build one with Err,
// which never returns an empty list.
type FieldErrors []*Error

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the elements, for errors.Is and errors.As.
func (e FieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// Err returns nil when e is empty, its only element when it has one, and
// e otherwise.
func (e FieldErrors) Err() error {
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// ErrorFields returns every error err carries: the elements of a
// FieldErrors, else the one *Error, else nil.
func ErrorFields(err error) []*Error {
	var fe FieldErrors
	if errors.As(err, &fe) && len(fe) > 0 {
		return fe
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}
