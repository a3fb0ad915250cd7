package codeartsbuild

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
)

// Vendor error codes (see the package comment).
const (
	codeInvalidParam = "CB.00060200"
	codeInvalidJobID = "CB.00060201"
	codeUnauthorized = "CB.00060401"
	codeForbidden    = "CB.00060403"
	codeNotFound     = "CB.00060214"
	codeBusy         = "CB.00060100"
	codeTooMany      = "CB.00060211"
	codeInternal     = "CB.00060101"
)

// errInvalidJobID marks a job_id that is not 32 letters or digits, which
// the vendor answers with its own code.
const fieldJobID = "job_id"

// vendorError is the vendor's error envelope.
type vendorError struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// writeError renders err in the vendor's envelope. It is the only place
// this surface decides a status from an error; internal errors are logged
// and shown only as a generic message.
func (s *Surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var code string
	msg := herald.ErrorMessage(err)
	switch herald.ErrorCode(err) {
	case herald.EINVALID, herald.ETOOLARGE:
		status, code = http.StatusBadRequest, codeInvalidParam
		if herald.ErrorField(err) == fieldJobID {
			code = codeInvalidJobID
		}
	case herald.EUNAUTHORIZED:
		status, code = http.StatusUnauthorized, codeUnauthorized
	case herald.EFORBIDDEN:
		status, code = http.StatusForbidden, codeForbidden
	case herald.ENOTFOUND:
		status, code = http.StatusNotFound, codeNotFound
	case herald.ECONFLICT:
		status, code, msg = http.StatusInternalServerError, codeBusy, "Network busy. Try again later."
	case herald.ERATELIMITED:
		status, code, msg = http.StatusInternalServerError, codeTooMany, "Too many requests. Try again later."
	default:
		status, code, msg = http.StatusInternalServerError, codeInternal, "Internal error."
		s.logger().ErrorContext(r.Context(), "codeartsbuild: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, vendorError{ErrorCode: code, ErrorMsg: msg})
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
