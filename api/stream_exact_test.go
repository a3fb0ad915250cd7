package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// next reads the stream up to its next event, failing the test when the
// stream ends or nothing comes before the deadline. It keeps the id fields
// it reads, as an EventSource does, also those of a block without data.
func (s *stream) next(t *testing.T, deadline time.Time) herald.InboxMessage {
	t.Helper()
	var event, data string
	var id *string
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-s.lines:
			if !ok {
				t.Fatal("the stream ended")
			}
		case <-timer.C:
			t.Fatal("no event before the deadline")
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if id != nil {
				s.lastID, s.hasID = *id, true
			}
			if data == "" {
				event, id = "", nil
				continue
			}
			if event != "message" {
				t.Fatalf("an event %q: %s", event, data)
			}
			var m herald.InboxMessage
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
			if id == nil || *id != strconv.FormatInt(m.ID, 10) {
				t.Fatalf("message %d came with the id field %v", m.ID, id)
			}
			return m
		case field == "id":
			id = &value
		case field == "event":
			event = value
		case field == "data":
			data += value
		}
	}
}

// waitID reads the stream until it has told an id, failing the test when
// none comes within the deadline.
func (s *stream) waitID(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	block := false
	for !s.hasID || block {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if strings.HasPrefix(line, "data:") {
				t.Fatalf("waiting for an id, read %q", line)
			}
			if v, ok := strings.CutPrefix(line, "id:"); ok {
				s.lastID, s.hasID, block = strings.TrimPrefix(v, " "), true, true
			}
			if line == "" {
				block = false
			}
		case <-deadline:
			t.Fatal("the stream told no id")
		}
	}
}

// until reads messages up to and including the one with id last, failing
// the test at the deadline.
func (s *stream) until(t *testing.T, last int64, within time.Duration) []int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	var ids []int64
	for {
		m := s.next(t, deadline)
		ids = append(ids, m.ID)
		if m.ID == last {
			return ids
		}
	}
}

// inboxWriter records inbox messages the way the engine's fan-out does:
// store.RecordFanouts with inbox deliveries (of the fixture's push, so
// that one may be recorded any number of times).
type inboxWriter struct {
	db       *store.DB
	ctx      context.Context
	push     int64
	notifier int64
}

func newInboxWriter(t *testing.T, db *store.DB, token string, f fixture) inboxWriter {
	t.Helper()
	p, err := db.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return inboxWriter{db: db, ctx: herald.NewContextWithPrincipal(context.Background(), p), push: f.Push, notifier: f.Notifier}
}

// write records n messages for user in one fan-out, with a pending webhook
// delivery beside them (so that the transaction also queues a job after
// the inbox rows, as a real fan-out does).
func (w inboxWriter) write(user int64, n int) error {
	ds := []store.NewDelivery{}
	for i := 0; i < n; i++ {
		ds = append(ds, store.NewDelivery{NotifierID: w.notifier, Channel: "inbox", UserID: user, Target: "u", Status: herald.StatusDelivered,
			Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: user, Title: "Build failed", Body: fmt.Sprint("message ", i)}})
	}
	ds = append(ds, store.NewDelivery{NotifierID: w.notifier, Channel: "webhook", Target: "hooks.example.com", Status: herald.StatusPending, Message: []byte(`{}`)})
	_, err := w.db.RecordFanouts(w.ctx, []store.Fanout{{PushID: w.push, Deliveries: ds}})
	return err
}

func (w inboxWriter) mustWrite(t *testing.T, user int64, n int) {
	t.Helper()
	if err := w.write(user, n); err != nil {
		t.Fatal(err)
	}
}

