// Package kquery reads Kintone records and the part of Kintone's record
// query language that makes sense for one record, so that Herald can tell
// whether a record carried by an event meets a notification's condition
// (its filterCond).
//
// Supported: comparisons field = value, !=, >, <, >=, <=, field in (…),
// not in (…), like "…", not like "…", is empty, is not empty, combined
// with and, or and parentheses (and binds tighter than or). Values are
// double-quoted strings (\" and \\ escape) or bare numbers. Keywords are
// case-insensitive, as in Kintone.
//
// Refused, each with an *Error naming the field it is about: functions
// (LOGINUSER(), TODAY(), NOW(), FROM_TODAY(…) …: their value depends on
// who looks and when, which a notification has no answer for), and the
// options order by, limit and offset (Kintone's reminder page refuses
// them in a condition too).
package kquery

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a query that cannot be used: Field names the field code the
// problem is about ("" when it is about no one field).
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Msg + " (field " + e.Field + ")"
}

// Query is a parsed condition; the zero Query (from an empty string)
// matches every record.
type Query struct {
	src  string
	root expr
}

// String returns the condition as written.
func (q *Query) String() string { return q.src }

// MaxLength bounds a condition, in characters.
const MaxLength = 10000

// maxDepth bounds nested parentheses.
const maxDepth = 50

// Parse reads a condition. An empty (or blank) one matches every record,
// as Kintone reads an empty filterCond.
func Parse(s string) (*Query, error) {
	if !utf8.ValidString(s) {
		return nil, &Error{Msg: "the condition is not valid UTF-8 text"}
	}
	if utf8.RuneCountInString(s) > MaxLength {
		return nil, &Error{Msg: fmt.Sprintf("the condition is longer than %d characters", MaxLength)}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	q := &Query{src: s}
	if len(toks) == 1 { // EOF only
		return q, nil
	}
	p := &parser{toks: toks}
	if q.root, err = p.or(0); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.trailing(t)
	}
	return q, nil
}

type tokenKind int

const (
	tEOF tokenKind = iota
	tWord
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokenKind
	text string
}

// isWordRune reports whether r may be part of a field code or keyword:
// anything but space, quotes, parentheses, commas and operator symbols.
func isWordRune(r rune) bool {
	if unicode.IsSpace(r) {
		return false
	}
	switch r {
	case '(', ')', ',', '"', '=', '!', '<', '>':
		return false
	}
	return true
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '(':
			out, i = append(out, token{tLParen, "("}), i+1
		case r == ')':
			out, i = append(out, token{tRParen, ")"}), i+1
		case r == ',':
			out, i = append(out, token{tComma, ","}), i+1
		case r == '=':
			out, i = append(out, token{tOp, "="}), i+1
		case r == '!' || r == '<' || r == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				out, i = append(out, token{tOp, s[i : i+2]}), i+2
			} else if r == '!' {
				return nil, &Error{Msg: `"!" must be followed by "=": write != or not in`}
			} else {
				out, i = append(out, token{tOp, string(r)}), i+1
			}
		case r == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				c := s[j]
				if c == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if c == '"' {
					closed = true
					j++
					break
				}
				b.WriteByte(c)
				j++
			}
			if !closed {
				return nil, &Error{Msg: "a string is not closed: a \" is missing"}
			}
			out, i = append(out, token{tString, b.String()}), j
		default:
			j := i
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				if !isWordRune(r) {
					break
				}
				j += n
			}
			w := s[i:j]
			kind := tWord
			if isNumber(w) {
				kind = tNumber
			}
			out, i = append(out, token{kind, w}), j
		}
	}
	return append(out, token{kind: tEOF}), nil
}

// isNumber reports whether w is a decimal number as a query writes one.
func isNumber(w string) bool {
	w = strings.TrimPrefix(w, "-")
	if w == "" {
		return false
	}
	dot := false
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(w)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// isKeyword reports whether t is the word kw, in any case.
func isKeyword(t token, kw string) bool { return t.kind == tWord && strings.EqualFold(t.text, kw) }

func (p *parser) or(depth int) (expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	terms := []expr{left}
	for isKeyword(p.peek(), "or") {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, right)
	}
	if len(terms) == 1 {
		return left, nil
	}
	return orExpr(terms), nil
}

func (p *parser) and(depth int) (expr, error) {
	left, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	terms := []expr{left}
	for isKeyword(p.peek(), "and") {
		p.next()
		right, err := p.primary(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, right)
	}
	if len(terms) == 1 {
		return left, nil
	}
	return andExpr(terms), nil
}

