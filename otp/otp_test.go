package otp_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer captures every log record as text.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// gateway is an httptest SMS gateway that records what it is sent.
type gateway struct {
	mu     sync.Mutex
	bodies []map[string]string
	status int // 0: 200
	srv    *httptest.Server
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.status != 0 {
			// Like some gateways, echo the request in the error.
			w.WriteHeader(g.status)
			fmt.Fprintf(w, "rejected: %s", b)
			return
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("gateway got %q: %v", b, err)
		}
		g.bodies = append(g.bodies, m)
		fmt.Fprint(w, `{"id":"sms-1"}`)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) setStatus(s int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = s
}

func (g *gateway) sent() []map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]string(nil), g.bodies...)
}

// mailbox is an in-process SMTP server.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailMsg
	port int
}

type mailMsg struct {
	from, to string
	data     string
}

type mailSession struct {
	mb       *mailbox
	from, to string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: m}, nil }

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mb.msgs = append(s.mb.msgs, mailMsg{from: s.from, to: s.to, data: string(b)})
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func newMailbox(t *testing.T) *mailbox {
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	mb.port = l.Addr().(*net.TCPAddr).Port
	return mb
}

func (m *mailbox) received() []mailMsg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mailMsg(nil), m.msgs...)
}

// testBundle is one tenant with a project whose settings name an SMS
// notifier (the gateway) and an email notifier (the mailbox).
type testBundle struct {
	db      *store.DB
	ctx     context.Context
	project *herald.Project
	svc     *otp.Service
	clock   *clock
	logs    *logBuffer
	gw      *gateway
	mb      *mailbox
}

func setup(t *testing.T, db *store.DB, codeLen int, cfg otp.Config) *testBundle {
	t.Helper()
	b := &testBundle{db: db, clock: &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}, logs: &logBuffer{}, gw: newGateway(t), mb: newMailbox(t)}
	b.ctx = storetest.NewTenant(t, db, "acme")
	b.project = &herald.Project{Name: "shop"}
	if err := db.CreateProject(b.ctx, b.project); err != nil {
		t.Fatal(err)
	}
	smsN := &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierSMS, Name: "ippanel_one", Config: herald.NotifierConfig{URL: b.gw.srv.URL}}
	mailN := &herald.Notifier{ProjectID: b.project.ID, Type: herald.NotifierEmail, Name: "moeinmail",
		Config: herald.NotifierConfig{Host: "127.0.0.1", Port: b.mb.port, From: "Shop <no-reply@shop.test>", TLS: "none"}}
	for _, n := range []*herald.Notifier{smsN, mailN} {
		if err := db.CreateNotifier(b.ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.UpdateNotificationSettings(b.ctx, b.project.ID, herald.NotificationSettingsUpdate{
		SMSNotifier: &herald.NullableID{ID: smsN.ID}, EmailNotifier: &herald.NullableID{ID: mailN.ID}, OTPCodeLen: &codeLen,
	}); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Settings, cfg.Notifiers, cfg.Projects = db, db, db, db
	cfg.Key = []byte("0123456789abcdef0123456789abcdef")
	cfg.AllowPrivateTargets = true
	cfg.Now = b.clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := otp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.svc = svc
	return b
}

var reCode = regexp.MustCompile(`verification code is ([0-9]+)\.`)

// lastSMSCode is the code in the gateway's last message.
func (b *testBundle) lastSMSCode(t *testing.T) string {
	t.Helper()
	sent := b.gw.sent()
	if len(sent) == 0 {
		t.Fatal("the gateway got nothing")
	}
	m := reCode.FindStringSubmatch(sent[len(sent)-1]["text"])
	if m == nil {
		t.Fatalf("no code in %q", sent[len(sent)-1]["text"])
	}
	return m[1]
}

func (b *testBundle) sendSMS(t *testing.T, to, purpose string) (*herald.OTP, string) {
	t.Helper()
	o, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: to, Purpose: purpose})
	if err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	return o, b.lastSMSCode(t)
}

// wantFail checks that err is a failed verification saying want.
func wantFail(t *testing.T, err error, code, want string) {
	t.Helper()
	if herald.ErrorCode(err) != code || !strings.Contains(herald.ErrorMessage(err), want) {
		t.Fatalf("err = %v; want %s containing %q", err, code, want)
	}
}

func TestService_SMS(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 6, otp.Config{})
		o, code := b.sendSMS(t, "+86 138-0000-0000", "login")
		sent := b.gw.sent()
		if len(sent) != 1 || sent[0]["to"] != "+8613800000000" {
			t.Fatalf("gateway got %v", sent)
		}
		if want := "Your verification code is " + code + ". It expires in 2 minutes."; sent[0]["text"] != want || len(code) != 6 {
			t.Fatalf("text = %q; want %q with 6 digits", sent[0]["text"], want)
		}
		if !strings.HasPrefix(o.ID, "otp_") || o.CodeHash != "" || !o.ExpiresAt.Equal(b.clock.Now().Add(120*time.Second)) || o.To != "+8613800000000" {
			t.Fatalf("answer = %+v", o)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: wrong})
		wantFail(t, err, herald.EINVALID, "The code is wrong.")
		if got, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code}); err != nil || got.Status != herald.OTPUsed {
			t.Fatalf("verify = %+v, %v", got, err)
		}
		_, err = b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code})
		wantFail(t, err, herald.EINVALID, "already been used")
		_, err = b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: "+8613800000000", Purpose: "login", Code: code})
		wantFail(t, err, herald.EINVALID, "already been used")
	})
}

