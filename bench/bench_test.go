package bench_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func quiet(string, ...any) {}

// scenario runs one scenario per database as a benchmark and reports its
// throughput and its ratio to the same-run baseline.
func scenario(b *testing.B, n int, unit string, run func(context.Context, *store.DB, int, bench.Progress) (bench.Result, error)) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := storetest.NewDB(b, d)
				b.StartTimer()
				r, err := run(context.Background(), db, n, quiet)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PerSecond(), unit)
				b.ReportMetric(r.Ratio(), "x-baseline")
			}
		})
	}
}

// BenchmarkFanoutInbox10k: one event to 10,000 inbox recipients, against
// a bare 10,000-row transactional insert on the same database.
func BenchmarkFanoutInbox10k(b *testing.B) { scenario(b, 10000, "recipients/s", bench.FanoutInbox) }

// BenchmarkWebhooks: webhook deliveries to a loopback sink, against bare
// net/http POSTs to it.
func BenchmarkWebhooks(b *testing.B) { scenario(b, 5000, "deliveries/s", bench.Webhooks) }

// BenchmarkAPISettings: authenticated GETs of live settings over loopback
// HTTP, against a bare net/http handler serving the same bytes.
func BenchmarkAPISettings(b *testing.B) {
	scenario(b, 5000, "requests/s", withServer(bench.APISettings))
}

// BenchmarkIngest: single-event POSTs from 64 connections, against a bare
// handler decoding the same body.
func BenchmarkIngest(b *testing.B) { scenario(b, 5000, "events/s", withServer(bench.Ingest)) }

// withServer runs an HTTP scenario against the API behind the access
// policy (`herald bench` drives the whole serve handler).
func withServer(run func(context.Context, *store.DB, bench.Server, int, bench.Progress) (bench.Result, error)) func(context.Context, *store.DB, int, bench.Progress) (bench.Result, error) {
	return func(ctx context.Context, db *store.DB, n int, p bench.Progress) (bench.Result, error) {
		return run(ctx, db, nil, n, p)
	}
}

// TestScenarios runs each scenario small, so the suite proves they work.
func TestScenarios(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.NewDB(t, d)
			if r, err := bench.FanoutInbox(ctx, db, 50, t.Logf); err != nil || r.N != 50 {
				t.Fatalf("fanout: %v %+v", err, r)
			}
			if r, err := bench.Webhooks(ctx, db, 60, t.Logf); err != nil || r.N != 60 {
				t.Fatalf("webhooks: %v %+v", err, r)
			}
			if r, err := bench.APISettings(ctx, db, nil, 50, t.Logf); err != nil || r.N != 50 || r.P99 == 0 {
				t.Fatalf("api: %v %+v", err, r)
			}
			if r, err := bench.Ingest(ctx, db, nil, 50, t.Logf); err != nil || r.N != 50 || r.P99 == 0 {
				t.Fatalf("ingest: %v %+v", err, r)
			}
		})
	}
}
