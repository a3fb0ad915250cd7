package kintone

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Kintone's error codes (and Herald's own where Kintone has none we know).
const (
	codeInvalid      = "CB_VA01"
	codeBadJSON      = "CB_IJ01"
	codeUnauthorized = "CB_WA01"
	codeForbidden    = "CB_NO02"
	codeAppNotFound  = "GAIA_AP01"
	codeStale        = "GAIA_CO02"
	codeIllegal      = "CB_IL02"
	codeNotAllowed   = "HERALD_NA01"
	codeRateLimited  = "HERALD_RL01"
	codeInternal     = "HERALD_IN01"
)

// Kintone's messages.
const (
	msgInvalid   = "Missing or invalid input."
	msgForbidden = "No privilege to proceed."
	msgBadJSON   = "Invalid JSON string."
	msgRequired  = "Required."
	msgIllegal   = "Illegal request."
)

// errorBody is Kintone's error envelope.
type errorBody struct {
	Code    string                   `json:"code"`
	ID      string                   `json:"id"`
	Message string                   `json:"message"`
	Errors  map[string]fieldMessages `json:"errors,omitempty"`
}

// fieldMessages are the messages about one field of a CB_VA01 answer.
type fieldMessages struct {
	Messages []string `json:"messages"`
}

// apiError is an error already in Kintone's terms.
type apiError struct {
	status  int
	code    string
	message string
	errors  map[string]fieldMessages
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// fieldErrors collects the invalid fields of one request, in Kintone's
// field naming, so that one answer names each of them.
type fieldErrors map[string]fieldMessages

func (f fieldErrors) add(field, message string) {
	m := f[field]
	m.Messages = append(m.Messages, message)
	f[field] = m
}

// err returns the CB_VA01 error naming every field, or nil.
func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, code: codeInvalid, message: msgInvalid, errors: f}
}

func invalid(field, message string) error {
	f := fieldErrors{}
	f.add(field, message)
	return f.err()
}

// appNotFound is Kintone's answer for an app it does not know.
func appNotFound(app string) error {
	return &apiError{status: http.StatusNotFound, code: codeAppNotFound,
		message: "The app (ID: " + app + ") not found. The app may have been deleted."}
}

// staleRevision is Kintone's answer for a revision that is not the latest.
func staleRevision(app string) error {
	return &apiError{status: http.StatusConflict, code: codeStale,
		message: "The revision is not the latest. Someone may update an app settings (ID: " + app + ")."}
}

// forApp turns the domain's not-found and conflict errors about one app
// into Kintone's, which name the app.
func forApp(err error, app string) error {
	switch herald.ErrorCode(err) {
	case herald.ENOTFOUND:
		return appNotFound(app)
	case herald.ECONFLICT:
		return staleRevision(app)
	}
	return err
}

// codes maps herald error codes to Kintone's status and code.
var codes = map[string]struct {
	status int
	code   string
}{
	herald.EINVALID:      {http.StatusBadRequest, codeInvalid},
	herald.ETOOLARGE:     {http.StatusRequestEntityTooLarge, codeBadJSON},
	herald.EUNAUTHORIZED: {http.StatusUnauthorized, codeUnauthorized},
	herald.EFORBIDDEN:    {http.StatusForbidden, codeForbidden},
	herald.ENOTFOUND:     {http.StatusNotFound, codeAppNotFound},
	herald.ECONFLICT:     {http.StatusConflict, codeStale},
	herald.ENOTALLOWED:   {http.StatusConflict, codeNotAllowed},
	herald.ERATELIMITED:  {http.StatusTooManyRequests, codeRateLimited},
	herald.EINTERNAL:     {http.StatusInternalServerError, codeInternal},
}

// writeError renders err in Kintone's envelope: the one place this surface
// decides a status. Internal errors are logged and shown only as
// herald.ErrorMessage's generic text.
func (s *Surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		code := herald.ErrorCode(err)
		c, ok := codes[code]
		if !ok {
			c = codes[herald.EINTERNAL]
		}
		ae = &apiError{status: c.status, code: c.code, message: herald.ErrorMessage(err)}
		switch code {
		case herald.EINVALID:
			// A domain rule about the document: name the Kintone field.
			ae.message, ae.errors = msgInvalid, fieldErrors{kintoneField(herald.ErrorField(err)): {Messages: []string{herald.ErrorMessage(err)}}}
		case herald.EFORBIDDEN:
			ae.message = msgForbidden
		case herald.EINTERNAL:
			s.logger().ErrorContext(r.Context(), "kintone: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	body := errorBody{Code: ae.code, ID: requestID(), Message: ae.message, Errors: ae.errors}
	writeJSON(w, ae.status, body)
}

// kintoneField names a native settings field as the Kintone request would:
// anything inside the channels is about the notifications.
func kintoneField(native string) string {
	switch {
	case native == "":
		return "notifications"
	case strings.HasPrefix(native, "channels"):
		return "notifications"
	}
	return native
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// requestID is a fresh id for an error answer, 20 letters and digits as
// Kintone's are.
func requestID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
