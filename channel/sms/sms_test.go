package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/sms"
)

// gateway is an HTTP SMS gateway that insists on an API key and a JSON body.
type gateway struct {
	srv    *httptest.Server
	status int
	answer string

	mu     sync.Mutex
	method string
	header http.Header
	body   string
}

func newGateway(t *testing.T, status int, answer string) *gateway {
	t.Helper()
	g := &gateway{status: status, answer: answer}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		g.method, g.header, g.body = r.Method, r.Header.Clone(), string(b)
		if r.Header.Get("X-Api-Key") != "k1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !json.Valid(b) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(g.status)
		io.WriteString(w, g.answer)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func config(g *gateway) sms.Config {
	return sms.Config{
		URL:     g.srv.URL + "/v1/messages",
		Headers: map[string]string{"X-Api-Key": "k1"},
		Client:  netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}),
	}
}

func TestSender_Send(t *testing.T) {
	t.Parallel()
	msg := channel.Message{
		ID:      "d-42",
		To:      channel.Address{Name: "Zhang \"San\"", Mobile: "+8613800000000"},
		Subject: "Disk",
		Text:    "db1 is at 99% \"full\"\nback\\slash </x>",
	}
	tests := []struct {
		name     string
		method   string
		tmpl     string
		headers  map[string]string
		answer   string
		wantBody string
		wantID   string
		wantCT   string
	}{
		{
			name:     "DefaultTemplate",
			answer:   `{"id":"SM123","status":"queued"}`,
			wantBody: `{"to":"+8613800000000","text":"db1 is at 99% \"full\"\nback\\slash \u003c/x\u003e"}`,
			wantID:   "SM123",
			wantCT:   "application/json; charset=utf-8",
		},
		{
			name:     "CustomTemplatePut",
			method:   "put",
			tmpl:     `{"messages":[{"destinations":[{"to":{{json .To}}}],"text":{{json (printf "%s: %s" .Subject .Text)}},"ref":{{json .ID}},"name":{{json .Name}}}]}`,
			headers:  map[string]string{"Content-Type": "application/vnd.gw+json"},
			answer:   `{"message_id":7}`,
			wantBody: `{"messages":[{"destinations":[{"to":"+8613800000000"}],"text":"Disk: db1 is at 99% \"full\"\nback\\slash \u003c/x\u003e","ref":"d-42","name":"Zhang \"San\""}]}`,
			wantID:   "7",
			wantCT:   "application/vnd.gw+json",
		},
		{
			name:     "PlainAnswer",
			answer:   `OK`,
			wantBody: `{"to":"+8613800000000","text":"db1 is at 99% \"full\"\nback\\slash \u003c/x\u003e"}`,
			wantCT:   "application/json; charset=utf-8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGateway(t, http.StatusAccepted, tt.answer)
			cfg := config(g)
			cfg.Method, cfg.BodyTemplate = tt.method, tt.tmpl
			for k, v := range tt.headers {
				cfg.Headers[k] = v
			}
			s, err := sms.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rcpt, err := s.Send(context.Background(), msg)
			if err != nil {
				t.Fatal(err)
			}
			if rcpt.StatusCode != http.StatusAccepted || rcpt.ProviderID != tt.wantID {
				t.Errorf("receipt %+v; want 202, %q", rcpt, tt.wantID)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if want := strings.ToUpper(tt.method); want != "" && g.method != want || want == "" && g.method != "POST" {
				t.Errorf("method %s", g.method)
			}
			if g.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", g.body, tt.wantBody)
			}
			if ct := g.header.Get("Content-Type"); ct != tt.wantCT {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantCT)
			}
		})
	}
}

func TestSender_Send_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		apiKey     string
		to         string
		permanent  bool
		retryAfter time.Duration
	}{
		{"Unauthorized", 200, "wrong", "+1", true, 0},
		{"NoMobile", 200, "k1", "", true, 0},
		{"Throttled", 429, "k1", "+1", false, 0},
		{"Down", 502, "k1", "+1", false, 0},
		{"Rejected", 422, "k1", "+1", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGateway(t, tt.status, "")
			cfg := config(g)
			cfg.Headers["X-Api-Key"] = tt.apiKey
			s, err := sms.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{To: channel.Address{Mobile: tt.to}, Text: "x"})
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

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	tests := map[string]sms.Config{
		"NoURL":        {},
		"Method":       {URL: "https://sms.example/", Method: "GET"},
		"Header":       {URL: "https://sms.example/", Headers: map[string]string{"X Key": "v"}},
		"Syntax":       {URL: "https://sms.example/", BodyTemplate: `{"to":{{json .To}`},
		"UnknownField": {URL: "https://sms.example/", BodyTemplate: `{"to":{{json .Phone}}}`},
		// The classic mistake: a value pasted into quotes without json.
		"Unescaped": {URL: "https://sms.example/", BodyTemplate: `{"to":"{{.To}}","text":"{{.Text}}"}`},
		"NotJSON":   {URL: "https://sms.example/", BodyTemplate: `to={{.To}}`},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := sms.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}
