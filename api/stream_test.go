package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// stream is an inbox stream opened over a real connection.
type stream struct {
	resp   *http.Response
	lines  <-chan string // closed when the server ends the stream
	leave  context.CancelFunc
	lastID string // the last id field read, as an EventSource keeps it
	hasID  bool   // an id field was read
}

// openStream opens user's inbox stream on hs as token. A 200 answer has
// been read up to its opening comment, so the stream is registered; any
// other answer is returned with its body unread.
// headers are name, value pairs sent with the request.
func openStream(t *testing.T, hs *httptest.Server, user int64, token string, headers ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/users/%d/inbox/stream", hs.URL, user), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &stream{resp: resp, leave: cancel}
	if resp.StatusCode != http.StatusOK {
		return s
	}
	lines := make(chan string, 1000)
	s.lines = lines
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || sc.Text() != ": inbox stream" {
		t.Fatalf("the stream opened with %q, %v", sc.Text(), sc.Err())
	}
	go func() {
		defer close(lines)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return s
}

// ended waits, up to the deadline, for the server to end the stream.
func (s *stream) ended(t *testing.T, within time.Duration) bool {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.lines:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// newAdminToken creates a token with every permission and returns its id
// and secret.
func (ts *testServer) newAdminToken(name string) (int64, string) {
	ts.t.Helper()
	var tok struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	ts.must(201, "POST", "/api/v1/tokens", ts.admin, map[string]any{"name": name, "permissions": []string{"admin"}}, &tok)
	return tok.ID, tok.Secret
}

func TestInboxStream_EndsWhenItsTokenIsRevoked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const recheck = 20 * time.Millisecond
		ts := newTestServer(t, db, func(s *Server) { s.TokenRecheck = recheck })
		f := ts.newFixture(ts.admin)
		id, secret := ts.newAdminToken("phone")
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)

		revoked := openStream(t, hs, f.User, secret)
		kept := openStream(t, hs, f.User, ts.admin)
		ts.must(204, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), ts.admin, nil, nil)
		if !revoked.ended(t, 10*time.Second) {
			t.Fatal("the stream of a revoked token is still open 10 s after the revocation")
		}
		// Another token's stream outlives many more checks, and a new
		// stream of the revoked token is refused.
		if kept.ended(t, 10*recheck) {
			t.Fatal("the revocation of one token ended another token's stream")
		}
		if s := openStream(t, hs, f.User, secret); s.resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a revoked token opened a stream: %d", s.resp.StatusCode)
		}
	})
}

func TestInboxStream_CapsStreamsPerToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		_, other := ts.newAdminToken("other")
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)

		var open []*stream
		for i := 0; i < DefaultStreamsPerToken; i++ {
			s := openStream(t, hs, f.User, ts.admin)
			if s.resp.StatusCode != http.StatusOK {
				t.Fatalf("stream %d of %d answered %d", i+1, DefaultStreamsPerToken, s.resp.StatusCode)
			}
			open = append(open, s)
		}

		over := openStream(t, hs, f.User, ts.admin)
		if over.resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("stream %d answered %d, want 429", DefaultStreamsPerToken+1, over.resp.StatusCode)
		}
		var p Problem
		if err := json.NewDecoder(over.resp.Body).Decode(&p); err != nil || p.Code != herald.ERATELIMITED || p.Status != 429 || p.Detail == "" ||
			over.resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("429 answer %+v (%v), Content-Type %q", p, err, over.resp.Header.Get("Content-Type"))
		}
		if ra := over.resp.Header.Get("Retry-After"); ra == "" {
			t.Fatal("the 429 answer has no Retry-After")
		}

		// The cap is per token: another token still opens one.
		if s := openStream(t, hs, f.User, other); s.resp.StatusCode != http.StatusOK {
			t.Fatalf("another token's stream answered %d", s.resp.StatusCode)
		}
		// The metric counts the streams open, not the one refused.
		want := fmt.Sprintf("herald_sse_streams_open %d\n", DefaultStreamsPerToken+1)
		if m := ts.do("GET", "/metrics", "", nil); !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %q", want)
		}

		// A stream that ends gives its place back.
		open[0].leave()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := openStream(t, hs, f.User, ts.admin)
			if s.resp.StatusCode == http.StatusOK {
				break
			}
			s.resp.Body.Close()
			if s.resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
				t.Fatalf("after one stream closed, a new one answered %d", s.resp.StatusCode)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestInboxStream_CloseStreamsEndsThem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var srv *Server
		ts := newTestServer(t, db, func(s *Server) { srv = s })
		f := ts.newFixture(ts.admin)
		hs := httptest.NewServer(ts.h)
		t.Cleanup(hs.Close)

		s := openStream(t, hs, f.User, ts.admin)
		srv.CloseStreams()
		if !s.ended(t, 10*time.Second) {
			t.Fatal("a stream is still open 10 s after CloseStreams")
		}
		// One opened afterwards (a request already in flight) ends at once.
		if s := openStream(t, hs, f.User, ts.admin); s.resp.StatusCode == http.StatusOK && !s.ended(t, 10*time.Second) {
			t.Fatal("a stream opened after CloseStreams stays open")
		}
	})
}
