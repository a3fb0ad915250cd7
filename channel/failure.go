package channel

import (
	"errors"
	"fmt"
	"log/slog"
)

// Reason is the category of a failed send, worded for whoever configured
// the notifier: the console's "send test message", a delivery's last
// error. It never carries the low-level network error, whose text tells a
// refused connection from a filtered port from a non-SMTP service, and
// would make a notifier's target field a port scanner of the network
// Herald runs in. The detail goes to the server log (see Detail).
type Reason string

// Reasons a send fails.
const (
	// ReasonForbidden: the target resolves to an address the outbound
	// guard refuses (HERALD_ALLOW_PRIVATE_TARGETS is off). Nothing was
	// dialled.
	ReasonForbidden Reason = "target not allowed (private or loopback address)"
	// ReasonConnect: no peer speaking the protocol was reached — refused,
	// timed out, reset, answered in another protocol, or failed the TLS
	// handshake of implicit TLS. These stay one reason on purpose: telling
	// them apart tells closed, filtered and open ports apart.
	ReasonConnect Reason = "could not connect"
	// ReasonTLS: the peer answered in the protocol, then upgrading to TLS
	// failed (STARTTLS not offered, certificate not trusted, handshake).
	ReasonTLS Reason = "TLS handshake failed"
	// ReasonAuth: the peer refused the credentials, or Herald refused to
	// send them (a mechanism not offered, plaintext without TLS).
	ReasonAuth Reason = "authentication failed"
	// ReasonRejected: the peer answered the request with an error code,
	// which Failure.Code gives.
	ReasonRejected Reason = "rejected by the server"
	// ReasonFailed: any other failure.
	ReasonFailed Reason = "send failed"
)

// Failure is a failed send told twice: Error gives the Reason (and the
// peer's reply code), safe to show to a tenant and to store as a
// delivery's last error; Err keeps the underlying error for errors.Is and
// errors.As and for the server log.
type Failure struct {
	Reason Reason
	// Code is the peer's reply code when it answered (an SMTP reply such as
	// "550 5.1.1"); empty otherwise.
	Code string
	Err  error
}

// Fail returns a Failure of reason with the peer's code ("" if none)
// over the underlying err.
func Fail(reason Reason, code string, err error) *Failure {
	return &Failure{Reason: reason, Code: code, Err: err}
}

func (f *Failure) Error() string {
	if f.Code != "" {
		return fmt.Sprintf("%s: %s", f.Reason, f.Code)
	}
	return string(f.Reason)
}

func (f *Failure) Unwrap() error { return f.Err }

// LogValue logs the detail, so logging the error as an attribute keeps it.
func (f *Failure) LogValue() slog.Value { return slog.StringValue(Detail(f)) }

// ReasonOf returns the Reason of a failed send, or "" when err carries
// none.
func ReasonOf(err error) Reason {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// Detail returns err's text with the underlying error a Failure keeps out
// of Error, for the server log only.
func Detail(err error) string {
	if err == nil {
		return ""
	}
	var f *Failure
	if !errors.As(err, &f) || f.Err == nil {
		return err.Error()
	}
	return err.Error() + " (" + Detail(f.Err) + ")"
}
