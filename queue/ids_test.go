package queue_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store/storetest"
)

// idRecorder is a webhook receiver that fails the first request and
// records the webhook-id of every request.
type idRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	ids []string
}

func newIDRecorder(t *testing.T) *idRecorder {
	t.Helper()
	r := &idRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		first := len(r.ids) == 1
		r.mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *idRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// TestEngine_WebhookID: a delivery's resend carries the webhook-id of its
// first attempt, and that id is the delivery's own message id, not its row
// number: two databases with the same history send different ones, so a
// receiver that drops webhook-ids it has seen drops only resends.
func TestEngine_WebhookID(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			// run posts one event on a fresh database whose webhook fails
			// once, and returns the delivery and the webhook-ids received.
			run := func() (*herald.Delivery, []string) {
				db := storetest.NewDB(t, dialect)
				b := setup(t, db)
				rec := newIDRecorder(t)
				n := b.webhook(t, "hook", rec.srv.URL)
				b.deploy(t, on(n, "build.failed"))
				startEngine(t, db, testConfig())
				ev := settle(t, b, b.post(t, &herald.Event{Type: "build.failed"}).ID)
				d := one(t, ev, n)
				if d.Status != herald.StatusDelivered || d.Attempts != 2 {
					t.Fatalf("delivery %s after %d attempts (%q), want delivered after 2", d.Status, d.Attempts, d.LastError)
				}
				// The receiver records a request before it answers, and the
				// delivery is marked delivered after the answer.
				return d, rec.seen()
			}
			a, idsA := run()
			b, idsB := run()
			for _, c := range []struct {
				d   *herald.Delivery
				ids []string
			}{{a, idsA}, {b, idsB}} {
				if len(c.ids) != 2 || c.ids[0] != c.d.MessageID || c.ids[1] != c.d.MessageID {
					t.Fatalf("delivery %d (message id %q): the receiver saw webhook-ids %q, want its message id twice", c.d.ID, c.d.MessageID, c.ids)
				}
			}
			if a.ID != b.ID {
				t.Fatalf("the two histories differ: delivery ids %d and %d", a.ID, b.ID)
			}
			if idsA[0] == idsB[0] {
				t.Fatalf("delivery %d of two databases sent the same webhook-id %s", a.ID, idsA[0])
			}
		})
	}
}
