package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channel/ratelimit"
)

// fakeClock is a manual clock; no test here sleeps or measures wall time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func setup(t *testing.T) (*ratelimit.Limiter, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	l := ratelimit.New()
	l.Now = clock.Now
	return l, clock
}

func reserve(t *testing.T, l *ratelimit.Limiter, key string, limits []ratelimit.Limit) time.Duration {
	t.Helper()
	r, err := l.Reserve(key, limits)
	if err != nil {
		t.Fatal(err)
	}
	return r.Delay
}

func TestLimiter_Reserve_Delays(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name   string
		limits []ratelimit.Limit
		want   []time.Duration // delays of back-to-back reservations at one instant
	}{
		// Burst 20/4 = 5, then one every 60s/(20-5) = 4s.
		{"DingTalk", ratelimit.DingTalkDefault, []time.Duration{0, 0, 0, 0, 0, 4 * s, 8 * s, 12 * s}},
		// 5/s: burst 1, then one every 250ms; 100/min has burst 25, not reached.
		{"Lark", ratelimit.LarkDefault, []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond}},
		{"ExplicitBurst", []ratelimit.Limit{{Count: 3, Per: 3 * s, Burst: 2}}, []time.Duration{0, 0, 3 * s, 6 * s}},
		{"BurstIsCount", []ratelimit.Limit{{Count: 2, Per: 10 * s, Burst: 2}}, []time.Duration{0, 0, 10 * s, 20 * s}},
		{"NoLimits", nil, []time.Duration{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := setup(t)
			for i, want := range tt.want {
				if got := reserve(t, l, "k", tt.limits); got != want {
					t.Errorf("reservation %d: delay %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestLimiter_WindowBound sends each message at its reserved time and checks
// that no window of any limit, however aligned, ever holds more than Count.
func TestLimiter_WindowBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits []ratelimit.Limit
	}{
		{"DingTalk", ratelimit.DingTalkDefault},
		{"WeCom", ratelimit.WeComDefault},
		{"Lark", ratelimit.LarkDefault},
		{"Tight", []ratelimit.Limit{{Count: 3, Per: time.Second, Burst: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, clock := setup(t)
			start := clock.Now()
			var sent []time.Time
			for i := 0; i < 300; i++ {
				// Messages arrive in irregular clumps.
				if i%7 == 0 {
					clock.Set(clock.Now().Add(time.Duration(i%5) * 300 * time.Millisecond))
				}
				at := clock.Now().Add(reserve(t, l, "k", tt.limits))
				if n := len(sent); n > 0 && at.Before(sent[n-1]) {
					t.Fatalf("send %d at %v scheduled before send %d at %v", i, at.Sub(start), n-1, sent[n-1].Sub(start))
				}
				sent = append(sent, at)
			}
			for _, lim := range tt.limits {
				for i := range sent {
					// Sends in the half-open window [sent[i], sent[i]+Per).
					n := 0
					for j := i; j < len(sent) && sent[j].Before(sent[i].Add(lim.Per)); j++ {
						n++
					}
					if n > lim.Count {
						t.Fatalf("%d sends within %v starting at %v; limit %d", n, lim.Per, sent[i].Sub(start), lim.Count)
					}
				}
			}
		})
	}
}

func TestLimiter_KeysIndependent(t *testing.T) {
	t.Parallel()
	l, _ := setup(t)
	lim := []ratelimit.Limit{{Count: 1, Per: time.Minute}}
	if d := reserve(t, l, "a", lim); d != 0 {
		t.Fatalf("a: %v", d)
	}
	if d := reserve(t, l, "b", lim); d != 0 {
		t.Fatalf("b waits %v for a's traffic", d)
	}
	if d := reserve(t, l, "a", lim); d != time.Minute {
		t.Fatalf("a again: %v, want 1m", d)
	}
}

func TestLimiter_Evicts(t *testing.T) {
	t.Parallel()
	l, clock := setup(t)
	t0 := clock.Now()
	reserve(t, l, "a", ratelimit.DingTalkDefault)
	reserve(t, l, "b", ratelimit.DingTalkDefault)
	if n := l.Len(); n != 2 {
		t.Fatalf("Len = %d", n)
	}
	// Within the idle period the key stays, with its state.
	clock.Set(t0.Add(30 * time.Second))
	reserve(t, l, "b", ratelimit.DingTalkDefault)
	if n := l.Len(); n != 2 {
		t.Fatalf("Len = %d after 30s; want 2", n)
	}
	// A window after its last use a is dropped; b, used at 30s, stays.
	clock.Set(t0.Add(75 * time.Second))
	reserve(t, l, "c", ratelimit.DingTalkDefault)
	if n := l.Len(); n != 2 {
		t.Fatalf("Len = %d; want 2 (b, c)", n)
	}
	clock.Set(t0.Add(time.Hour))
	reserve(t, l, "d", ratelimit.DingTalkDefault)
	if n := l.Len(); n != 1 {
		t.Fatalf("Len = %d after an hour; want 1", n)
	}
}

func TestLimiter_Wait(t *testing.T) {
	t.Parallel()
	lim := []ratelimit.Limit{{Count: 1, Per: time.Hour}}

	t.Run("Free", func(t *testing.T) {
		t.Parallel()
		l := ratelimit.New()
		if err := l.Wait(context.Background(), "k", lim); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DeadlineTooSoon", func(t *testing.T) {
		t.Parallel()
		l, _ := setup(t)
		reserve(t, l, "k", lim)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := l.Wait(ctx, "k", lim); !errors.Is(err, ratelimit.ErrWouldExceedDeadline) {
			t.Fatalf("Wait = %v", err)
		}
		// The refused wait gave its slot back: the next one is still 1h.
		if d := reserve(t, l, "k", lim); d != time.Hour {
			t.Fatalf("next delay %v, want 1h", d)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		t.Parallel()
		l, _ := setup(t)
		reserve(t, l, "k", lim)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- l.Wait(ctx, "k", lim) }()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v", err)
		}
	})
	t.Run("InvalidLimit", func(t *testing.T) {
		t.Parallel()
		l := ratelimit.New()
		for _, bad := range []ratelimit.Limit{{Count: 0, Per: time.Second}, {Count: 1}, {Count: 2, Per: time.Second, Burst: 3}} {
			if err := l.Wait(context.Background(), "k", []ratelimit.Limit{bad}); err == nil {
				t.Errorf("Wait with %+v succeeded", bad)
			}
		}
	})
}
