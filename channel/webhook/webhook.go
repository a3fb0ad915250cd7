// Package webhook delivers a message as a JSON POST, signed as the Standard
// Webhooks specification describes (https://www.standardwebhooks.com):
// webhook-id, webhook-timestamp and webhook-signature headers, the
// signature an HMAC-SHA256 of "id.timestamp.body".
//
// Redirects are never followed, 307 and 308 included: a receiver answering
// any 3xx fails the delivery permanently, the error naming the status and
// the Location (without its query). Following a 301/302/303 would turn the
// POST into a GET without a body, which the landing page answers 200; and
// re-sending a signed body (307/308) to a URL the receiver names would hand
// the configured headers to a host nobody configured, and a signature
// checked by that host would prove nothing about the configured one. The
// fix is on the notifier: configure the URL the receiver really serves.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
)

// SecretPrefix marks a Standard Webhooks secret whose remainder is the
// base64 key.
const SecretPrefix = "whsec_"

// Config is one webhook target.
type Config struct {
	// URL is the receiver, http or https.
	URL string
	// Headers are sent with every request; a message's own Headers
	// override them. Content-Type and the webhook-* headers cannot be
	// overridden.
	Headers map[string]string
	// Secret signs requests: "whsec_<base64 key>" as Standard Webhooks
	// issues them, so that a receiver verifies with the official
	// libraries' NewWebhook(secret). Empty sends unsigned requests. A
	// notifier's secret is checked to be of that form when it is created
	// (herald.Notifier.Validate); any other string is still taken, its
	// bytes as the key, only for notifiers stored before that check, so
	// their receivers keep verifying.
	Secret string
	// Client defaults to a netguard client refusing private targets.
	Client *http.Client
	// Now is the clock for webhook-timestamp; default time.Now.
	Now func() time.Time
}

// Sender posts messages to one webhook.
type Sender struct {
	cfg Config
	key []byte
}

var _ channel.Sender = (*Sender)(nil)

// reserved are the headers Herald owns; configured ones are ignored.
var reserved = map[string]bool{
	"Content-Type":      true,
	"Webhook-Id":        true,
	"Webhook-Timestamp": true,
	"Webhook-Signature": true,
}

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := netguard.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	key, err := DecodeSecret(cfg.Secret)
	if err != nil {
		return nil, err
	}
	for k := range cfg.Headers {
		if err := checkHeader(k); err != nil {
			return nil, err
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg, key: key}, nil
}

func checkHeader(name string) error {
	if err := httpsend.CheckHeaderName(name); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// DecodeSecret turns a configured secret into the HMAC key: the base64
// remainder of a "whsec_" secret, or the bytes of any other.
func DecodeSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret after %q is not base64: %w", SecretPrefix, err)
	}
	if len(key) == 0 {
		return nil, errors.New("webhook: empty secret after " + SecretPrefix)
	}
	return key, nil
}

// Sign returns the webhook-signature value for one delivery:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// address is Address in the default body.
type address struct {
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Mobile string `json:"mobile,omitempty"`
	IMID   string `json:"im_id,omitempty"`
}

// defaultBody is what a message without Body is posted as.
type defaultBody struct {
	ID       string   `json:"id"`
	Subject  string   `json:"subject"`
	Text     string   `json:"text"`
	HTML     string   `json:"html,omitempty"`
	Markdown string   `json:"markdown,omitempty"`
	To       *address `json:"to,omitempty"`
}

// Body returns the JSON a message is posted as: m.Body when set, else the
// default {"id","subject","text","html","markdown","to"} object.
func Body(m channel.Message) ([]byte, error) {
	if len(m.Body) > 0 {
		if !json.Valid(m.Body) {
			return nil, errors.New("webhook: message body is not valid JSON")
		}
		return m.Body, nil
	}
	b := defaultBody{ID: m.ID, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Markdown: m.Markdown}
	if m.To != (channel.Address{}) {
		b.To = &address{Name: m.To.Name, Email: m.To.Email, Mobile: m.To.Mobile, IMID: m.To.IMID}
	}
	return json.Marshal(b)
}

// Send posts m. Without m.ID a random id is used, which defeats the peer's
// deduplication, so the engine always sets one.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	body, err := Body(m)
	if err != nil {
		return channel.Receipt{}, channel.Permanent(err)
	}
	h := httpsend.JSONHeader()
	for _, hs := range []map[string]string{s.cfg.Headers, m.Headers} {
		for k, v := range hs {
			if err := checkHeader(k); err != nil {
				return channel.Receipt{}, channel.Permanent(err)
			}
			if k = http.CanonicalHeaderKey(k); !reserved[k] {
				h.Set(k, v)
			}
		}
	}
	id := m.ID
	if id == "" {
		id = randomID()
	}
	ts := s.cfg.Now().Unix()
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
	if len(s.key) > 0 {
		h.Set("Webhook-Signature", Sign(s.key, id, ts, body))
	}
	resp, err := httpsend.Do(ctx, s.cfg.Client, httpsend.Request{
		Channel: "webhook", URL: s.cfg.URL, Header: h, Body: body,
	}, s.cfg.Now)
	if err != nil {
		return channel.Receipt{}, err
	}
	return channel.Receipt{StatusCode: resp.StatusCode}, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}
