package dingtalk_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/dingtalk"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/ratelimit"
)

const (
	token  = "tok123"
	secret = "SECtest"
	// nowMS is the test clock. Its signature with secret, computed once with
	//   printf '%s\n%s' 1700000000001 SECtest | openssl dgst -sha256 -hmac SECtest -binary | base64
	// holds '/', '+' and '=', so the URL encoding is exercised too.
	nowMS      = 1700000000001
	wantSign   = "r4CWp/Dz+Ng0sbTjH1vB0Fr+uQ2fn831mssaN6/C05I="
	wantSignQS = "r4CWp%2FDz%2BNg0sbTjH1vB0Fr%2BuQ2fn831mssaN6%2FC05I%3D"
)

var now = time.UnixMilli(nowMS)

// robot imitates oapi.dingtalk.com/robot/send: it checks the token and,
// when it has a secret, the signature (recomputed here from DingTalk's
// documentation), and answers with its configured errcode.
type robot struct {
	srv    *httptest.Server
	secret string
	answer string

	mu       sync.Mutex
	rawQuery string
	body     string
	verdict  error
	n        int
}

func newRobot(t *testing.T, secret, answer string) *robot {
	t.Helper()
	rb := &robot{secret: secret, answer: answer}
	rb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rb.mu.Lock()
		defer rb.mu.Unlock()
		rb.n++
		rb.rawQuery, rb.body, rb.verdict = r.URL.RawQuery, string(b), rb.check(r)
		w.Header().Set("Content-Type", "application/json")
		if rb.verdict != nil {
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
		io.WriteString(w, rb.answer)
	}))
	t.Cleanup(rb.srv.Close)
	return rb
}

func (rb *robot) check(r *http.Request) error {
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
		return fmt.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		return fmt.Errorf("content-type %q", ct)
	}
	q := r.URL.Query()
	if q.Get("access_token") != token {
		return errors.New("bad token")
	}
	if rb.secret == "" {
		if q.Has("sign") || q.Has("timestamp") {
			return errors.New("unexpected signature")
		}
		return nil
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return err
	}
	if d := now.Sub(time.UnixMilli(ts)); d < -time.Hour || d > time.Hour {
		return errors.New("timestamp more than an hour off")
	}
	mac := hmac.New(sha256.New, []byte(rb.secret))
	mac.Write([]byte(q.Get("timestamp") + "\n" + rb.secret))
	if got, err := base64.StdEncoding.DecodeString(q.Get("sign")); err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("sign mismatch")
	}
	return nil
}

func newSender(t *testing.T, rb *robot, secret string, mod func(*dingtalk.Config)) *dingtalk.Sender {
	t.Helper()
	cfg := dingtalk.Config{
		URL:    rb.srv.URL + "/robot/send?access_token=" + token,
		Secret: secret,
		Client: netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}),
		Now:    func() time.Time { return now },
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := dingtalk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSign(t *testing.T) {
	t.Parallel()
	if got := dingtalk.Sign(secret, nowMS); got != wantSign {
		t.Fatalf("Sign = %q, want %q", got, wantSign)
	}
}

