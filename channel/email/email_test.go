package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/email"
	"github.com/heraldhq/herald/channel/netguard"
)

// delivery is what the test SMTP server accepted.
type delivery struct {
	from  string
	rcpts []string
	data  []byte
	user  string // authenticated user, if any
	tls   bool   // whether MAIL FROM arrived over TLS
}

// backend is a go-smtp backend that records deliveries and can refuse
// recipients with a given reply.
type backend struct {
	rcptErr *smtp.SMTPError

	accepts atomic.Int64 // connections the server accepted

	mu   sync.Mutex
	done []delivery
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, c: c}, nil
}

func (b *backend) deliveries() []delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivery(nil), b.done...)
}

type session struct {
	b   *backend
	c   *smtp.Conn
	cur delivery
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "herald" || password != "s3cret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.cur.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	_, s.cur.tls = s.c.TLSConnectionState()
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.done = append(s.b.done, s.cur)
	s.b.mu.Unlock()
	user := s.cur.user
	s.cur = delivery{user: user}
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "herald test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

type serverOpts struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	auth     bool // offer AUTH without TLS
}

// startServer runs a go-smtp server on 127.0.0.1 and returns its port and
// a pool trusting its certificate.
func startServer(t *testing.T, be *backend, o serverOpts) (int, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	return startServerWith(t, be, o, cert), pool
}

// startServerWith runs a go-smtp server on 127.0.0.1 presenting cert and
// returns its port.
func startServerWith(t *testing.T, be *backend, o serverOpts, cert tls.Certificate) int {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = o.auth
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.startTLS {
		srv.TLSConfig = tlsConfig
	}
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l = countingListener{l, &be.accepts}
	if o.implicit {
		l = tls.NewListener(l, tlsConfig)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return port
}

var now = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

// part is one decoded MIME body.
type part struct {
	contentType string
	body        string
}

// parse reads a delivered message into its headers and decoded parts.
func parse(t *testing.T, data []byte) (*mail.Message, []part) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	decode := func(cte string, r io.Reader) string {
		if strings.EqualFold(cte, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		// A single-part body ends with the line break that precedes DATA's
		// terminating dot; it is framing, not content.
		body := strings.TrimSuffix(decode(msg.Header.Get("Content-Transfer-Encoding"), msg.Body), "\r\n")
		return msg, []part{{mt, body}}
	}
	if mt != "multipart/alternative" {
		t.Errorf("Content-Type %s, want multipart/alternative", mt)
	}
	var parts []part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, part{pt, decode(p.Header.Get("Content-Transfer-Encoding"), p)})
	}
	return msg, parts
}

