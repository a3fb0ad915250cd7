package codeartsdeploy

import (
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/compat/internal/apig"
)

// Vendor error codes (see the package comment).
const (
	codeInvalidParam = "Deploy.00011002"
	codeForbidden    = "Deploy.00011154"
	codeNoApp        = "Deploy.00011021"
	codeInternal     = "Deploy.00011000"
)

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
	case herald.ETOOLARGE:
		status, code, msg = http.StatusRequestEntityTooLarge, apig.CodeTooLarge, apig.MsgTooLarge
	case herald.EUNAUTHORIZED:
		status, code = http.StatusUnauthorized, apig.CodeAuth
		msg = apig.AuthMessage(msg)
	case herald.EFORBIDDEN:
		status, code = http.StatusForbidden, codeForbidden
	case herald.ENOTFOUND:
		status, code = http.StatusNotFound, codeNoApp
	case herald.ECONFLICT, herald.ERATELIMITED:
		status, code, msg = http.StatusInternalServerError, codeInternal, "The service is busy. Try again later."
	default:
		status, code, msg = http.StatusInternalServerError, codeInternal, "Internal error."
		s.logger().ErrorContext(r.Context(), "codeartsdeploy: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	apig.WriteJSON(w, status, apig.Error{ErrorCode: code, ErrorMsg: msg})
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
