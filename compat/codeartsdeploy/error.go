package codeartsdeploy

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Vendor error codes (see the package comment).
const (
	codeInvalidParam = "Deploy.00011002"
	codeForbidden    = "Deploy.00011154"
	codeNoApp        = "Deploy.00011021"
	codeInternal     = "Deploy.00011000"
)

// The API gateway's codes and texts (see the package comment).
const (
	codeGatewayNoAPI    = "APIG.0101"
	codeGatewayTooLarge = "APIG.0201"
	codeGatewayAuth     = "APIG.0301"

	msgNoAPI        = "The API does not exist or has not been published in the environment."
	msgNoMethod     = "The API does not exist."
	msgTooLarge     = "Request entity too large."
	msgAuthPrefix   = "Incorrect IAM authentication information: "
	msgNoToken      = msgAuthPrefix + "x-auth-token not found"
	msgTokenRefused = msgAuthPrefix + "decrypt token fail"
)

// noAPI answers a path under the surface's prefix that no API has, as the
// gateway does.
func noAPI(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, vendorError{ErrorCode: codeGatewayNoAPI, ErrorMsg: msgNoAPI})
}

// noMethod answers a method that no API of the path defines: the gateway
// has no 405, the API just does not exist.
func noMethod(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, vendorError{ErrorCode: codeGatewayNoAPI, ErrorMsg: msgNoMethod})
}

// authFailure is the gateway's refusal of a request without a principal:
// no token, or one refused. A token that could not be checked is an
// internal error, not the client's fault. Nil when there is a principal.
func authFailure(r *http.Request) error {
	if herald.PrincipalFromContext(r.Context()) != nil {
		return nil
	}
	switch err := herald.AuthErrorFromContext(r.Context()); {
	case err == nil:
		return herald.Errorf(herald.EUNAUTHORIZED, "", msgNoToken)
	case herald.ErrorCode(err) == herald.EINTERNAL:
		return err
	}
	return herald.Errorf(herald.EUNAUTHORIZED, "", msgTokenRefused)
}

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
	case herald.EINVALID:
		status, code = http.StatusBadRequest, codeInvalidParam
	case herald.ETOOLARGE:
		status, code, msg = http.StatusRequestEntityTooLarge, codeGatewayTooLarge, msgTooLarge
	case herald.EUNAUTHORIZED:
		status, code = http.StatusUnauthorized, codeGatewayAuth
		if !strings.HasPrefix(msg, msgAuthPrefix) {
			msg = msgTokenRefused
		}
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
