// Package httpsend is the HTTP plumbing the HTTP channels share: one
// request, the answer read with a bound, and the status classified for the
// retry policy in one place, so webhook, sms and the robots agree on what
// is worth retrying.
package httpsend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/netguard"
)

// UserAgent identifies Herald to peers.
const UserAgent = "Herald"

// maxAnswer bounds how much of an answer is read; robots answer a few
// dozen bytes and nobody needs a megabyte of error page.
const maxAnswer = 1 << 20

// DefaultClient is the client a channel uses when its Config has none:
// guarded against private targets, 10 s timeout.
var DefaultClient = netguard.NewHTTPClient(netguard.Options{Timeout: 10 * time.Second})

// Client returns c, or DefaultClient when c is nil.
func Client(c *http.Client) *http.Client {
	if c == nil {
		return DefaultClient
	}
	return c
}

// Request is one outbound call.
type Request struct {
	Channel string      // error prefix: "webhook", "dingtalk", …
	Method  string      // default POST
	URL     string      // the target, query included
	Header  http.Header // sent as is; User-Agent defaults to UserAgent
	Body    []byte      // the request body
}

// Response is a peer's 2xx answer.
type Response struct {
	StatusCode int         // the 2xx status
	Header     http.Header // the answer's headers
	Body       []byte      // the answer, at most 1 MiB
}

// Do sends req and classifies the outcome:
//   - 2xx: the answer, no error;
//   - 408, 429, 5xx: temporary; 429 and 503 carry Retry-After (seconds or
//     an HTTP date, relative to now());
//   - 3xx: permanent, the error naming the status and the Location (without
//     its query): no redirect is ever followed, whatever c's own policy
//     (see netguard.NewHTTPClient for why); the peer's URL is to be
//     corrected in the notifier;
//   - other statuses: permanent;
//   - a target refused by netguard: permanent, channel.ReasonForbidden;
//   - other transport errors (refused connection, timeout, TLS, an answer
//     that is not HTTP): temporary, channel.ReasonConnect.
//
// Error texts carry the URL without its query, which holds robot tokens.
func Do(ctx context.Context, c *http.Client, req Request, now func() time.Time) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("%s: %w", req.Channel, err))
	}
	for k, vs := range req.Header {
		if err := CheckHeaderName(k); err != nil {
			return nil, channel.Permanent(fmt.Errorf("%s: %w", req.Channel, err))
		}
		hr.Header[k] = vs
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", UserAgent)
	}
	where := method + " " + Redact(req.URL)
	client := *Client(c) // a copy, so the policy below holds for any client
	client.CheckRedirect = netguard.NoRedirect
	resp, err := client.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the full URL
		}
		// No answer: the text names the category only (channel.Reason),
		// since the transport error tells closed, filtered and open ports
		// apart; the detail stays under it for the log.
		err = fmt.Errorf("%s: %s: %w", req.Channel, where, err)
		if errors.Is(err, netguard.ErrForbiddenAddress) {
			return nil, channel.Permanent(fmt.Errorf("%s: %w", req.Channel, channel.Fail(channel.ReasonForbidden, "", err)))
		}
		return nil, channel.Temporary(fmt.Errorf("%s: %w", req.Channel, channel.Fail(channel.ReasonConnect, "", err)), 0)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, channel.Temporary(fmt.Errorf("%s: %s: reading answer: %w", req.Channel, where, err), 0)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	err = fmt.Errorf("%s: %s: %s", req.Channel, where, resp.Status)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := "no Location"
		if l, lerr := resp.Location(); lerr == nil {
			loc = "Location " + Redact(l.String())
		}
		return nil, channel.Permanent(fmt.Errorf("%w: redirect not followed (%s); configure the final URL", err, loc))
	}
	if s := strings.TrimSpace(Truncate(string(body), 200)); s != "" {
		err = fmt.Errorf("%w: %s", err, s)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return nil, channel.Temporary(err, RetryAfter(resp.Header.Get("Retry-After"), now()))
	case code == http.StatusRequestTimeout || code >= 500:
		return nil, channel.Temporary(err, 0)
	default:
		return nil, channel.Permanent(err)
	}
}

// RetryAfter parses a Retry-After value, delay-seconds or an HTTP date,
// into a wait from now; zero when absent, invalid or already past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Redact returns raw with its credentials masked as every read shows
// them (herald.RedactURL): query values, a hook path token, a userinfo
// password.
func Redact(raw string) string {
	return herald.RedactURL(raw)
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CheckHeaderName rejects names net/http would refuse at send time, so a
// bad configured header fails validation instead of every send.
func CheckHeaderName(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) {
		return fmt.Errorf("invalid header name %q", name)
	}
	return nil
}

// JSONHeader is the header of a JSON request.
func JSONHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

// Unreadable is the error for a 2xx answer whose body is not the vendor's
// JSON: temporary, since a proxy or a hiccup may be to blame.
func Unreadable(channelName string, body []byte) error {
	return channel.Temporary(fmt.Errorf("%s: unreadable answer %q", channelName, Truncate(string(body), 200)), 0)
}

// VendorCode classifies the result code of a robot's JSON answer: 0 is
// success; a code in temporary is retried after its wait (zero: the
// engine's backoff); any other code is permanent. label names the code in
// errors ("errcode", "code").
func VendorCode(channelName, label string, code int, msg string, status int, temporary map[int]time.Duration) (channel.Receipt, error) {
	if code == 0 {
		return channel.Receipt{StatusCode: status}, nil
	}
	err := fmt.Errorf("%s: %s %d: %s", channelName, label, code, msg)
	if wait, ok := temporary[code]; ok {
		return channel.Receipt{}, channel.Temporary(err, wait)
	}
	return channel.Receipt{}, channel.Permanent(err)
}
