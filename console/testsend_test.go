package console_test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
)

// tcpListener returns the port of a listener on 127.0.0.1 that treats each
// connection with serve (nil: closes it at once), and the count of
// connections it accepted.
func tcpListener(t *testing.T, serve func(net.Conn)) (int, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				defer c.Close()
				if serve != nil {
					serve(c)
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, &n
}

// closedPort returns a port on 127.0.0.1 nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pop3Banner answers like a POP3 server, then waits for the client to go.
func pop3Banner(c net.Conn) {
	io.WriteString(c, "+OK POP3 server ready\r\n")
	io.Copy(io.Discard, c)
}

// testSend creates n in the fixture's project and posts "send test
// message" for it, returning the status and the page's error banner.
func testSend(t *testing.T, b *testBundle, br *browser, n *herald.Notifier) (int, string) {
	t.Helper()
	if err := b.db.CreateNotifier(b.ctx, n); err != nil {
		t.Fatal(err)
	}
	path := "/console/notifiers/" + itoa(n.ID)
	st, _, body := br.post(path, path+"/test", url.Values{"to": {"ann@example.com"}})
	i := strings.Index(body, "Test message failed:")
	if i < 0 {
		return st, ""
	}
	msg, _, _ := strings.Cut(body[i:], "<")
	return st, strings.TrimSpace(msg)
}

// TestTestSend_PortStateHidden: "send test message" is no port scanner. A
// closed port and an open port speaking another protocol fail with the same
// text, for email and webhook notifiers, and the text carries no dial error.
func TestTestSend_PortStateHidden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	br := b.browser(t)
	br.signIn()
	open, _ := tcpListener(t, pop3Banner)
	closed := closedPort(t)
	email := func(port int) *herald.Notifier {
		return &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierEmail, Name: "Mail " + itoa(int64(port)),
			Config: herald.NotifierConfig{Host: "127.0.0.1", Port: port, From: "herald@example.org", TLS: "none"}}
	}
	webhook := func(port int) *herald.Notifier {
		return &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Hook " + itoa(int64(port)),
			Config: herald.NotifierConfig{URL: "http://127.0.0.1:" + itoa(int64(port)) + "/hook"}}
	}
	for _, tt := range []struct {
		name string
		make func(int) *herald.Notifier
		want string
	}{
		{"Email", email, "Test message failed: email: could not connect"},
		{"Webhook", webhook, "Test message failed: webhook: could not connect"},
	} {
		stClosed, closedMsg := testSend(t, b, br, tt.make(closed))
		stOpen, openMsg := testSend(t, b, br, tt.make(open))
		if stClosed != 502 || stOpen != 502 || closedMsg != tt.want || openMsg != tt.want {
			t.Errorf("%s: closed port %d %q, open non-%s port %d %q; want both 502 %q", tt.name, stClosed, closedMsg, tt.name, stOpen, openMsg, tt.want)
		}
	}
}

// TestTestSend_EmailGuard: with AllowPrivateTargets off, a test email to a
// relay on loopback is refused before any connection is opened, as a test
// webhook is.
func TestTestSend_EmailGuard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.console.AllowPrivateTargets = false // before the first request reads it
	p, _, _ := b.fixture(t)
	br := b.browser(t)
	br.signIn()
	port, accepted := tcpListener(t, nil)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		st, msg := testSend(t, b, br, &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierEmail, Name: "Mail " + host,
			Config: herald.NotifierConfig{Host: host, Port: port, From: "herald@example.org", TLS: "none"}})
		if want := "Test message failed: email: target not allowed (private or loopback address)"; st != 502 || msg != want {
			t.Errorf("%s: %d %q; want 502 %q", host, st, msg, want)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the relay accepted %d connections; the guard must refuse before connecting", n)
	}
}
