package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/parser"
	lrender "github.com/osteele/liquid/render"
	"github.com/osteele/liquid/values"
)

// Templates are Liquid (github.com/osteele/liquid), made safe for
// templates users write:
//
//   - include is refused: no template reads a file.
//   - A render runs under a deadline and writes at most a number of bytes
//     (Limits). The deadline is checked at every step of every loop and
//     before every tag and output, so a runaway loop stops, whether or not
//     it writes anything.
//   - Every filter refuses an input or a result larger than maxValueBytes
//     or longer than maxItems, before the work (a range of a billion
//     numbers is not made into a list; join and replace estimate their
//     result first): no value a template builds outgrows them. capture,
//     which would build one unchecked, is refused (assign does its work).
//   - A library panic (a spoofed forloop, a failed write) is an error of
//     the render, never of the process.
//
// Errors name the line and column of the tag or output at fault.

// Limits bound the render of one template part.
type Limits struct {
	// Timeout is how long a part may take; zero takes DefaultLimits'.
	Timeout time.Duration
	// MaxBytes is the most a part may write; zero takes DefaultLimits'.
	MaxBytes int
}

// DefaultLimits are the limits of a render that names none.
var DefaultLimits = Limits{Timeout: 250 * time.Millisecond, MaxBytes: 256 << 10}

func (l Limits) orDefault() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	return l
}

// Bounds on the values a template builds, whatever the limits.
const (
	maxValueBytes = 1 << 20
	maxItems      = 1000
)

// LimitError is a render stopped by its limits.
type LimitError struct{ msg string }

func (e *LimitError) Error() string { return e.msg }

