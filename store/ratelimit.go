package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Rate limits are kept in the database so that every node sharing it keeps
// one robot under its vendor's limit together. Each target has a row in
// rate_limit_keys (locked while a slot is taken, on PostgreSQL; SQLite has
// one writer anyway) and its sends of the last window in
// rate_limit_sends: a sliding-window log, so no window of a limit's length
// ever holds more than its count, however the vendor aligns its windows.

// RateLimit allows at most Count sends in any window of length Per.
type RateLimit struct {
	Count int
	Per   time.Duration
}

// Pace is the rate-limited target a send goes to: Key names it (PaceKey
// hashes a URL, so no token is stored), Limits bound it. A zero Pace is no
// limit.
type Pace struct {
	Key    string
	Limits []RateLimit
}

// PaceKey turns a target's identity (a robot's webhook URL, which holds
// its token) into a key that is safe to store.
func PaceKey(kind, target string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + target))
	return kind + ":" + hex.EncodeToString(sum[:16])
}

// window is a limit's window with a margin for the time a send takes to
// reach the vendor, whose clock, not ours, counts.
func (l RateLimit) window() time.Duration { return l.Per + l.Per/20 + 50*time.Millisecond }

// TakeRateSlot takes a send slot for key now if every limit allows it; if
// not, it reports when the next slot frees. OTP and the console's
// test-send go through it; the engine takes its slots in ClaimDeliveries.
func (db *DB) TakeRateSlot(ctx context.Context, key string, limits []RateLimit) (bool, time.Time, error) {
	var (
		ok bool
		at time.Time
	)
	err := db.updateTenant(ctx, 0, func(tx *Tx) error {
		var err error
		ok, at, err = tx.takeSlot(key, limits)
		return err
	})
	return ok, at, err
}

// takeSlot is TakeRateSlot in tx.
func (tx *Tx) takeSlot(key string, limits []RateLimit) (bool, time.Time, error) {
	c := tx.conn()
	if _, err := c.exec(`INSERT INTO rate_limit_keys (key, blocked_until) VALUES (?, 0) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return false, time.Time{}, err
	}
	lock := ""
	if tx.db.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var blocked int64
	if err := c.queryRow(`SELECT blocked_until FROM rate_limit_keys WHERE key = ?`+lock, key).Scan(&blocked); err != nil {
		return false, time.Time{}, err
	}
	now := tx.now
	if blocked > ms(now) {
		return false, fromMS(blocked), nil
	}
	var longest time.Duration
	for _, l := range limits {
		longest = max(longest, l.window())
	}
	if longest == 0 {
		return true, now, nil
	}
	if _, err := c.exec(`DELETE FROM rate_limit_sends WHERE key = ? AND at <= ?`, key, ms(now.Add(-longest))); err != nil {
		return false, time.Time{}, err
	}
	rows, err := c.query(`SELECT at FROM rate_limit_sends WHERE key = ? ORDER BY at DESC`, key)
	if err != nil {
		return false, time.Time{}, err
	}
	var sent []int64 // newest first
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			rows.Close()
			return false, time.Time{}, err
		}
		sent = append(sent, at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, time.Time{}, err
	}
	free := now
	for _, l := range limits {
		w := l.window()
		n := 0
		for _, at := range sent {
			if at > ms(now.Add(-w)) {
				n++
			}
		}
		if n >= l.Count {
			// The slot frees when the Count-th newest send leaves the window.
			free = maxTime(free, fromMS(sent[l.Count-1]).Add(w))
		}
	}
	if free.After(now) {
		return false, free, nil
	}
	if _, err := c.exec(`INSERT INTO rate_limit_sends (key, at) VALUES (?, ?)`, key, ms(now)); err != nil {
		return false, time.Time{}, err
	}
	return true, now, nil
}

// pauseKey holds every send to key until until: the target answered
// that it is rate limited (DingTalk 130101, WeCom 45009, Feishu 11232, HTTP
// 429 with Retry-After) and asked to wait.
func (tx *Tx) pauseKey(key string, until time.Time) error {
	if key == "" || until.IsZero() {
		return nil
	}
	_, err := tx.conn().exec(`INSERT INTO rate_limit_keys (key, blocked_until) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET blocked_until = CASE WHEN rate_limit_keys.blocked_until > excluded.blocked_until
		THEN rate_limit_keys.blocked_until ELSE excluded.blocked_until END`, key, ms(until))
	return err
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PauseRateKey holds every send to key, on every node, until until.
func (db *DB) PauseRateKey(ctx context.Context, key string, until time.Time) error {
	return db.updateTenant(ctx, 0, func(tx *Tx) error { return tx.pauseKey(key, until) })
}

// settleSlot moves a finished send's slot to now, when the send is sure to
// have reached the vendor (the slot was taken before the request left, and
// a loaded node may take a while to send it), and applies the pause the
// target asked for.
func (tx *Tx) settleSlot(r DeliveryResult) error {
	if r.PaceKey == "" {
		return nil
	}
	if !r.SlotAt.IsZero() {
		if _, err := tx.conn().exec(`UPDATE rate_limit_sends SET at = ? WHERE key = ? AND at = ?`, ms(tx.now), r.PaceKey, ms(r.SlotAt)); err != nil {
			return err
		}
	}
	return tx.pauseKey(r.PaceKey, r.PauseUntil)
}
