package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/store"
)

// APISettings times n authenticated GETs of a source's live settings from
// 16 concurrent clients over loopback HTTP. The baseline serves the same
// JSON bytes from a bare net/http handler, to the same clients.
func APISettings(ctx context.Context, db *store.DB, n int, progress Progress) (Result, error) {
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
	path := fmt.Sprintf("/api/v1/sources/%d/settings?version=live", src.ID)
	srv := &api.Server{Tokens: db, Tenants: db, Projects: db, Sources: db, Directory: db, Notifiers: db, Settings: db}

	progress("api: %d GETs through Herald", n)
	var body []byte
	r.Elapsed, body, err = load(srv.Handler(), path, secret, n)
	if err != nil {
		return r, err
	}
	progress("api: %d GETs from a bare handler", n)
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	r.Baseline, _, err = load(bare, path, secret, n)
	return r, err
}

// load serves h on loopback and times n GETs of path from 16 clients; it
// returns one answer's body.
func load(h http.Handler, path, token string, n int) (time.Duration, []byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String() + path
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[[]byte]
		fail  atomic.Pointer[error]
	)
	start := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					fail.Store(&err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("bench: GET %s answered %d: %s", path, resp.StatusCode, b)
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
		return 0, nil, *err
	}
	return elapsed, *first.Load(), nil
}
