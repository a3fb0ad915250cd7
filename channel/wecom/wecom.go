// Package wecom delivers messages to a WeCom (企业微信) group robot as
// markdown (a card included), or as text when the message mentions
// people, paced to the robot's 20 messages a minute.
package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/card"
	"github.com/heraldhq/herald/channel/internal/httpsend"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/ratelimit"
)

// DefaultBaseURL is the robot endpoint a bare Key is sent to.
const DefaultBaseURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

// Vendor error codes with a meaning for the retry policy.
const (
	ErrCodeSystemBusy = -1
	// ErrCodeFreqOutOfLimit is "api freq out of limit".
	ErrCodeFreqOutOfLimit = 45009
)

// Content limits of the robot API, in bytes; longer content is cut.
const (
	maxMarkdown = 4096
	maxText     = 2048
)

// Config is one WeCom group robot: either URL, or Key with an optional
// BaseURL.
type Config struct {
	// URL is the robot webhook, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=….
	URL string
	// Key is the robot's key, sent to BaseURL.
	Key string
	// BaseURL defaults to DefaultBaseURL; only used with Key.
	BaseURL string
	// Client defaults to a netguard client refusing private targets.
	Client *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Limiter paces sends per robot; share one across senders. Nil gives
	// the sender a limiter of its own.
	Limiter *ratelimit.Limiter
	// Limits default to ratelimit.WeComDefault; an empty non-nil slice
	// disables pacing.
	Limits []ratelimit.Limit
}

// Sender posts messages to one robot.
type Sender struct {
	cfg Config
	url string
	key string
}

var _ channel.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	var target string
	switch {
	case cfg.URL != "" && cfg.Key != "":
		return nil, errors.New("wecom: set URL or Key, not both")
	case cfg.URL != "":
		target = cfg.URL
	case cfg.Key != "":
		base := cfg.BaseURL
		if base == "" {
			base = DefaultBaseURL
		}
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("wecom: invalid BaseURL: %w", err)
		}
		q := u.Query()
		q.Set("key", cfg.Key)
		u.RawQuery = q.Encode()
		target = u.String()
	default:
		return nil, errors.New("wecom: URL or Key is required")
	}
	if err := netguard.CheckURL(target); err != nil {
		return nil, fmt.Errorf("wecom: %w", err)
	}
	u, _ := url.Parse(target)
	key := u.Query().Get("key")
	if key == "" {
		return nil, errors.New("wecom: URL has no key")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New()
	}
	if cfg.Limits == nil {
		cfg.Limits = ratelimit.WeComDefault
	}
	return &Sender{cfg: cfg, url: target, key: "wecom:" + key}, nil
}

type markdown struct {
	Content string `json:"content"`
}

type text struct {
	Content             string   `json:"content"`
	MentionedList       []string `json:"mentioned_list,omitempty"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

type body struct {
	MsgType  string    `json:"msgtype"`
	Markdown *markdown `json:"markdown,omitempty"`
	Text     *text     `json:"text,omitempty"`
}

// Body returns the JSON posted for m.
//
// Without mentions it is a markdown message: m.Markdown, or else m.Subject
// in bold above m.Text. WeCom's markdown message has no mention lists, and
// "<@userid>" in markdown works only with user ids, never mobiles; so a
// message with AtUserIDs or AtMobiles goes as a text message carrying
// mentioned_list and mentioned_mobile_list, with the subject and plain text
// (m.Markdown shown literally when there is no text). Reliable mentions
// matter more for an alert than formatting. Content is cut to the API's
// limits (4096 bytes markdown, 2048 text).
//
// A message with a Card (a Feishu card, as a push carries it) is shown
// whole rather than as its subject: the card's title in bold, its body
// (channel/card) and a line per web link of the card, as markdown, or as
// plain text when the message mentions people.
func Body(m channel.Message) ([]byte, error) {
	if len(m.Card) > 0 {
		c, err := card.Parse(m.Card)
		if err != nil {
			return nil, err
		}
		title := c.Title
		if title == "" {
			title = m.Subject
		}
		md, plain := []string{}, []string{}
		if title != "" {
			md, plain = append(md, "**"+title+"**"), append(plain, title)
		}
		if c.Markdown != "" {
			md, plain = append(md, c.Markdown), append(plain, c.Text)
		}
		for _, l := range c.Links {
			md, plain = append(md, "["+l.Text+"]("+l.URL+")"), append(plain, l.Text+": "+l.URL)
		}
		m.Subject, m.Markdown, m.Text = "", strings.Join(md, "\n\n"), strings.Join(plain, "\n\n")
	}
	if len(m.AtUserIDs) > 0 || len(m.AtMobiles) > 0 {
		content := m.Text
		if content == "" {
			content = m.Markdown
		}
		if m.Subject != "" {
			content = m.Subject + "\n" + content
		}
		return json.Marshal(body{MsgType: "text", Text: &text{
			Content:             httpsend.Truncate(content, maxText),
			MentionedList:       m.AtUserIDs,
			MentionedMobileList: m.AtMobiles,
		}})
	}
	content := m.Markdown
	if content == "" {
		content = m.Text
		if m.Subject != "" {
			content = "**" + m.Subject + "**\n" + content
		}
	}
	return json.Marshal(body{MsgType: "markdown", Markdown: &markdown{Content: httpsend.Truncate(content, maxMarkdown)}})
}

type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts m after waiting for the robot's rate limit. errcode 0 is
// success; 45009 (api freq out of limit, retried after a minute) and -1
// (busy) are temporary; any other errcode (93000 invalid webhook URL,
// 40008 invalid message type, …) is permanent. HTTP statuses are
// classified as for webhooks.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	b, err := Body(m)
	if err != nil {
		return channel.Receipt{}, channel.Permanent(fmt.Errorf("wecom: %w", err))
	}
	if err := s.cfg.Limiter.Wait(ctx, s.key, s.cfg.Limits); err != nil {
		return channel.Receipt{}, channel.Temporary(fmt.Errorf("wecom: waiting for rate limit: %w", err), 0)
	}
	resp, err := httpsend.Do(ctx, s.cfg.Client, httpsend.Request{
		Channel: "wecom", URL: s.url, Header: httpsend.JSONHeader(), Body: b,
	}, s.cfg.Now)
	if err != nil {
		return channel.Receipt{}, err
	}
	var a answer
	if err := json.Unmarshal(resp.Body, &a); err != nil || a.ErrCode == nil {
		return channel.Receipt{}, httpsend.Unreadable("wecom", resp.Body)
	}
	return httpsend.VendorCode("wecom", "errcode", *a.ErrCode, a.ErrMsg, resp.StatusCode, temporaryCodes)
}

// temporaryCodes are the errcodes worth retrying, with their waits.
var temporaryCodes = map[int]time.Duration{ErrCodeFreqOutOfLimit: time.Minute, ErrCodeSystemBusy: 0}