func TestSender_Send(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		server    serverOpts
		cfg       email.Config
		msg       channel.Message
		wantUser  string
		wantTLS   bool
		wantParts []part
	}{
		{
			name:      "PlainTextOnly",
			cfg:       email.Config{TLS: "none"},
			msg:       channel.Message{ID: "del-1", To: channel.Address{Name: "Ann Lee", Email: "ann@example.com"}, Subject: "Disk full on db1", Text: "db1 is at 99%.\nSee the runbook."},
			wantParts: []part{{"text/plain", "db1 is at 99%.\r\nSee the runbook."}},
		},
		{
			name:      "AuthPlainWithoutTLS",
			server:    serverOpts{auth: true},
			cfg:       email.Config{TLS: "none", Username: "herald", Password: "s3cret"},
			msg:       channel.Message{ID: "del-2", To: channel.Address{Email: "ann@example.com"}, Subject: "Disk full on db1", Text: "t"},
			wantUser:  "herald",
			wantParts: []part{{"text/plain", "t"}},
		},
		{
			name:     "StartTLSAuthMultipart",
			server:   serverOpts{startTLS: true},
			cfg:      email.Config{TLS: "starttls", Username: "herald", Password: "s3cret"},
			msg:      channel.Message{ID: "del-3", To: channel.Address{Name: "Ann Lee", Email: "ann@example.com"}, Subject: "Disk full on db1", Text: "db1: 99% — full", HTML: "<p>db1: <b>99%</b> — full</p>"},
			wantUser: "herald",
			wantTLS:  true,
			wantParts: []part{
				{"text/plain", "db1: 99% — full"},
				{"text/html", "<p>db1: <b>99%</b> — full</p>"},
			},
		},
		{
			// Auto-discovery picks PLAIN only over an encrypted connection:
			// it must know implicit TLS is one.
			name:      "ImplicitTLSAuthAuto",
			server:    serverOpts{implicit: true},
			cfg:       email.Config{TLS: "tls", Username: "herald", Password: "s3cret"},
			msg:       channel.Message{ID: "del-5", To: channel.Address{Email: "ann@example.com"}, Subject: "Disk full on db1", Text: "t"},
			wantUser:  "herald",
			wantTLS:   true,
			wantParts: []part{{"text/plain", "t"}},
		},
		{
			name:      "ImplicitTLSInsecure",
			server:    serverOpts{implicit: true},
			cfg:       email.Config{TLS: "tls", InsecureSkipVerify: true},
			msg:       channel.Message{ID: "del-4", To: channel.Address{Email: "ann@example.com"}, Subject: "Disk full on db1", Text: "t"},
			wantTLS:   true,
			wantParts: []part{{"text/plain", "t"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			be := &backend{}
			port, pool := startServer(t, be, tt.server)
			cfg := tt.cfg
			cfg.Host, cfg.Port, cfg.From, cfg.Now = "127.0.0.1", port, "Herald <herald@alerts.example.org>", func() time.Time { return now }
			cfg.AllowPrivate = true
			if !cfg.InsecureSkipVerify {
				cfg.RootCAs = pool
			}
			s, err := email.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rcpt, err := s.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			wantMsgID := "<" + tt.msg.ID + "@alerts.example.org>"
			if rcpt.StatusCode != 250 || rcpt.ProviderID != wantMsgID {
				t.Errorf("receipt %+v", rcpt)
			}
			ds := be.deliveries()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries", len(ds))
			}
			d := ds[0]
			if d.from != "herald@alerts.example.org" || strings.Join(d.rcpts, ",") != tt.msg.To.Email {
				t.Errorf("envelope MAIL FROM %q RCPT TO %q", d.from, d.rcpts)
			}
			if d.user != tt.wantUser || d.tls != tt.wantTLS {
				t.Errorf("user %q tls %v; want %q %v", d.user, d.tls, tt.wantUser, tt.wantTLS)
			}
			msg, parts := parse(t, d.data)
			from, err := msg.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != "Herald" || from[0].Address != "herald@alerts.example.org" {
				t.Errorf("From %v (%v)", from, err)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Name != tt.msg.To.Name || to[0].Address != tt.msg.To.Email {
				t.Errorf("To %v (%v)", to, err)
			}
			if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subj != tt.msg.Subject {
				t.Errorf("Subject %q", subj)
			}
			if id := msg.Header.Get("Message-ID"); id != wantMsgID {
				t.Errorf("Message-ID %q, want %q", id, wantMsgID)
			}
			if date, err := msg.Header.Date(); err != nil || !date.Equal(now) {
				t.Errorf("Date %v (%v)", date, err)
			}
			if len(parts) != len(tt.wantParts) {
				t.Fatalf("parts %q, want %q", parts, tt.wantParts)
			}
			for i := range parts {
				if parts[i] != tt.wantParts[i] {
					t.Errorf("part %d = %q, want %q", i, parts[i], tt.wantParts[i])
				}
			}
		})
	}
}

func TestSender_Send_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		server    serverOpts
		rcptErr   *smtp.SMTPError
		cfg       email.Config
		trustCA   bool
		to        string
		permanent bool
	}{
		{"MailboxBusy", serverOpts{}, &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "try later"}, email.Config{TLS: "none"}, false, "ann@example.com", false},
		{"NoSuchUser", serverOpts{}, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, email.Config{TLS: "none"}, false, "ann@example.com", true},
		{"BadPassword", serverOpts{auth: true}, nil, email.Config{TLS: "none", Username: "herald", Password: "wrong"}, false, "ann@example.com", true},
		{"UntrustedCert", serverOpts{startTLS: true}, nil, email.Config{TLS: "starttls"}, false, "ann@example.com", true},
		{"NoRecipient", serverOpts{}, nil, email.Config{TLS: "none"}, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			be := &backend{rcptErr: tt.rcptErr}
			port, pool := startServer(t, be, tt.server)
			cfg := tt.cfg
			cfg.Host, cfg.Port, cfg.From, cfg.AllowPrivate = "127.0.0.1", port, "herald@alerts.example.org", true
			if tt.trustCA {
				cfg.RootCAs = pool
			}
			s, err := email.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{ID: "x", To: channel.Address{Email: tt.to}, Subject: "s", Text: "t"})
			var ce *channel.Error
			if !errors.As(err, &ce) || ce.Permanent != tt.permanent {
				t.Fatalf("Send = %v; want permanent=%v", err, tt.permanent)
			}
			t.Logf("Send = %v", err)
			if n := len(be.deliveries()); n != 0 {
				t.Fatalf("%d deliveries despite the failure", n)
			}
		})
	}
}

