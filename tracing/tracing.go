// Package tracing turns on OpenTelemetry tracing, off by default: with an
// OTLP endpoint, spans go to it over OTLP/HTTP — the API request, the
// River jobs it enqueues (fan-out, deliver; linked to the span that
// enqueued them, since a job may run much later and on another node) and
// each delivery attempt. Without one, every tracer is a no-op and River
// gets no middleware: tracing costs nothing when off.
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config says where spans go.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL of a collector
	// (http://collector:4318): spans are posted to its /v1/traces, as
	// OTEL_EXPORTER_OTLP_ENDPOINT means. Empty: tracing is off unless
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names the full URL. The exporter
	// reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout)
	// and the SDK OTEL_TRACES_SAMPLER itself.
	Endpoint string
	// ServiceName and Version name the process in its spans.
	ServiceName string
	Version     string
}

// Tracing is the tracer provider the server, the engine and River use.
type Tracing struct {
	// Provider makes the tracers; a no-op one when tracing is off.
	Provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// Off is tracing turned off.
func Off() *Tracing { return &Tracing{Provider: noop.NewTracerProvider()} }

// New sets tracing up as c says: off (Off) without an endpoint.
func New(ctx context.Context, c Config) (*Tracing, error) {
	var opts []otlptracehttp.Option
	switch {
	case c.Endpoint != "":
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("OTLP endpoint %q must be an http:// or https:// URL", c.Endpoint)
		}
		u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	case os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		// The exporter reads it.
	default:
		return Off(), nil
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	return withExporter(c, sdktrace.WithBatcher(exp)), nil
}

// WithSpanProcessor is tracing on, its spans handed to p (tests use an
// in-memory recorder).
func WithSpanProcessor(c Config, p sdktrace.SpanProcessor) *Tracing {
	return withExporter(c, sdktrace.WithSpanProcessor(p))
}

func withExporter(c Config, o sdktrace.TracerProviderOption) *Tracing {
	name := c.ServiceName
	if name == "" {
		name = "herald"
	}
	res := resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceVersion(c.Version))
	sdk := sdktrace.NewTracerProvider(o, sdktrace.WithResource(res))
	return &Tracing{Provider: sdk, sdk: sdk}
}

// RiverMiddleware is the River middleware that traces jobs: it writes the
// enqueuing span's context into a job's metadata and starts each job's
// work span linked to it. None when tracing is off.
func (t *Tracing) RiverMiddleware() []rivertype.Middleware {
	if !t.Enabled() {
		return nil
	}
	return []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		EnableTracePropagation:      true,
		EnableWorkSpanJobKindSuffix: true,
		TracerProvider:              t.Provider,
	})}
}

// Shutdown sends the spans still buffered and stops exporting.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}
