package settings

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authn"
)

// Django REST Framework's own texts, which clients of such APIs match.
const (
	detailNoCredentials = "Authentication credentials were not provided."
	detailInvalidToken  = "Invalid token."
	detailForbidden     = "You do not have permission to perform this action."
	detailNotFound      = "Not found."
	detailServerError   = "A server error occurred."
)

// statuses maps herald error codes to this surface's HTTP statuses; it is
// the only place the surface decides a status from an error.
var statuses = map[string]int{
	herald.EINVALID:      http.StatusBadRequest,
	herald.ETOOLARGE:     http.StatusBadRequest, // Django's RequestDataTooBig is a SuspiciousOperation: 400
	herald.EUNAUTHORIZED: http.StatusUnauthorized,
	herald.EFORBIDDEN:    http.StatusForbidden,
	herald.ENOTFOUND:     http.StatusNotFound,
	herald.ECONFLICT:     http.StatusConflict,
	herald.ENOTALLOWED:   http.StatusConflict,
	herald.ERATELIMITED:  http.StatusTooManyRequests,
	herald.EINTERNAL:     http.StatusInternalServerError,
}

// vendorFields names the domain's fields as this surface's body does.
var vendorFields = map[string]string{
	herald.FieldSMSNotifier:   "notifications_sms_notifier",
	herald.FieldEmailNotifier: "notifications_email_notifier",
	herald.FieldOTPCodeLen:    "notifications_otp_code_len",
	herald.FieldOTPTTL:        "notifications_otp_ttl",
}

// writeError renders err in Django REST Framework's envelope: a
// validation error naming fields as {"field": ["message"], …} (every field
// of a herald.FieldErrors), anything else as {"detail": "message"}.
func (s *Surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := herald.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var body any
	switch code {
	case herald.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", "Token")
		detail := detailNoCredentials
		if len(authn.Tokens(r)) > 0 {
			detail = detailInvalidToken
		}
		body = map[string]string{"detail": detail}
	case herald.EFORBIDDEN:
		body = map[string]string{"detail": detailForbidden}
	case herald.ENOTFOUND:
		body = map[string]string{"detail": detailNotFound}
	case herald.EINTERNAL:
		s.logger().ErrorContext(r.Context(), "settings: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		detail := herald.ErrorMessage(err)
		if detail == "Internal error." {
			detail = detailServerError
		}
		body = map[string]string{"detail": detail}
	default:
		if fields := herald.ErrorFields(err); code == herald.EINVALID && fields[0].Field != "" {
			body = fieldErrorBody(fields)
		} else {
			body = map[string]string{"detail": herald.ErrorMessage(err)}
		}
	}
	writeJSON(w, status, body)
}

// fieldErrorBody is a serializer's error answer: each field at fault with
// its messages, {"field": ["message", …], …}, the fields in the
// serializer's declaration order (memberOrder), others after them in the
// order found.
func fieldErrorBody(fields []*herald.Error) json.RawMessage {
	var (
		names []string
		msgs  = map[string][]string{}
	)
	for _, e := range fields {
		name := e.Field
		if v, ok := vendorFields[name]; ok {
			name = v
		}
		if name == "" {
			name = "non_field_errors"
		}
		if _, ok := msgs[name]; !ok {
			names = append(names, name)
		}
		msgs[name] = append(msgs[name], e.Message)
	}
	rank := func(name string) int {
		if r, ok := memberOrder[name]; ok {
			return r
		}
		return len(memberOrder) + 1
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		v, _ := json.Marshal(msgs[name])
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// writeJSON answers v; v is always one of this package's plain shapes, so
// encoding cannot fail.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"`+detailServerError+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
