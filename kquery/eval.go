package kquery

import (
	"strconv"
	"strings"
	"time"
)

// Match reports whether rec meets the condition. loc is the time zone a
// date is read in when a date is compared with a date and time (the
// app's). A condition on a field the record does not carry is not met,
// whatever its operator: Herald knows the app's fields only from the
// records it is sent, so a missing field is never taken for an empty one.
// An operator that does not apply to the field's type (> on a text) is not
// met either; Kintone refuses such a query when it is saved, which Herald,
// without the app's form, cannot.
func (q *Query) Match(rec Record, loc *time.Location) bool {
	if q == nil || q.root == nil {
		return true
	}
	if loc == nil {
		loc = time.UTC
	}
	return q.root.match(rec, loc)
}

type expr interface {
	match(rec Record, loc *time.Location) bool
}

type andExpr []expr

func (e andExpr) match(rec Record, loc *time.Location) bool {
	for _, t := range e {
		if !t.match(rec, loc) {
			return false
		}
	}
	return true
}

type orExpr []expr

func (e orExpr) match(rec Record, loc *time.Location) bool {
	for _, t := range e {
		if t.match(rec, loc) {
			return true
		}
	}
	return false
}

// cond is one comparison.
type cond struct {
	field  string
	op     string
	values []string
}

func (c *cond) match(rec Record, loc *time.Location) bool {
	f := rec[c.field]
	if f == nil {
		return false
	}
	vals := f.Values
	empty := len(vals) == 0 || (len(vals) == 1 && vals[0] == "")
	switch c.op {
	case "is empty":
		return empty
	case "is not empty":
		return !empty
	case "=":
		return f.anyEqual(c.values[0], loc)
	case "!=":
		return !f.anyEqual(c.values[0], loc)
	case "in", "not in":
		in := false
		for _, v := range c.values {
			if f.anyEqual(v, loc) {
				in = true
				break
			}
		}
		return in == (c.op == "in")
	case "like", "not like":
		return f.contains(c.values[0]) == (c.op == "like")
	case ">", "<", ">=", "<=":
		if f.Multi || empty {
			return false
		}
		n, ok := compare(f.Type, vals[0], c.values[0], loc)
		if !ok {
			return false
		}
		switch c.op {
		case ">":
			return n > 0
		case "<":
			return n < 0
		case ">=":
			return n >= 0
		}
		return n <= 0
	}
	return false
}

// anyEqual reports whether one of the field's values equals lit (an empty
// field's value being "").
func (f *Field) anyEqual(lit string, loc *time.Location) bool {
	vals := f.Values
	if len(vals) == 0 {
		vals = []string{""}
	}
	for _, v := range vals {
		if v == "" || lit == "" {
			if v == lit {
				return true
			}
			continue
		}
		if n, ok := compare(f.Type, v, lit, loc); ok && n == 0 {
			return true
		}
	}
	return false
}

// contains is like: some value holds lit, letters compared without case.
func (f *Field) contains(lit string) bool {
	lit = strings.ToLower(lit)
	for _, v := range f.Values {
		if strings.Contains(strings.ToLower(v), lit) {
			return true
		}
	}
	return lit == "" && len(f.Values) == 0
}

// compare orders a field's value against a literal by the field's type:
// numbers as numbers, dates and times as such, anything else as text
// (equal or not only: ok is false for an order between texts, which
// Kintone does not define).
func compare(typ, v, lit string, loc *time.Location) (int, bool) {
	switch typ {
	case "NUMBER", "CALC", "RECORD_NUMBER", "__ID__", "__REVISION__":
		a, ok1 := number(v)
		b, ok2 := number(lit)
		if !ok1 || !ok2 {
			if typ == "CALC" { // a calculation may show a text
				return textCompare(v, lit)
			}
			return 0, false
		}
		return cmp3(a, b), true
	case "DATE":
		a, err1 := time.Parse(time.DateOnly, v)
		b, ok := dateOf(lit, loc)
		if err1 != nil || !ok {
			return 0, false
		}
		return a.Compare(b), true
	case "DATETIME", "CREATED_TIME", "UPDATED_TIME":
		a, ok := ParseDateTime(v)
		if !ok {
			return 0, false
		}
		if d, err := time.Parse(time.DateOnly, lit); err == nil {
			// A date against a date and time compares the day it falls on.
			y, m, dd := a.In(loc).Date()
			return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Compare(d), true
		}
		b, ok := ParseDateTime(lit)
		if !ok {
			return 0, false
		}
		return a.Truncate(time.Minute).Compare(b.Truncate(time.Minute)), true
	case "TIME":
		a, ok1 := minutes(v)
		b, ok2 := minutes(lit)
		if !ok1 || !ok2 {
			return 0, false
		}
		return cmp3(float64(a), float64(b)), true
	}
	return textCompare(v, lit)
}

func textCompare(v, lit string) (int, bool) {
	if v == lit {
		return 0, true
	}
	return 1, false
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// number reads a decimal; a record number's app prefix (APP-12) is
// dropped.
func number(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		s = s[i+1:]
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// dateOf reads a date literal, or the date (in loc) of a date and time.
func dateOf(s string, loc *time.Location) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, true
	}
	t, ok := ParseDateTime(s)
	if !ok {
		return time.Time{}, false
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
}

// dateTimeLayouts are the forms of a date and time Kintone writes and
// reads: RFC 3339 (2012-01-11T11:30:00Z), with or without seconds, and
// with an offset without a colon (2012-02-03T09:00:00+0900).
var dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z0700"}

// ParseDateTime reads a date and time as Kintone writes one.
func ParseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// minutes reads a time of day (HH:mm, or HH:mm:ss) as minutes since
// midnight.
func minutes(s string) (int, bool) {
	for _, l := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Hour()*60 + t.Minute(), true
		}
	}
	return 0, false
}
