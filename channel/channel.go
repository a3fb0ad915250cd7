// Package channel defines how Herald hands one rendered message to one
// delivery channel. Each sub-package (email, webhook, dingtalk, lark, wecom,
// sms) implements Sender against a real protocol peer; the delivery engine
// only ever sees this package's types.
package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Sender delivers one message to one target.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}

// Address is where a message goes. A channel reads the field it needs and
// ignores the rest.
type Address struct {
	Name   string // display name
	Email  string // email
	Mobile string // sms; at-mentions on robots
	IMID   string // DingTalk user id, WeCom user id, Feishu open_id
}

// Message is one rendered message for one target. Channels read the fields
// their protocol carries; the renderer fills all that apply.
type Message struct {
	// ID identifies the delivery; webhook uses it as webhook-id, and it is
	// stable across retries so peers can deduplicate.
	ID       string
	To       Address
	Subject  string          // email subject, markdown title on robots
	Text     string          // plain text body (email text part, sms text)
	HTML     string          // email HTML part; empty means text only
	Markdown string          // robots' markdown body (DingTalk, WeCom)
	Card     json.RawMessage // Feishu/Lark interactive card; empty sends a post
	// AtMobiles and AtUserIDs are robot mentions (DingTalk at.atMobiles /
	// at.atUserIds, WeCom mentioned_mobile_list / mentioned_list).
	AtMobiles []string
	AtUserIDs []string
	// Body is a webhook's ready JSON body; empty means the channel builds its
	// default body from the fields above.
	Body []byte
	// Headers are extra HTTP headers for webhook and sms.
	Headers map[string]string
	// Unsubscribe is the https URL of the recipient's one-click
	// unsubscribe (RFC 8058); email sends it as List-Unsubscribe with
	// List-Unsubscribe-Post. Empty: no such headers.
	Unsubscribe string `json:",omitempty"`
}

// Receipt is what the peer answered to a successful send.
type Receipt struct {
	StatusCode int    // HTTP status, or the SMTP reply code when known
	ProviderID string // the peer's message id, when it gives one
}

// Error is a failed send, classified for the retry policy.
type Error struct {
	// Permanent means retrying cannot help (4xx other than 408/429, a
	// vendor errcode for a bad request, a refused address).
	Permanent bool
	// RetryAfter is the peer's requested wait (HTTP Retry-After), or zero.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// LogValue logs Detail(e): a Failure inside keeps its detail out of Error.
func (e *Error) LogValue() slog.Value { return slog.StringValue(Detail(e)) }

// Permanent wraps err as a failure that retrying cannot fix.
func Permanent(err error) error { return &Error{Permanent: true, Err: err} }

// Temporary wraps err as a failure worth retrying after retryAfter (zero:
// the engine's own backoff).
func Temporary(err error, retryAfter time.Duration) error {
	return &Error{RetryAfter: retryAfter, Err: err}
}

// IsPermanent reports whether err is a send failure that must not be retried.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// RetryAfterOf returns the wait a peer asked for, or zero.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Errorf is fmt.Errorf wrapped as a temporary failure.
func Errorf(format string, args ...any) error {
	return Temporary(fmt.Errorf(format, args...), 0)
}