func TestService_Email(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{})
		o, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "email", To: "Ann@Example.com", Purpose: "signup"})
		if err != nil {
			t.Fatal(err)
		}
		msgs := b.mb.received()
		if len(msgs) != 1 || msgs[0].to != "ann@example.com" || msgs[0].from != "no-reply@shop.test" {
			t.Fatalf("mailbox got %+v", msgs)
		}
		m := reCode.FindStringSubmatch(msgs[0].data)
		if m == nil || len(m[1]) != 5 || !strings.Contains(msgs[0].data, "Subject: Your verification code") {
			t.Fatalf("mail = %q", msgs[0].data)
		}
		if o.Channel != "email" || o.To != "ann@example.com" {
			t.Fatalf("answer = %+v", o)
		}
		// By destination and purpose, in any case and spacing.
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: " ANN@example.com", Purpose: "signup", Code: m[1]}); err != nil {
			t.Fatalf("verify: %v", err)
		}
		_, err = b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: m[1]})
		wantFail(t, err, herald.EINVALID, "already been used")
	})
}

func TestService_Verify_Failures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{})

		t.Run("Expired", func(t *testing.T) {
			o, code := b.sendSMS(t, "+15550000001", "login")
			b.clock.Advance(120 * time.Second)
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code})
			wantFail(t, err, herald.EINVALID, "expired")
		})
		t.Run("TooManyAttempts", func(t *testing.T) {
			o, code := b.sendSMS(t, "+15550000002", "login")
			wrong := "00000"
			if code == wrong {
				wrong = "11111"
			}
			for i := 0; i < 4; i++ {
				_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: wrong})
				wantFail(t, err, herald.EINVALID, "The code is wrong.")
			}
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: wrong})
			wantFail(t, err, herald.EINVALID, "Too many wrong attempts")
			_, err = b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code})
			wantFail(t, err, herald.EINVALID, "Too many wrong attempts")
		})
		t.Run("Replaced", func(t *testing.T) {
			old, oldCode := b.sendSMS(t, "+15550000003", "login")
			b.clock.Advance(31 * time.Second)
			o, code := b.sendSMS(t, "+15550000003", "login")
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: old.ID, Code: oldCode})
			wantFail(t, err, herald.EINVALID, "replaced")
			if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code}); err != nil {
				t.Fatalf("the new code: %v", err)
			}
		})
		t.Run("OtherPurposeIsOtherCode", func(t *testing.T) {
			_, loginCode := b.sendSMS(t, "+15550000004", "login")
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: "+15550000004", Purpose: "reset", Code: loginCode})
			wantFail(t, err, herald.EINVALID, "No code was sent")
		})
		t.Run("UnknownID", func(t *testing.T) {
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: "otp_NOSUCHCODE", Code: "12345"})
			wantFail(t, err, herald.ENOTFOUND, "not found")
		})
		t.Run("OtherTenant", func(t *testing.T) {
			o, code := b.sendSMS(t, "+15550000005", "login")
			other := storetest.NewTenant(t, db, "globex")
			p := &herald.Project{Name: "other"}
			if err := db.CreateProject(other, p); err != nil {
				t.Fatal(err)
			}
			_, err := b.svc.VerifyOTP(other, herald.OTPVerify{ID: o.ID, Code: code})
			wantFail(t, err, herald.ENOTFOUND, "not found")
		})
		t.Run("BadInput", func(t *testing.T) {
			for _, tt := range []struct {
				req   herald.OTPSend
				field string
			}{
				{herald.OTPSend{Channel: "fax", To: "+15550000006"}, "channel"},
				{herald.OTPSend{Channel: "sms", To: "call me"}, "to"},
				{herald.OTPSend{Channel: "email", To: "not-an-address"}, "to"},
				{herald.OTPSend{Channel: "sms", To: "+15550000006", Purpose: "no spaces allowed"}, "purpose"},
			} {
				_, err := b.svc.SendOTP(b.ctx, tt.req)
				if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
					t.Errorf("SendOTP(%+v) = %v; want invalid %s", tt.req, err, tt.field)
				}
			}
			_, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: "+15550000006", Code: "12a45"})
			if herald.ErrorField(err) != "code" {
				t.Errorf("non-digit code: %v", err)
			}
		})
	})
}