// SyntaxError is a template fault with its place in the source.
type SyntaxError struct {
	// Line and Column are 1-based; Column counts characters. Zero when the
	// fault has no place (a render stopped at its very end).
	Line, Column int
	Msg          string
	// Limit marks a render stopped by its limits.
	Limit bool
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// stateKey is the binding that carries a render's state to the tags and
// writers of the engine; no Liquid identifier can name it.
const stateKey = "\x00herald"

// tickTag checks the deadline; it is put at the head of every loop body
// and before every tag and output (its arguments are the line and column
// of the node it guards, for the error).
const tickTag = "herald_tick"

// state is one render's budget.
type state struct {
	deadline time.Time
	now      func() time.Time
	n        int
}

// checkEvery is how many checks of a render look at the clock once: a
// check between them costs an increment.
const checkEvery = 16

func (s *state) check() error {
	if s.n++; s.n%checkEvery != 0 {
		return nil
	}
	if s.now().After(s.deadline) {
		return &LimitError{"the template took too long to render (a loop that runs too long?)"}
	}
	return nil
}

// limitWriter is the output of a render: it refuses to grow past max and
// checks the deadline at every write.
type limitWriter struct {
	buf []byte
	max int
	st  *state
}

func (w *limitWriter) Write(b []byte) (int, error) {
	if len(w.buf)+len(b) > w.max {
		return 0, &LimitError{fmt.Sprintf("the template writes more than %d bytes", w.max)}
	}
	if w.st != nil {
		if err := w.st.check(); err != nil {
			return 0, err
		}
	}
	w.buf = append(w.buf, b...)
	return len(b), nil
}

var engine = newEngine()

func newEngine() *liquid.Engine {
	e := liquid.NewEngine()
	filters.AddStandardFilters(guardedFilters{e})
	e.RegisterTag("include", func(lrender.Context) (string, error) {
		return "", errors.New("include is not available")
	})
	e.RegisterTag(tickTag, func(ctx lrender.Context) (string, error) {
		st, _ := ctx.Get(stateKey).(*state)
		if st == nil {
			return "", nil
		}
		if err := st.check(); err != nil {
			line, col := tickPlace(ctx.TagArgs())
			return "", &placedError{line: line, col: col, err: err}
		}
		return "", nil
	})
	return e
}

// placedError is an error that knows its place (a tick's).
type placedError struct {
	line, col int
	err       error
}

func (e *placedError) Error() string { return e.err.Error() }
func (e *placedError) Unwrap() error { return e.err }

func tickPlace(args string) (int, int) {
	f := strings.Fields(args)
	if len(f) != 2 {
		return 0, 0
	}
	l, _ := strconv.Atoi(f[0])
	c, _ := strconv.Atoi(f[1])
	return l, c
}

// guardedFilters registers every standard filter behind a check of its
// inputs and result.
type guardedFilters struct{ e *liquid.Engine }

func (g guardedFilters) AddFilter(name string, fn any) {
	// (A function, not a variable: the engine is built while the
	// package's variables are initialized, through an interface, which
	// orders nothing.)
	if direct, ok := directFilters()[name]; ok {
		// The same work as the library's, with the same checks, as a
		// plain function: no reflect.MakeFunc wrapper and no second
		// reflective call at each use.
		g.e.RegisterFilter(name, direct)
		return
	}
	g.e.RegisterFilter(name, guardFilter(name, fn))
}

// directFilters are the filters the built-in templates use, written out
// with guardFilter's checks: their parameters are any, so the library
// converts nothing and neither does the guard.
func directFilters() map[string]any {
	return map[string]any{
		// The library's json: json.Marshal, its error ignored.
		"json": func(a any) (any, error) {
			if err := checkSize(a); err != nil {
				return nil, err
			}
			b, _ := json.Marshal(a)
			out := string(b)
			return out, checkSize(out)
		},
		// The library's default.
		"default": func(value, defaultValue any) (any, error) {
			if err := checkSize(value); err != nil {
				return nil, err
			}
			if err := checkSize(defaultValue); err != nil {
				return nil, err
			}
			if value == nil || value == false || values.IsEmpty(value) {
				value = defaultValue
			}
			return value, checkSize(value)
		},
	}
}

// isOptional reports a parameter the library fills with a function of the
// argument (an optional argument, given or not).
func isOptional(t reflect.Type) bool {
	return t.Kind() == reflect.Func && t.NumIn() == 1 && t.NumOut() == 1
}

// guardFilter wraps fn in a function of the same arity whose plain
// parameters are any: the library hands it the arguments unconverted, so
// their size is checked before a conversion could blow them up (a range
// made into a list); it converts them as the library would and calls fn.
func guardFilter(name string, fn any) any {
	// Types made here: the engine is built while the package's variables
	// are initialized, through an interface, which orders nothing.
	anyType, errorType := reflect.TypeFor[any](), reflect.TypeFor[error]()
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	if ft.IsVariadic() {
		return fn
	}
	in := make([]reflect.Type, ft.NumIn())
	for i := range in {
		in[i] = anyType
		if isOptional(ft.In(i)) {
			in[i] = ft.In(i)
		}
	}
	wt := reflect.FuncOf(in, []reflect.Type{anyType, errorType}, false)
	return reflect.MakeFunc(wt, func(args []reflect.Value) []reflect.Value {
		out, err := callFilter(name, fv, args)
		ov := reflect.Zero(anyType)
		if out != nil {
			ov = reflect.ValueOf(&out).Elem()
		}
		ev := reflect.Zero(errorType)
		if err != nil {
			ev = reflect.ValueOf(&err).Elem()
		}
		return []reflect.Value{ov, ev}
	}).Interface()
}

func callFilter(name string, fv reflect.Value, args []reflect.Value) (any, error) {
	ft := fv.Type()
	call := make([]reflect.Value, len(args))
	for i, a := range args {
		if isOptional(ft.In(i)) {
			call[i] = a
			continue
		}
		var raw any
		if a.IsValid() && !(a.Kind() == reflect.Interface && a.IsNil()) {
			raw = a.Interface()
		}
		if err := checkSize(raw); err != nil {
			return nil, err
		}
		if raw == nil {
			call[i] = reflect.Zero(ft.In(i))
			continue
		}
		v, err := values.Convert(raw, ft.In(i))
		if err != nil {
			return nil, err
		}
		rv := reflect.ValueOf(v)
		switch {
		case !rv.IsValid():
			rv = reflect.Zero(ft.In(i))
		case !rv.Type().AssignableTo(ft.In(i)):
			if !rv.Type().ConvertibleTo(ft.In(i)) {
				return nil, fmt.Errorf("cannot use %T as %s", v, ft.In(i))
			}
			rv = rv.Convert(ft.In(i))
		}
		call[i] = rv
	}
	if err := estimate(name, call); err != nil {
		return nil, err
	}
	res := fv.Call(call)
	if len(res) > 1 && !res[1].IsNil() {
		return nil, res[1].Interface().(error)
	}
	out := res[0].Interface()
	if b, ok := out.([]byte); ok {
		out = string(b)
	}
	return out, checkSize(out)
}

// checkSize refuses a value past the bounds: a long string, or a long list
// or range (a range is measured, never made).
func checkSize(v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if len(v) > maxValueBytes {
			return &LimitError{fmt.Sprintf("a value of %d bytes is larger than %d", len(v), maxValueBytes)}
		}
		return nil
	case []byte:
		return checkSize(string(v))
	case values.Range:
		if v.Len() > maxItems {
			return &LimitError{fmt.Sprintf("a range of %d numbers is longer than %d", v.Len(), maxItems)}
		}
		return nil
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		if rv.Len() > maxItems {
			return &LimitError{fmt.Sprintf("a list of %d items is longer than %d", rv.Len(), maxItems)}
		}
	}
	return nil
}

