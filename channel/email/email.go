// Package email delivers messages over SMTP with github.com/wneessen/go-mail:
// a text part, plus an HTML alternative when the message has one.
//
// The relay is dialled through netguard, like the HTTP channels: a tenant
// names the host in a notifier, so without Config.AllowPrivate
// (HERALD_ALLOW_PRIVATE_TARGETS) a relay on loopback or a private network
// is refused, judged on the address the name resolves to when the socket
// connects. Failures read as a channel.Reason; the dial error behind one
// is kept for the server log only.
//
// The server's certificate is verified against the system's roots, or
// against a private CA given as PEM (Config.CAPEM, a notifier's
// tls_ca_pem) for a relay whose certificate an internal CA signed.
// Config.InsecureSkipVerify turns verification off; every connection made
// so logs a warning.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/netguard"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte ("SMTPS", port 465)
	TLSNone     = "none"     // no encryption; only for a relay on localhost or a trusted LAN
)

// Auth mechanisms.
const (
	AuthAuto    = ""         // the strongest the server offers (PLAIN without TLS is never chosen)
	AuthPlain   = "plain"    // PLAIN; go-mail refuses it unencrypted except to localhost
	AuthLogin   = "login"    // LOGIN, same restriction
	AuthCRAMMD5 = "cram-md5" // CRAM-MD5
)

// Config is one SMTP relay and sender address.
type Config struct {
	// Host is the relay's name or address; it is also the TLS server name.
	Host string
	// Port defaults to 587 for starttls, 465 for tls, 25 for none.
	Port int
	// Username and Password enable SMTP AUTH; empty Username sends
	// without authenticating.
	Username string
	Password string // used only with Username
	// Auth picks the mechanism; default AuthAuto, which with TLS "none"
	// means PLAIN (allowed by go-mail only to localhost).
	Auth string
	// From is the sender, "Herald <herald@example.com>" or a bare address.
	From string
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone.
	TLS string
	// InsecureSkipVerify accepts any server certificate (a notifier's
	// insecure_skip_verify); each connection logs a warning to Logger.
	InsecureSkipVerify bool
	// RootCAs verifies the server certificate instead of the system pool.
	RootCAs *x509.CertPool
	// CAPEM is a bundle of PEM certificates verifying the server's
	// certificate instead of the system pool (a notifier's tls_ca_pem).
	CAPEM string
	// Logger receives the warning InsecureSkipVerify gives at every
	// connection; nil discards it.
	Logger *slog.Logger
	// Timeout bounds the whole SMTP conversation; default 30 s.
	Timeout time.Duration
	// Now dates messages; default time.Now.
	Now func() time.Time
	// AllowPrivate lets the relay be on loopback, private, link-local and
	// CGNAT addresses (HERALD_ALLOW_PRIVATE_TARGETS=true), as netguard's
	// option of that name does for the HTTP channels.
	AllowPrivate bool
}

// Sender sends messages through one relay.
type Sender struct {
	cfg  Config
	from *mail.Address
	opts []gomail.Option
}

