package kquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Field is one field of a record, its value reduced to the strings a
// condition compares: a text, number, date or time as written; a choice
// list's choices; a user, department or group selection's codes; a
// file's names.
type Field struct {
	// Type is Kintone's field type (SINGLE_LINE_TEXT, NUMBER, DATE,
	// USER_SELECT, CREATOR …).
	Type   string
	Values []string
	// Multi marks a field holding a list (check boxes, selections, a
	// field of a table's rows), whose empty value is no value at all.
	Multi bool
}

// Record is a Kintone record by field code, as the REST API and webhooks
// carry it: {"code": {"type": "…", "value": …}}. The fields of a table
// (SUBTABLE) are also found by their own codes, holding the values of
// every row.
type Record map[string]*Field

// multiTypes are the field types whose value is a list.
var multiTypes = map[string]bool{
	"CHECK_BOX": true, "MULTI_SELECT": true, "USER_SELECT": true, "ORGANIZATION_SELECT": true,
	"GROUP_SELECT": true, "STATUS_ASSIGNEE": true, "CATEGORY": true, "FILE": true,
}

type rawField struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// ErrNotRecord is a JSON value that is not a record.
var ErrNotRecord = errors.New("kquery: not a Kintone record: an object of fields, each {\"type\", \"value\"}")

// ParseRecord reads a record in Kintone's JSON form.
func ParseRecord(raw json.RawMessage) (Record, error) {
	var fields map[string]rawField
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, ErrNotRecord
	}
	rec := Record{}
	var tables []rawField
	for code, f := range fields {
		if f.Type == "SUBTABLE" {
			tables = append(tables, f)
			continue
		}
		rec[code] = &Field{Type: f.Type, Values: values(f.Value), Multi: multiTypes[f.Type]}
	}
	// A table's fields hold the values of every row; a code the record
	// has outside the table keeps its own field.
	for _, t := range tables {
		var rows []struct {
			Value map[string]rawField `json:"value"`
		}
		if json.Unmarshal(t.Value, &rows) != nil {
			continue
		}
		inner := Record{}
		for _, row := range rows {
			for code, f := range row.Value {
				fl := inner[code]
				if fl == nil {
					fl = &Field{Type: f.Type, Multi: true, Values: []string{}}
					inner[code] = fl
				}
				fl.Values = append(fl.Values, values(f.Value)...)
			}
		}
		for code, f := range inner {
			if _, ok := rec[code]; !ok {
				rec[code] = f
			}
		}
	}
	return rec, nil
}

// values reduces a field's JSON value to strings.
func values(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return []string{}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return []string{n.String()}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		out := []string{}
		for _, item := range list {
			out = append(out, values(item)...)
		}
		return out
	}
	var obj struct {
		Code *string `json:"code"`
		Name *string `json:"name"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		switch {
		case obj.Code != nil:
			return []string{*obj.Code}
		case obj.Name != nil:
			return []string{*obj.Name}
		}
	}
	return []string{}
}

// Value returns a single-valued field's value ("" when empty or absent).
func (r Record) Value(code string) string {
	f := r[code]
	if f == nil || len(f.Values) == 0 {
		return ""
	}
	return f.Values[0]
}

// ID returns the record's id: its $id field (type __ID__), else its record
// number's digits.
func (r Record) ID() string {
	for _, f := range r {
		if f.Type == "__ID__" && len(f.Values) > 0 && f.Values[0] != "" {
			return f.Values[0]
		}
	}
	for _, f := range r {
		if f.Type == "RECORD_NUMBER" && len(f.Values) > 0 {
			v := f.Values[0]
			return v[strings.LastIndexByte(v, '-')+1:]
		}
	}
	return ""
}

// Entity kinds a selection field holds.
const (
	EntityUser         = "USER"
	EntityGroup        = "GROUP"
	EntityOrganization = "ORGANIZATION"
)

// Entities returns the kind and codes of the people a field names, for a
// recipient that is the field (Kintone's FIELD_ENTITY): users for Created
// By, Updated By, a user selection or the assignees; departments for a
// department selection; groups for a group selection. ok is false when
// the record has no such field of those types.
func (r Record) Entities(code string) (kind string, codes []string, ok bool) {
	f := r[code]
	if f == nil {
		return "", nil, false
	}
	switch f.Type {
	case "CREATOR", "MODIFIER", "USER_SELECT", "STATUS_ASSIGNEE":
		kind = EntityUser
	case "ORGANIZATION_SELECT":
		kind = EntityOrganization
	case "GROUP_SELECT":
		kind = EntityGroup
	default:
		return "", nil, false
	}
	for _, v := range f.Values {
		if v != "" {
			codes = append(codes, v)
		}
	}
	return kind, codes, true
}