func TestService_Limits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{DailyCap: 3})
		to := "+15550000010"
		b.sendSMS(t, to, "login")
		b.clock.Advance(10 * time.Second)
		_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: to, Purpose: "other"})
		wantFail(t, err, herald.ERATELIMITED, "try again in 20 seconds")
		if n := len(b.gw.sent()); n != 1 {
			t.Fatalf("a refused send reached the gateway: %d messages", n)
		}
		b.clock.Advance(20 * time.Second)
		b.sendSMS(t, to, "login")
		b.clock.Advance(30 * time.Second)
		o, code := b.sendSMS(t, to, "login")
		b.clock.Advance(30 * time.Second)
		_, err = b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: to, Purpose: "login"})
		wantFail(t, err, herald.ERATELIMITED, "3 codes in the last 24 hours")
		// The refused send did not void the code in hand.
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code}); err != nil {
			t.Fatalf("the last code after a refused send: %v", err)
		}
		// Another destination is not limited.
		b.sendSMS(t, "+15550000011", "login")
		b.clock.Advance(24 * time.Hour)
		b.sendSMS(t, to, "login")
	})
}

func TestService_SendFailure(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 8, otp.Config{})
		b.gw.setStatus(http.StatusBadRequest)
		_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: "+15550000020", Purpose: "login"})
		wantFail(t, err, herald.EINTERNAL, "no code was issued")
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM otps`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("otps rows after a failed send: %d, %v", n, err)
		}
		if !strings.Contains(b.logs.String(), "rejected") || !strings.Contains(b.logs.String(), "[code]") {
			t.Fatalf("the failure is not logged, redacted: %s", b.logs.String())
		}
		// The failed send cost no quota: the next one goes at once.
		b.gw.setStatus(0)
		o, code := b.sendSMS(t, "+15550000020", "login")
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: o.ID, Code: code}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestService_NoNotifier(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 5, otp.Config{})
		if _, err := db.UpdateNotificationSettings(b.ctx, b.project.ID, herald.NotificationSettingsUpdate{EmailNotifier: &herald.NullableID{Null: true}}); err != nil {
			t.Fatal(err)
		}
		_, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "email", To: "ann@example.com"})
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "channel" {
			t.Fatalf("err = %v; want invalid channel", err)
		}
	})
}

// dumpTables returns every row of every table of db as text.
func dumpTables(t *testing.T, db *store.DB) string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect() == store.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var out strings.Builder
	for _, table := range tables {
		dumpTable(t, db.SQL(), table, &out)
	}
	return out.String()
}

func dumpTable(t *testing.T, db *sql.DB, table string, out *strings.Builder) {
	rows, err := db.Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(out, "%v|", v)
		}
		out.WriteString("\n")
	}
}

func TestService_NoCodeInClear(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Ten digits cannot turn up by chance in a timestamp or a hash.
		b := setup(t, db, 10, otp.Config{})
		var codes []string
		smsOTP, smsCode := b.sendSMS(t, "+15550000030", "login")
		codes = append(codes, smsCode)
		if _, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "email", To: "bob@example.com", Purpose: "login"}); err != nil {
			t.Fatal(err)
		}
		msgs := b.mb.received()
		mailCode := reCode.FindStringSubmatch(msgs[len(msgs)-1].data)[1]
		codes = append(codes, mailCode)
		b.gw.setStatus(http.StatusInternalServerError)
		b.clock.Advance(time.Minute)
		if _, err := b.svc.SendOTP(b.ctx, herald.OTPSend{Channel: "sms", To: "+15550000031"}); err == nil {
			t.Fatal("a failed send succeeded")
		}
		// (the failed send's code only ever reached the gateway's echo.)

		check := func(when string) {
			t.Helper()
			dump, logs := dumpTables(t, db), b.logs.String()
			if !strings.Contains(dump, smsOTP.ID) || !strings.Contains(logs, smsOTP.ID) {
				t.Fatalf("%s: the dump or the log is not what this test thinks it is", when)
			}
			for _, c := range codes {
				if len(c) != 10 {
					t.Fatalf("code %q", c)
				}
				if strings.Contains(dump, c) {
					t.Errorf("%s: the database holds a code in clear", when)
				}
				if strings.Contains(logs, c) {
					t.Errorf("%s: the log holds a code in clear", when)
				}
			}
		}
		check("active")
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{ID: smsOTP.ID, Code: smsCode}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.VerifyOTP(b.ctx, herald.OTPVerify{To: "bob@example.com", Purpose: "login", Code: "0000000000"}); err == nil {
			t.Fatal("a wrong code verified")
		}
		check("verified")
	})
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]string{120: "2 minutes", 60: "1 minute", 90: "90 seconds", 30: "30 seconds", 3600: "1 hour", 7200: "2 hours", 86400: "1 day", 1: "1 second"} {
		if got := otp.Duration(in); got != want {
			t.Errorf("Duration(%d) = %q; want %q", in, got, want)
		}
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t, store.DialectSQLite)
	if _, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: []byte("short")}); err == nil {
		t.Error("a short key is accepted")
	}
	if _, err := otp.New(otp.Config{Key: make([]byte, 32)}); err == nil {
		t.Error("missing services are accepted")
	}
}
