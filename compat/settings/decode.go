package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// maxBody bounds every request body: Django's default
// DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), which Django REST Framework
// applies to a JSON body from 3.17.2 on.
const maxBody = 2621440

// detailTooLarge is Django's RequestDataTooBig message.
const detailTooLarge = "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."

// readObject reads a JSON object body into its members, as Django REST
// Framework's JSONParser and a serializer see it: an empty body is an empty
// object, members the serializer does not know are ignored by the caller.
// A body over maxBody is refused as Django refuses it: by its
// Content-Length before reading, else once read past the limit.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if r.ContentLength > maxBody {
		return nil, herald.Errorf(herald.ETOOLARGE, "", detailTooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, herald.Errorf(herald.ETOOLARGE, "", detailTooLarge)
		}
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return nil, herald.Errorf(herald.EINVALID, "", "JSON parse error - %s", strings.TrimPrefix(fmt.Sprint(err), "json: "))
	}
	if body[0] != '{' {
		return nil, herald.Errorf(herald.EINVALID, "non_field_errors", "Invalid data. Expected a dictionary, but got %s.", pythonType(body))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, herald.Errorf(herald.EINVALID, "", "JSON parse error - %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return m, nil
}

// pythonType names a JSON value's type as Django REST Framework's messages
// do.
func pythonType(raw json.RawMessage) string {
	switch raw[0] {
	case '[':
		return "list"
	case '{':
		return "dict"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "float"
	}
	return "int"
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// pkField reads a nullable primary-key member (PrimaryKeyRelatedField):
// null clears, an integer or a numeric string is the id.
func pkField(field string, raw json.RawMessage) (*herald.NullableID, error) {
	if isNull(raw) {
		return &herald.NullableID{Null: true}, nil
	}
	var s string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(raw)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if s != "" && raw[0] == '"' {
			return nil, herald.Errorf(herald.EINVALID, field, "Incorrect type. Expected pk value, received str.")
		}
		return nil, herald.Errorf(herald.EINVALID, field, "Incorrect type. Expected pk value, received %s.", pythonType(raw))
	}
	if id <= 0 {
		return nil, herald.Errorf(herald.EINVALID, field, "Invalid pk \"%d\" - object does not exist.", id)
	}
	return &herald.NullableID{ID: id}, nil
}

// intField reads an integer member (IntegerField): an integer, an
// integral float or a numeric string.
func intField(field string, raw json.RawMessage) (*int, error) {
	if isNull(raw) {
		return nil, herald.Errorf(herald.EINVALID, field, "This field may not be null.")
	}
	var s string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if len(s) > 1000 {
			return nil, herald.Errorf(herald.EINVALID, field, "String value too large.")
		}
		s = strings.TrimSpace(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(raw)
	default:
		return nil, herald.Errorf(herald.EINVALID, field, "A valid integer is required.")
	}
	if n, err := strconv.Atoi(s); err == nil {
		return &n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
		n := int(f)
		return &n, nil
	}
	return nil, herald.Errorf(herald.EINVALID, field, "A valid integer is required.")
}

// strField reads a text member (CharField): a string, or a number taken
// as its text. Absent is "".
func strField(m map[string]json.RawMessage, field string) (string, error) {
	raw, ok := m[field]
	if !ok {
		return "", nil
	}
	if isNull(raw) {
		return "", herald.Errorf(herald.EINVALID, field, "This field may not be null.")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", herald.Errorf(herald.EINVALID, field, "Not a valid string.")
}