// estimate refuses, before the work, a filter whose result would be too
// large though its inputs are not: join repeats its separator, replace
// its replacement.
func estimate(name string, args []reflect.Value) error {
	size := 0
	switch name {
	case "join":
		sep := " "
		if len(args) > 1 && args[1].IsValid() && args[1].Kind() == reflect.Func {
			if r := args[1].Call([]reflect.Value{reflect.ValueOf(" ")}); len(r) == 1 {
				sep, _ = r[0].Interface().(string)
			}
		}
		if rv := args[0]; rv.IsValid() && (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) {
			for i := range rv.Len() {
				size += len(fmt.Sprint(rv.Index(i).Interface())) + len(sep)
				if size > maxValueBytes {
					break
				}
			}
		}
	case "replace", "remove":
		if len(args) < 2 {
			return nil
		}
		s, _ := args[0].Interface().(string)
		old, _ := args[1].Interface().(string)
		repl := ""
		if len(args) > 2 {
			repl, _ = args[2].Interface().(string)
		}
		n := strings.Count(s, old)
		if old == "" {
			n = utf8.RuneCountInString(s) + 1
		}
		size = len(s) + n*len(repl)
	}
	if size > maxValueBytes {
		return &LimitError{fmt.Sprintf("%s would make a value larger than %d bytes", name, maxValueBytes)}
	}
	return nil
}

// compiled is one parsed template part.
type compiled struct {
	tpl *liquid.Template
	src string
}

// reFilterName finds the filters an output or tag names; strings are
// blanked first.
var (
	reFilterName = regexp.MustCompile(`\|\s*([A-Za-z_][\w-]*)`)
	reString     = regexp.MustCompile(`"[^"]*"|'[^']*'`)
)

// filterNames are the filters the engine knows.
var filterNames = []string{"default", "json", "compact", "concat", "join", "map", "reverse", "sort", "first", "last", "uniq", "date",
	"abs", "ceil", "floor", "modulo", "minus", "plus", "times", "divided_by", "round", "size", "append", "capitalize", "downcase",
	"escape", "escape_once", "newline_to_br", "prepend", "remove", "remove_first", "replace", "replace_first", "sort_natural",
	"slice", "split", "strip_html", "strip_newlines", "strip", "lstrip", "rstrip", "truncate", "truncatewords", "upcase",
	"url_encode", "url_decode", "inspect", "type"}