var _ channel.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" {
		return nil, errors.New("email: Host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: From %q: %w", cfg.From, err)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("email: port %d out of range", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CAPEM != "" {
		if cfg.InsecureSkipVerify || cfg.RootCAs != nil {
			return nil, errors.New("email: CAPEM excludes InsecureSkipVerify and RootCAs")
		}
		pool, err := ParseCAPEM(cfg.CAPEM)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tlsConfig := &tls.Config{
		ServerName:         cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // opt-in, for tests and self-signed relays
		RootCAs:            cfg.RootCAs,
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tlsConfig)}
	port := cfg.Port
	switch cfg.TLS = strings.ToLower(cfg.TLS); cfg.TLS {
	case "", TLSStartTLS:
		cfg.TLS = TLSStartTLS
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = orDefault(port, 587)
	case TLSImplicit:
		// Not go-mail's WithSSL: with a dial function of ours, go-mail
		// would take the connection for unencrypted and never choose PLAIN
		// or LOGIN. The dial function below speaks TLS from the first byte,
		// and the opportunistic policy makes go-mail read the encryption
		// off the connection (a server offers no STARTTLS inside TLS).
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		port = orDefault(port, 465)
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, 25)
	default:
		return nil, fmt.Errorf("email: TLS %q: want starttls, tls or none", cfg.TLS)
	}
	cfg.Port = port
	opts = append(opts, gomail.WithPort(port), gomail.WithDialContextFunc(dialFunc(cfg, tlsConfig)))
	if cfg.Username != "" {
		var mech gomail.SMTPAuthType
		switch strings.ToLower(cfg.Auth) {
		case AuthAuto:
			mech = gomail.SMTPAuthAutoDiscover
			if cfg.TLS == TLSNone {
				mech = gomail.SMTPAuthPlain
			}
		case AuthPlain:
			mech = gomail.SMTPAuthPlain
		case AuthLogin:
			mech = gomail.SMTPAuthLogin
		case AuthCRAMMD5:
			mech = gomail.SMTPAuthCramMD5
		default:
			return nil, fmt.Errorf("email: auth %q: want plain, login or cram-md5", cfg.Auth)
		}
		opts = append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	return &Sender{cfg: cfg, from: from, opts: opts}, nil
}

// dialError marks a failure to open the connection (and, with implicit
// TLS, to finish the handshake): nothing speaking SMTP was reached.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dialFunc dials through netguard's dialer, whose check runs on each
// address the host resolves to, as the socket connects.
func dialFunc(cfg Config, tlsConfig *tls.Config) gomail.DialContextFunc {
	d := netguard.Dialer(cfg.AllowPrivate)
	dial := d.DialContext
	if cfg.TLS == TLSImplicit {
		dial = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext
	}
	warn := cfg.InsecureSkipVerify && cfg.TLS != TLSNone
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if warn {
			// Every connection, not once: whoever reads the log of a
			// delivery sees that its mail and password crossed a channel
			// anyone on the path could have intercepted.
			cfg.Logger.WarnContext(ctx, "email: server certificate not verified (insecure_skip_verify): the relay is not authenticated; set a private CA (tls_ca_pem) instead",
				"host", cfg.Host, "port", cfg.Port)
		}
		c, err := dial(ctx, network, address)
		if err != nil {
			return nil, &dialError{err}
		}
		return c, nil
	}
}

// ParseCAPEM reads a bundle of PEM certificates into a pool; it fails if
// no certificate in it parses.
func ParseCAPEM(bundle string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(bundle)) {
		return nil, errors.New("email: CAPEM holds no PEM certificate")
	}
	return pool, nil
}

func orDefault(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// Send delivers m to m.To.Email. The Message-ID derives from m.ID, so a
// retried delivery carries the same id and mail clients can collapse
// duplicates. The receipt's ProviderID is that Message-ID. A message with
// an Unsubscribe URL carries RFC 8058's one-click unsubscribe headers.
//
// SMTP replies classify the error: 4xx temporary, 5xx permanent (a
// refused recipient, failed authentication). Refused plaintext
// authentication and certificate errors are permanent: a retry meets the
// same configuration. Connection failures are temporary.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	if m.To.Email == "" {
		return channel.Receipt{}, channel.Permanent(errors.New("email: recipient has no email address"))
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("email: From: %w", err))
	}
	if err := msg.AddToFormat(m.To.Name, m.To.Email); err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("email: To: %w", err))
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.cfg.Now())
	if m.ID != "" {
		msg.SetMessageIDWithValue(messageID(m.ID, s.from.Address))
	} else {
		msg.SetMessageID()
	}
	if m.Unsubscribe != "" {
		// RFC 8058: a POST of "List-Unsubscribe=One-Click" to the URL
		// unsubscribes, without a login; RFC 2369 wants it in <>.
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	text := m.Text
	if text == "" {
		text = m.Markdown
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("email: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return channel.Receipt{}, classify(err)
	}
	return channel.Receipt{StatusCode: 250, ProviderID: msg.GetMessageID()}, nil
}

// messageID builds "<id@domain>" from a delivery id, keeping only
// characters RFC 5322 allows in a dot-atom.
func messageID(id, from string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r):
			return r
		}
		return '_'
	}, id)
	clean = strings.Trim(clean, ".")
	domain := "herald.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return clean + "@" + domain
}

