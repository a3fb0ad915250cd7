// Package dingtalk delivers messages to a DingTalk custom robot
// (自定义机器人) as markdown (a card as an ActionCard), signed with the robot's secret when one is set
// ("加签"), and paced to the robot's 20 messages a minute.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/card"
	"github.com/heraldhq/herald/channel/internal/httpsend"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/ratelimit"
)

// Vendor error codes with a meaning for the retry policy.
const (
	// ErrCodeSystemBusy is DingTalk's "系统繁忙".
	ErrCodeSystemBusy = -1
	// ErrCodeTooFast is "send too fast, exceed 20 times per minute"; the
	// robot is muted for a while.
	ErrCodeTooFast = 130101
)

// tooFastWait is how long DingTalk mutes a robot that sent too fast.
const tooFastWait = 10 * time.Minute

// Config is one DingTalk robot.
type Config struct {
	// URL is the robot webhook,
	// https://oapi.dingtalk.com/robot/send?access_token=….
	URL string
	// Secret is the robot's signing secret (SEC…); empty when the robot
	// uses keywords or an IP allow list instead.
	Secret string
	// Client defaults to a netguard client refusing private targets.
	Client *http.Client
	// Now is the clock for signatures; default time.Now.
	Now func() time.Time
	// Limiter paces sends per robot; share one across senders. Nil gives
	// the sender a limiter of its own.
	Limiter *ratelimit.Limiter
	// Limits default to ratelimit.DingTalkDefault; an empty non-nil slice
	// disables pacing.
	Limits []ratelimit.Limit
}

// Sender posts messages to one DingTalk robot.
type Sender struct {
	cfg Config
	key string // rate-limit key
}

var _ channel.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := netguard.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("dingtalk: %w", err)
	}
	u, _ := url.Parse(cfg.URL)
	token := u.Query().Get("access_token")
	if token == "" {
		return nil, errors.New("dingtalk: URL has no access_token")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New()
	}
	if cfg.Limits == nil {
		cfg.Limits = ratelimit.DingTalkDefault
	}
	return &Sender{cfg: cfg, key: "dingtalk:" + token}, nil
}

// Sign returns DingTalk's signature for a timestamp in milliseconds:
// base64(HMAC-SHA256(key secret, timestamp + "\n" + secret)), before URL
// encoding.
func Sign(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", timestampMS, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedURL adds timestamp and sign to the robot URL; Encode does the URL
// encoding of the base64 signature that DingTalk asks for.
func (s *Sender) signedURL() string {
	if s.cfg.Secret == "" {
		return s.cfg.URL
	}
	u, _ := url.Parse(s.cfg.URL)
	ts := s.cfg.Now().UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", Sign(s.cfg.Secret, ts))
	u.RawQuery = q.Encode()
	return u.String()
}

type markdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type at struct {
	AtMobiles []string `json:"atMobiles"`
	AtUserIDs []string `json:"atUserIds"`
	IsAtAll   bool     `json:"isAtAll"`
}

// body is the robot's markdown message.
type body struct {
	MsgType  string   `json:"msgtype"`
	Markdown markdown `json:"markdown"`
	At       at       `json:"at"`
}

// button is one of an ActionCard's buttons, each opening its own link.
type button struct {
	Title     string `json:"title"`
	ActionURL string `json:"actionURL"`
}

type actionCard struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	BtnOrientation string   `json:"btnOrientation"`
	Btns           []button `json:"btns"`
}

// cardBody is the robot's ActionCard message, which has no mentions.
type cardBody struct {
	MsgType    string     `json:"msgtype"`
	ActionCard actionCard `json:"actionCard"`
}

// Body returns the JSON posted for m. The title (the notification preview)
// is m.Subject, else the first line of the text. DingTalk only highlights a
// markdown mention whose "@mobile" or "@userid" appears in the text, so
// mentions missing from the text are appended to it.
//
// A message with a Card (a Feishu card, as a push carries it) is shown
// whole rather than as its subject: the card's title as a heading above
// its body (channel/card), sent as an ActionCard with one button per web
// link of the card, or as markdown when it has none. An ActionCard
// carries no "at", so mentions of a card with links are written in its
// text but not highlighted.
func Body(m channel.Message) ([]byte, error) {
	text := m.Markdown
	if text == "" {
		text = m.Text
	}
	var links []card.Link
	title := m.Subject
	if len(m.Card) > 0 {
		c, err := card.Parse(m.Card)
		if err != nil {
			return nil, err
		}
		if c.Title != "" {
			title = c.Title
		}
		text, links = c.Markdown, c.Links
		if title != "" {
			text = strings.TrimSpace("### " + title + "\n\n" + text)
		}
	}
	if title == "" {
		title, _, _ = strings.Cut(strings.TrimSpace(text), "\n")
		title = httpsend.Truncate(strings.TrimLeft(title, "# "), 64)
	}
	var mentions []string
	for _, id := range append(append([]string(nil), m.AtMobiles...), m.AtUserIDs...) {
		if !strings.Contains(text, "@"+id) {
			mentions = append(mentions, "@"+id)
		}
	}
	if len(mentions) > 0 {
		text = strings.TrimRight(text, "\n") + "\n\n" + strings.Join(mentions, " ")
	}
	if len(links) > 0 {
		ac := actionCard{Title: title, Text: text, BtnOrientation: "0"}
		for _, l := range links {
			ac.Btns = append(ac.Btns, button{Title: l.Text, ActionURL: l.URL})
		}
		return json.Marshal(cardBody{MsgType: "actionCard", ActionCard: ac})
	}
	return json.Marshal(body{
		MsgType:  "markdown",
		Markdown: markdown{Title: title, Text: text},
		At:       at{AtMobiles: nonNil(m.AtMobiles), AtUserIDs: nonNil(m.AtUserIDs)},
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// answer is DingTalk's reply, HTTP 200 even for failures.
type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts m after waiting for the robot's rate limit. A 200 answer with
// errcode 0 is success; errcode -1 (busy) and 130101 (too fast) are
// temporary, any other errcode (310000 bad signature, keyword or IP,
// 300001 bad token, …) is permanent. HTTP statuses are classified as for
// webhooks.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	b, err := Body(m)
	if err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("dingtalk: %w", err))
	}
	if err := s.cfg.Limiter.Wait(ctx, s.key, s.cfg.Limits); err != nil {
		return channel.Receipt{}, channel.Temporary(fmt.Errorf("dingtalk: waiting for rate limit: %w", err), 0)
	}
	resp, err := httpsend.Do(ctx, s.cfg.Client, httpsend.Request{
		Channel: "dingtalk", URL: s.signedURL(), Header: httpsend.JSONHeader(), Body: b,
	}, s.cfg.Now)
	if err != nil {
		return channel.Receipt{}, err
	}
	var a answer
	if err := json.Unmarshal(resp.Body, &a); err != nil || a.ErrCode == nil {
		return channel.Receipt{}, httpsend.Unreadable("dingtalk", resp.Body)
	}
	return httpsend.VendorCode("dingtalk", "errcode", *a.ErrCode, a.ErrMsg, resp.StatusCode, temporaryCodes)
}

// temporaryCodes are the errcodes worth retrying, with their waits.
var temporaryCodes = map[int]time.Duration{ErrCodeTooFast: tooFastWait, ErrCodeSystemBusy: 0}
