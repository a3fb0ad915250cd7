package herald

import (
	"context"
	"encoding/json"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Notifier types.
const (
	NotifierEmail    = "email"
	NotifierSMS      = "sms"
	NotifierDingTalk = "dingtalk"
	NotifierLark     = "lark"
	NotifierWeCom    = "wecom"
	NotifierWebhook  = "webhook"
	NotifierInbox    = "inbox"
)

// NotifierTypes lists every notifier type.
var NotifierTypes = []string{NotifierEmail, NotifierSMS, NotifierDingTalk, NotifierLark, NotifierWeCom, NotifierWebhook, NotifierInbox}

// SecretMask is what every answer shows in place of a stored secret.
const SecretMask = "********"

// Notifier is a configured channel endpoint of a project. Secret is the
// clear secret inside the process only: it is encrypted at rest and
// MarshalJSON masks it on every way out.
type Notifier struct {
	ID        int64          `json:"id"`
	ProjectID int64          `json:"project_id"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Config    NotifierConfig `json:"config"`
	Secret    string         `json:"secret,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// MarshalJSON writes the notifier with its secret masked.
func (n Notifier) MarshalJSON() ([]byte, error) {
	type plain Notifier
	p := plain(n)
	if p.Secret != "" {
		p.Secret = SecretMask
	}
	return json.Marshal(p)
}

// NotifierConfig is a notifier's non-secret configuration; which fields
// apply depends on the type.
type NotifierConfig struct {
	// email: SMTP server.
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Username string `json:"username,omitempty"`
	From     string `json:"from,omitempty"`
	TLS      string `json:"tls,omitempty"` // starttls (default), tls, none

	// sms, dingtalk, lark, wecom, webhook: the endpoint.
	URL         string            `json:"url,omitempty"`
	Method      string            `json:"method,omitempty"`       // sms: POST (default) or PUT
	HTTPHeaders map[string]string `json:"http_headers,omitempty"` // sms, webhook
	// MessageBody is a text/template over the event (webhook: the JSON
	// body; sms: the gateway's JSON body with {{.To}} and {{.Text}}).
	MessageBody string `json:"message_body,omitempty"`

	// Robots' mentions.
	AtMobiles []string `json:"at_mobiles,omitempty"`
	AtUserIDs []string `json:"at_user_ids,omitempty"`

	// RateLimit overrides the vendor's published default for this target.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
}

// RateLimit is at most Count messages per Seconds to one target.
type RateLimit struct {
	Count   int `json:"count"`
	Seconds int `json:"seconds"`
}

// Validate checks the type, the name and the config the type needs.
func (n *Notifier) Validate() error {
	if err := checkText(n); err != nil {
		return err
	}
	if err := validateName("name", n.Name); err != nil {
		return err
	}
	c := &n.Config
	switch n.Type {
	case NotifierEmail:
		if c.Host == "" {
			return Errorf(EINVALID, "config.host", "config.host is required for an email notifier")
		}
		if c.Port == 0 {
			c.Port = 587
		}
		if c.Port < 1 || c.Port > 65535 {
			return Errorf(EINVALID, "config.port", "config.port must be 1-65535")
		}
		if a, err := mail.ParseAddress(c.From); err != nil || c.From == "" || a.Address == "" {
			return Errorf(EINVALID, "config.from", "config.from must be an email address")
		}
		switch c.TLS {
		case "":
			c.TLS = "starttls"
		case "starttls", "tls", "none":
		default:
			return Errorf(EINVALID, "config.tls", "config.tls must be starttls, tls or none")
		}
	case NotifierSMS, NotifierDingTalk, NotifierLark, NotifierWeCom, NotifierWebhook:
		if err := validateURL("config.url", c.URL); err != nil {
			return err
		}
		switch {
		case n.Type == NotifierSMS && c.Method == "":
			c.Method = "POST"
		case n.Type == NotifierSMS && c.Method != "POST" && c.Method != "PUT":
			return Errorf(EINVALID, "config.method", "config.method must be POST or PUT")
		case n.Type != NotifierSMS && c.Method != "":
			return Errorf(EINVALID, "config.method", "config.method applies to sms notifiers only")
		}
		if c.MessageBody != "" {
			if _, err := template.New("body").Funcs(templateFuncs).Parse(c.MessageBody); err != nil {
				return Errorf(EINVALID, "config.message_body", "config.message_body is not a valid template: %v", err)
			}
		}
		for k, v := range c.HTTPHeaders {
			if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
				return Errorf(EINVALID, "config.http_headers", "config.http_headers has an invalid header %q", k)
			}
		}
	case NotifierInbox:
		if c.URL != "" || c.Host != "" {
			return Errorf(EINVALID, "config", "an inbox notifier takes no endpoint")
		}
	case "":
		return Errorf(EINVALID, "type", "type is required")
	default:
		return Errorf(EINVALID, "type", "type must be one of %s", strings.Join(NotifierTypes, ", "))
	}
	if r := c.RateLimit; r != nil && (r.Count < 1 || r.Seconds < 1 || r.Seconds > 86400) {
		return Errorf(EINVALID, "config.rate_limit", "config.rate_limit needs count >= 1 and seconds 1-86400")
	}
	if len(c.AtMobiles) > 100 || len(c.AtUserIDs) > 100 {
		return Errorf(EINVALID, "config.at_mobiles", "at most 100 mentions")
	}
	return validateOptional("secret", n.Secret, 4096)
}

// templateFuncs names the functions the renderers give a message_body
// template (render and channel/sms both provide json), so that parsing here
// accepts the {{json .Text}} the documentation asks for. Only the names
// matter to Parse; the bodies never run.
var templateFuncs = template.FuncMap{"json": func(any) (string, error) { return "", nil }}

func validateURL(field, raw string) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, field, "%s must be an http or https URL", field)
	}
	return nil
}

// NotifierFilter narrows FindNotifiers.
type NotifierFilter struct {
	ProjectID int64
	Type      string
}

// Validate checks a filter's type.
func (f NotifierFilter) Validate() error {
	if err := ValidText("type", f.Type); err != nil {
		return err
	}
	if f.Type != "" && !slices.Contains(NotifierTypes, f.Type) {
		return Errorf(EINVALID, "type", "type must be one of %s", strings.Join(NotifierTypes, ", "))
	}
	return nil
}

// NotifierService manages notifiers. Secrets are encrypted at rest; a
// notifier read back carries its clear secret for the delivery engine, and
// an update whose Secret is "" or SecretMask keeps the stored one.
type NotifierService interface {
	FindNotifierByID(ctx context.Context, id int64) (*Notifier, error)
	FindNotifiers(ctx context.Context, f NotifierFilter, page Page) ([]*Notifier, string, error)
	CreateNotifier(ctx context.Context, n *Notifier) error
	UpdateNotifier(ctx context.Context, n *Notifier) error
	DeleteNotifier(ctx context.Context, id int64) error
}