func (p *parser) primary(depth int) (expr, error) {
	t := p.peek()
	if t.kind == tLParen {
		if depth >= maxDepth {
			return nil, &Error{Msg: fmt.Sprintf("more than %d nested parentheses", maxDepth)}
		}
		p.next()
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, &Error{Msg: "a parenthesis is not closed: a ) is missing"}
		}
		return e, nil
	}
	return p.condition()
}

// options are the query options a condition may not carry.
var options = []string{"order", "limit", "offset"}

func (p *parser) condition() (expr, error) {
	t := p.next()
	switch {
	case t.kind == tEOF:
		return nil, &Error{Msg: "the condition ends too early: a field, an operator and a value are expected"}
	case t.kind == tWord && isOption(t):
		return nil, &Error{Msg: fmt.Sprintf("%s is not supported in a notification condition", optionName(t))}
	case t.kind != tWord:
		return nil, &Error{Msg: fmt.Sprintf("a field code is expected, not %q", t.text)}
	}
	field := t.text
	if p.peek().kind == tLParen {
		return nil, &Error{Field: field, Msg: fmt.Sprintf("the function %s() is not supported in a notification condition", field)}
	}
	c := &cond{field: field}
	op := p.next()
	switch {
	case op.kind == tOp:
		c.op = op.text
		v, err := p.value(field)
		if err != nil {
			return nil, err
		}
		c.values = []string{v}
		return c, nil
	case isKeyword(op, "like"):
		c.op = "like"
	case isKeyword(op, "in"):
		c.op = "in"
	case isKeyword(op, "not"):
		switch n := p.next(); {
		case isKeyword(n, "in"):
			c.op = "not in"
		case isKeyword(n, "like"):
			c.op = "not like"
		default:
			return nil, &Error{Field: field, Msg: "not must be followed by in or like"}
		}
	case isKeyword(op, "is"):
		c.op = "is empty"
		if isKeyword(p.peek(), "not") {
			p.next()
			c.op = "is not empty"
		}
		if !isKeyword(p.next(), "empty") {
			return nil, &Error{Field: field, Msg: "is must be followed by empty or not empty"}
		}
		return c, nil
	case op.kind == tEOF:
		return nil, &Error{Field: field, Msg: "an operator is expected after the field code"}
	default:
		return nil, &Error{Field: field, Msg: fmt.Sprintf("the operator %q is not supported: use =, !=, >, <, >=, <=, in, not in, like, not like, is empty or is not empty", op.text)}
	}
	if c.op == "like" || c.op == "not like" {
		v, err := p.value(field)
		if err != nil {
			return nil, err
		}
		c.values = []string{v}
		return c, nil
	}
	if p.next().kind != tLParen {
		return nil, &Error{Field: field, Msg: c.op + " must be followed by a list of values in parentheses"}
	}
	for {
		v, err := p.value(field)
		if err != nil {
			return nil, err
		}
		c.values = append(c.values, v)
		switch n := p.next(); n.kind {
		case tComma:
			continue
		case tRParen:
			return c, nil
		default:
			return nil, &Error{Field: field, Msg: "the list of values is not closed: a ) is missing"}
		}
	}
}

// value reads one literal: a string or a number. A function is refused.
func (p *parser) value(field string) (string, error) {
	t := p.next()
	switch t.kind {
	case tString, tNumber:
		return t.text, nil
	case tWord:
		if p.peek().kind == tLParen {
			return "", &Error{Field: field, Msg: fmt.Sprintf("the function %s() is not supported in a notification condition", t.text)}
		}
		return "", &Error{Field: field, Msg: fmt.Sprintf("a value in double quotes is expected, not %s", t.text)}
	case tEOF:
		return "", &Error{Field: field, Msg: "a value is expected"}
	}
	return "", &Error{Field: field, Msg: fmt.Sprintf("a value is expected, not %q", t.text)}
}

func isOption(t token) bool {
	for _, o := range options {
		if isKeyword(t, o) {
			return true
		}
	}
	return false
}

func optionName(t token) string {
	if isKeyword(t, "order") {
		return "order by"
	}
	return strings.ToLower(t.text)
}

// trailing explains what follows a complete condition.
func (p *parser) trailing(t token) error {
	if isOption(t) {
		return &Error{Msg: fmt.Sprintf("%s is not supported in a notification condition", optionName(t))}
	}
	return &Error{Msg: fmt.Sprintf("and or or is expected before %q", t.text)}
}