func TestSender_Send_ConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := email.New(email.Config{Host: "127.0.0.1", Port: port, From: "h@example.org", TLS: "none", Timeout: 5 * time.Second, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), channel.Message{To: channel.Address{Email: "a@example.com"}})
	if err == nil || channel.IsPermanent(err) {
		t.Fatalf("Send = %v; want a temporary error", err)
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	tests := map[string]email.Config{
		"NoHost": {From: "h@example.org"},
		"NoFrom": {Host: "smtp.example.org"},
		"From":   {Host: "smtp.example.org", From: "not an address"},
		"TLS":    {Host: "smtp.example.org", From: "h@example.org", TLS: "ssl3"},
		"Port":   {Host: "smtp.example.org", From: "h@example.org", Port: 70000},
		"Auth":   {Host: "smtp.example.org", From: "h@example.org", Username: "u", Auth: "kerberos"},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := email.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestSender_Send_MessageIDSanitized(t *testing.T) {
	t.Parallel()
	be := &backend{}
	port, _ := startServer(t, be, serverOpts{})
	s, err := email.New(email.Config{Host: "127.0.0.1", Port: port, From: "h@example.org", TLS: "none", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := s.Send(context.Background(), channel.Message{ID: "job 7<evil>@x", To: channel.Address{Email: "a@example.com"}, Text: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<job_7_evil__x@example.org>"; rcpt.ProviderID != want {
		t.Errorf("Message-ID %q, want %q", rcpt.ProviderID, want)
	}
}

// TestSender_Send_PrivateTargets: the relay goes through the same outbound
// guard as the HTTP channels. Without AllowPrivate a loopback or
// unspecified host is refused before any connection is opened; with it,
// loopback is reached. The unspecified address is refused either way.
func TestSender_Send_PrivateTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host         string
		allowPrivate bool
		delivered    bool
	}{
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"localhost", false, false},
		{"localhost", true, true},
		{"0.0.0.0", false, false},
		{"0.0.0.0", true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/allowPrivate=%v", tt.host, tt.allowPrivate), func(t *testing.T) {
			t.Parallel()
			be := &backend{}
			port, _ := startServer(t, be, serverOpts{})
			s, err := email.New(email.Config{Host: tt.host, Port: port, From: "h@example.org", TLS: "none", AllowPrivate: tt.allowPrivate, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{ID: "x", To: channel.Address{Email: "a@example.com"}, Text: "t"})
			if tt.delivered {
				if err != nil || len(be.deliveries()) != 1 {
					t.Fatalf("Send = %v, %d deliveries; want delivered", err, len(be.deliveries()))
				}
				return
			}
			if !channel.IsPermanent(err) || !errors.Is(err, netguard.ErrForbiddenAddress) {
				t.Fatalf("Send = %v; want a permanent ErrForbiddenAddress", err)
			}
			if got, want := err.Error(), "email: "+string(channel.ReasonForbidden); got != want {
				t.Errorf("Send = %q; want %q", got, want)
			}
			if n := be.accepts.Load(); n != 0 {
				t.Fatalf("the server accepted %d connections; the guard must refuse before connecting", n)
			}
		})
	}
}

// TestSender_Send_FailureReasons: a failure's text names its category
// only. A closed port, a silent one, a non-SMTP service and a TLS port
// that is not TLS all read "could not connect", so a tenant cannot map
// ports through a notifier's host and port; the detail is kept for the log.
func TestSender_Send_FailureReasons(t *testing.T) {
	t.Parallel()
	// listen returns the port of a listener that treats each connection
	// with serve.
	listen := func(t *testing.T, serve func(net.Conn)) int {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); serve(c) }()
			}
		}()
		return l.Addr().(*net.TCPAddr).Port
	}
	closed := func(t *testing.T) int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	smtpd := func(o serverOpts, rcptErr *smtp.SMTPError) func(*testing.T) int {
		return func(t *testing.T) int {
			port, _ := startServer(t, &backend{rcptErr: rcptErr}, o)
			return port
		}
	}
	tests := []struct {
		name string
		port func(*testing.T) int
		cfg  email.Config
		want string
	}{
		{"ClosedPort", closed, email.Config{TLS: "none"}, "email: could not connect"},
		{"SilentPort", func(t *testing.T) int { return listen(t, func(c net.Conn) { io.Copy(io.Discard, c) }) }, email.Config{TLS: "none"}, "email: could not connect"},
		{"SSHBanner", func(t *testing.T) int {
			return listen(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n"); io.Copy(io.Discard, c) })
		}, email.Config{TLS: "none"}, "email: could not connect"},
		{"HangUp", func(t *testing.T) int { return listen(t, func(net.Conn) {}) }, email.Config{TLS: "none"}, "email: could not connect"},
		{"ImplicitTLSToPlainPort", smtpd(serverOpts{}, nil), email.Config{TLS: "tls"}, "email: could not connect"},
		{"UntrustedCert", smtpd(serverOpts{startTLS: true}, nil), email.Config{TLS: "starttls"}, "email: TLS handshake failed"},
		{"NoStartTLS", smtpd(serverOpts{}, nil), email.Config{TLS: "starttls"}, "email: TLS handshake failed"},
		{"BadPassword", smtpd(serverOpts{auth: true}, nil), email.Config{TLS: "none", Username: "herald", Password: "wrong"}, "email: authentication failed: 535 5.7.8"},
		{"NoAuthOffered", smtpd(serverOpts{}, nil), email.Config{TLS: "none", Username: "herald", Password: "s3cret"}, "email: authentication failed"},
		{"NoSuchUser", smtpd(serverOpts{}, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}), email.Config{TLS: "none"}, "email: rejected by the server: 550 5.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Host, cfg.Port, cfg.From, cfg.AllowPrivate, cfg.Timeout = "127.0.0.1", tt.port(t), "h@example.org", true, time.Second
			s, err := email.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{ID: "x", To: channel.Address{Email: "a@example.com"}, Text: "t"})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Send = %v; want %q", err, tt.want)
			}
			if d := channel.Detail(err); len(d) <= len(tt.want) || !strings.HasPrefix(d, tt.want) {
				t.Errorf("Detail = %q; want the underlying error after %q", d, tt.want)
			}
			t.Logf("detail: %s", channel.Detail(err))
		})
	}
}

