// Package logging builds Herald's log handler — text or JSON lines — and
// carries a request's id in its context, so that every line logged with
// that context (the request's own line, an internal error, a vendor
// surface's or the console's warning) names the request it belongs to.
package logging

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Formats of New.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing lines in format (text or json) at level
// (debug, info, warn, error) and above, with the request id of the
// context of each line.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case FormatText, "":
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	return slog.New(ContextHandler(h)), nil
}

// ContextHandler wraps h so that a line logged with a context carrying a
// request id (WithRequestID) gets a request_id attribute, and one logged
// inside a span (tracing) its trace_id and span_id. Wrapping a
// handler already wrapped returns it as is.
func ContextHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(contextHandler); ok {
		return h
	}
	return contextHandler{h}
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a new random request id: 26 base32 characters.
func NewRequestID() string { return rand.Text() }

// maxRequestID bounds an incoming request id.
const maxRequestID = 128

// SaneRequestID reports whether id, received from a client or a proxy, can
// be used as the request's id: 1 to 128 characters among letters, digits
// and -_.:/+=@, so it cannot break a log line or a header.
func SaneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/', c == '+', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}
