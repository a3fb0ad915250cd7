package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/webhook"
)

// The reference vector of the Standard Webhooks specification, as used by
// its libraries' test suites.
const (
	refSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refTimestamp = 1614265330
	refPayload   = `{"test": 2432232314}`
	refSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// received is one request as the peer saw it.
type received struct {
	header http.Header
	body   string
	// verified is the peer's own verdict on the signature.
	verified error
}

// peer is a webhook receiver that verifies Standard Webhooks signatures with
// its own code, written from the specification rather than from the sender.
type peer struct {
	srv    *httptest.Server
	secret string
	status int
	header http.Header

	mu  sync.Mutex
	got []received
}

func newPeer(t *testing.T, secret string) *peer {
	t.Helper()
	p := &peer{secret: secret, status: http.StatusOK, header: http.Header{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got = append(p.got, received{header: r.Header.Clone(), body: string(body), verified: p.verify(r.Header, body)})
		status := p.status
		for k, v := range p.header {
			w.Header()[k] = v
		}
		p.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return errors.New("bad timestamp")
	}
	var key []byte
	if rest, ok := strings.CutPrefix(p.secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return err
		}
	} else {
		key = []byte(p.secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

func (p *peer) last(t *testing.T) received {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.got) == 0 {
		t.Fatal("peer received nothing")
	}
	return p.got[len(p.got)-1]
}

func fixedNow(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

func testClient() *http.Client {
	return netguard.NewHTTPClient(netguard.Options{AllowPrivate: true})
}

func TestSign_ReferenceVector(t *testing.T) {
	t.Parallel()
	key, err := webhook.DecodeSecret(refSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := webhook.Sign(key, refID, refTimestamp, []byte(refPayload)); got != refSignature {
		t.Fatalf("Sign = %q, want %q", got, refSignature)
	}
}

func TestSender_Send(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		secret      string
		cfgHeaders  map[string]string
		msg         channel.Message
		wantBody    string
		wantHeaders map[string]string
		wantSig     string // exact webhook-signature, when known in advance
	}{
		{
			name:     "ReferenceVector",
			secret:   refSecret,
			msg:      channel.Message{ID: refID, Body: []byte(refPayload)},
			wantBody: refPayload,
			wantSig:  refSignature,
		},
		{
			name:     "DefaultBody",
			secret:   "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
			msg:      channel.Message{ID: "d1", Subject: "Disk full", Text: "db1: 99% \"used\"", To: channel.Address{Name: "Ann", Email: "ann@example.com"}},
			wantBody: `{"id":"d1","subject":"Disk full","text":"db1: 99% \"used\"","to":{"name":"Ann","email":"ann@example.com"}}`,
		},
		{
			name:     "RawSecret",
			secret:   "not-a-whsec-secret",
			msg:      channel.Message{ID: "r1", Subject: "s", Text: "t", HTML: "<p>t</p>"},
			wantBody: `{"id":"r1","subject":"s","text":"t","html":"\u003cp\u003et\u003c/p\u003e"}`,
		},
		{
			name:       "Headers",
			secret:     "k",
			cfgHeaders: map[string]string{"Authorization": "Bearer cfg", "X-Team": "ops", "Content-Type": "text/plain"},
			msg: channel.Message{ID: "h1", Body: []byte(`{"a":1}`), Headers: map[string]string{
				"x-team": "sre", "webhook-id": "forged", "Webhook-Signature": "v1,forged",
			}},
			wantBody: `{"a":1}`,
			wantHeaders: map[string]string{
				"Authorization": "Bearer cfg", "X-Team": "sre",
				"Content-Type": "application/json; charset=utf-8", "Webhook-Id": "h1", "User-Agent": "Herald",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, tt.secret)
			s, err := webhook.New(webhook.Config{
				URL: p.srv.URL + "/hook", Secret: tt.secret, Headers: tt.cfgHeaders,
				Client: testClient(), Now: fixedNow(refTimestamp),
			})
			if err != nil {
				t.Fatal(err)
			}
			rcpt, err := s.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if rcpt.StatusCode != http.StatusOK {
				t.Errorf("StatusCode = %d", rcpt.StatusCode)
			}
			got := p.last(t)
			if got.verified != nil {
				t.Errorf("peer rejected the signature: %v", got.verified)
			}
			if got.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", got.body, tt.wantBody)
			}
			if ts := got.header.Get("Webhook-Timestamp"); ts != strconv.Itoa(refTimestamp) {
				t.Errorf("webhook-timestamp = %q", ts)
			}
			if id := got.header.Get("Webhook-Id"); id != tt.msg.ID {
				t.Errorf("webhook-id = %q, want %q", id, tt.msg.ID)
			}
			if tt.wantSig != "" && got.header.Get("Webhook-Signature") != tt.wantSig {
				t.Errorf("webhook-signature = %q, want %q", got.header.Get("Webhook-Signature"), tt.wantSig)
			}
			for k, v := range tt.wantHeaders {
				if g := got.header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

func TestSender_Send_Unsigned(t *testing.T) {
	t.Parallel()
	p := newPeer(t, "")
	s, err := webhook.New(webhook.Config{URL: p.srv.URL, Client: testClient()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), channel.Message{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	got := p.last(t)
	if got.header.Get("Webhook-Signature") != "" {
		t.Error("unsigned sender sent a signature")
	}
	if id := got.header.Get("Webhook-Id"); !strings.HasPrefix(id, "msg_") {
		t.Errorf("webhook-id = %q; want a generated msg_ id", id)
	}
}

func TestSender_Send_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     http.Header
		msg        channel.Message
		permanent  bool
		retryAfter time.Duration
	}{
		{"BadRequest", 400, nil, channel.Message{ID: "1"}, true, 0},
		{"Gone", 410, nil, channel.Message{ID: "1"}, true, 0},
		{"Timeout", 408, nil, channel.Message{ID: "1"}, false, 0},
		{"TooMany", 429, http.Header{"Retry-After": {"30"}}, channel.Message{ID: "1"}, false, 30 * time.Second},
		{"Unavailable", 503, http.Header{"Retry-After": {"Mon, 01 Mar 2021 16:03:00 GMT"}}, channel.Message{ID: "1"}, false, time.Hour},
		{"ServerError", 500, nil, channel.Message{ID: "1"}, false, 0},
		{"InvalidBody", 200, nil, channel.Message{ID: "1", Body: []byte("{nope")}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, "k")
			p.status, p.header = tt.status, tt.header
			// 1614610980 is Mon, 01 Mar 2021 15:03:00 GMT.
			s, err := webhook.New(webhook.Config{URL: p.srv.URL, Secret: "k", Client: testClient(), Now: fixedNow(1614610980)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), tt.msg)
			var ce *channel.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Send = %v; want *channel.Error", err)
			}
			if ce.Permanent != tt.permanent || ce.RetryAfter != tt.retryAfter {
				t.Errorf("Permanent=%v RetryAfter=%v; want %v %v (%v)", ce.Permanent, ce.RetryAfter, tt.permanent, tt.retryAfter, err)
			}
		})
	}
}

func TestSender_Send_DefaultClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	p := newPeer(t, "")
	s, err := webhook.New(webhook.Config{URL: p.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), channel.Message{ID: "1"})
	if !channel.IsPermanent(err) || !errors.Is(err, netguard.ErrForbiddenAddress) {
		t.Fatalf("Send = %v; want permanent ErrForbiddenAddress", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.got) != 0 {
		t.Fatal("the guarded default client reached the loopback peer")
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	tests := map[string]webhook.Config{
		"NoURL":        {},
		"Scheme":       {URL: "ftp://example.com/"},
		"SecretBase64": {URL: "https://example.com/", Secret: "whsec_***"},
		"SecretEmpty":  {URL: "https://example.com/", Secret: "whsec_"},
		"HeaderName":   {URL: "https://example.com/", Headers: map[string]string{"Bad Header": "x"}},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := webhook.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

// TestSender_Send_Redirect: a receiver answering a redirect is a failed
// delivery, permanent, whose error shows where it pointed. Following it
// would have sent a GET with an empty body (301, 302, 303) to a URL nobody
// configured, or the signed body and configured headers there (307, 308),
// and recorded the delivery delivered on the landing page's 200.
func TestSender_Send_Redirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var landed []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/landing" {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					landed = append(landed, r.Method+" "+string(b))
					mu.Unlock()
					return // 200
				}
				http.Redirect(w, r, "/landing?token=leak", status)
			}))
			t.Cleanup(srv.Close)
			s, err := webhook.New(webhook.Config{URL: srv.URL + "/hook", Secret: refSecret, Client: testClient()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{ID: "r1", Text: "hello"})
			if err == nil || !channel.IsPermanent(err) {
				t.Fatalf("Send = %v; want a permanent failure", err)
			}
			if want := srv.URL + "/landing"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), strconv.Itoa(status)) {
				t.Errorf("error %q; want the status and Location %s", err, want)
			}
			if strings.Contains(err.Error(), "leak") {
				t.Errorf("error %q shows the Location's query", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(landed) != 0 {
				t.Errorf("redirect followed: %q", landed)
			}
		})
	}
}