// parse compiles a part's source: a syntax fault, an unknown filter and
// include are refused with their line and column. The compiled tree gets
// a deadline check at the head of every loop body and before every tag
// and output.
func parse(src string) (*compiled, error) {
	tokens := parser.Scan(src, parser.SourceLoc{Pathname: "template", LineNo: 1}, nil)
	places := tokenPlaces(src, tokens)
	skip := "" // inside a comment or raw block: not Liquid
	for i, tok := range tokens {
		if skip != "" {
			if tok.Type == parser.TagTokenType && tok.Name == "end"+skip {
				skip = ""
			}
			continue
		}
		if tok.Type == parser.TagTokenType && (tok.Name == "comment" || tok.Name == "raw") {
			skip = tok.Name
			continue
		}
		if tok.Type == parser.TagTokenType && tok.Name == "include" {
			return nil, &SyntaxError{Line: places[i].line, Column: places[i].col, Msg: "include is not available: a template reads no file"}
		}
		if tok.Type == parser.TagTokenType && tok.Name == "capture" {
			return nil, &SyntaxError{Line: places[i].line, Column: places[i].col, Msg: "capture is not available: use assign"}
		}
		if tok.Type == parser.TagTokenType && tok.Name == tickTag {
			return nil, &SyntaxError{Line: places[i].line, Column: places[i].col, Msg: "unknown tag " + tickTag}
		}
		if tok.Type != parser.ObjTokenType && tok.Type != parser.TagTokenType {
			continue
		}
		blank := reString.ReplaceAllStringFunc(tok.Source, func(s string) string { return strings.Repeat(" ", len(s)) })
		for _, m := range reFilterName.FindAllStringSubmatchIndex(blank, -1) {
			name := blank[m[2]:m[3]]
			if !slices.Contains(filterNames, name) {
				line, col := advance(places[i].line, places[i].col, tok.Source[:m[2]])
				return nil, &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf("unknown filter %q", name)}
			}
		}
	}
	tpl, serr := engine.ParseTemplateLocation([]byte(src), "template", 1)
	if serr != nil {
		return nil, locate(src, tokens, places, serr)
	}
	c := &compiled{tpl: tpl, src: src}
	if err := instrument(tpl.GetRoot(), tokens, places); err != nil {
		return nil, err
	}
	return c, nil
}

// place is a token's line and column (1-based, in characters).
type place struct{ line, col int }

// tokenPlaces finds where each token starts.
func tokenPlaces(src string, tokens []parser.Token) []place {
	out := make([]place, len(tokens))
	off, line, col := 0, 1, 1
	for i, tok := range tokens {
		if tok.Source == "" {
			out[i] = place{line, col}
			continue
		}
		j := strings.Index(src[off:], tok.Source)
		if j < 0 {
			out[i] = place{line, col}
			continue
		}
		line, col = advance(line, col, src[off:off+j])
		out[i] = place{line, col}
		off += j
	}
	return out
}

