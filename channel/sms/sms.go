// Package sms delivers text messages through a generic HTTP SMS gateway:
// the operator describes the gateway's JSON body with a Go text/template
// and Herald posts it. Values go into the JSON through the json template
// function, so a quote or a newline in a message cannot break the body.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/internal/httpsend"
	"github.com/heraldhq/herald/channel/netguard"
)

// DefaultBodyTemplate is the body when Config.BodyTemplate is empty.
const DefaultBodyTemplate = `{"to":{{json .To}},"text":{{json .Text}}}`

// Config is one SMS gateway.
type Config struct {
	// URL is the gateway endpoint, http or https.
	URL string
	// Method is POST (default), PUT or PATCH.
	Method string
	// Headers are sent with every request (an API key, say); a message's
	// own Headers override them. Content-Type defaults to application/json.
	Headers map[string]string
	// BodyTemplate renders the request body from Data; it must produce
	// JSON. Insert values with the json function: {{json .Text}} writes a
	// quoted, escaped JSON string. Default DefaultBodyTemplate.
	BodyTemplate string
	// Client defaults to a netguard client refusing private targets.
	Client *http.Client
	// Now is the clock for Retry-After dates; default time.Now.
	Now func() time.Time
}

// Data is what BodyTemplate is executed with.
type Data struct {
	ID      string // the delivery id, stable across retries
	To      string // the recipient's mobile number
	Name    string // the recipient's display name
	Subject string // the message subject
	Text    string // the plain text to send
}

// Sender posts messages to one gateway.
type Sender struct {
	cfg  Config
	tmpl *template.Template
}

var _ channel.Sender = (*Sender)(nil)

var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// probe exercises a template at New with the characters that break JSON
// when a value is inserted without the json function.
var probe = Data{ID: "probe", To: "+8613800000000", Name: `A "B" \ C`, Subject: "s\"\n", Text: "line 1\nline \"2\" \\ \t </script> 中文"}

// New validates cfg, including that the template renders valid JSON for a
// message full of quotes and newlines, and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := netguard.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	switch cfg.Method = strings.ToUpper(cfg.Method); cfg.Method {
	case "":
		cfg.Method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil, fmt.Errorf("sms: method %q: want POST, PUT or PATCH", cfg.Method)
	}
	for k := range cfg.Headers {
		if err := httpsend.CheckHeaderName(k); err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
	}
	if cfg.BodyTemplate == "" {
		cfg.BodyTemplate = DefaultBodyTemplate
	}
	tmpl, err := template.New("sms").Funcs(funcs).Option("missingkey=error").Parse(cfg.BodyTemplate)
	if err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sender{cfg: cfg, tmpl: tmpl}
	if _, err := s.render(probe); err != nil {
		return nil, fmt.Errorf("%w (insert values with {{json .Text}})", err)
	}
	return s, nil
}

// render executes the template and insists on a JSON result.
func (s *Sender) render(d Data) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.tmpl.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	if !json.Valid(buf.Bytes()) {
		return nil, errors.New("sms: body template does not render valid JSON")
	}
	return buf.Bytes(), nil
}

// Send renders and posts m to m.To.Mobile. Statuses are classified as for
// webhooks: 2xx ok; 408, 429, 5xx temporary (429/503 with Retry-After);
// other statuses permanent. The receipt's ProviderID is the answer's
// top-level "id" or "message_id", when the gateway answers JSON with one.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	if m.To.Mobile == "" {
		return channel.Receipt{}, channel.Permanent(errors.New("sms: recipient has no mobile number"))
	}
	body, err := s.render(Data{ID: m.ID, To: m.To.Mobile, Name: m.To.Name, Subject: m.Subject, Text: m.Text})
	if err != nil {
		return channel.Receipt{}, channel.Permanent(err)
	}
	h := httpsend.JSONHeader()
	for _, hs := range []map[string]string{s.cfg.Headers, m.Headers} {
		for k, v := range hs {
			h.Set(k, v)
		}
	}
	resp, err := httpsend.Do(ctx, s.cfg.Client, httpsend.Request{
		Channel: "sms", Method: s.cfg.Method, URL: s.cfg.URL, Header: h, Body: body,
	}, s.cfg.Now)
	if err != nil {
		return channel.Receipt{}, err
	}
	return channel.Receipt{StatusCode: resp.StatusCode, ProviderID: providerID(resp.Body)}, nil
}

func providerID(body []byte) string {
	var a map[string]json.RawMessage
	if json.Unmarshal(body, &a) != nil {
		return ""
	}
	for _, k := range []string{"id", "message_id"} {
		var s string
		if json.Unmarshal(a[k], &s) == nil && s != "" {
			return s
		}
		var n json.Number
		if json.Unmarshal(a[k], &n) == nil && n != "" {
			return n.String()
		}
	}
	return ""
}
