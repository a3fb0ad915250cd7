package httpsend_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/internal/httpsend"
	"github.com/heraldhq/herald/channel/netguard"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDo_Classify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter string
		wantErr    bool
		permanent  bool
		wantAfter  time.Duration
	}{
		{200, "", false, false, 0},
		{204, "", false, false, 0},
		{400, "", true, true, 0},
		{401, "", true, true, 0},
		{404, "", true, true, 0},
		{408, "", true, false, 0},
		{429, "", true, false, 0},
		{429, "7", true, false, 7 * time.Second},
		{429, "Sun, 01 Mar 2026 12:01:30 GMT", true, false, 90 * time.Second},
		{503, "120", true, false, 2 * time.Minute},
		{500, "120", true, false, 0}, // only 429 and 503 carry Retry-After
		{502, "", true, false, 0},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+tt.retryAfter, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte("peer says no"))
			}))
			defer srv.Close()
			c := netguard.NewHTTPClient(netguard.Options{AllowPrivate: true})
			resp, err := httpsend.Do(context.Background(), c, httpsend.Request{Channel: "test", URL: srv.URL + "/p?token=secret"}, func() time.Time { return now })
			if !tt.wantErr {
				if err != nil || resp.StatusCode != tt.status {
					t.Fatalf("Do = %v, %v", resp, err)
				}
				return
			}
			var ce *channel.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Do = %v; want *channel.Error", err)
			}
			if ce.Permanent != tt.permanent || ce.RetryAfter != tt.wantAfter {
				t.Errorf("Permanent=%v RetryAfter=%v; want %v %v", ce.Permanent, ce.RetryAfter, tt.permanent, tt.wantAfter)
			}
			if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "peer says no") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestDo_TransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/?access_token=secret"
	srv.Close() // nothing listens any more: connection refused

	_, err := httpsend.Do(context.Background(), netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}), httpsend.Request{Channel: "test", URL: url}, time.Now)
	if err == nil || channel.IsPermanent(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("refused connection: %v; want temporary without the token", err)
	}
	_, err = httpsend.Do(context.Background(), nil, httpsend.Request{Channel: "test", URL: url}, time.Now)
	if !channel.IsPermanent(err) || !errors.Is(err, netguard.ErrForbiddenAddress) {
		t.Errorf("default client to loopback: %v; want permanent ErrForbiddenAddress", err)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"30":                            30 * time.Second,
		"999999999":                     24 * time.Hour,
		"soon":                          0,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
		"Sun, 01 Mar 2026 12:00:10 GMT": 10 * time.Second,
	}
	for in, want := range tests {
		if got := httpsend.RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRedactTruncate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://u:p@h.example/robot/send?access_token=x#f":       "https://u:********@h.example/robot/send?access_token=********#f",
		"https://open.feishu.cn/open-apis/bot/v2/hook/t0k3n-uuid": "https://open.feishu.cn/open-apis/bot/v2/hook/********",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k":  "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=********",
	} {
		if got := httpsend.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := httpsend.Truncate("héllo", 2); got != "h" {
		t.Errorf("Truncate = %q", got)
	}
	if got := httpsend.Truncate("héllo", 3); got != "hé" {
		t.Errorf("Truncate = %q", got)
	}
}

// TestDo_RedirectNotFollowed: Do never follows a redirect, whatever the
// client's own policy (here net/http's, which follows): the answer is a
// permanent failure naming the status and the Location (without its
// query), and the Location is never requested.
func TestDo_RedirectNotFollowed(t *testing.T) {
	t.Parallel()
	clients := map[string]*http.Client{
		"netguard": netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}),
		"plain":    {},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for name, c := range clients {
			t.Run(name+"/"+http.StatusText(status), func(t *testing.T) {
				t.Parallel()
				landed := make(chan string, 1)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/landing" {
						landed <- r.Method
						return
					}
					http.Redirect(w, r, "/landing?key=secret", status)
				}))
				defer srv.Close()
				_, err := httpsend.Do(context.Background(), c, httpsend.Request{Channel: "test", URL: srv.URL + "/p", Body: []byte(`{}`)}, time.Now)
				if !channel.IsPermanent(err) {
					t.Fatalf("Do = %v; want a permanent failure", err)
				}
				if s := err.Error(); !strings.Contains(s, "redirect") || !strings.Contains(s, srv.URL+"/landing") || strings.Contains(s, "secret") {
					t.Errorf("error %q; want the redirect's Location without its query", s)
				}
				select {
				case m := <-landed:
					t.Errorf("redirect followed with %s", m)
				default:
				}
			})
		}
	}
}
