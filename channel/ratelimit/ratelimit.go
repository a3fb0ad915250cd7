// Package ratelimit paces sends per target so Herald stays under the robot
// vendors' published limits. A throttled message waits for its turn; it is
// never dropped. Several windows apply at once (Feishu: 5 per second and 100
// per minute), each a token bucket from golang.org/x/time/rate.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit allows at most Count sends in any window of length Per.
type Limit struct {
	Count int           // sends allowed per window, at least 1
	Per   time.Duration // the window
	// Burst is how many sends may go back to back after a quiet period;
	// zero means a quarter of Count (at least 1). The bucket refills at
	// (Count-Burst)/Per, so burst plus refill never exceeds Count in any
	// window: the vendors punish overruns (DingTalk mutes a robot for ten
	// minutes), so the bound must hold however their windows are aligned.
	Burst int
}

// Vendor defaults, from the vendors' robot documentation.
var (
	// DingTalkDefault: a custom robot takes 20 messages a minute.
	DingTalkDefault = []Limit{{Count: 20, Per: time.Minute}}
	// WeComDefault: a group robot takes 20 messages a minute.
	WeComDefault = []Limit{{Count: 20, Per: time.Minute}}
	// LarkDefault: a Feishu/Lark custom bot takes 5 a second and 100 a minute.
	LarkDefault = []Limit{{Count: 5, Per: time.Second}, {Count: 100, Per: time.Minute}}
)

// ErrWouldExceedDeadline is returned by Wait when the context's deadline
// comes before the message's turn; the slot is given back.
var ErrWouldExceedDeadline = errors.New("ratelimit: wait would exceed the context deadline")

func (l Limit) validate() error {
	if l.Count < 1 || l.Per <= 0 {
		return fmt.Errorf("ratelimit: invalid limit %d per %v", l.Count, l.Per)
	}
	if l.Burst < 0 || l.Burst > l.Count {
		return fmt.Errorf("ratelimit: burst %d outside 0..%d", l.Burst, l.Count)
	}
	return nil
}

func (l Limit) bucket() *rate.Limiter {
	burst := l.Burst
	if burst == 0 {
		burst = max(1, l.Count/4)
	}
	// With Count == Burst the bound cannot hold strictly; refill one per
	// window, which is exact for half-open windows.
	refill := max(l.Count-burst, 1)
	return rate.NewLimiter(rate.Limit(float64(refill)/l.Per.Seconds()), burst)
}

// refillTime is how long an idle bucket takes to become full again; after
// that its state equals a fresh bucket's and the entry can be dropped.
func refillTime(b *rate.Limiter) time.Duration {
	return time.Duration(float64(b.Burst())/float64(b.Limit())*float64(time.Second)) + time.Second
}

type entry struct {
	limits   []Limit
	buckets  []*rate.Limiter
	idleTime time.Duration // after this long unused, the entry is evictable
	lastUse  time.Time
}

// Limiter paces sends per key (a robot's webhook URL or token). The zero
// value is not usable; call New. It is safe for concurrent use, and one
// Limiter should be shared by every sender of a process.
type Limiter struct {
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu        sync.Mutex
	entries   map[string]*entry
	nextSweep time.Time
}

// sweepEvery is how often Reserve looks for idle keys to drop.
const sweepEvery = time.Minute

// New returns an empty Limiter on the wall clock.
func New() *Limiter {
	return &Limiter{Now: time.Now, entries: make(map[string]*entry)}
}

// Len returns how many keys the limiter currently tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reservation is a claimed send slot.
type Reservation struct {
	// Delay is how long the caller must wait, from the time of reservation,
	// before sending.
	Delay time.Duration
	at    time.Time
	rs    []*rate.Reservation
}

// Cancel gives the slot back, as far as later reservations allow.
func (r *Reservation) Cancel() {
	for _, x := range r.rs {
		x.CancelAt(r.at)
	}
}

// Reserve claims the next send slot for key under every limit and reports
// how long to wait for it. The caller must either wait Delay and send, or
// Cancel. An empty limits slice never waits.
func (l *Limiter) Reserve(key string, limits []Limit) (*Reservation, error) {
	for _, lim := range limits {
		if err := lim.validate(); err != nil {
			return nil, err
		}
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	e := l.entries[key]
	if e == nil || !slices.Equal(e.limits, limits) {
		e = &entry{limits: slices.Clone(limits)}
		for _, lim := range limits {
			b := lim.bucket()
			e.buckets = append(e.buckets, b)
			e.idleTime = max(e.idleTime, refillTime(b), lim.Per)
		}
		l.entries[key] = e
	}
	e.lastUse = now
	res := &Reservation{at: now}
	for _, b := range e.buckets {
		r := b.ReserveN(now, 1)
		if !r.OK() {
			res.Cancel()
			return nil, errors.New("ratelimit: limit cannot be met")
		}
		res.rs = append(res.rs, r)
		res.Delay = max(res.Delay, r.DelayFrom(now))
	}
	// A send waiting for its slot keeps the key busy until then.
	if t := now.Add(res.Delay); t.After(e.lastUse) {
		e.lastUse = t
	}
	return res, nil
}

// sweep drops keys idle long enough that their buckets are full again, so
// forgetting them changes nothing. Called with l.mu held.
func (l *Limiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(sweepEvery)
	for k, e := range l.entries {
		if now.Sub(e.lastUse) > e.idleTime {
			delete(l.entries, k)
		}
	}
}

// Wait blocks until key may send under every limit, or ctx ends. If ctx's
// deadline comes before the slot, Wait gives the slot back at once and
// returns ErrWouldExceedDeadline rather than sleeping in vain.
func (l *Limiter) Wait(ctx context.Context, key string, limits []Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := l.Reserve(key, limits)
	if err != nil {
		return err
	}
	if res.Delay <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < res.Delay {
		res.Cancel()
		return ErrWouldExceedDeadline
	}
	t := time.NewTimer(res.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		res.Cancel()
		return ctx.Err()
	}
}
