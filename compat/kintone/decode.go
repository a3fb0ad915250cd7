package kintone

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 1 << 20

// readBody reads a request body that is one JSON object into its members.
// An empty body is an object without members (GET sends its parameters in
// the query). Members Kintone's pages do not name (__REQUEST_TOKEN__ …)
// are ignored, as Kintone ignores them.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: codeBadJSON,
				message: "The request body is larger than " + strconv.Itoa(maxBodyBytes) + " bytes."}
		}
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, &apiError{status: http.StatusBadRequest, code: codeBadJSON, message: msgBadJSON}
	}
	return m, nil
}

// present reports whether a member was sent with a value other than null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(bytes.TrimSpace(raw)) != "null"
}

var reDigits = regexp.MustCompile(`^-?[0-9]{1,18}$`)

// integer reads a JSON integer or a string holding one ("Integer or
// String" on Kintone's pages).
func integer(raw json.RawMessage) (int64, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		s = strings.TrimSpace(s)
	} else {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, false
		}
		s = n.String()
	}
	if !reDigits.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// boolean reads a JSON Boolean or the string "true" or "false" ("Boolean
// or String").
func boolean(raw json.RawMessage) (bool, bool) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch s {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// appID reads a required app id into its canonical decimal form, or adds
// field's error to fe and returns "".
func appID(fe fieldErrors, field string, raw json.RawMessage) string {
	if !present(raw) {
		fe.add(field, msgRequired)
		return ""
	}
	n, ok := integer(raw)
	if !ok {
		fe.add(field, "Enter an integer value.")
		return ""
	}
	if n < 1 {
		fe.add(field, "must be greater than or equal to 1")
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// revision reads an optional expected revision: absent or -1 skips the
// check.
func revision(fe fieldErrors, field string, raw json.RawMessage) int64 {
	if !present(raw) {
		return herald.NoRevisionCheck
	}
	n, ok := integer(raw)
	if !ok {
		fe.add(field, "Enter an integer value.")
		return herald.NoRevisionCheck
	}
	if n < herald.NoRevisionCheck {
		fe.add(field, "must be greater than or equal to -1")
		return herald.NoRevisionCheck
	}
	return n
}

// optionalBool reads an optional Boolean member; absent is (def, false).
func optionalBool(fe fieldErrors, field string, raw json.RawMessage, def bool) (v, set bool) {
	if !present(raw) {
		return def, false
	}
	v, ok := boolean(raw)
	if !ok {
		fe.add(field, "Enter true or false.")
		return def, false
	}
	return v, true
}
