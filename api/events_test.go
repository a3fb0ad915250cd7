package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// startEngine runs the delivery engine on db for the test.
func startEngine(t *testing.T, db *store.DB) {
	t.Helper()
	e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond, BackoffBase: 10 * time.Millisecond, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
}

// waitEvent polls an event until every delivery it caused is final.
func (ts *testServer) waitEvent(token string, id int64, want int) herald.Event {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ev herald.Event
		ts.must(200, "GET", fmt.Sprintf("/api/v1/events/%d", id), token, nil, &ev)
		final := len(ev.Deliveries) == want
		for _, d := range ev.Deliveries {
			final = final && d.Status != herald.StatusPending && d.Status != herald.StatusSending
		}
		if final {
			return ev
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("event %d not final: %+v", id, ev.Deliveries)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEvents_InboxAndStream(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		// The fixture records its event's fan-out itself: build it before
		// the engine could fan that event out first.
		f := ts.newFixture(ts.admin)
		startEngine(t, db)
		var inbox herald.Notifier
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), ts.admin, map[string]any{"type": "inbox", "name": "inbox"}, &inbox)
		settings := fmt.Sprintf("/api/v1/sources/%d/settings", f.Source)
		ts.must(200, "PUT", settings, ts.admin, map[string]any{"channels": []any{map[string]any{
			"notifier_id": inbox.ID, "enabled": true, "events": []any{map[string]any{"type": "build.failed", "enabled": true,
				"recipients": []any{map[string]any{"type": "FIELD_ENTITY", "code": "creator"}}}},
		}}}, nil)
		ts.must(200, "POST", settings+"/deploy", ts.admin, map[string]any{"revision": -1}, nil)

		// A live stream of Alice's inbox, over a real connection.
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/users/%d/inbox/stream", hs.URL, f.User), nil)
		req.Header.Set("Authorization", "Bearer "+ts.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()

		post := func() herald.Event {
			body := map[string]any{"source_id": f.Source, "type": "build.failed", "creator": "alice", "payload": map[string]any{"branch": "main"}}
			r := ts.do("POST", "/api/v1/events", ts.admin, body, "Idempotency-Key", "build-42")
			var ev herald.Event
			if r.Code != 202 || json.Unmarshal(r.Body, &ev) != nil {
				t.Fatalf("POST event = %s", r)
			}
			return ev
		}
		ev, again := post(), post()
		if again.ID != ev.ID || !again.Duplicate {
			t.Fatalf("a repeated Idempotency-Key made event %d (duplicate %v), want %d", again.ID, again.Duplicate, ev.ID)
		}
		done := ts.waitEvent(ts.admin, ev.ID, 1)
		if d := done.Deliveries[0]; d.Status != herald.StatusDelivered || d.Channel != "inbox" || d.UserID != f.User {
			t.Fatalf("delivery = %+v", d)
		}

		// The stream carries the new message.
		deadline := time.After(20 * time.Second)
		for got := false; !got; {
			select {
			case l := <-lines:
				if strings.HasPrefix(l, "data: ") {
					var m herald.InboxMessage
					if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &m); err != nil || m.EventID != ev.ID || !strings.Contains(m.Body, "branch: main") {
						t.Fatalf("stream data %q: %v", l, err)
					}
					got = true
				}
			case <-deadline:
				t.Fatal("the stream did not carry the new message")
			}
		}

		// Unread filter, mark read, read-all.
		var page struct {
			Items []herald.InboxMessage `json:"items"`
		}
		inboxURL := fmt.Sprintf("/api/v1/users/%d/inbox", f.User)
		ts.must(200, "GET", inboxURL+"?unread=true", ts.admin, nil, &page)
		if len(page.Items) != 2 { // the fixture's message and the event's
			t.Fatalf("unread = %+v", page.Items)
		}
		ts.must(204, "POST", fmt.Sprintf("%s/%d/read", inboxURL, page.Items[0].ID), ts.admin, nil, nil)
		var marked struct{ Marked int }
		ts.must(200, "POST", inboxURL+"/read-all", ts.admin, nil, &marked)
		if marked.Marked != 1 {
			t.Fatalf("read-all marked %d, want 1", marked.Marked)
		}
		ts.must(200, "GET", inboxURL+"?unread=true", ts.admin, nil, &page)
		if len(page.Items) != 0 {
			t.Fatalf("unread after read-all = %+v", page.Items)
		}
		ts.must(400, "GET", inboxURL+"?unread=maybe", ts.admin, nil, nil)
	})
}

