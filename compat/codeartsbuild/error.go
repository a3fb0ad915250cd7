package codeartsbuild

import (
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/compat/internal/apig"
)

// Vendor error codes (see the package comment).
const (
	codeInvalidParam = "CB.00060200"
	codeInvalidJobID = "CB.00060201"
	codeForbidden    = "CB.00060403"
	codeNotFound     = "CB.00060214"
	codeBusy         = "CB.00060100"
	codeTooMany      = "CB.00060211"
	codeInternal     = "CB.00060101"
)

// errInvalidJobID marks a job_id that is not 32 letters or digits, which
// the vendor answers with its own code.
const fieldJobID = "job_id"

// writeError renders err in the vendor's envelope. It is the only place
// this surface decides a status from an error; internal errors are logged
// and shown only as a generic message.
func (s *Surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var code string
	msg := herald.ErrorMessage(err)
	switch herald.ErrorCode(err) {
	case herald.EINVALID:
		status, code = http.StatusBadRequest, codeInvalidParam
		if herald.ErrorField(err) == fieldJobID {
			code = codeInvalidJobID
		}
	case herald.ETOOLARGE:
		status, code, msg = http.StatusRequestEntityTooLarge, apig.CodeTooLarge, apig.MsgTooLarge
	case herald.EUNAUTHORIZED:
		status, code = http.StatusUnauthorized, apig.CodeAuth
		msg = apig.AuthMessage(msg)
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
	apig.WriteJSON(w, status, apig.Error{ErrorCode: code, ErrorMsg: msg})
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
