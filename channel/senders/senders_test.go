package senders_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/senders"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A paced sender (OTP, the console's test-send) waits its turn in the
// limit every node shares: with the robot's window used up by another node,
// it answers rate_limited and the robot sees nothing.
func TestPaced_SharesTheLimitOfEveryNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
		}))
		t.Cleanup(srv.Close)
		n := &herald.Notifier{Type: herald.NotifierDingTalk, Name: "robot",
			Config: herald.NotifierConfig{URL: srv.URL + "/robot/send?access_token=t", RateLimit: &herald.RateLimit{Count: 1, Seconds: 60}}}

		// Another node used the robot's one message a minute.
		p := senders.Pace(n)
		if ok, _, err := db.TakeRateSlot(context.Background(), p.Key, p.Limits); err != nil || !ok {
			t.Fatalf("the first slot: %v %v", ok, err)
		}
		f := senders.New(senders.Options{AllowPrivateTargets: true, Limiter: db, MaxWait: 200 * time.Millisecond})
		s, err := f.Paced(n)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(context.Background(), channel.Message{Subject: "test", Text: "test", Markdown: "test"})
		if herald.ErrorCode(err) != herald.ERATELIMITED {
			t.Fatalf("send at the limit: %v, want %s", err, herald.ERATELIMITED)
		}
		if hits.Load() != 0 {
			t.Errorf("the robot got %d requests past its limit", hits.Load())
		}
	})
}

// Pace gives robots their vendors' published limits, or the notifier's
// own, and nothing else a limit.
func TestPace_VendorLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  string
		rl   *herald.RateLimit
		want []store.RateLimit
	}{
		{herald.NotifierDingTalk, nil, []store.RateLimit{{Count: 20, Per: time.Minute}}},
		{herald.NotifierWeCom, nil, []store.RateLimit{{Count: 20, Per: time.Minute}}},
		{herald.NotifierLark, nil, []store.RateLimit{{Count: 5, Per: time.Second}, {Count: 100, Per: time.Minute}}},
		{herald.NotifierDingTalk, &herald.RateLimit{Count: 3, Seconds: 2}, []store.RateLimit{{Count: 3, Per: 2 * time.Second}}},
		{herald.NotifierWebhook, nil, nil},
	}
	for _, tt := range tests {
		p := senders.Pace(&herald.Notifier{Type: tt.typ, Config: herald.NotifierConfig{URL: "https://robot.example/send?access_token=secret", RateLimit: tt.rl}})
		if len(p.Limits) != len(tt.want) {
			t.Errorf("%s: limits %v, want %v", tt.typ, p.Limits, tt.want)
			continue
		}
		for i := range p.Limits {
			if p.Limits[i] != tt.want[i] {
				t.Errorf("%s: limits %v, want %v", tt.typ, p.Limits, tt.want)
			}
		}
		if tt.want != nil && (p.Key == "" || len(p.Key) > 64 || contains(p.Key, "secret")) {
			t.Errorf("%s: key %q: want a hash that keeps the token out", tt.typ, p.Key)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
