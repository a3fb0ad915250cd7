// Package netguard keeps Herald's outbound connections — HTTP requests and
// SMTP sessions alike — away from the machine's own network. The check runs
// when a socket is about to connect,
// on the address the resolver returned, so a name that resolves to a public
// address at validation time and to 127.0.0.1 at send time (DNS rebinding)
// is still refused.
//
// The HTTP client follows no redirect: a 3xx answer is returned as is, for
// the caller to treat as the failure it is (see NewHTTPClient).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal, so callers can classify a
// refused target as a permanent failure with errors.Is.
var ErrForbiddenAddress = errors.New("forbidden target address")

// DefaultTimeout bounds a whole request (connect, reading the body) when
// Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options configures a guarded HTTP client.
type Options struct {
	// AllowPrivate lets requests reach loopback, private, link-local, CGNAT
	// and unique-local addresses (HERALD_ALLOW_PRIVATE_TARGETS=true). Cloud
	// metadata addresses stay refused; see Allowed.
	AllowPrivate bool
	// Allow lists prefixes that are reachable even when AllowPrivate is
	// false, e.g. one internal SMS gateway (10.0.0.5/32).
	Allow []netip.Prefix
	// Timeout bounds a whole request; zero means DefaultTimeout.
	Timeout time.Duration
}

var (
	cgnat  = netip.MustParsePrefix("100.64.0.0/10")
	thisV4 = netip.MustParsePrefix("0.0.0.0/8")    // "this network"
	resV4  = netip.MustParsePrefix("240.0.0.0/4")  // reserved, and broadcast
	nat64  = netip.MustParsePrefix("64:ff9b::/96") // embeds an IPv4 address
	meta   = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, …
		netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6 metadata
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud metadata
	}
)

// Allowed reports whether a connection to addr may be opened, and if not,
// why. Cloud metadata addresses are refused even with allowPrivate: a
// self-hosted notifier may legitimately post to a LAN host, never to the
// instance's credential endpoint. Addresses listed in allow are always
// reachable (an operator naming a metadata address there means it).
func Allowed(addr netip.Addr, allowPrivate bool, allow []netip.Prefix) (bool, string) {
	addr = addr.Unmap()
	for _, p := range allow {
		if p.Contains(addr) {
			return true, ""
		}
	}
	for _, m := range meta {
		if addr == m {
			return false, "cloud metadata address"
		}
	}
	if nat64.Contains(addr) {
		// Judge the IPv4 address a NAT64 gateway would forward to.
		b := addr.As16()
		return Allowed(netip.AddrFrom4([4]byte(b[12:])), allowPrivate, allow)
	}
	switch {
	case addr.IsMulticast():
		return false, "multicast address"
	case addr.IsUnspecified(), thisV4.Contains(addr):
		return false, "unspecified address"
	case resV4.Contains(addr):
		return false, "reserved address"
	}
	if allowPrivate {
		return true, ""
	}
	switch {
	case addr.IsLoopback():
		return false, "loopback address"
	case addr.IsPrivate():
		return false, "private address"
	case addr.IsLinkLocalUnicast():
		return false, "link-local address"
	case cgnat.Contains(addr):
		return false, "carrier-grade NAT address"
	}
	return true, ""
}

// Control returns a net.Dialer ControlContext function that refuses to
// connect to addresses Allowed rejects.
func Control(allowPrivate bool, allow []netip.Prefix) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(_ context.Context, network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("netguard: %s %q: %w", network, address, ErrForbiddenAddress)
		}
		if ok, why := Allowed(ap.Addr(), allowPrivate, allow); !ok {
			return fmt.Errorf("netguard: refusing to connect to %s (%s; set HERALD_ALLOW_PRIVATE_TARGETS=true to allow private targets): %w",
				address, why, ErrForbiddenAddress)
		}
		return nil
	}
}

// Dialer returns a dialer that refuses forbidden addresses at connect time.
// Protocols other than HTTP (the email channel's SMTP) dial through it.
func Dialer(allowPrivate bool) *net.Dialer {
	return dialer(Options{AllowPrivate: allowPrivate})
}

func dialer(opts Options) *net.Dialer {
	return &net.Dialer{
		Timeout:        5 * time.Second,
		KeepAlive:      30 * time.Second,
		ControlContext: Control(opts.AllowPrivate, opts.Allow),
	}
}

// NewHTTPClient returns an HTTP client whose every connection goes through
// the guard. It ignores HTTP_PROXY and friends: through a proxy the guard
// would only see the proxy's address.
//
// It follows no redirect (CheckRedirect answers http.ErrUseLastResponse),
// whatever the status. Herald only ever POSTs (or PUTs) to a configured
// target, and following would be wrong every way: net/http turns a POST
// answered 301, 302 or 303 into a GET without its body, which a 200 landing
// page then "accepts"; for 307 and 308 it would resend the body, the
// signature and the configured headers (API keys) to a URL nobody
// configured. The caller sees the 3xx answer and fails the send; see
// channel/internal/httpsend.
func NewHTTPClient(opts Options) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer(opts).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: NoRedirect,
	}
}

// NoRedirect is a CheckRedirect policy that follows nothing: the client
// returns the redirect answer itself.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CheckURL validates a target URL at configuration time: http or https, a
// host, no user info. It does not resolve the host; the dial-time guard
// judges the address actually used.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return fmt.Errorf("invalid URL %q: no host", u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("invalid URL %q: user info is not allowed", u.Redacted())
	}
	return nil
}
