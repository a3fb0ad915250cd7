// Package lark delivers messages to a Feishu/Lark custom bot (自定义机器人):
// an interactive card when the message carries one, else a rich-text post.
// With a secret set ("签名校验") every body carries timestamp and sign, and
// sends are paced to the bot's 5 a second and 100 a minute.
package lark

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/internal/httpsend"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/ratelimit"
)

// Vendor codes meaning "too many requests", worth retrying.
const (
	CodeFrequencyLimited = 9499  // "Bad Request" frequency limit on the gateway
	CodeRateLimited      = 11232 // "frequency limited psm"
)

// Config is one Feishu/Lark custom bot.
type Config struct {
	// URL is the bot webhook,
	// https://open.feishu.cn/open-apis/bot/v2/hook/… (or open.larksuite.com).
	URL string
	// Secret is the bot's signing secret; empty when the bot checks
	// keywords or IPs instead.
	Secret string
	// Client defaults to a netguard client refusing private targets.
	Client *http.Client
	// Now is the clock for signatures; default time.Now.
	Now func() time.Time
	// Limiter paces sends per bot; share one across senders. Nil gives the
	// sender a limiter of its own.
	Limiter *ratelimit.Limiter
	// Limits default to ratelimit.LarkDefault; an empty non-nil slice
	// disables pacing.
	Limits []ratelimit.Limit
}

// Sender posts messages to one bot.
type Sender struct {
	cfg Config
}

var _ channel.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := netguard.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("lark: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New()
	}
	if cfg.Limits == nil {
		cfg.Limits = ratelimit.LarkDefault
	}
	return &Sender{cfg: cfg}, nil
}

// Sign returns Feishu's signature for a timestamp in seconds: the HMAC-SHA256
// keyed by timestamp + "\n" + secret of an empty message, base64. (The key
// is the string, the message empty: Feishu's documented construction.)
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// element is one piece of a post paragraph.
type element struct {
	Tag    string `json:"tag"`
	Text   string `json:"text,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type post struct {
	Title   string      `json:"title"`
	Content [][]element `json:"content"`
}

type message struct {
	Timestamp string          `json:"timestamp,omitempty"`
	Sign      string          `json:"sign,omitempty"`
	MsgType   string          `json:"msg_type"`
	Content   any             `json:"content,omitempty"`
	Card      json.RawMessage `json:"card,omitempty"`
}

// build returns the message for m, unsigned. A card is sent as is. A post
// has title m.Subject and one paragraph per line of m.Text (else
// m.Markdown, shown literally: posts do not render markdown), then one
// paragraph of mentions for m.AtUserIDs (open_ids, or "all"). Custom bots
// cannot mention by mobile, so m.AtMobiles is not used.
func build(m channel.Message) (message, error) {
	if len(m.Card) > 0 {
		if !json.Valid(m.Card) {
			return message{}, errors.New("card is not valid JSON")
		}
		return message{MsgType: "interactive", Card: m.Card}, nil
	}
	text := m.Text
	if text == "" {
		text = m.Markdown
	}
	p := post{Title: m.Subject, Content: [][]element{}}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.Content = append(p.Content, []element{{Tag: "text", Text: line}})
	}
	if len(m.AtUserIDs) > 0 {
		var at []element
		for _, id := range m.AtUserIDs {
			at = append(at, element{Tag: "at", UserID: id})
		}
		p.Content = append(p.Content, at)
	}
	return message{MsgType: "post", Content: map[string]any{"post": map[string]post{"zh_cn": p}}}, nil
}

// Body returns the JSON posted for m at the sender's current time.
func (s *Sender) Body(m channel.Message) ([]byte, error) {
	msg, err := build(m)
	if err != nil {
		return nil, fmt.Errorf("lark: %w", err)
	}
	if s.cfg.Secret != "" {
		ts := s.cfg.Now().Unix()
		msg.Timestamp, msg.Sign = strconv.FormatInt(ts, 10), Sign(s.cfg.Secret, ts)
	}
	return json.Marshal(msg)
}

// answer is the bot's reply; older deployments answer StatusCode instead
// of code.
type answer struct {
	Code          *int   `json:"code"`
	Msg           string `json:"msg"`
	StatusCode    *int   `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
}

// Send posts m after waiting for the bot's rate limit. code 0 is success;
// 9499 and 11232 (frequency limited) are temporary; any other code (19021
// bad signature, 19024 keyword missing, 19001 bad hook, …) is permanent.
// HTTP statuses are classified as for webhooks.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	if _, err := build(m); err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("lark: %w", err))
	}
	if err := s.cfg.Limiter.Wait(ctx, "lark:"+s.cfg.URL, s.cfg.Limits); err != nil {
		return channel.Receipt{}, channel.Temporary(fmt.Errorf("lark: waiting for rate limit: %w", err), 0)
	}
	// Signed after the wait, so the timestamp is fresh.
	b, err := s.Body(m)
	if err != nil {
		return channel.Receipt{}, channel.Permanent(err)
	}
	resp, err := httpsend.Do(ctx, s.cfg.Client, httpsend.Request{
		Channel: "lark", URL: s.cfg.URL, Header: httpsend.JSONHeader(), Body: b,
	}, s.cfg.Now)
	if err != nil {
		return channel.Receipt{}, err
	}
	var a answer
	if err := json.Unmarshal(resp.Body, &a); err != nil || (a.Code == nil && a.StatusCode == nil) {
		return channel.Receipt{}, httpsend.Unreadable("lark", resp.Body)
	}
	code, msg := a.Code, a.Msg
	if code == nil {
		code, msg = a.StatusCode, a.StatusMessage
	}
	return httpsend.VendorCode("lark", "code", *code, msg, resp.StatusCode, temporaryCodes)
}

// temporaryCodes are the codes worth retrying (frequency limits), with
// how long every node leaves the bot alone after one. A custom bot may send
// 5 messages a second and 100 a minute: 9499 is the gateway's per-second
// limit, so a second frees it; 11232 is the bot's own limit, counted over
// the minute.
var temporaryCodes = map[int]time.Duration{CodeFrequencyLimited: time.Second, CodeRateLimited: time.Minute}