// TestSender_Send_PrivateCA: a relay whose certificate a private CA signed
// (here self-signed) is refused against the system's roots, trusted with
// that CA given as PEM (a notifier's tls_ca_pem), and reached unverified
// with InsecureSkipVerify, which logs a warning at every connection.
func TestSender_Send_PrivateCA(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	var logs safeBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			// Implicit TLS's handshake is part of connecting (see
			// channel.ReasonConnect), temporary as any failure to connect.
			untrusted, permanent := channel.ReasonTLS, true
			if mode == "tls" {
				untrusted, permanent = channel.ReasonConnect, false
			}
			tests := []struct {
				name    string
				cfg     email.Config
				wantErr channel.Reason
			}{
				{"SystemRoots", email.Config{}, untrusted},
				{"PrivateCA", email.Config{CAPEM: caPEM}, ""},
				{"Insecure", email.Config{InsecureSkipVerify: true, Logger: logger}, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					be := &backend{}
					port := startServerWith(t, be, serverOpts{startTLS: mode == "starttls", implicit: mode == "tls"}, cert)
					cfg := tt.cfg
					cfg.Host, cfg.Port, cfg.From, cfg.AllowPrivate, cfg.TLS = "127.0.0.1", port, "herald@alerts.example.org", true, mode
					s, err := email.New(cfg)
					if err != nil {
						t.Fatal(err)
					}
					for i := range 2 {
						_, err = s.Send(context.Background(), channel.Message{ID: fmt.Sprint("ca-", i), To: channel.Address{Email: "ann@example.com"}, Subject: "s", Text: "t"})
						if tt.wantErr == "" && err != nil {
							t.Fatalf("Send = %v", channel.Detail(err))
						}
						if tt.wantErr != "" && (channel.ReasonOf(err) != tt.wantErr || channel.IsPermanent(err) != permanent) {
							t.Fatalf("Send = %v; want %q, permanent %v", err, tt.wantErr, permanent)
						}
					}
					if n := len(be.deliveries()); tt.wantErr == "" && n != 2 || tt.wantErr != "" && n != 0 {
						t.Fatalf("%d deliveries", n)
					}
					if cfg.InsecureSkipVerify {
						want := fmt.Sprintf("port=%d", port)
						if n := strings.Count(logs.String(), want); n != 2 || !strings.Contains(logs.String(), "level=WARN") {
							t.Fatalf("%d warnings for this relay, want one per connection (2):\n%s", n, logs.String())
						}
					}
				})
			}
		})
	}
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
