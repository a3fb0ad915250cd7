// Package email delivers messages over SMTP with github.com/wneessen/go-mail:
// a text part, plus an HTML alternative when the message has one.
//
// Unlike the HTTP channels, email does not go through netguard: the SMTP
// relay is chosen by the operator, not by a tenant, and is very often on
// localhost or the LAN.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/heraldhq/herald/channel"
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
	// InsecureSkipVerify accepts any server certificate; for tests.
	InsecureSkipVerify bool
	// RootCAs verifies the server certificate instead of the system pool.
	RootCAs *x509.CertPool
	// Timeout bounds the whole SMTP conversation; default 30 s.
	Timeout time.Duration
	// Now dates messages; default time.Now.
	Now func() time.Time
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
		opts = append(opts, gomail.WithSSL())
		port = orDefault(port, 465)
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, 25)
	default:
		return nil, fmt.Errorf("email: TLS %q: want starttls, tls or none", cfg.TLS)
	}
	cfg.Port = port
	opts = append(opts, gomail.WithPort(port))
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

func orDefault(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// Send delivers m to m.To.Email. The Message-ID derives from m.ID, so a
// retried delivery carries the same id and mail clients can collapse
// duplicates. The receipt's ProviderID is that Message-ID.
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

// classify maps a go-mail failure to the retry policy.
func classify(err error) error {
	err = fmt.Errorf("email: %w", err)
	code := 0
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
		if code == 0 {
			switch se.Reason {
			case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
				return channel.Permanent(err)
			}
			if se.IsTemp() {
				return channel.Temporary(err, 0)
			}
		}
	case errors.As(err, &te):
		code = te.Code
	}
	switch {
	case code >= 500 && code < 600:
		return channel.Permanent(err)
	case code >= 400 && code < 500:
		return channel.Temporary(err, 0)
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	if errors.Is(err, smtp.ErrUnencrypted) || errors.Is(err, smtp.ErrWrongHostname) ||
		errors.Is(err, gomail.ErrPlainAuthNotSupported) || errors.Is(err, gomail.ErrLoginAuthNotSupported) ||
		errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return channel.Permanent(err)
	}
	return channel.Temporary(err, 0)
}
