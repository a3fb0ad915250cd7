// Package apig is what Huawei's API Gateway (APIG) answers in front of the
// CodeArts services, shared by the CodeArts Build and Deploy surfaces: its
// error envelope, and its codes and texts for an unknown API, a body too
// large and failed IAM authentication (from APIG's "Error Codes" page and
// its FAQ on IAM authentication errors; see each surface's doc.go).
package apig

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// The gateway's codes.
const (
	CodeNoAPI    = "APIG.0101"
	CodeTooLarge = "APIG.0201"
	CodeAuth     = "APIG.0301"
)

// The gateway's texts.
const (
	MsgNoAPI        = "The API does not exist or has not been published in the environment."
	MsgNoMethod     = "The API does not exist."
	MsgTooLarge     = "Request entity too large."
	msgAuthPrefix   = "Incorrect IAM authentication information: "
	MsgNoToken      = msgAuthPrefix + "x-auth-token not found"
	MsgTokenRefused = msgAuthPrefix + "decrypt token fail"
)

// Error is the CodeArts services' (and the gateway's) error envelope.
type Error struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// WriteJSON writes v as the services do.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NoAPI answers a path under a surface's prefix that no API has.
func NoAPI(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusNotFound, Error{ErrorCode: CodeNoAPI, ErrorMsg: MsgNoAPI})
}

// NoMethod answers a method that no API of the path defines: the gateway
// has no 405, the API just does not exist.
func NoMethod(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusNotFound, Error{ErrorCode: CodeNoAPI, ErrorMsg: MsgNoMethod})
}

// AuthFailure is the gateway's refusal of a request without a principal:
// no token, or one refused. A token that could not be checked is an
// internal error, not the client's fault. Nil when there is a principal.
func AuthFailure(r *http.Request) error {
	if herald.PrincipalFromContext(r.Context()) != nil {
		return nil
	}
	switch err := herald.AuthErrorFromContext(r.Context()); {
	case err == nil:
		return herald.Errorf(herald.EUNAUTHORIZED, "", MsgNoToken)
	case herald.ErrorCode(err) == herald.EINTERNAL:
		return err
	}
	return herald.Errorf(herald.EUNAUTHORIZED, "", MsgTokenRefused)
}

// AuthMessage is the text of an authentication failure: the gateway's own,
// or its refusal of the token.
func AuthMessage(msg string) string {
	if strings.HasPrefix(msg, msgAuthPrefix) {
		return msg
	}
	return MsgTokenRefused
}
