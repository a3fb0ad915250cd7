package wecom_test

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
	"github.com/heraldhq/herald/channel/wecom"
)

const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"

// robot imitates qyapi.weixin.qq.com/cgi-bin/webhook/send.
type robot struct {
	srv    *httptest.Server
	answer string

	mu   sync.Mutex
	path string
	key  string
	body string
}

func newRobot(t *testing.T, answer string) *robot {
	t.Helper()
	rb := &robot{answer: answer}
	rb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rb.mu.Lock()
		defer rb.mu.Unlock()
		rb.path, rb.key, rb.body = r.Method+" "+r.URL.Path, r.URL.Query().Get("key"), string(b)
		if rb.key != key {
			io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			return
		}
		io.WriteString(w, rb.answer)
	}))
	t.Cleanup(rb.srv.Close)
	return rb
}

func client() *http.Client { return netguard.NewHTTPClient(netguard.Options{AllowPrivate: true}) }

func TestSender_Send(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		byKey    bool
		msg      channel.Message
		wantBody string
	}{
		{
			name:     "Markdown",
			msg:      channel.Message{Subject: "ignored when Markdown is set", Markdown: "# Disk full\n> db1: <font color=\"warning\">99%</font>"},
			wantBody: `{"msgtype":"markdown","markdown":{"content":"# Disk full\n\u003e db1: \u003cfont color=\"warning\"\u003e99%\u003c/font\u003e"}}`,
		},
		{
			name:     "TextAsMarkdownByKey",
			byKey:    true,
			msg:      channel.Message{Subject: "Deploy", Text: "all green"},
			wantBody: `{"msgtype":"markdown","markdown":{"content":"**Deploy**\nall green"}}`,
		},
		{
			name:     "MentionsSendText",
			msg:      channel.Message{Subject: "Disk full", Text: "db1: 99%", Markdown: "**db1**", AtUserIDs: []string{"wangqing", "@all"}, AtMobiles: []string{"13800001111"}},
			wantBody: `{"msgtype":"text","text":{"content":"Disk full\ndb1: 99%","mentioned_list":["wangqing","@all"],"mentioned_mobile_list":["13800001111"]}}`,
		},
		{
			name:     "MobileOnly",
			msg:      channel.Message{Markdown: "**m**", AtMobiles: []string{"13800001111"}},
			wantBody: `{"msgtype":"text","text":{"content":"**m**","mentioned_mobile_list":["13800001111"]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := newRobot(t, `{"errcode":0,"errmsg":"ok"}`)
			cfg := wecom.Config{URL: rb.srv.URL + "/cgi-bin/webhook/send?key=" + key, Client: client()}
			if tt.byKey {
				cfg = wecom.Config{Key: key, BaseURL: rb.srv.URL + "/cgi-bin/webhook/send", Client: client()}
			}
			s, err := wecom.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			rb.mu.Lock()
			defer rb.mu.Unlock()
			if rb.path != "POST /cgi-bin/webhook/send" || rb.key != key {
				t.Errorf("request %s key=%q", rb.path, rb.key)
			}
			if rb.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", rb.body, tt.wantBody)
			}
		})
	}
}

func TestBody_Truncates(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("警", 2000) // 6000 bytes
	b, err := wecom.Body(channel.Message{Markdown: long})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("警", 1365) + `"}}`
	if string(b) != want {
		t.Errorf("markdown not cut to 4096 bytes on a rune boundary: %d bytes", len(b))
	}
}

func TestSender_Send_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     string
		key        string
		permanent  bool
		retryAfter time.Duration
	}{
		{"FreqOutOfLimit", `{"errcode":45009,"errmsg":"api freq out of limit"}`, key, false, time.Minute},
		{"Busy", `{"errcode":-1,"errmsg":"system busy"}`, key, false, 0},
		{"WrongKey", `{"errcode":0,"errmsg":"ok"}`, "other", true, 0},
		{"BadType", `{"errcode":40008,"errmsg":"invalid message type"}`, key, true, 0},
		{"Unreadable", `<html>`, key, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := newRobot(t, tt.answer)
			s, err := wecom.New(wecom.Config{Key: tt.key, BaseURL: rb.srv.URL + "/cgi-bin/webhook/send", Client: client()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), channel.Message{Text: "x"})
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

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     wecom.Config
		wantErr bool
	}{
		{"URL", wecom.Config{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, false},
		{"Key", wecom.Config{Key: "k"}, false},
		{"Neither", wecom.Config{}, true},
		{"Both", wecom.Config{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", Key: "k"}, true},
		{"URLWithoutKey", wecom.Config{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, true},
		{"BadBase", wecom.Config{Key: "k", BaseURL: "gopher://x/"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := wecom.New(tt.cfg); (err != nil) != tt.wantErr {
				t.Fatalf("New = %v; wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// TestSender_Send_Card: a card push reaches a WeCom robot as markdown
// carrying the card's title, body and its web links; with mentions, as
// text carrying the same. Before, the robot got the bold title alone.
func TestSender_Send_Card(t *testing.T) {
	t.Parallel()
	card := `{"header":{"title":{"tag":"plain_text","content":"Release 2.4"}},
"elements":[{"tag":"div","text":{"tag":"lark_md","content":"**Payments** ships on Friday."}},
{"tag":"action","actions":[{"tag":"button","text":{"tag":"plain_text","content":"Open the plan"},"url":"https://plan.example.com/2.4"}]}]}`
	tests := []struct {
		name     string
		msg      channel.Message
		wantType string
		want     []string
	}{
		{"Markdown", channel.Message{Subject: "Notice", Text: "Notice", Markdown: "**Notice**", Card: json.RawMessage(card)}, "markdown",
			[]string{"**Release 2.4**", "**Payments** ships on Friday.", "[Open the plan](https://plan.example.com/2.4)"}},
		{"MentionsText", channel.Message{Subject: "Notice", Text: "Notice", Markdown: "**Notice**", Card: json.RawMessage(card), AtUserIDs: []string{"wangqing"}}, "text",
			[]string{"Release 2.4", "Payments ships on Friday.", "Open the plan: https://plan.example.com/2.4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := newRobot(t, `{"errcode":0,"errmsg":"ok"}`)
			s, err := wecom.New(wecom.Config{URL: rb.srv.URL + "/cgi-bin/webhook/send?key=" + key, Client: client()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			rb.mu.Lock()
			defer rb.mu.Unlock()
			var got struct {
				MsgType  string `json:"msgtype"`
				Markdown struct{ Content string }
				Text     struct{ Content string }
			}
			if err := json.Unmarshal([]byte(rb.body), &got); err != nil {
				t.Fatal(err)
			}
			content := got.Markdown.Content + got.Text.Content
			if got.MsgType != tt.wantType {
				t.Fatalf("msgtype %q; want %q (%s)", got.MsgType, tt.wantType, rb.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(content, w) {
					t.Errorf("content %q lacks %q", content, w)
				}
			}
		})
	}
}
