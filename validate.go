package herald

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	reExternal32 = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	reCode       = regexp.MustCompile(`^[A-Za-z0-9_.@/+\-]{1,128}$`)
	rePositive   = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
)

// IsExternalID32 reports whether s is a 32-character letters-and-digits id,
// as the CodeArts pages require of job, application and project ids.
func IsExternalID32(s string) bool { return reExternal32.MatchString(s) }

func indexField(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

func subField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// IsText reports whether s is text every database stores alike: valid
// UTF-8 without NUL characters (see ValidText). A look-up of a value that is
// not text can match nothing that was stored.
func IsText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// ValidText returns EINVALID naming field unless s is text every database
// stores alike: valid UTF-8 without NUL characters. PostgreSQL refuses
// both in text (and \u0000 in jsonb) while SQLite keeps them, so without
// this one check the same input would be stored by one database and be an
// internal error on the other.
func ValidText(field, s string) error {
	if IsText(s) {
		return nil
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Errorf(EINVALID, field, "%s must not contain NUL characters", field)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, field, "%s must be valid UTF-8 text", field)
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkText checks every string v holds (v is a struct or a pointer to
// one) with ValidText, naming each by its path in the native JSON naming:
// a struct field by its json name, a list item by its index, a map value
// by its key, and a JSON document (json.RawMessage) by the path inside it.
// Every Validate of a type that is stored or filtered on calls it first,
// so no string field can be forgotten.
func checkText(v any) error {
	return walkText("", reflect.ValueOf(v))
}

func walkText(field string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		return ValidText(field, v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkText(field, v.Elem())
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name := jsonName(sf)
			if sf.Anonymous && name == sf.Name {
				name = "" // embedded: its fields are the parent's
			}
			f := field
			if name != "" {
				f = subField(field, name)
			}
			if err := walkText(f, v.Field(i)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == rawMessageType {
			return checkJSONText(field, v.Bytes())
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes, not text
		}
		for i := 0; i < v.Len(); i++ {
			if err := walkText(indexField(field, i), v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if err := ValidText(field, k.String()); err != nil {
				return err
			}
			if err := walkText(subField(field, k.String()), v.MapIndex(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonName is the name a struct field has in JSON (its Go name when the tag
// gives none or hides it: the check names it all the same).
func jsonName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if name == "" || name == "-" {
		return sf.Name
	}
	return name
}

// checkJSONText checks a JSON document: valid UTF-8, and no string or key
// in it that decodes to invalid text (a \u0000 escape). A document that
// does not parse is left to the caller's own check of its shape.
func checkJSONText(field string, raw []byte) error {
	if bytes.IndexByte(raw, 0) >= 0 {
		return Errorf(EINVALID, field, "%s must not contain NUL characters", field)
	}
	if !utf8.Valid(raw) {
		return Errorf(EINVALID, field, "%s must be valid UTF-8 text", field)
	}
	if !bytes.Contains(raw, []byte(`\u`)) {
		return nil // only an escape can smuggle a NUL into valid UTF-8 JSON
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil
	}
	return walkJSON(field, doc)
}

func walkJSON(field string, v any) error {
	switch v := v.(type) {
	case string:
		return ValidText(field, v)
	case []any:
		for i, e := range v {
			if err := walkJSON(indexField(field, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := ValidText(field, k); err != nil {
				return err
			}
			if err := walkJSON(subField(field, k), v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateName(field, s string) error {
	if s == "" {
		return Errorf(EINVALID, field, "%s is required", field)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
		return Errorf(EINVALID, field, "%s must be valid text of at most 200 characters", field)
	}
	return nil
}

func validateCode(field, s string) error {
	if !reCode.MatchString(s) {
		return Errorf(EINVALID, field, "%s must be 1-128 letters, digits or _.@/+-", field)
	}
	return nil
}

func validateOptional(field, s string, max int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return Errorf(EINVALID, field, "%s must be valid text of at most %d characters", field, max)
	}
	return nil
}
