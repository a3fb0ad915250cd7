package bench_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/store/storetest"
)

func quiet(string, ...any) {}

// BenchmarkFanoutInbox10k: one event to 10,000 inbox recipients. It reports
// the ratio to a bare 10,000-row transactional insert on the same database.
func BenchmarkFanoutInbox10k(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := storetest.NewDB(b, d)
				b.StartTimer()
				r, err := bench.FanoutInbox(context.Background(), db, 10000, quiet)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.Ratio(), "x-baseline")
				b.ReportMetric(float64(r.Elapsed.Milliseconds()), "ms/fanout")
			}
		})
	}
}

// BenchmarkWebhooks: webhook deliveries per second to a loopback sink, and
// the ratio to bare net/http POSTs to it.
func BenchmarkWebhooks(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := storetest.NewDB(b, d)
				b.StartTimer()
				r, err := bench.Webhooks(context.Background(), db, 5000, quiet)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PerSecond(), "deliveries/s")
				b.ReportMetric(r.Ratio(), "x-baseline")
			}
		})
	}
}

// BenchmarkAPISettings: authenticated GETs of live settings over loopback
// HTTP, and the ratio to a bare net/http handler serving the same bytes.
func BenchmarkAPISettings(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := storetest.NewDB(b, d)
				b.StartTimer()
				r, err := bench.APISettings(context.Background(), db, 5000, quiet)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PerSecond(), "requests/s")
				b.ReportMetric(r.Ratio(), "x-baseline")
			}
		})
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
			if r, err := bench.APISettings(ctx, db, 50, t.Logf); err != nil || r.N != 50 {
				t.Fatalf("api: %v %+v", err, r)
			}
		})
	}
}
