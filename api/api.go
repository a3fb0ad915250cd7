// Package api serves Herald's native REST API under /api/v1 — projects,
// sources, notifiers, the directory, settings with draft, deploy and
// revisions, and tokens — with its OpenAPI document, plus /healthz, /readyz
// and /metrics. Errors are RFC 9457 problem documents rendered in one place
// (Error). The server also mounts the vendor surfaces on the same mux, and
// authenticates every request that carries a token, so the vendor adapters
// find the principal in the context too.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authn"
	"github.com/heraldhq/herald/internal/logging"
)

// Server is the HTTP server of the native API. Set the services and call
// Handler; cmd/herald wires it.
type Server struct {
	Tokens    herald.TokenService
	Tenants   herald.TenantService
	Projects  herald.ProjectService
	Sources   herald.SourceService
	Directory herald.DirectoryService
	Notifiers herald.NotifierService
	Settings  herald.SettingsService
	// Templates serves a project's message templates; nil answers 404
	// there.
	Templates herald.TemplateService
	// Events, Deliveries and Inbox serve the delivery engine's endpoints.
	Events     herald.EventService
	Deliveries herald.DeliveryService
	Inbox      herald.InboxService
	// Pushes serves the broadcast pushes.
	Pushes herald.PushService
	// InboxSignals wakes the inbox streams as soon as a message may have
	// arrived (store.DB: in process, and from every node on PostgreSQL).
	// Nil: the streams only poll.
	InboxSignals InboxSignals
	// InboxPoll is how often an inbox stream looks for new messages
	// anyway (default 500 ms; 10 s when InboxSignals reach across nodes).
	// It reads the database, so a message written by any node, or by
	// another process on the same SQLite file, reaches every stream.
	InboxPoll time.Duration
	// StreamsPerToken caps the inbox streams one token may hold open at
	// once on this server (default DefaultStreamsPerToken); the next one
	// answers 429 rate_limited with a Retry-After header.
	StreamsPerToken int
	// TokenRecheck is how often the open streams of a token check that it
	// still authenticates (default 2 s): a revoked token's streams end
	// within about that. One check serves all the streams of a token.
	TokenRecheck time.Duration
	// OTP sends and verifies one-time codes (/api/v1/otp/…); nil answers
	// 404 there.
	OTP herald.OTPService
	// Preferences and EndUserKeys serve people's preferences, the
	// policies and the projects' end-user keys.
	Preferences herald.PreferenceService
	EndUserKeys herald.EndUserKeyService
	// UnsubscribeKey verifies one-click unsubscribe links (the engine's
	// Config.UnsubscribeKey); nil answers 404 there.
	UnsubscribeKey []byte
	// Origins answers which web origins projects list, for the CORS of
	// the embedded inbox's routes (cors.go); nil: no origin is allowed.
	Origins herald.OriginService
	// Embed serves the embedded inbox's script at /embed/inbox.js
	// (package embed); nil answers 404 there.
	Embed http.Handler

	// Ready reports whether the server can serve (the database is
	// reachable); /readyz answers 503 when it fails. Nil: always ready.
	Ready func(context.Context) error
	// Logger receives one line per request and every internal error.
	// Nil: discard.
	Logger *slog.Logger
	// Registry collects the request metrics served at /metrics. Nil: a new
	// registry with the Go and process collectors.
	Registry *prometheus.Registry
	// Surfaces are the vendor-shaped APIs mounted on the same mux.
	Surfaces []Surface
	// Tracer makes a span of each request, continuing an incoming W3C
	// traceparent (package tracing); nil makes none.
	Tracer trace.TracerProvider

	streams streamSet // the open inbox streams
}

// Surface is a vendor-shaped API mounted next to the native one. Its
// handlers find the principal of a valid token in the request context
// (herald.PrincipalFromContext) and render their own 401 when it is absent.
type Surface interface {
	Register(mux *http.ServeMux)
}

// Handler returns the server's handler: the native routes and the
// surfaces, behind request logging and metrics, panic recovery and
// authentication.
func (s *Server) Handler() http.Handler {
	logger := s.logger()
	reg := s.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newMetrics(reg)
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_sse_streams_open",
		Help: "Inbox event streams (server-sent events) open on this node.",
	}, func() float64 { return float64(s.streams.count()) }))

	mux := http.NewServeMux()
	rt := &router{mux: mux, s: s}
	s.routes(rt, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// Anything else under /api/v1 answers in the native envelope.
	mux.HandleFunc("/api/v1/", s.handleNoRoute(mux))
	for _, sf := range s.Surfaces {
		sf.Register(mux)
	}

	var h http.Handler = capturePattern(mux)
	h = s.cors(h)
	h = s.authenticate(h)
	h = recoverer(h)
	tp := s.Tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return observe(logger, m, tp.Tracer("github.com/heraldhq/herald/api"), h)
}

