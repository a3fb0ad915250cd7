package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
)

// codes maps herald error codes to the native API's HTTP statuses. It is the
// only place the native API decides a status from an error.
var codes = map[string]int{
	herald.EINVALID:      http.StatusBadRequest,
	herald.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	herald.EUNAUTHORIZED: http.StatusUnauthorized,
	herald.EFORBIDDEN:    http.StatusForbidden,
	herald.ENOTFOUND:     http.StatusNotFound,
	herald.ECONFLICT:     http.StatusConflict,
	// not_allowed is about the object's state (a department with children,
	// a push already sent), not the HTTP method: a conflict with the state.
	herald.ENOTALLOWED:  http.StatusConflict,
	herald.ERATELIMITED: http.StatusTooManyRequests,
	herald.EINTERNAL:    http.StatusInternalServerError,
}

// StatusFor returns the HTTP status of a herald error code (500 for an
// unknown one).
func StatusFor(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details document with Herald's extension
// members: the herald error code, the input field at fault, and the
// request's id (the X-Request-Id header), to quote when reporting it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Error renders err as application/problem+json. Internal errors are logged
// (through the request's logger) and shown only as herald.ErrorMessage's
// generic text.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	code := herald.ErrorCode(err)
	if code == herald.EINTERNAL {
		if info := infoFrom(r); info != nil {
			info.err = err // the request log line carries it
		} else {
			// Only a caller outside Server.Handler gets here; its
			// internal error must still be seen somewhere.
			slog.Default().ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	writeProblem(w, StatusFor(code), code, herald.ErrorField(err), herald.ErrorMessage(err))
}

func writeProblem(w http.ResponseWriter, status int, code, field, detail string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
		Field:  field,
		// observe set the header before any handler ran.
		RequestID: w.Header().Get(RequestIDHeader),
	})
}
