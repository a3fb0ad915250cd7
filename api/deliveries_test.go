package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A bulk retry re-queues the dead deliveries of its filter, says how
// many, and a token scoped to one project never retries another's.
func TestDeliveries_RetryFilter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		p, q := ts.newFixture(ts.admin), ts.newFixture(ts.admin)
		pr, err := db.Authenticate(context.Background(), ts.admin)
		if err != nil {
			t.Fatal(err)
		}
		ctx := herald.NewContextWithPrincipal(context.Background(), pr)
		if err := db.FinishDeliveries(ctx, []store.DeliveryResult{{ID: p.Delivery, Status: herald.StatusDead, Error: "gone"},
			{ID: q.Delivery, Status: herald.StatusDead, Error: "gone"}}); err != nil {
			t.Fatal(err)
		}
		status := func(id int64) string {
			var d herald.Delivery
			ts.must(200, "GET", fmt.Sprintf("/api/v1/deliveries/%d", id), ts.admin, nil, &d)
			return d.Status
		}

		var list struct{ Items []herald.Delivery }
		ts.must(200, "GET", fmt.Sprintf("/api/v1/deliveries?status=dead&channel=webhook&source_id=%d", q.Source), ts.admin, nil, &list)
		if len(list.Items) != 1 || list.Items[0].ID != q.Delivery {
			t.Fatalf("dead webhook deliveries of Q's source = %+v, want %d", list.Items, q.Delivery)
		}
		ts.must(400, "GET", "/api/v1/deliveries?from=yesterday", ts.admin, nil, nil)
		ts.must(400, "GET", "/api/v1/deliveries?channel=fax", ts.admin, nil, nil)

		scoped := ts.newToken(ts.admin, herald.TokenCreate{Name: "p-ops", ProjectID: p.Project, Permissions: []herald.Permission{herald.PermEventsWrite}})
		var res herald.BulkRetry
		// Naming Q's notifier matches nothing of P's: nothing is retried.
		ts.must(202, "POST", "/api/v1/deliveries/retry", scoped, map[string]any{"notifier_id": q.Notifier}, &res)
		if res.Retried != 0 || status(q.Delivery) != herald.StatusDead {
			t.Fatalf("a token of P naming Q's notifier retried %d; Q's delivery is %s", res.Retried, status(q.Delivery))
		}
		ts.must(202, "POST", "/api/v1/deliveries/retry", scoped, nil, &res)
		if res.Retried != 1 || res.More || status(p.Delivery) != herald.StatusPending || status(q.Delivery) != herald.StatusDead {
			t.Fatalf("a token of P retrying every dead delivery: %+v; P's is %s, Q's %s", res, status(p.Delivery), status(q.Delivery))
		}
		ts.must(202, "POST", "/api/v1/deliveries/retry", ts.admin, map[string]any{"status": "dead", "notifier_id": q.Notifier, "channel": "webhook",
			"from": "2000-01-01T00:00:00Z"}, &res)
		if res.Retried != 1 || status(q.Delivery) != herald.StatusPending {
			t.Fatalf("the admin retrying Q's notifier: %+v; Q's is %s", res, status(q.Delivery))
		}
		ts.must(400, "POST", "/api/v1/deliveries/retry", ts.admin, map[string]any{"status": "delivered"}, nil)
		ts.must(400, "POST", "/api/v1/deliveries/retry", ts.admin, map[string]any{"colour": "red"}, nil)
		reader := ts.newToken(ts.admin, herald.TokenCreate{Name: "reader2", Permissions: []herald.Permission{herald.PermSettingsRead}})
		ts.must(403, "POST", "/api/v1/deliveries/retry", reader, nil, nil)
	})
}
