package feishu

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Vendor error codes (see the package comment).
const (
	codeOK           = 0
	codeBadRequest   = 154000
	codeUnauthorized = 154001
	codeForbidden    = 154003
	codeNotFound     = 154004
	codeNotAllowed   = 154005
	codeRateLimited  = 99991400
	codeInternal     = 155000
)

// envelope is every answer of the surface.
type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data,omitempty"`
}

// writeError renders err in the vendor's envelope. It is the only place
// this surface decides a status from an error; internal errors are logged
// and shown only as a generic message.
func (s *Surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, codeInternal
	msg := herald.ErrorMessage(err)
	switch herald.ErrorCode(err) {
	case herald.EINVALID, herald.ETOOLARGE:
		status, code = http.StatusBadRequest, codeBadRequest
		// The envelope has no field member: the message names it.
		if f := herald.ErrorField(err); f != "" && !strings.Contains(msg, f) {
			msg = f + ": " + msg
		}
	case herald.EUNAUTHORIZED:
		status, code = http.StatusUnauthorized, codeUnauthorized
	case herald.EFORBIDDEN:
		status, code = http.StatusForbidden, codeForbidden
	case herald.ENOTFOUND:
		status, code = http.StatusNotFound, codeNotFound
	case herald.ENOTALLOWED, herald.ECONFLICT:
		status, code = http.StatusMethodNotAllowed, codeNotAllowed
	case herald.ERATELIMITED:
		status, code = http.StatusTooManyRequests, codeRateLimited
	default:
		msg = "Internal error"
		s.logger().ErrorContext(r.Context(), "feishu: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, envelope{Code: code, Msg: msg})
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// writeOK answers success with data (an empty object when nil).
func writeOK(w http.ResponseWriter, data any) {
	if data == nil {
		data = struct{}{}
	}
	writeJSON(w, http.StatusOK, envelope{Code: codeOK, Msg: "success", Data: data})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
