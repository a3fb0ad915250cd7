package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/channel/netguard"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr         string
		allowPrivate bool
		want         bool
		why          string
	}{
		{"93.184.216.34", false, true, ""},
		{"2606:2800:220:1::1", false, true, ""},
		{"127.0.0.1", false, false, "loopback address"},
		{"127.0.0.1", true, true, ""},
		{"::1", false, false, "loopback address"},
		{"::ffff:127.0.0.1", false, false, "loopback address"},
		{"10.1.2.3", false, false, "private address"},
		{"172.16.0.1", false, false, "private address"},
		{"192.168.1.1", false, false, "private address"},
		{"192.168.1.1", true, true, ""},
		{"fd12:3456::1", false, false, "private address"},
		{"169.254.1.1", false, false, "link-local address"},
		{"fe80::1", false, false, "link-local address"},
		{"100.64.0.1", false, false, "carrier-grade NAT address"},
		{"100.127.255.254", false, false, "carrier-grade NAT address"},
		{"100.128.0.1", false, true, ""},
		{"0.0.0.0", true, false, "unspecified address"},
		{"::", true, false, "unspecified address"},
		{"224.0.0.1", true, false, "multicast address"},
		{"ff02::1", true, false, "multicast address"},
		{"255.255.255.255", true, false, "reserved address"},
		{"169.254.169.254", true, false, "cloud metadata address"},
		{"fd00:ec2::254", true, false, "cloud metadata address"},
		{"64:ff9b::7f00:1", false, false, "loopback address"},
		{"64:ff9b::5db8:d822", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.addr, tt.allowPrivate), func(t *testing.T) {
			t.Parallel()
			ok, why := netguard.Allowed(netip.MustParseAddr(tt.addr), tt.allowPrivate, nil)
			if ok != tt.want || why != tt.why {
				t.Errorf("Allowed(%s, %v) = %v, %q; want %v, %q", tt.addr, tt.allowPrivate, ok, why, tt.want, tt.why)
			}
		})
	}
}

func TestAllowed_AllowList(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}
	if ok, _ := netguard.Allowed(netip.MustParseAddr("10.0.0.5"), false, allow); !ok {
		t.Error("10.0.0.5 refused despite the allow list")
	}
	if ok, _ := netguard.Allowed(netip.MustParseAddr("10.0.0.6"), false, allow); ok {
		t.Error("10.0.0.6 allowed; only 10.0.0.5/32 is listed")
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		wantErr string
	}{
		{"https://example.com/hook", ""},
		{"http://example.com:8080/hook?x=1", ""},
		{"ftp://example.com/", "scheme must be http or https"},
		{"example.com/hook", "scheme must be http or https"},
		{"https:///path", "no host"},
		{"https://user:pw@example.com/", "user info is not allowed"},
		{"https://exa mple.com/", "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			err := netguard.CheckURL(tt.raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v", tt.raw, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckURL(%q) = %v; want error containing %q", tt.raw, err, tt.wantErr)
			}
		})
	}
}

func TestNewHTTPClient_Loopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		c := netguard.NewHTTPClient(netguard.Options{})
		_, err := c.Get(srv.URL)
		if !errors.Is(err, netguard.ErrForbiddenAddress) {
			t.Fatalf("Get = %v; want ErrForbiddenAddress", err)
		}
		if !strings.Contains(err.Error(), "loopback address") {
			t.Errorf("error %q does not say why", err)
		}
	})
	t.Run("AllowPrivate", func(t *testing.T) {
		t.Parallel()
		c := netguard.NewHTTPClient(netguard.Options{AllowPrivate: true})
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "hello" {
			t.Errorf("body = %q", b)
		}
	})
	t.Run("Dialer", func(t *testing.T) {
		t.Parallel()
		_, err := netguard.Dialer(false).DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
		if !errors.Is(err, netguard.ErrForbiddenAddress) {
			t.Fatalf("Dial = %v; want ErrForbiddenAddress", err)
		}
		conn, err := netguard.Dialer(true).DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	})
}

// TestNewHTTPClient_Redirect: the client follows no redirect at all, to
// this host or another (127.0.0.2, still this machine's loopback, so
// nothing leaves the host even if the policy failed), or to another scheme:
// the 3xx answer is the answer, and nothing is requested at its Location.
func TestNewHTTPClient_Redirect(t *testing.T) {
	t.Parallel()
	var target string
	var mu sync.Mutex
	landed := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			mu.Lock()
			landed++
			mu.Unlock()
			io.WriteString(w, "ok")
		case "/to-self":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/to-self-307":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/to-other":
			http.Redirect(w, r, target, http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	target = "http://127.0.0.2:" + port + "/ok"

	c := netguard.NewHTTPClient(netguard.Options{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	tests := []struct {
		path string
		want int
	}{
		{"/to-self", http.StatusFound},
		{"/to-self-307", http.StatusTemporaryRedirect},
		{"/to-other", http.StatusFound},
		{"/to-file", http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, err := c.Post(srv.URL+tt.path, "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || resp.Header.Get("Location") == "" {
				t.Fatalf("status %d, Location %q; want the %d answer itself", resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		})
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if landed != 0 {
			t.Errorf("a redirect was followed %d times", landed)
		}
	})
}