// TestSender_Send_OfficialLibraryVerifies: every secret a notifier accepts
// signs requests that a receiver written with the official Standard
// Webhooks library verifies, configured with that same secret
// (standardwebhooks.NewWebhook and Verify, timestamp tolerance included).
// A raw secret used to be accepted and signed with its bytes as the key,
// which NewWebhook cannot reproduce: it base64-decodes what it is given.
func TestSender_Send_OfficialLibraryVerifies(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{
		refSecret,
		"whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef0123456789abcdef")),
		"abcd1234abcd1234abcd1234abcd1234", // raw, yet valid base64
		"my-shared-secret",                 // raw
	} {
		t.Run(secret, func(t *testing.T) {
			t.Parallel()
			n := &herald.Notifier{Type: herald.NotifierWebhook, Name: "hook", Secret: secret, Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}
			if err := n.Validate(); err != nil {
				if herald.ErrorField(err) != "secret" {
					t.Fatalf("Validate = %v; want valid, or refused naming secret", err)
				}
				return // refused at creation: it never signs anything
			}
			wh, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatalf("a secret Validate accepts is refused by standardwebhooks.NewWebhook: %v", err)
			}
			verdict := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				verdict <- wh.Verify(body, r.Header)
			}))
			t.Cleanup(srv.Close)
			s, err := webhook.New(webhook.Config{URL: srv.URL, Secret: n.Secret, Client: testClient()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(context.Background(), channel.Message{ID: "msg_1", Subject: "s", Text: "t"}); err != nil {
				t.Fatal(err)
			}
			if err := <-verdict; err != nil {
				t.Fatalf("the official library rejects the signature: %v", err)
			}
		})
	}
}
