package herald

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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

// SecretMask is what every answer shows in place of a stored credential
// (see Notifier.Redacted); sent back, it keeps the stored value.
const SecretMask = "********"

// Notifier is a configured channel endpoint of a project. It holds
// credentials in three places: Secret (an SMTP password, a signing key),
// the URL of robots and webhooks (DingTalk's access_token, WeCom's key,
// Lark's hook token, a userinfo password) and the values of HTTPHeaders (a
// gateway's API key). Inside the process they are in clear, for the
// delivery engine; they are sealed at rest, and whatever leaves the process
// is Redacted (MarshalJSON redacts too, as a second line of defence).
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

// MarshalJSON writes the notifier Redacted, so that no JSON answer, log or
// document can carry a credential whichever path it takes.
func (n Notifier) MarshalJSON() ([]byte, error) {
	type plain Notifier
	return json.Marshal((*plain)(n.Redacted()))
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
	// TLSCAPEM is a bundle of PEM certificates (a private CA) that alone
	// verify the SMTP server's certificate instead of the system's roots;
	// empty uses the system's roots.
	TLSCAPEM string `json:"tls_ca_pem,omitempty"`
	// InsecureSkipVerify accepts any server certificate: the connection is
	// encrypted but not authenticated, so anyone on the path can read the
	// password and the mail. Herald logs a warning at every connection; a
	// private CA (TLSCAPEM) is the better answer.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`

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
		// SMTP AUTH takes both or neither. The password is the secret; a
		// masked one stands for the stored password (see MergeStored).
		switch {
		case c.Username != "" && n.Secret == "":
			return Errorf(EINVALID, "secret", "config.username is set: secret must hold its SMTP password")
		case c.Username == "" && n.Secret != "":
			return Errorf(EINVALID, "config.username", "secret holds an SMTP password: config.username is required with it")
		}
		if err := validateTLSTrust(c); err != nil {
			return err
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
		if err := validateEndpoint(n); err != nil {
			return err
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
	if n.Type != NotifierEmail && (c.TLSCAPEM != "" || c.InsecureSkipVerify) {
		field := "config.tls_ca_pem"
		if c.TLSCAPEM == "" {
			field = "config.insecure_skip_verify"
		}
		return Errorf(EINVALID, field, "%s applies to email notifiers only", field)
	}
	if r := c.RateLimit; r != nil && (r.Count < 1 || r.Seconds < 1 || r.Seconds > 86400) {
		return Errorf(EINVALID, "config.rate_limit", "config.rate_limit needs count >= 1 and seconds 1-86400")
	}
	if len(c.AtMobiles) > 100 || len(c.AtUserIDs) > 100 {
		return Errorf(EINVALID, "config.at_mobiles", "at most 100 mentions")
	}
	return validateOptional("secret", n.Secret, 4096)
}

// webhookSecretPrefix marks a Standard Webhooks secret (channel/webhook's
// SecretPrefix; the domain imports no channel).
const webhookSecretPrefix = "whsec_"

// maxCAPEM bounds config.tls_ca_pem: a few dozen certificates.
const maxCAPEM = 256 << 10

// validateEndpoint checks what the endpoint of an HTTP notifier needs in
// order to be sent to at all, so that a notifier that could only fail
// every delivery is refused at creation:
//
//   - webhook: a secret, when set, is a Standard Webhooks secret,
//     "whsec_" + base64 (standard, padded) of the key, as the official
//     libraries' NewWebhook(secret) reads it (the specification asks for
//     24 to 64 random bytes; Herald takes the receiver's key as it is). A raw string is
//     refused rather than converted: Herald would sign with a key the
//     receiver's library does not derive from what the operator holds.
//     A raw key k is written whsec_ + base64(k).
//   - dingtalk: the URL carries access_token;
//   - wecom: the URL carries key;
//   - lark: the URL is a custom bot hook, /open-apis/bot/v2/hook/<token>.
//
// A credential shown masked (an update keeping the stored one, see
// MergeStored) counts as present.
func validateEndpoint(n *Notifier) error {
	u, err := url.Parse(n.Config.URL)
	if err != nil {
		return Errorf(EINVALID, "config.url", "config.url must be an http or https URL")
	}
	switch n.Type {
	case NotifierWebhook:
		if n.Secret == "" || n.Secret == SecretMask {
			return nil
		}
		const how = "secret must be a Standard Webhooks secret: whsec_ followed by the base64 of the key (a raw key k is whsec_ + base64(k))"
		rest, ok := strings.CutPrefix(n.Secret, webhookSecretPrefix)
		if !ok {
			return Errorf(EINVALID, "secret", "%s", how)
		}
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(key) == 0 {
			return Errorf(EINVALID, "secret", "%s", how)
		}
	case NotifierDingTalk:
		if u.Query().Get("access_token") == "" {
			return Errorf(EINVALID, "config.url", "config.url must carry the robot's access_token (https://oapi.dingtalk.com/robot/send?access_token=…)")
		}
	case NotifierWeCom:
		if u.Query().Get("key") == "" {
			return Errorf(EINVALID, "config.url", "config.url must carry the robot's key (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)")
		}
	case NotifierLark:
		const hook = "/open-apis/bot/v2/hook/"
		if token, ok := strings.CutPrefix(u.Path, hook); !ok || token == "" || strings.Contains(token, "/") {
			return Errorf(EINVALID, "config.url", "config.url must be the bot's hook, https://open.feishu.cn/open-apis/bot/v2/hook/<token>")
		}
	}
	return nil
}

// validateTLSTrust checks how an email notifier trusts its server: either
// a bundle of PEM certificates, each parseable, nothing else in it (a
// private key pasted by mistake is refused, not stored), or
// insecure_skip_verify, not both, and neither without TLS.
func validateTLSTrust(c *NotifierConfig) error {
	if c.TLSCAPEM == "" {
		if c.InsecureSkipVerify && c.TLS == "none" {
			return Errorf(EINVALID, "config.insecure_skip_verify", "config.insecure_skip_verify needs config.tls starttls or tls")
		}
		return nil
	}
	const field = "config.tls_ca_pem"
	switch {
	case c.TLS == "none":
		return Errorf(EINVALID, field, "%s needs config.tls starttls or tls", field)
	case c.InsecureSkipVerify:
		return Errorf(EINVALID, "config.insecure_skip_verify", "config.insecure_skip_verify and %s contradict each other: set one", field)
	case len(c.TLSCAPEM) > maxCAPEM:
		return Errorf(EINVALID, field, "%s must be at most %d bytes", field, maxCAPEM)
	}
	rest := []byte(c.TLSCAPEM)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return Errorf(EINVALID, field, "%s must hold certificates only, not a %s", field, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return Errorf(EINVALID, field, "%s: certificate %d does not parse: %v", field, n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return Errorf(EINVALID, field, "%s must be PEM certificates (-----BEGIN CERTIFICATE-----)", field)
	}
	return nil
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

// NotifierSender reads a notifier with its credentials in clear, to send
// through it (the console's test message). It needs the right to set those
// credentials, not to read them: the notifier itself never leaves.
type NotifierSender interface {
	FindNotifierForSend(ctx context.Context, id int64) (*Notifier, error)
}

// NotifierService manages notifiers. Credentials (the secret, the URL, the
// header values) are sealed at rest; a notifier read back carries them in
// clear for the delivery engine, so whatever shows one to anybody shows it
// Redacted. An update applies Notifier.MergeStored to the stored notifier:
// masked values keep the stored credentials, and a new destination needs
// them again.
type NotifierService interface {
	FindNotifierByID(ctx context.Context, id int64) (*Notifier, error)
	FindNotifiers(ctx context.Context, f NotifierFilter, page Page) ([]*Notifier, string, error)
	CreateNotifier(ctx context.Context, n *Notifier) error
	UpdateNotifier(ctx context.Context, n *Notifier) error
	DeleteNotifier(ctx context.Context, id int64) error
}

// Redacted returns a copy of n safe to show anyone: every credential is
// replaced by SecretMask, everything else is kept, so that a reader sees
// what the notifier does and which credentials are set (a set one shows
// as the mask, an unset one stays empty). Masked are the secret, the
// credential parts of the URL (every query value, since a query is where
// robots and gateways take their keys and Herald cannot tell a key from a
// label; the token in a hook's path, as Feishu/Lark, Slack and Discord put
// it; a userinfo password, or a lone userinfo name) and every header value
// (header names stay: values are where keys live). A URL Herald could not
// send to shows as the mask whole.
//
// Redacted is cheap and idempotent: a redacted notifier redacts to itself.
// MergeStored undoes it for a client that sends a read back.
func (n *Notifier) Redacted() *Notifier {
	r := *n
	if r.Secret != "" {
		r.Secret = SecretMask
	}
	c := &r.Config
	c.URL = RedactURL(c.URL)
	if c.HTTPHeaders != nil {
		h := make(map[string]string, len(c.HTTPHeaders))
		for k, v := range c.HTTPHeaders {
			if v != "" {
				v = SecretMask
			}
			h[k] = v
		}
		c.HTTPHeaders = h
	}
	c.AtMobiles, c.AtUserIDs = slices.Clone(c.AtMobiles), slices.Clone(c.AtUserIDs)
	if c.RateLimit != nil {
		rl := *c.RateLimit
		c.RateLimit = &rl
	}
	return &r
}

// MergeStored completes n, an update of the stored notifier old, by the one
// rule every surface shares: reads show credentials masked (Redacted), and
// a client that sends back what it was shown keeps what is stored.
//
//   - A Secret of "" or SecretMask keeps old's secret.
//   - A URL whose credential parts are masked as Redacted shows them takes
//     those parts from old's URL (the whole of old's URL when n's URL is
//     old's redacted URL).
//   - A header whose value is SecretMask keeps old's value of that header.
//
// A stored credential kept this way must not go anywhere new: if the
// destination changes (an email notifier's SMTP host, port or TLS mode; the
// scheme, host, port or path of a URL) while a stored credential is kept
// rather than supplied again, MergeStored refuses with EINVALID naming the
// field to send again ("secret", "config.http_headers" or "config.url").
// Otherwise anyone allowed to edit a notifier could read its credentials
// by pointing it at their own server. Herald refuses, as GitLab does when
// a webhook's URL changes without its secret token, rather than dropping
// the credential, which would send unauthenticated messages by surprise.
//
// With old nil (a new notifier) nothing is stored: a masked value is
// refused.
func (n *Notifier) MergeStored(old *Notifier) error {
	c := &n.Config
	if old == nil {
		if n.Secret == SecretMask {
			return Errorf(EINVALID, "secret", "secret must be the real secret, not the mask")
		}
		for k, v := range c.HTTPHeaders {
			if v == SecretMask {
				return Errorf(EINVALID, "config.http_headers", "config.http_headers: %s must be the real value, not the mask", k)
			}
		}
		if containsMask(c.URL) {
			return errURLMask()
		}
		return nil
	}
	keptSecret := false
	if n.Secret == "" || n.Secret == SecretMask {
		n.Secret = old.Secret
		keptSecret = old.Secret != ""
	}
	keptHeaders := false
	if c.HTTPHeaders != nil {
		h := make(map[string]string, len(c.HTTPHeaders))
		for k, v := range c.HTTPHeaders {
			if v == SecretMask {
				ov, ok := headerValue(old.Config.HTTPHeaders, k)
				if !ok {
					return Errorf(EINVALID, "config.http_headers", "config.http_headers: %s holds the mask, but no value of it is stored; send the value", k)
				}
				v, keptHeaders = ov, true
			}
			h[k] = v
		}
		c.HTTPHeaders = h
	}
	u, keptURL, err := unmaskURL(c.URL, old.Config.URL)
	if err != nil {
		return err
	}
	c.URL = u
	if !keptSecret && !keptHeaders && !keptURL || sameDestination(n, old) {
		return nil
	}
	const why = "changing where a credential is sent needs the credential again"
	switch {
	case keptSecret:
		return Errorf(EINVALID, "secret", "%s: send the secret too", why)
	case keptHeaders:
		return Errorf(EINVALID, "config.http_headers", "%s: send the values of config.http_headers too", why)
	default:
		return Errorf(EINVALID, "config.url", "%s: send config.url whole, with its credentials", why)
	}
}

// hookPath is a URL path whose remainder after prefix is a credential, on
// any host or on hosts ending in host.
type hookPath struct{ host, prefix string }

var hookPaths = []hookPath{
	{"", "/open-apis/bot/v2/hook/"},      // Feishu / Lark custom bots, on every deployment
	{"hooks.slack.com", "/services/"},    // Slack incoming webhooks
	{"discord.com", "/api/webhooks/"},    // Discord webhooks
	{"discordapp.com", "/api/webhooks/"}, // their older host
}

// hookPrefix returns the prefix of u's path before a path credential.
func hookPrefix(u *url.URL) (string, bool) {
	host := strings.ToLower(u.Hostname())
	for _, h := range hookPaths {
		if (h.host == "" || host == h.host || strings.HasSuffix(host, "."+h.host)) &&
			strings.HasPrefix(u.Path, h.prefix) && len(u.Path) > len(h.prefix) {
			return h.prefix, true
		}
	}
	return "", false
}

// RedactURL masks the credential parts of a URL (see Redacted), writing
// the mask unescaped so that a reader sees it as the API documents it.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return SecretMask
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			b.WriteString(url.User(u.User.Username()).String() + ":" + SecretMask)
		} else {
			b.WriteString(SecretMask)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Host)
	if p, ok := hookPrefix(u); ok {
		b.WriteString(p + SecretMask)
	} else {
		b.WriteString(u.EscapedPath())
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		for i, item := range strings.Split(u.RawQuery, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			switch k, v, ok := strings.Cut(item, "="); {
			case ok && v != "":
				item = k + "=" + SecretMask
			case !ok && item != "":
				item = SecretMask // a bare token
			}
			b.WriteString(item)
		}
	}
	if u.Fragment != "" {
		b.WriteString("#" + u.EscapedFragment())
	}
	return b.String()
}

// isMask reports whether a raw query or path part is the mask, escaped or not.
func isMask(raw string) bool {
	v, err := url.QueryUnescape(raw)
	return raw == SecretMask || err == nil && v == SecretMask
}

// containsMask reports whether a URL still holds the mask somewhere.
func containsMask(raw string) bool {
	return strings.Contains(raw, SecretMask) || strings.Contains(strings.ToUpper(raw), strings.Repeat("%2A", len(SecretMask)))
}

func errURLMask() error {
	return Errorf(EINVALID, "config.url", "config.url holds the mask where no stored credential is; send the URL whole")
}

// unmaskURL puts back into next the credential parts of stored that next
// shows masked, reporting whether it kept any.
func unmaskURL(next, stored string) (string, bool, error) {
	if !containsMask(next) {
		return next, false, nil
	}
	if next == RedactURL(stored) {
		return stored, true, nil
	}
	nu, err := url.Parse(next)
	if err != nil {
		return next, false, nil // Validate names it
	}
	ou, err := url.Parse(stored)
	if err != nil || stored == "" {
		return "", false, errURLMask()
	}
	if nu.User != nil {
		name := nu.User.Username()
		pass, hasPass := nu.User.Password()
		switch {
		case hasPass && pass == SecretMask:
			op, ok := ou.User.Password() // a nil *Userinfo answers "", false
			if !ok {
				return "", false, errURLMask()
			}
			nu.User = url.UserPassword(name, op)
		case !hasPass && name == SecretMask:
			if ou.User == nil || ou.User.Username() == "" {
				return "", false, errURLMask()
			}
			nu.User = ou.User
		}
	}
	if p, ok := hookPrefix(nu); ok && strings.TrimPrefix(nu.Path, p) == SecretMask {
		if op, ok := hookPrefix(ou); !ok || op != p {
			return "", false, errURLMask()
		}
		nu.Path, nu.RawPath = ou.Path, ou.RawPath
	}
	if nu.RawQuery != "" {
		items := strings.Split(nu.RawQuery, "&")
		var olds []string
		if ou.RawQuery != "" {
			olds = strings.Split(ou.RawQuery, "&")
		}
		used := make([]bool, len(olds))
		for i, it := range items {
			k, v, eq := strings.Cut(it, "=")
			if !eq {
				v = it
			}
			if !isMask(v) {
				continue
			}
			found := -1
			for j, o := range olds {
				ok, _, oeq := strings.Cut(o, "=")
				if !used[j] && oeq == eq && (!eq || ok == k) {
					found = j
					break
				}
			}
			if found < 0 {
				return "", false, errURLMask()
			}
			used[found], items[i] = true, olds[found]
		}
		nu.RawQuery = strings.Join(items, "&")
	}
	out := nu.String()
	if containsMask(out) {
		return "", false, errURLMask()
	}
	return out, true, nil
}

// headerValue returns the stored value of a header, its name matched as
// HTTP matches it (exactly first, then regardless of case).
func headerValue(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok && v != "" {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && v != "" {
			return v, true
		}
	}
	return "", false
}

// sameDestination reports whether n sends where old did: the same SMTP
// server (host, port, TLS mode) or the same URL but for its query and
// userinfo.
func sameDestination(n, old *Notifier) bool {
	if n.Type == NotifierEmail {
		a, b := n.Config, old.Config
		return strings.EqualFold(a.Host, b.Host) && smtpPort(a.Port) == smtpPort(b.Port) && smtpTLS(a.TLS) == smtpTLS(b.TLS)
	}
	a, okA := urlDestination(n.Config.URL)
	b, okB := urlDestination(old.Config.URL)
	return okA && okB && a == b
}

func smtpPort(p int) int {
	if p == 0 {
		return 587 // Validate's default
	}
	return p
}

func smtpTLS(t string) string {
	if t == "" {
		return "starttls" // Validate's default
	}
	return t
}

// urlDestination is where a URL sends: scheme, host, port and path.
func urlDestination(raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port + path, true
}