// advance moves a line and column over s.
func advance(line, col int, s string) (int, int) {
	for _, r := range s {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// locate turns a library error into a SyntaxError at the token it names.
func locate(src string, tokens []parser.Token, places []place, err lrender.Error) *SyntaxError {
	if pe := causeOf[*placedError](err); pe != nil {
		return &SyntaxError{Line: pe.line, Column: pe.col, Msg: pe.err.Error(), Limit: true}
	}
	msg := err.Error()
	if c := err.Cause(); c != nil {
		msg = c.Error()
	} else {
		// "Liquid error (line N): message in template"
		if _, rest, ok := strings.Cut(msg, "): "); ok {
			msg = rest
		}
		msg = strings.TrimSuffix(msg, " in template")
	}
	le := causeOf[*LimitError](err)
	limit := le != nil
	if limit {
		msg = le.Error()
	}
	line := err.LineNumber()
	if line <= 0 {
		return &SyntaxError{Msg: msg, Limit: limit}
	}
	// The token the library names (the context of its error).
	context := ""
	if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("context"); f.IsValid() && f.Kind() == reflect.String {
			context = f.String()
		}
	}
	col := 0
	for i, tok := range tokens {
		if places[i].line != line && tok.SourceLoc.LineNo != line {
			continue
		}
		if tok.Type == parser.TextTokenType {
			continue
		}
		if col == 0 || tok.Source == context {
			col = places[i].col
			line = places[i].line
			if tok.Source == context {
				break
			}
		}
	}
	if col == 0 {
		col = 1
	}
	return &SyntaxError{Line: line, Column: col, Msg: msg, Limit: limit}
}

// causeOf finds an error of type T in err's chain, following the
// library's Cause and its filter errors as well as Unwrap.
func causeOf[T error](err error) T {
	var zero T
	for range 100 {
		if err == nil {
			return zero
		}
		if t, ok := err.(T); ok {
			return t
		}
		switch e := err.(type) {
		case interface{ Cause() error }:
			if c := e.Cause(); c != nil {
				err = c
				continue
			}
			err = errors.Unwrap(err)
		case expressions.FilterError:
			err = e.Err
		case *expressions.FilterError:
			err = e.Err
		default:
			err = errors.Unwrap(err)
		}
	}
	return zero
}

// instrument puts a deadline check before every tag, block and output of
// the tree and at the head of every loop body. A check is a tag node
// compiled from "{% herald_tick line col %}".
func instrument(root lrender.Node, tokens []parser.Token, places []place) error {
	at := map[string]place{} // token source + line → place
	for i, tok := range tokens {
		at[tok.Source+"\x00"+strconv.Itoa(tok.SourceLoc.LineNo)] = places[i]
	}
	tick := func(tok parser.Token) (lrender.Node, error) {
		p := at[tok.Source+"\x00"+strconv.Itoa(tok.SourceLoc.LineNo)]
		t, err := engine.ParseString(fmt.Sprintf("{%% %s %d %d %%}", tickTag, p.line, p.col))
		if err != nil {
			return nil, err
		}
		seq, ok := t.GetRoot().(*lrender.SeqNode)
		if !ok || len(seq.Children) != 1 {
			return nil, errors.New("render: unexpected tick tree")
		}
		return seq.Children[0], nil
	}
	var walk func(nodes []lrender.Node) ([]lrender.Node, error)
	walk = func(nodes []lrender.Node) ([]lrender.Node, error) {
		out := make([]lrender.Node, 0, 2*len(nodes))
		for _, n := range nodes {
			var tok *parser.Token
			switch n := n.(type) {
			case *lrender.BlockNode:
				body, err := walk(n.Body)
				if err != nil {
					return nil, err
				}
				if n.Name == "for" || n.Name == "tablerow" {
					t, err := tick(n.Token)
					if err != nil {
						return nil, err
					}
					body = append([]lrender.Node{t}, body...)
				}
				n.Body = body
				for _, c := range n.Clauses {
					if c.Body, err = walk(c.Body); err != nil {
						return nil, err
					}
				}
				tok = &n.Token
			case *lrender.TagNode:
				tok = &n.Token
			case *lrender.ObjectNode:
				tok = &n.Token
			case *lrender.SeqNode:
				children, err := walk(n.Children)
				if err != nil {
					return nil, err
				}
				n.Children = children
			}
			if tok != nil {
				t, err := tick(*tok)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
			}
			out = append(out, n)
		}
		return out, nil
	}
	if seq, ok := root.(*lrender.SeqNode); ok {
		children, err := walk(seq.Children)
		if err != nil {
			return err
		}
		seq.Children = children
		return nil
	}
	_, err := walk([]lrender.Node{root})
	return err
}

// run renders a compiled part with bindings under limits; it sets its
// state in bindings.
func (c *compiled) run(bindings map[string]any, l Limits, now func() time.Time) (out string, err error) {
	l = l.orDefault()
	if now == nil {
		now = time.Now
	}
	st := &state{deadline: now().Add(l.Timeout), now: now}
	w := &limitWriter{max: l.MaxBytes, st: st}
	// The library copies the bindings for the render: this one map is
	// the caller's, given this render's state.
	b := bindings
	b[stateKey] = st
	defer func() {
		// The library panics on a failed final write and on some bad
		// input; either is this render's failure.
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				var le *LimitError
				if errors.As(e, &le) {
					err = &SyntaxError{Msg: le.Error(), Limit: true}
					return
				}
			}
			err = &SyntaxError{Msg: fmt.Sprintf("the template failed: %v", r)}
		}
	}()
	if serr := c.tpl.FRender(w, b); serr != nil {
		tokens := parser.Scan(c.src, parser.SourceLoc{Pathname: "template", LineNo: 1}, nil)
		return "", locate(c.src, tokens, tokenPlaces(c.src, tokens), serr)
	}
	return string(w.buf), nil
}