func TestSender_Send(t *testing.T) {
	t.Parallel()
	const ok = `{"errcode":0,"errmsg":"ok"}`
	tests := []struct {
		name      string
		secret    string
		msg       channel.Message
		wantQuery string
		wantBody  string
	}{
		{
			name:      "SignedWithMentions",
			secret:    secret,
			msg:       channel.Message{Subject: "Disk full", Markdown: "## db1\n99% used @13800000000", AtMobiles: []string{"13800000000", "13900000000"}, AtUserIDs: []string{"u1"}},
			wantQuery: "access_token=" + token + "&sign=" + wantSignQS + "&timestamp=1700000000001",
			wantBody:  `{"msgtype":"markdown","markdown":{"title":"Disk full","text":"## db1\n99% used @13800000000\n\n@13900000000 @u1"},"at":{"atMobiles":["13800000000","13900000000"],"atUserIds":["u1"],"isAtAll":false}}`,
		},
		{
			name:      "UnsignedTextFallback",
			msg:       channel.Message{Text: "# Deploy done\nall green \"ok\""},
			wantQuery: "access_token=" + token,
			wantBody:  `{"msgtype":"markdown","markdown":{"title":"Deploy done","text":"# Deploy done\nall green \"ok\""},"at":{"atMobiles":[],"atUserIds":[],"isAtAll":false}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := newRobot(t, tt.secret, ok)
			rcpt, err := newSender(t, rb, tt.secret, nil).Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			rb.mu.Lock()
			defer rb.mu.Unlock()
			if rb.verdict != nil {
				t.Fatalf("robot rejected the request: %v", rb.verdict)
			}
			if rcpt.StatusCode != 200 {
				t.Errorf("StatusCode = %d", rcpt.StatusCode)
			}
			if rb.rawQuery != tt.wantQuery {
				t.Errorf("query\n got %s\nwant %s", rb.rawQuery, tt.wantQuery)
			}
			if rb.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", rb.body, tt.wantBody)
			}
		})
	}
}

func TestSender_Send_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     string
		secret     string // the robot's; the sender signs with secret
		permanent  bool
		retryAfter time.Duration
	}{
		{"TooFast", `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, secret, false, 10 * time.Minute},
		{"Busy", `{"errcode":-1,"errmsg":"系统繁忙"}`, secret, false, 0},
		{"Keyword", `{"errcode":310000,"errmsg":"keywords not in content"}`, secret, true, 0},
		{"WrongSecret", `{"errcode":0,"errmsg":"ok"}`, "SECother", true, 0},
		{"Unreadable", `<html>proxy error</html>`, secret, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := newRobot(t, tt.secret, tt.answer)
			_, err := newSender(t, rb, secret, nil).Send(context.Background(), channel.Message{Text: "x"})
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

// TestSender_Send_RateLimited: with one send an hour allowed, the second
// send's turn is past its context deadline, so it fails temporarily without
// reaching the robot.
func TestSender_Send_RateLimited(t *testing.T) {
	t.Parallel()
	rb := newRobot(t, "", `{"errcode":0,"errmsg":"ok"}`)
	s := newSender(t, rb, "", func(c *dingtalk.Config) {
		c.Limits = []ratelimit.Limit{{Count: 1, Per: time.Hour}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Send(ctx, channel.Message{Text: "1"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Send(ctx, channel.Message{Text: "2"})
	if err == nil || channel.IsPermanent(err) || !errors.Is(err, ratelimit.ErrWouldExceedDeadline) {
		t.Fatalf("Send = %v; want temporary ErrWouldExceedDeadline", err)
	}
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if rb.n != 1 {
		t.Fatalf("robot got %d requests, want 1", rb.n)
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]dingtalk.Config{
		"NoURL":   {},
		"NoToken": {URL: "https://oapi.dingtalk.com/robot/send"},
		"Scheme":  {URL: "ftp://oapi.dingtalk.com/robot/send?access_token=x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := dingtalk.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

// pushCard is a Feishu card as a push carries it (the message the push
// engine builds: the job name as subject, text and bold markdown).
const pushCard = `{"config":{"wide_screen_mode":true},"header":{"title":{"tag":"plain_text","content":"Release 2.4"},"template":"blue"},
"elements":[{"tag":"div","text":{"tag":"lark_md","content":"**Payments** ships on Friday. See [the notes](https://notes.example.com/2.4)."}},
{"tag":"hr"},
{"tag":"div","fields":[{"is_short":true,"text":{"tag":"lark_md","content":"**Owner**\nAnn"}}]},
{"tag":"note","elements":[{"tag":"plain_text","content":"Ops team"}]},
{"tag":"action","actions":[{"tag":"button","text":{"tag":"plain_text","content":"Open the plan"},"url":"https://plan.example.com/2.4","type":"primary"},
{"tag":"button","text":{"tag":"plain_text","content":"Applink only"},"url":"lark://applink/x"},
{"tag":"button","text":{"tag":"plain_text","content":"Dashboard"},"multi_url":{"url":"https://dash.example.com/","pc_url":""}}]}]}`

// TestSender_Send_Card: a card push reaches a DingTalk robot as an
// ActionCard whose markdown carries the card's title, body and fields, with
// one button per web link of the card; a card without links goes as
// markdown. Before, the robot got the bold title alone.
func TestSender_Send_Card(t *testing.T) {
	t.Parallel()
	const ok = `{"errcode":0,"errmsg":"ok"}`
	t.Run("WithLinks", func(t *testing.T) {
		t.Parallel()
		rb := newRobot(t, "", ok)
		msg := channel.Message{Subject: "Notice", Text: "Notice", Markdown: "**Notice**", Card: json.RawMessage(pushCard)}
		if _, err := newSender(t, rb, "", nil).Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		rb.mu.Lock()
		defer rb.mu.Unlock()
		var got struct {
			MsgType    string `json:"msgtype"`
			ActionCard struct {
				Title string `json:"title"`
				Text  string `json:"text"`
				Btns  []struct {
					Title     string `json:"title"`
					ActionURL string `json:"actionURL"`
				} `json:"btns"`
			} `json:"actionCard"`
		}
		if err := json.Unmarshal([]byte(rb.body), &got); err != nil {
			t.Fatal(err)
		}
		ac := got.ActionCard
		if got.MsgType != "actionCard" || ac.Title != "Release 2.4" {
			t.Fatalf("body %s; want an actionCard titled Release 2.4", rb.body)
		}
		for _, want := range []string{"Release 2.4", "**Payments** ships on Friday. See [the notes](https://notes.example.com/2.4).", "**Owner**", "Ann", "Ops team"} {
			if !strings.Contains(ac.Text, want) {
				t.Errorf("text %q lacks %q", ac.Text, want)
			}
		}
		wantBtns := [][2]string{{"Open the plan", "https://plan.example.com/2.4"}, {"Dashboard", "https://dash.example.com/"}}
		if len(ac.Btns) != len(wantBtns) {
			t.Fatalf("buttons %+v; want %v", ac.Btns, wantBtns)
		}
		for i, b := range ac.Btns {
			if b.Title != wantBtns[i][0] || b.ActionURL != wantBtns[i][1] {
				t.Errorf("button %d = %+v; want %v", i, b, wantBtns[i])
			}
		}
	})
	t.Run("WithoutLinks", func(t *testing.T) {
		t.Parallel()
		rb := newRobot(t, "", ok)
		card := `{"header":{"title":{"tag":"plain_text","content":"Heads up"}},"elements":[{"tag":"markdown","content":"Maintenance **tonight**"}]}`
		msg := channel.Message{Subject: "Notice", Text: "Notice", Markdown: "**Notice**", Card: json.RawMessage(card)}
		if _, err := newSender(t, rb, "", nil).Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		rb.mu.Lock()
		defer rb.mu.Unlock()
		want := `{"msgtype":"markdown","markdown":{"title":"Heads up","text":"### Heads up\n\nMaintenance **tonight**"},"at":{"atMobiles":[],"atUserIds":[],"isAtAll":false}}`
		if rb.body != want {
			t.Errorf("body\n got %s\nwant %s", rb.body, want)
		}
	})
}
