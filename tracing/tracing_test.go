package tracing

import (
	"context"
	"testing"
	"time"
)

// Without an endpoint tracing is off and costs nothing: a no-op provider,
// no River middleware. With one it exports; a bad one is refused.
func TestNew(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	ctx := context.Background()
	off, err := New(ctx, Config{})
	if err != nil || off.Enabled() || off.RiverMiddleware() != nil || off.Shutdown(ctx) != nil {
		t.Fatalf("no endpoint: %+v, %v; want tracing off", off, err)
	}
	for _, bad := range []string{"collector:4318", "ftp://collector", "http://"} {
		if _, err := New(ctx, Config{Endpoint: bad}); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
	on, err := New(ctx, Config{Endpoint: "http://127.0.0.1:1/otlp/", Version: "test"})
	if err != nil || !on.Enabled() || len(on.RiverMiddleware()) != 1 {
		t.Fatalf("with an endpoint: %+v, %v; want tracing on", on, err)
	}
	_, span := on.Provider.Tracer("test").Start(ctx, "span")
	if !span.SpanContext().IsValid() {
		t.Error("the provider makes no real spans")
	}
	span.End()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = on.Shutdown(sctx) // nothing listens there: the flush may fail, but it returns
}
