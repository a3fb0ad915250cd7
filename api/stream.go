package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authn"
)

// DefaultStreamsPerToken is the default of Server.StreamsPerToken.
const DefaultStreamsPerToken = 5

// defaultTokenRecheck is the default of Server.TokenRecheck.
const defaultTokenRecheck = 2 * time.Second

// streamRetryAfter is the wait a 429 for one stream too many asks for: a
// place frees only when a stream of the token ends, which no clock says, so
// it only spaces out the attempts of a client that reconnects in a loop.
const streamRetryAfter = "5"

// Why a stream ended, written to the client as a last SSE comment.
var (
	errTokenRevoked = errors.New("the token was revoked")
	errShuttingDown = errors.New("the server is shutting down")
	errNoStreams    = errors.New("no stream left")
)

// streamSet holds the open inbox streams of a server by token: how many
// (for the cap) and the one context all of a token's streams end with,
// which a single watcher per token cancels when the token stops
// authenticating. The zero value is ready.
type streamSet struct {
	mu     sync.Mutex
	base   context.Context // cancelled by close: every stream ends
	stop   context.CancelCauseFunc
	tokens map[int64]*tokenStreams
	open   int // streams open, all tokens together (a metric)
}

// count returns how many streams are open.
func (st *streamSet) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.open
}

// tokenStreams are the open streams of one token.
type tokenStreams struct {
	open   int
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (st *streamSet) init() {
	if st.base == nil {
		st.base, st.stop = context.WithCancelCause(context.Background())
		st.tokens = map[int64]*tokenStreams{}
	}
}

// acquire counts one more stream of token, unless it already holds max.
// It returns the context the stream must end with (cancelled when the
// token is revoked or the set is closed) and the release to call when the
// stream ends. The token's first stream starts watch on that context; it
// runs until the token's last stream is released.
func (st *streamSet) acquire(token int64, max int, watch func(ctx context.Context, revoke context.CancelCauseFunc)) (context.Context, func(), bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	ts := st.tokens[token]
	if ts == nil {
		ts = &tokenStreams{}
		ts.ctx, ts.cancel = context.WithCancelCause(st.base)
		st.tokens[token] = ts
		go watch(ts.ctx, ts.cancel)
	}
	if ts.open >= max {
		return nil, nil, false
	}
	ts.open++
	st.open++
	var once sync.Once
	release := func() {
		once.Do(func() {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.open--
			if ts.open--; ts.open == 0 {
				ts.cancel(errNoStreams)
				delete(st.tokens, token)
			}
		})
	}
	return ts.ctx, release, true
}

// close ends every stream, and any acquired later.
func (st *streamSet) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.stop(errShuttingDown)
}

// CloseStreams ends every open inbox stream, and any opened later: call it
// when the server shuts down (http.Server.RegisterOnShutdown), since
// http.Server.Shutdown waits for active requests and a stream never ends by
// itself. Other requests are left to finish.
func (s *Server) CloseStreams() { s.streams.close() }

// openStream registers an inbox stream of r's token, or answers
// rate_limited (with Retry-After) when the token holds its share already.
// The context it returns ends when the token no longer authenticates (it is
// re-checked every TokenRecheck, once for all of the token's streams) or
// the server closes its streams.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (context.Context, func(), error) {
	p, err := principal(r)
	if err != nil {
		return nil, nil, err
	}
	max := s.StreamsPerToken
	if max <= 0 {
		max = DefaultStreamsPerToken
	}
	// The re-checks authenticate the request's headers as the request was:
	// a copy, since the watcher may outlive this request.
	creds := &http.Request{Header: r.Header.Clone()}
	key := streamKey(p)
	ctx, release, ok := s.streams.acquire(key, max, func(ctx context.Context, revoke context.CancelCauseFunc) {
		s.watchToken(ctx, revoke, key, creds)
	})
	if !ok {
		w.Header().Set("Retry-After", streamRetryAfter)
		return nil, nil, herald.Errorf(herald.ERATELIMITED, "", "this token already has %d inbox streams open, the most it may have: close one first", max)
	}
	return ctx, release, nil
}

// streamKey is what a principal's streams are counted and watched by: its
// token's id, or for an end-user token (which has no id: Herald keeps no
// record of it) the negated id of its person, so that each person holds
// their own share and a token of another person never passes as theirs.
func streamKey(p *herald.Principal) int64 {
	if p.EndUser() {
		return -p.UserID
	}
	return p.TokenID
}

// watchToken authenticates creds again every TokenRecheck until ctx ends,
// and revokes when they no longer authenticate as token. A failed check
// that is no verdict on the token (the database is unreachable) keeps the
// streams: their own reads fail then anyway.
func (s *Server) watchToken(ctx context.Context, revoke context.CancelCauseFunc, token int64, creds *http.Request) {
	every := s.TokenRecheck
	if every <= 0 {
		every = defaultTokenRecheck
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		p, err := authn.FromRequest(cctx, s.Tokens, creds)
		cancel()
		switch {
		case err == nil && streamKey(p) == token:
		case err == nil || herald.ErrorCode(err) == herald.EUNAUTHORIZED:
			revoke(errTokenRevoked)
			return
		case ctx.Err() == nil:
			s.logger().Warn("inbox stream: re-check the token", "token", token, "err", err)
		}
	}
}

// InboxSignals tells inbox streams when to look again: store.DB implements
// it.
type InboxSignals interface {
	// SubscribeInbox returns a channel that receives when messages for
	// userID of tenantID may have been committed, and the func that ends
	// the subscription. A receive asks for a read, it carries no message.
	SubscribeInbox(tenantID, userID int64) (<-chan struct{}, func())
	// SignalsAcrossNodes reports whether messages committed by other nodes
	// (processes) are signalled too, so that polling is only a safety net.
	SignalsAcrossNodes() bool
}