// inboxIDs lists the ids of user's messages oldest first.
func (w inboxWriter) inboxIDs(t *testing.T, user int64) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for {
		ms, next, err := w.db.FindInbox(w.ctx, user, herald.InboxFilter{}, herald.Page{Limit: herald.MaxPageLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		if next == "" {
			slices.Reverse(ids)
			return ids
		}
		cursor = next
	}
}

// newUser creates a user with an empty inbox.
func (ts *testServer) newUser(code string) int64 {
	ts.t.Helper()
	var obj struct {
		ID int64 `json:"id"`
	}
	ts.must(201, "POST", "/api/v1/users", ts.admin, map[string]any{"code": code, "name": code}, &obj)
	return obj.ID
}

// checkOnceInOrder fails the test unless got is want, and names the
// first difference.
func checkOnceInOrder(t *testing.T, got, want []int64) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	var missing, twice []int64
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	t.Fatalf("streamed %d messages, want %d once each in order: missing %v, repeated %v, order sorted %v; first 10 %v",
		len(got), len(want), missing, twice, slices.IsSorted(got), got[:min(10, len(got))])
}

func TestInboxStream_StreamsEveryNewMessageOnceInOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		batches []int // fan-outs, and the messages of each
	}{
		{"three one by one", []int{1, 1, 1}},
		{"150 in one fan-out", []int{150}},
		{"150 in fan-outs of 30", []int{30, 30, 30, 30, 30}},
		{"250 in one fan-out", []int{250}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		w := newInboxWriter(t, db, ts.admin, f)
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				user := ts.newUser(fmt.Sprint("empty-", i))
				s := openStream(t, hs, user, ts.admin)
				for _, n := range tt.batches {
					w.mustWrite(t, user, n)
				}
				// A last message after the others: any repeat of theirs
				// comes before it.
				w.mustWrite(t, user, 1)
				want := w.inboxIDs(t, user)
				checkOnceInOrder(t, s.until(t, want[len(want)-1], 30*time.Second), want)
			})
		}
	})
}

func TestInboxStream_ResumesFromLastEventID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		w := newInboxWriter(t, db, ts.admin, f)
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)

		t.Run("after some messages", func(t *testing.T) {
			user := ts.newUser("resume-mid")
			s := openStream(t, hs, user, ts.admin)
			w.mustWrite(t, user, 3)
			deadline := time.Now().Add(30 * time.Second)
			got := []int64{s.next(t, deadline).ID, s.next(t, deadline).ID}
			checkOnceInOrder(t, got, w.inboxIDs(t, user)[:2])
			s.leave()
			w.mustWrite(t, user, 120)
			w.mustWrite(t, user, 1)
			r := openStream(t, hs, user, ts.admin, "Last-Event-ID", s.lastID)
			want := w.inboxIDs(t, user)[2:]
			checkOnceInOrder(t, r.until(t, want[len(want)-1], 30*time.Second), want)
		})
		t.Run("before the first message", func(t *testing.T) {
			// A client that leaves an empty inbox's stream before any
			// message still resumes from where it started.
			user := ts.newUser("resume-empty")
			s := openStream(t, hs, user, ts.admin)
			s.waitID(t, 10*time.Second)
			s.leave()
			w.mustWrite(t, user, 3)
			r := openStream(t, hs, user, ts.admin, "Last-Event-ID", s.lastID)
			want := w.inboxIDs(t, user)
			checkOnceInOrder(t, r.until(t, want[len(want)-1], 30*time.Second), want)
		})
	})
}

// withSignals wakes the server's streams by db's signals.
func withSignals(db *store.DB) func(*Server) {
	return func(s *Server) { s.InboxSignals = db }
}

// twoNodes opens two Herald nodes on one fresh PostgreSQL schema, each
// with its own store.DB and api.Server: a test server (node A) and the
// store and HTTP server of node B. opts adjust both servers.
func twoNodes(t *testing.T, opts ...func(*Server)) (*testServer, *store.DB, *httptest.Server) {
	t.Helper()
	url, key := storetest.NewURL(t, store.DialectPostgres), storetest.Key()
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{URL: url, SecretKey: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, a, append([]func(*Server){withSignals(a)}, opts...)...)
	g := storetest.Guard(b)
	s := &Server{
		Tokens: g.Tokens, Tenants: b, Projects: g.Projects, Sources: g.Sources, Directory: g.Directory, Notifiers: g.Notifiers, Settings: g.Settings,
		Events: g.Events, Deliveries: g.Deliveries, Inbox: g.Inbox, InboxPoll: 20 * time.Millisecond, Pushes: g.Pushes, InboxSignals: b,
		Ready: b.Ping,
	}
	for _, o := range opts {
		o(s)
	}
	hs := httptest.NewServer(contractHandler(t, s.Handler()))
	t.Cleanup(hs.Close)
	return ts, b, hs
}

