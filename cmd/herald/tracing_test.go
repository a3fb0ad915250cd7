package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/logging"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/heraldhq/herald/tracing"
)

// TestTracing_RequestToAttempt: with tracing on, an event posted with a
// traceparent is one chain of spans — the API request (continuing the
// caller's trace), the fan-out job, the deliver job, the delivery attempt
// — each job linked to the span that enqueued it; and log lines inside a
// span name its trace.
func TestTracing_RequestToAttempt(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rec := tracetest.NewSpanRecorder()
			tr := tracing.WithSpanProcessor(tracing.Config{Version: "test"}, rec)
			db, err := store.Open(ctx, store.Config{URL: storetest.NewURL(t, dialect), SecretKey: storetest.Key(), RiverMiddleware: tr.RiverMiddleware()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(db.Migrate(ctx))
			secret, err := db.Bootstrap(ctx)
			must(err)
			tenant, err := db.FindTenantByName(ctx, store.DefaultTenant)
			must(err)
			admin := herald.NewContextWithPrincipal(ctx, &herald.Principal{TenantID: tenant.ID, Permissions: []herald.Permission{herald.PermAdmin}})

			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			t.Cleanup(sink.Close)
			p := &herald.Project{Name: "demo"}
			must(db.CreateProject(admin, p))
			src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("d4", 16), Name: "nightly"}
			must(db.CreateSource(admin, src))
			n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "hook", Config: herald.NotifierConfig{URL: sink.URL + "/hook"}}
			must(db.CreateNotifier(admin, n))
			ref := herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}, Revision: herald.NoRevisionCheck}
			_, err = db.UpdateSettings(admin, ref, &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: n.ID, Enabled: true,
				Events: []herald.EventSettings{{Type: "build.failed", Enabled: true}}}}})
			must(err)
			_, err = db.DeploySettings(admin, []herald.SettingsRef{ref}, false)
			must(err)

			logs := &syncBuffer{}
			logger, err := logging.New(logs, logging.FormatJSON, "info")
			must(err)
			engine, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond, Logger: logger, Tracer: tr.Provider})
			must(err)
			must(engine.Start(ctx))
			t.Cleanup(func() {
				stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = engine.Stop(stopCtx)
			})
			srv := newServer(db, nil, surfaceOptions{SessionKey: storetest.Key(), Tracer: tr.Provider}, logger)
			hs := httptest.NewServer(srv.Handler())
			t.Cleanup(hs.Close)

			const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
			body, _ := json.Marshal(map[string]any{"source_id": src.ID, "type": "build.failed"})
			req, _ := http.NewRequest("POST", hs.URL+"/api/v1/events", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("traceparent", caller)
			resp, err := http.DefaultClient.Do(req)
			must(err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("POST /api/v1/events = %d", resp.StatusCode)
			}

			byName := func(name string) sdktrace.ReadOnlySpan {
				for _, s := range rec.Ended() {
					if s.Name() == name {
						return s
					}
				}
				return nil
			}
			// The attempt span ends before the deliver job's work span (the
			// job records its outcomes after): wait for both.
			var attempt sdktrace.ReadOnlySpan
			for deadline := time.Now().Add(20 * time.Second); attempt == nil || byName("river.work/herald.deliver") == nil; time.Sleep(20 * time.Millisecond) {
				if attempt = byName("herald.delivery.attempt"); (attempt == nil || byName("river.work/herald.deliver") == nil) && time.Now().After(deadline) {
					var names []string
					for _, s := range rec.Ended() {
						names = append(names, s.Name())
					}
					t.Fatalf("no delivery attempt span; spans: %v", names)
				}
			}

			request := byName("POST /api/v1/events")
			if request == nil || request.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" ||
				request.Parent().SpanID().String() != "b7ad6b7169203331" || request.SpanKind() != trace.SpanKindServer {
				t.Fatalf("the request span %v does not continue the caller's trace", request)
			}
			// parentOf finds the span a span is the child of; linkedFrom
			// the span a job's work span links back to.
			find := func(sc trace.SpanContext) sdktrace.ReadOnlySpan {
				for _, s := range rec.Ended() {
					if s.SpanContext().SpanID() == sc.SpanID() {
						return s
					}
				}
				return nil
			}
			linkedFrom := func(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
				if s == nil || len(s.Links()) != 1 {
					t.Fatalf("span %v has links %v, want one to its enqueuer", s, s.Links())
				}
				return find(s.Links()[0].SpanContext)
			}
			deliverWork := find(attempt.Parent())
			if deliverWork == nil || deliverWork.Name() != "river.work/herald.deliver" {
				t.Fatalf("the attempt's parent is %v, want the deliver job's work span", deliverWork)
			}
			fanoutInsert := linkedFrom(deliverWork)
			fanoutWork := find(fanoutInsert.Parent())
			if fanoutWork == nil || fanoutWork.Name() != "river.work/herald.fanout" {
				t.Fatalf("the deliver job was enqueued under %v, want the fan-out job's work span", fanoutWork)
			}
			if got := find(linkedFrom(fanoutWork).Parent()); got == nil || got.SpanContext().SpanID() != request.SpanContext().SpanID() {
				t.Fatalf("the fan-out job was enqueued under %v, want the request's span", got)
			}
			attrs := map[attribute.Key]attribute.Value{}
			for _, kv := range attempt.Attributes() {
				attrs[kv.Key] = kv.Value
			}
			if attrs["herald.channel"].AsString() != "webhook" || attrs["herald.notifier.id"].AsInt64() != n.ID ||
				attrs["herald.delivery.status"].AsString() != herald.StatusDelivered || attrs["herald.event.id"].AsInt64() == 0 {
				t.Errorf("the attempt span's attributes: %v", attempt.Attributes())
			}

			// The request's log line names its trace.
			var line map[string]any
			for _, l := range logs.lines(t) {
				if l["msg"] == "request" && l["path"] == "/api/v1/events" {
					line = l
				}
			}
			if line == nil || line["trace_id"] != request.SpanContext().TraceID().String() || line["span_id"] != request.SpanContext().SpanID().String() {
				t.Errorf("the request's log line = %v, want trace_id and span_id of its span", line)
			}
		})
	}
}
