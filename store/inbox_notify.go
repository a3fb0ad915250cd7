package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// An inbox stream reads forward from the last message it sent (FindInbox
// with AfterID: id > last, in id order) whenever it is told messages may
// have arrived. Two things make that exact: every message once, in order,
// none late.
//
// Ids grow in commit order. On SQLite this is so by construction: every
// write goes through the one write connection in BEGIN IMMEDIATE
// transactions, so one transaction assigns its ids and commits before the
// next assigns any. On PostgreSQL ids come from a sequence when a row is
// inserted and transactions commit in any order, so a reader could see
// id N+1 before the transaction holding N commits, move past N, and never
// send it. announceInbox therefore takes a transaction-scoped advisory lock
// of the tenant before its inbox rows are inserted: a tenant's inbox
// inserts take their ids and commit one transaction after another, and
// PostgreSQL makes a commit visible before it releases the transaction's
// locks, so any snapshot sees a prefix of a tenant's inbox ids. Of the
// ways to get there this is the simplest correct one: a watermark on
// transaction ids (pg_snapshot_xmin) needs an xid column and orders the
// stream by transaction, not id, and a per-user sequence needs the same
// lock. The cost: fan-outs of one tenant that write inbox messages commit
// one at a time from their first inbox insert on — a few statements.
//
// Streams learn promptly. A transaction that writes inbox messages wakes
// the streams of this process once it commits (Tx.committed) and, on
// PostgreSQL, sends pg_notify(inboxChannel, "tenant:user") for every user
// it wrote to, which PostgreSQL delivers at commit to every listening
// node; each node keeps one connection listening while it has streams.
// On SQLite, what another process writes to the file is found by the
// streams' polling.

// inboxChannel is the PostgreSQL notification channel of new inbox
// messages; a payload is "tenant_id:user_id".
const inboxChannel = "herald_inbox"

// announceInbox is called by a transaction just before it inserts inbox
// messages for users: it serializes the tenant's inbox inserts on
// PostgreSQL (see above) and makes sure the users' streams are woken once
// the transaction commits.
func (tx *Tx) announceInbox(users []int64) error {
	if len(users) == 0 {
		return nil
	}
	c := tx.conn()
	seen := map[int64]bool{}
	var payloads []string
	for _, u := range users {
		if !seen[u] {
			seen[u] = true
			payloads = append(payloads, strconv.FormatInt(tx.tenantID, 10)+":"+strconv.FormatInt(u, 10))
		}
	}
	if tx.db.dialect == DialectPostgres {
		// Taken again by the same transaction (a fan-out inserts in
		// chunks), the lock is granted at once.
		if _, err := c.exec(`SELECT pg_advisory_xact_lock(hashtextextended('herald_inbox', ?))`, tx.tenantID); err != nil {
			return fmt.Errorf("store: lock the inbox: %w", err)
		}
		if _, err := c.exec(`SELECT pg_notify('`+inboxChannel+`', p) FROM unnest(?::text[]) AS p`, payloads); err != nil {
			return fmt.Errorf("store: notify the inbox: %w", err)
		}
	}
	hub, tenant := &tx.db.inbox, tx.tenantID
	tx.committed = append(tx.committed, func() {
		for u := range seen {
			hub.signal(inboxKey{tenant, u})
		}
	})
	return nil
}

// inboxKey names one user's inbox.
type inboxKey struct{ tenant, user int64 }

// inboxHub holds the inbox subscriptions of a DB. The zero value is
// ready.
type inboxHub struct {
	mu   sync.Mutex
	subs map[inboxKey]map[chan struct{}]struct{}
	n    int
	// unlisten stops the PostgreSQL listener, which runs while there are
	// subscriptions.
	unlisten context.CancelFunc
}

// wake tells ch to look again; a wake-up already pending covers this one.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (h *inboxHub) signal(k inboxKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[k] {
		wake(ch)
	}
}

// signalAll wakes every subscription: after notifications may have been
// missed.
func (h *inboxHub) signalAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, chs := range h.subs {
		for ch := range chs {
			wake(ch)
		}
	}
}

// SubscribeInbox returns a channel that receives when messages for userID
// of tenantID may have been committed — by this process, or on PostgreSQL
// by any node — and the func that ends the subscription. A receive only
// says to read again; several commits may share one.
func (db *DB) SubscribeInbox(tenantID, userID int64) (<-chan struct{}, func()) {
	h, k, ch := &db.inbox, inboxKey{tenantID, userID}, make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[inboxKey]map[chan struct{}]struct{}{}
	}
	if h.subs[k] == nil {
		h.subs[k] = map[chan struct{}]struct{}{}
	}
	h.subs[k][ch] = struct{}{}
	if h.n++; h.n == 1 && db.dialect == DialectPostgres {
		ctx, cancel := context.WithCancel(context.Background())
		h.unlisten = cancel
		go db.listenInbox(ctx)
	}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[k], ch)
			if len(h.subs[k]) == 0 {
				delete(h.subs, k)
			}
			if h.n--; h.n == 0 && h.unlisten != nil {
				h.unlisten()
				h.unlisten = nil
			}
		})
	}
}

// SignalsAcrossNodes reports whether SubscribeInbox hears of messages
// other nodes commit: on PostgreSQL (LISTEN/NOTIFY), not on SQLite.
func (db *DB) SignalsAcrossNodes() bool { return db.dialect == DialectPostgres }

// listenInbox relays inbox notifications to the subscriptions until ctx
// ends, on a connection of its own, connecting again after a failure.
func (db *DB) listenInbox(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		listened, err := db.listenInboxOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		db.logger.Warn("inbox notifications: listen", "err", err)
		if listened {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenInboxOnce listens on one connection until it fails or ctx ends;
// listened says whether LISTEN took effect.
func (db *DB) listenInboxOnce(ctx context.Context) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+inboxChannel); err != nil {
		return false, err
	}
	// What committed before LISTEN took effect (at start, or while
	// reconnecting) was notified to no one: every stream reads again.
	db.inbox.signalAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		var k inboxKey
		if _, err := fmt.Sscanf(n.Payload, "%d:%d", &k.tenant, &k.user); err == nil {
			db.inbox.signal(k)
		}
	}
}