func TestInboxStream_TwoNodesStreamEveryMessageOnceInOrder(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	const (
		messages  = 2000
		writers   = 4 // per node
		perFanout = 2
	)
	ts, dbB, _ := twoNodes(t)
	f := ts.newFixture(ts.admin)
	a := newInboxWriter(t, ts.db, ts.admin, f)
	b := newInboxWriter(t, dbB, ts.admin, f)
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)

	user := ts.newUser("busy")
	s := openStream(t, hs, user, ts.admin)
	// The stream has a message behind it before the rush.
	a.mustWrite(t, user, 1)
	first := a.inboxIDs(t, user)
	s.until(t, first[0], 30*time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := 0; i < 2*writers; i++ {
		w := a
		if i%2 == 1 {
			w = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < messages/perFanout/(2*writers); j++ {
				if err := w.write(user, perFanout); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b.mustWrite(t, user, 1)
	want := a.inboxIDs(t, user)[1:]
	if len(want) != messages+1 {
		t.Fatalf("%d messages written, want %d", len(want), messages+1)
	}
	checkOnceInOrder(t, s.until(t, want[len(want)-1], 60*time.Second), want)
}

func TestInboxStream_WakesWithoutPolling(t *testing.T) {
	t.Parallel()
	// The streams poll once an hour: what reaches them in time was
	// signalled.
	hourly := func(s *Server) { s.InboxPoll = time.Hour }
	check := func(t *testing.T, ts *testServer, hs *httptest.Server, w inboxWriter) {
		t.Helper()
		user := ts.newUser("waiting")
		s := openStream(t, hs, user, ts.admin)
		for i := 0; i < 3; i++ {
			w.mustWrite(t, user, 1)
			want := w.inboxIDs(t, user)
			checkOnceInOrder(t, s.until(t, want[len(want)-1], 10*time.Second), want[i:])
		}
	}
	t.Run("same process", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ts := newTestServer(t, db, withSignals(db), hourly)
			f := ts.newFixture(ts.admin)
			hs := httptest.NewServer(ts.h)
			t.Cleanup(hs.Close)
			check(t, ts, hs, newInboxWriter(t, db, ts.admin, f))
		})
	})
	t.Run("another node", func(t *testing.T) {
		t.Parallel()
		storetest.PostgresURL(t)
		ts, dbB, _ := twoNodes(t, hourly)
		f := ts.newFixture(ts.admin)
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)
		check(t, ts, hs, newInboxWriter(t, dbB, ts.admin, f))
	})
	t.Run("another node after the listening connection is lost", func(t *testing.T) {
		t.Parallel()
		storetest.PostgresURL(t)
		ts, dbB, _ := twoNodes(t, hourly)
		f := ts.newFixture(ts.admin)
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)
		w := newInboxWriter(t, dbB, ts.admin, f)
		user := ts.newUser("cut-off")
		s := openStream(t, hs, user, ts.admin)
		w.mustWrite(t, user, 1)
		s.until(t, w.inboxIDs(t, user)[0], 10*time.Second)
		// Every node's listening connection goes (those of tests running
		// beside this one too: they connect again just the same).
		if _, err := ts.db.SQL().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN herald_inbox'`); err != nil {
			t.Fatal(err)
		}
		w.mustWrite(t, user, 2)
		want := w.inboxIDs(t, user)
		checkOnceInOrder(t, s.until(t, want[2], 10*time.Second), want[1:])
	})
}
