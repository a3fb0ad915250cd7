package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/authz"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
)

// Server builds the HTTP handler a scenario drives. `herald bench` passes
// the one `herald serve` runs (every surface, the access policy, the
// middleware); nil stands for the API alone behind the same policy.
type Server func(db *store.DB) http.Handler

func (s Server) handler(db *store.DB) http.Handler {
	if s != nil {
		return s(db)
	}
	g := authz.Guard(authz.Services{
		Projects: db, Sources: db, Notifiers: db, Settings: db, NotificationSettings: db, Directory: db,
		Events: db, Deliveries: db, Inbox: db, Pushes: db, PushDirectory: db, Tokens: db, Log: db,
	})
	return (&api.Server{
		Tokens: g.Tokens, Tenants: db, Projects: g.Projects, Sources: g.Sources, Directory: g.Directory, Notifiers: g.Notifiers,
		Settings: g.Settings, Events: g.Events, Deliveries: g.Deliveries, Inbox: g.Inbox, Pushes: g.Pushes, InboxSignals: db,
	}).Handler()
}

// Clients is how many connections the HTTP scenarios keep busy at once.
const Clients = 64

// APISettings times n authenticated GETs of a source's live settings from
// 64 concurrent connections over loopback HTTP to the real server. The
// baseline serves the same JSON bytes from a bare net/http handler, to the
// same clients.
func APISettings(ctx context.Context, db *store.DB, srv Server, n int, progress Progress) (Result, error) {
	r := Result{Name: "api-get-settings", Dialect: db.Dialect(), N: n}
	tctx, err := tenant(ctx, db, "api")
	if err != nil {
		return r, err
	}
	src, err := project(tctx, db, &herald.Notifier{Type: herald.NotifierInbox, Name: "inbox"},
		[]herald.Recipient{{Type: herald.EntityUser, Code: "alice"}, {Type: herald.EntityFieldEntity, Code: "creator"}})
	if err != nil {
		return r, err
	}
	_, secret, err := db.CreateToken(tctx, herald.TokenCreate{Name: "bench", Permissions: []herald.Permission{herald.PermSettingsRead}})
	if err != nil {
		return r, err
	}
	get := request{method: "GET", path: fmt.Sprintf("/api/v1/sources/%d/settings?version=live", src.ID), token: secret, want: http.StatusOK}

	progress("api: %d GETs through Herald from %d connections", n, Clients)
	var body []byte
	var lat latencies
	r.Elapsed, lat, body, err = load(srv.handler(db), get, n)
	if err != nil {
		return r, err
	}
	r.P50, r.P99 = lat.quantile(0.50), lat.quantile(0.99)
	progress("api: %d GETs from a bare handler", n)
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	r.Baseline, lat, _, err = load(bare, get, n)
	r.BaseP50, r.BaseP99 = lat.quantile(0.50), lat.quantile(0.99)
	return r, err
}

// Ingest times n single-event POSTs from 64 concurrent connections to the
// real server, each answered 202 once the event is durable, while the
// engine delivers them to an inbox. The baseline is a bare handler that
// decodes the same JSON body and answers 202 with the same bytes.
func Ingest(ctx context.Context, db *store.DB, srv Server, n int, progress Progress) (Result, error) {
	r := Result{Name: "ingest-single-events", Dialect: db.Dialect(), N: n}
	tctx, err := tenant(ctx, db, "ingest")
	if err != nil {
		return r, err
	}
	src, err := project(tctx, db, &herald.Notifier{Type: herald.NotifierInbox, Name: "inbox"},
		[]herald.Recipient{{Type: herald.EntityUser, Code: "alice"}})
	if err != nil {
		return r, err
	}
	if err := db.CreateUser(tctx, &herald.User{Code: "alice", Name: "Alice"}); err != nil {
		return r, err
	}
	_, secret, err := db.CreateToken(tctx, herald.TokenCreate{Name: "bench", Permissions: []herald.Permission{herald.PermEventsWrite}})
	if err != nil {
		return r, err
	}
	engine, err := queue.New(db, queue.Config{ID: "bench-ingest"})
	if err != nil {
		return r, err
	}
	if err := engine.Start(ctx); err != nil {
		return r, err
	}
	defer engine.Stop(context.Background())

	body, _ := json.Marshal(map[string]any{"source_id": src.ID, "type": "build.failed", "actor": "bench"})
	post := request{method: "POST", path: "/api/v1/events", token: secret, body: body, want: http.StatusAccepted}
	progress("ingest: %d single-event POSTs through Herald from %d connections", n, Clients)
	var answer []byte
	var lat latencies
	r.Elapsed, lat, answer, err = load(srv.handler(db), post, n)
	if err != nil {
		return r, err
	}
	r.P50, r.P99 = lat.quantile(0.50), lat.quantile(0.99)
	progress("ingest: %d POSTs to a bare handler", n)
	bare := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(answer)
	})
	r.Baseline, lat, _, err = load(bare, post, n)
	r.BaseP50, r.BaseP99 = lat.quantile(0.50), lat.quantile(0.99)
	return r, err
}

type request struct {
	method, path, token string
	body                []byte
	want                int
}

// latencies are the durations of a run's requests.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// load serves h on loopback and sends it n requests from Clients
// connections; it returns the time taken, each request's latency and one
// answer's body.
func load(h http.Handler, rq request, n int) (time.Duration, latencies, []byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, nil, err
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String() + rq.path
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: Clients, MaxConnsPerHost: Clients}}
	defer client.CloseIdleConnections()
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[[]byte]
		fail  atomic.Pointer[error]
		lat   = make(latencies, n)
	)
	start := time.Now()
	for w := 0; w < Clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || fail.Load() != nil {
					return
				}
				req, _ := http.NewRequest(rq.method, url, bytes.NewReader(rq.body))
				req.Header.Set("Authorization", "Bearer "+rq.token)
				if rq.body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fail.Store(&err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err == nil && resp.StatusCode != rq.want {
					err = fmt.Errorf("bench: %s %s answered %d: %s", rq.method, rq.path, resp.StatusCode, b)
				}
				if err != nil {
					fail.Store(&err)
					return
				}
				first.CompareAndSwap(nil, &b)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := fail.Load(); err != nil {
		return 0, nil, nil, *err
	}
	return elapsed, lat, *first.Load(), nil
}
