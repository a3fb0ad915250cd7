package lark_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/lark"
	"github.com/heraldhq/herald/channel/netguard"
)

const (
	secret = "demo"
	nowSec = 1599360473
	// wantSign was derived once, outside Go, with
	//   printf '' | openssl dgst -sha256 -hmac $'1599360473\ndemo' -binary | base64
	// (HMAC keyed by "timestamp\nsecret" over an empty message).
	wantSign = "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
)

// independentSign is Feishu's documented construction, written again here.
func independentSign(ts, secret string) string {
	mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
	mac.Write(nil)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		secret string
		ts     int64
	}{
		{"demo", nowSec},
		{"a-longer-secret-9f8e7d", 1700000000},
		{"", 1},
	}
	for _, tt := range tests {
		got := lark.Sign(tt.secret, tt.ts)
		if want := independentSign(strconv.FormatInt(tt.ts, 10), tt.secret); got != want {
			t.Errorf("Sign(%q, %d) = %q, want %q", tt.secret, tt.ts, got, want)
		}
	}
	if got := lark.Sign(secret, nowSec); got != wantSign {
		t.Errorf("Sign(demo, 1599360473) = %q, want the openssl-derived %q", got, wantSign)
	}
}

// bot imitates open.feishu.cn/open-apis/bot/v2/hook/{id}.
type bot struct {
	srv    *httptest.Server
	secret string
	answer string

	mu      sync.Mutex
	body    string
	verdict error
}

func newBot(t *testing.T, secret, answer string) *bot {
	t.Helper()
	b := &bot{secret: secret, answer: answer}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.body, b.verdict = string(raw), b.check(r, raw)
		if b.verdict != nil {
			io.WriteString(w, `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`)
			return
		}
		io.WriteString(w, b.answer)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bot) check(r *http.Request, raw []byte) error {
	if r.Method != http.MethodPost || r.URL.Path != "/open-apis/bot/v2/hook/abc" {
		return errors.New("wrong endpoint " + r.Method + " " + r.URL.Path)
	}
	var body struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return err
	}
	if b.secret == "" {
		return nil
	}
	ts, err := strconv.ParseInt(body.Timestamp, 10, 64)
	if err != nil {
		return err
	}
	if d := time.Unix(nowSec, 0).Sub(time.Unix(ts, 0)); d < -time.Hour || d > time.Hour {
		return errors.New("timestamp more than an hour off")
	}
	if body.Sign != independentSign(body.Timestamp, b.secret) {
		return errors.New("sign mismatch")
	}
	return nil
}

func newSender(t *testing.T, b *bot, secret string) *lark.Sender {
	t.Helper()
	s, err := lark.New(lark.Config{
		URL:    b.srv.URL + "/open-apis/bot/v2/hook/abc",
		Secret: secret,
		Client: netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}),
		Now:    func() time.Time { return time.Unix(nowSec, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSender_Send(t *testing.T) {
	t.Parallel()
	const ok = `{"code":0,"data":{},"msg":"success"}`
	tests := []struct {
		name     string
		secret   string
		answer   string
		msg      channel.Message
		wantBody string
	}{
		{
			name:     "SignedPost",
			secret:   secret,
			answer:   ok,
			msg:      channel.Message{Subject: "Disk full", Text: "db1: 99% used\nsee \"runbook\"\n", AtUserIDs: []string{"ou_1", "all"}, AtMobiles: []string{"138"}},
			wantBody: `{"timestamp":"1599360473","sign":"` + wantSign + `","msg_type":"post","content":{"post":{"zh_cn":{"title":"Disk full","content":[[{"tag":"text","text":"db1: 99% used"}],[{"tag":"text","text":"see \"runbook\""}],[{"tag":"at","user_id":"ou_1"},{"tag":"at","user_id":"all"}]]}}}}`,
		},
		{
			name:     "UnsignedCard",
			answer:   ok,
			msg:      channel.Message{Subject: "ignored", Card: json.RawMessage(`{"header":{"title":{"tag":"plain_text","content":"Hi"}},"elements":[]}`)},
			wantBody: `{"msg_type":"interactive","card":{"header":{"title":{"tag":"plain_text","content":"Hi"}},"elements":[]}}`,
		},
		{
			name:     "LegacyAnswer",
			secret:   secret,
			answer:   `{"Extra":null,"StatusCode":0,"StatusMessage":"success"}`,
			msg:      channel.Message{Subject: "s", Markdown: "**m**"},
			wantBody: `{"timestamp":"1599360473","sign":"` + wantSign + `","msg_type":"post","content":{"post":{"zh_cn":{"title":"s","content":[[{"tag":"text","text":"**m**"}]]}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBot(t, tt.secret, tt.answer)
			rcpt, err := newSender(t, b, tt.secret).Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if rcpt.StatusCode != 200 {
				t.Errorf("StatusCode = %d", rcpt.StatusCode)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.verdict != nil {
				t.Fatalf("bot rejected the request: %v", b.verdict)
			}
			if b.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", b.body, tt.wantBody)
			}
		})
	}
}

func TestSender_Send_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		botSecret string
		answer    string
		msg       channel.Message
		permanent bool
		// pause is how long the bot is left alone after the answer: a
		// frequency limit holds every node off (issue 12).
		pause time.Duration
	}{
		{"FrequencyLimited", secret, `{"code":9499,"msg":"too many request","data":{}}`, channel.Message{Text: "x"}, false, time.Second},
		{"RateLimited", secret, `{"code":11232,"msg":"frequency limited psm","data":{}}`, channel.Message{Text: "x"}, false, time.Minute},
		{"Keyword", secret, `{"code":19024,"msg":"Key Words Not Found","data":{}}`, channel.Message{Text: "x"}, true, 0},
		{"WrongSecret", "other", `{"code":0}`, channel.Message{Text: "x"}, true, 0},
		{"LegacyFailure", secret, `{"StatusCode":19001,"StatusMessage":"param invalid"}`, channel.Message{Text: "x"}, true, 0},
		{"Unreadable", secret, `oops`, channel.Message{Text: "x"}, false, 0},
		{"BadCard", secret, `{"code":0}`, channel.Message{Card: json.RawMessage(`{`)}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBot(t, tt.botSecret, tt.answer)
			_, err := newSender(t, b, secret).Send(context.Background(), tt.msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			var ce *channel.Error
			if !errors.As(err, &ce) || ce.Permanent != tt.permanent {
				t.Fatalf("Send = %v; want permanent=%v", err, tt.permanent)
			}
			if got := channel.RetryAfterOf(err); got != tt.pause {
				t.Fatalf("Send = %v: retry after %v; want %v", err, got, tt.pause)
			}
		})
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "open.feishu.cn/open-apis/bot/v2/hook/x", "https://"} {
		if _, err := lark.New(lark.Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