// logger is the server's logger, each line with the request id of its
// context, or one that discards.
func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(logging.ContextHandler(s.Logger.Handler()))
}

// handlerFunc is a handler that returns its error for Error to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// reqInfo is what the outer middleware learns from the inner layers: the
// route pattern the mux matched and the internal error, if any.
type reqInfo struct {
	pattern string
	err     error
}

type reqInfoKey struct{}

func infoFrom(r *http.Request) *reqInfo {
	i, _ := r.Context().Value(reqInfoKey{}).(*reqInfo)
	return i
}

// publicPaths need no token, so they are not worth a token lookup.
var publicPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/openapi.json": true, "/api/v1/docs": true}

// authenticate puts the principal of a valid token into the context of
// every request that carries one, native or vendor. Native handlers that
// need a principal answer 401 when it is absent (see router.handle); a
// token present but refused is kept in the context to explain why.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPaths[r.URL.Path] || len(authn.Tokens(r)) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		p, err := authn.FromRequest(r.Context(), s.Tokens, r)
		ctx := r.Context()
		if err != nil {
			ctx = herald.NewContextWithAuthError(ctx, err)
		} else {
			ctx = herald.NewContextWithPrincipal(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// principal returns the request's principal, or the error that explains
// its absence.
func principal(r *http.Request) (*herald.Principal, error) {
	if p := herald.PrincipalFromContext(r.Context()); p != nil {
		return p, nil
	}
	if err := herald.AuthErrorFromContext(r.Context()); err != nil {
		return nil, err
	}
	return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "authentication required")
}

// capturePattern records the pattern the mux matched, for the metrics and
// the log: the mux sets it on the request it was given, which the outer
// layers do not see once authenticate has copied the request.
func capturePattern(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if info := infoFrom(r); info != nil {
				info.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 (when nothing was written yet) and an
// internal error in the request's log line.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				if info := infoFrom(r); info != nil {
					info.err = err
				}
				return
			}
			Error(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status and size of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through, for streaming surfaces.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// metrics are the request metrics, labelled by the matched route pattern
// (not the path, which would make one series per id).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total",
			Help: "HTTP requests by route pattern (without the method), method and status.",
		}, []string{"route", "method", "status"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern (without the method) and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"})),
	}
}

// register registers c, or returns the collector already registered under
// its name (Handler may be called more than once on one registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// RequestIDHeader carries a request's id both ways: a sane one the client
// (or a proxy in front) sends is kept, else the server makes one; every
// answer carries it, and so do the request's log lines and the native
// API's problem documents.
const RequestIDHeader = "X-Request-Id"

// routeOf is the label of a matched pattern: its path, without the method
// a pattern may start with (the method is a label of its own).
func routeOf(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimLeft(pattern[i:], " \t")
	}
	return pattern
}

// observe gives every request its id and its span, logs it and counts it
// in the metrics.
func observe(logger *slog.Logger, m *metrics, tracer trace.Tracer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		id := r.Header.Get(RequestIDHeader)
		if !logging.SaneRequestID(id) {
			id = logging.NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		sw := &statusWriter{ResponseWriter: w}
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path), attribute.String("herald.request_id", id)))
		defer span.End()
		ctx = logging.WithRequestID(context.WithValue(ctx, reqInfoKey{}, info), id)
		r = r.WithContext(ctx)
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := routeOf(info.pattern)
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(otelcodes.Error, http.StatusText(status))
			}
			elapsed := time.Since(start)
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
			attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", status,
				"bytes", sw.bytes, "duration", elapsed}
			if info.err != nil {
				logger.ErrorContext(r.Context(), "request failed", append(attrs, "err", info.err)...)
			} else {
				logger.InfoContext(r.Context(), "request", attrs...)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// handleNoRoute answers paths under /api/v1 that no route matches: 405
// with Allow when the path exists for other methods, else 404.
func (s *Server) handleNoRoute(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/api/v1/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, http.StatusMethodNotAllowed, herald.ENOTALLOWED, "", "method "+r.Method+" is not allowed here")
			return
		}
		Error(w, r, herald.Errorf(herald.ENOTFOUND, "", "no such endpoint: %s %s", r.Method, r.URL.Path))
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			if info := infoFrom(r); info != nil {
				info.err = fmt.Errorf("not ready: %w", err)
			}
			return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
