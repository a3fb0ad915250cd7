package queue_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// nodeTransport marks each request with the node that sent it.
type nodeTransport struct {
	node string
	base http.RoundTripper
}

func (n nodeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Node", n.node)
	return n.base.RoundTrip(r)
}

// countingSink counts requests per webhook-id and per sending node.
type countingSink struct {
	srv *httptest.Server

	mu     sync.Mutex
	ids    map[string]int
	byNode map[string]int
}

func newCountingSink(t *testing.T) *countingSink {
	t.Helper()
	s := &countingSink{ids: map[string]int{}, byNode: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ids[r.Header.Get("webhook-id")]++
		s.byNode[r.Header.Get("X-Test-Node")]++
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// allDeliveries pages through every delivery of the tenant.
func allDeliveries(t *testing.T, b *testBundle) []*herald.Delivery {
	t.Helper()
	var out []*herald.Delivery
	cursor := ""
	for {
		ds, next, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{}, herald.Page{Limit: herald.MaxPageLimit, Cursor: cursor})
		must(t, err)
		out = append(out, ds...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// TestEngine_TwoNodes runs two engines on one PostgreSQL database and
// checks that they share the work without sending anything twice.
func TestEngine_TwoNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() != store.DialectPostgres {
			t.Skip("several nodes share one database on PostgreSQL only")
		}
		const events = 300
		b := setup(t, db)
		s := newCountingSink(t)
		n := b.webhook(t, "hook", s.srv.URL)
		b.deploy(t, on(n, "build.succeeded"))

		var engines []interface{ Stop(context.Context) error }
		for _, id := range []string{"node-a", "node-b"} {
			cfg := testConfig()
			cfg.ID = id
			cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: nodeTransport{node: id, base: http.DefaultTransport}}
			engines = append(engines, startEngine(t, db, cfg))
		}
		// Small batches, so that there are many jobs to share.
		for i := 0; i < events; i += 10 {
			batch := make([]*herald.Event, 10)
			for j := range batch {
				batch[j] = &herald.Event{SourceID: b.source.ID, Type: "build.succeeded"}
			}
			must(t, db.CreateEvents(b.ctx, batch))
		}

		deadline := time.Now().Add(settleTimeout)
		var ds []*herald.Delivery
		for {
			ds = allDeliveries(t, b)
			done := 0
			for _, d := range ds {
				if terminal(d.Status) {
					done++
				}
			}
			if len(ds) == events && done == events {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %d deliveries, %d finished; want %d finished", settleTimeout, len(ds), done, events)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Stopping waits for the jobs in hand, so any late duplicate send
		// would be counted before the checks below.
		for _, e := range engines {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			must(t, e.Stop(ctx))
			cancel()
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		for _, d := range ds {
			if d.Status != herald.StatusDelivered || d.Attempts != 1 {
				t.Errorf("delivery %d: %s after %d attempts (%s)", d.ID, d.Status, d.Attempts, d.LastError)
			}
			if got := s.ids[dlvID(d)]; got != 1 {
				t.Errorf("delivery %d arrived %d times", d.ID, got)
			}
		}
		if len(s.ids) != events {
			t.Errorf("the sink saw %d distinct webhook-ids, want %d", len(s.ids), events)
		}
		// Which node fetches which job is up to timing, so sharing is
		// reported, not asserted.
		t.Logf("requests by node: %v", s.byNode)
	})
}