// classify maps a go-mail failure to the retry policy and to a
// channel.Reason, which alone makes the error's text; go-mail's error,
// with the network detail, is kept under it for the log.
func classify(err error) error {
	reason, code, permanent := reasonOf(err)
	err = fmt.Errorf("email: %w", channel.Fail(reason, code, err))
	if permanent {
		return channel.Permanent(err)
	}
	return channel.Temporary(err, 0)
}

// authCodes are the replies RFC 4954 gives AUTH: authentication required,
// mechanism too weak, credentials invalid, encryption required.
var authCodes = map[int]bool{530: true, 534: true, 535: true, 538: true}

// reasonOf classifies a go-mail failure. Everything up to the server's
// greeting — the dial, implicit TLS's handshake, reading the greeting —
// reads as ReasonConnect whatever went wrong (refused, timed out, reset,
// garbage): those differences map ports, not SMTP relays.
func reasonOf(err error) (reason channel.Reason, code string, permanent bool) {
	var (
		de        *dialError
		se        *gomail.SendError
		te        *textproto.Error
		pe        textproto.ProtocolError
		ne        net.Error
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
	)
	n := 0
	switch {
	case errors.Is(err, netguard.ErrForbiddenAddress):
		return channel.ReasonForbidden, "", true
	case errors.As(err, &de):
		return channel.ReasonConnect, "", false
	case errors.As(err, &se):
		n, code = se.ErrorCode(), strings.TrimSpace(strconv.Itoa(se.ErrorCode())+" "+se.EnhancedStatusCode())
		if n == 0 {
			switch se.Reason {
			case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
				return channel.ReasonFailed, "", true
			}
			// go-mail's own failure mid-conversation; SendError does not
			// unwrap to its cause, which is left to the log.
			return channel.ReasonFailed, "", false
		}
	case errors.As(err, &te):
		n, code = te.Code, strconv.Itoa(te.Code)
		if f := strings.Fields(te.Msg); len(f) > 0 && enhanced(f[0]) {
			code += " " + f[0]
		}
	}
	if n != 0 {
		switch {
		case n < 400 || n >= 600:
			// Not an SMTP error reply: a greeting in another protocol.
			return channel.ReasonConnect, "", false
		case authCodes[n]:
			return channel.ReasonAuth, code, n >= 500
		}
		return channel.ReasonRejected, code, n >= 500
	}
	switch {
	case errors.Is(err, smtp.ErrUnencrypted) || errors.Is(err, smtp.ErrWrongHostname) ||
		errors.Is(err, gomail.ErrPlainAuthNotSupported) || errors.Is(err, gomail.ErrLoginAuthNotSupported) ||
		errors.Is(err, gomail.ErrCramMD5AuthNotSupported) || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		return channel.ReasonAuth, "", true
	case errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify):
		return channel.ReasonTLS, "", true
	case errors.As(err, &record) || errors.As(err, &alert):
		return channel.ReasonTLS, "", false
	case errors.As(err, &pe) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return channel.ReasonConnect, "", false
	case strings.Contains(err.Error(), "STARTTLS"):
		// go-mail's refusal to go on without the STARTTLS the server does
		// not offer has no error value of its own.
		return channel.ReasonTLS, "", false
	case strings.Contains(err.Error(), "does not support SMTP AUTH"):
		// Neither has go-mail's for a server that offers no AUTH.
		return channel.ReasonAuth, "", true
	}
	return channel.ReasonFailed, "", false
}

// enhanced reports whether s is an enhanced status code (RFC 3463), as
// "5.1.1".
func enhanced(s string) bool {
	p := strings.Split(s, ".")
	if len(p) != 3 || (p[0] != "2" && p[0] != "4" && p[0] != "5") {
		return false
	}
	for _, x := range p[1:] {
		if _, err := strconv.Atoi(x); err != nil || len(x) == 0 || len(x) > 3 {
			return false
		}
	}
	return true
}