func TestEvents_RetryDeadDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		// The fixture records its event's fan-out itself: build it before
		// the engine could fan that event out first.
		f := ts.newFixture(ts.admin)
		startEngine(t, db)
		var healthy atomic.Bool
		var hits atomic.Int64
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if !healthy.Load() {
				w.WriteHeader(http.StatusBadGateway)
			}
		}))
		t.Cleanup(sink.Close)
		var hook herald.Notifier
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), ts.admin,
			map[string]any{"type": "webhook", "name": "sink", "config": map[string]any{"url": sink.URL}}, &hook)
		settings := fmt.Sprintf("/api/v1/sources/%d/settings", f.Source)
		ts.must(200, "PUT", settings, ts.admin, map[string]any{"channels": []any{map[string]any{
			"notifier_id": hook.ID, "enabled": true, "events": []any{map[string]any{"type": "build.failed", "enabled": true}},
		}}}, nil)
		ts.must(200, "POST", settings+"/deploy", ts.admin, map[string]any{"revision": -1}, nil)

		var out struct{ Events []herald.Event }
		ts.must(202, "POST", "/api/v1/events", ts.admin, map[string]any{"events": []any{
			map[string]any{"source": map[string]any{"kind": "build_job", "external_id": jobID}, "type": "build.failed"},
		}}, &out)
		ev := ts.waitEvent(ts.admin, out.Events[0].ID, 1)
		d := ev.Deliveries[0]
		if d.Status != herald.StatusDead || d.Attempts != 2 || d.LastError == "" {
			t.Fatalf("delivery to a failing sink = %+v, want dead after 2 attempts", d)
		}
		var list struct{ Items []herald.Delivery }
		ts.must(200, "GET", fmt.Sprintf("/api/v1/deliveries?status=dead&notifier_id=%d", hook.ID), ts.admin, nil, &list)
		if len(list.Items) != 1 || list.Items[0].ID != d.ID {
			t.Fatalf("dead deliveries = %+v", list.Items)
		}
		healthy.Store(true)
		ts.must(202, "POST", fmt.Sprintf("/api/v1/deliveries/%d/retry", d.ID), ts.admin, nil, nil)
		ev = ts.waitEvent(ts.admin, ev.ID, 1)
		if got := ev.Deliveries[0]; got.Status != herald.StatusDelivered || hits.Load() != 3 {
			t.Fatalf("after retry: %+v, %d requests", got, hits.Load())
		}
		ts.must(409, "POST", fmt.Sprintf("/api/v1/deliveries/%d/retry", d.ID), ts.admin, nil, nil)
	})
}

func TestEvents_BadInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		many := make([]any, herald.MaxEventBatch+1)
		for i := range many {
			many[i] = map[string]any{"source_id": f.Source, "type": "build.failed"}
		}
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"source_id": f.Source, "type": "build.exploded"}, "type"},
			{map[string]any{"type": "build.failed"}, "source_id"},
			{map[string]any{"source_id": 999999, "type": "build.failed"}, "source_id"},
			{map[string]any{"source": map[string]any{"kind": "build_job", "external_id": "nope"}, "type": "build.failed"}, "source"},
			{map[string]any{"source_id": f.Source, "type": "build.failed", "payload": []int{1}}, "payload"},
			{map[string]any{"source_id": f.Source, "type": "build.failed", "roles": map[string]any{"creator": []string{"bad code!"}}}, "roles.creator"},
			{map[string]any{"events": []any{map[string]any{"source_id": f.Source, "type": "nope"}}}, "events[0].type"},
			{map[string]any{"events": many}, "events"},
			{map[string]any{"source_id": f.Source, "type": "build.failed", "colour": "red"}, "colour"},
		} {
			r := ts.do("POST", "/api/v1/events", ts.admin, c.body)
			if r.Code != 400 {
				t.Errorf("%v: %s, want 400", c.body, r)
				continue
			}
			if p := r.problem(t); p.Field != c.field {
				t.Errorf("%v: field %q, want %q (%s)", c.body, p.Field, c.field, p.Detail)
			}
		}
		var page struct{ Items []herald.Delivery }
		ts.must(200, "GET", "/api/v1/deliveries", ts.admin, nil, &page)
		if len(page.Items) != 2 { // the fixture's two, nothing more
			t.Fatalf("refused events left deliveries: %+v", page.Items)
		}
	})
}
