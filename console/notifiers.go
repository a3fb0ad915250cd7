package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// fieldTypes says which notifier types each form field applies to; the
// form shows a field for its types only (console.js hides the rest) and
// the server reads only those.
var fieldTypes = map[string][]string{
	"host":                 {herald.NotifierEmail},
	"port":                 {herald.NotifierEmail},
	"username":             {herald.NotifierEmail},
	"from":                 {herald.NotifierEmail},
	"tls":                  {herald.NotifierEmail},
	"tls_ca_pem":           {herald.NotifierEmail},
	"insecure_skip_verify": {herald.NotifierEmail},
	"url":                  {herald.NotifierSMS, herald.NotifierDingTalk, herald.NotifierLark, herald.NotifierWeCom, herald.NotifierWebhook},
	"method":               {herald.NotifierSMS},
	"headers":              {herald.NotifierSMS, herald.NotifierWebhook},
	"message_body":         {herald.NotifierSMS, herald.NotifierWebhook},
	"at_mobiles":           {herald.NotifierDingTalk, herald.NotifierWeCom},
	"at_user_ids":          {herald.NotifierDingTalk, herald.NotifierWeCom, herald.NotifierLark},
	"rate":                 {herald.NotifierSMS, herald.NotifierDingTalk, herald.NotifierLark, herald.NotifierWeCom, herald.NotifierWebhook},
	"secret":               {herald.NotifierEmail, herald.NotifierDingTalk, herald.NotifierLark, herald.NotifierWebhook},
}

// typeLabels name the notifier types as the form offers them.
var typeLabels = map[string]string{
	herald.NotifierEmail:    "Email (SMTP)",
	herald.NotifierSMS:      "SMS gateway",
	herald.NotifierDingTalk: "DingTalk robot",
	herald.NotifierLark:     "Feishu (Lark) bot",
	herald.NotifierWeCom:    "WeCom robot",
	herald.NotifierWebhook:  "Webhook",
	herald.NotifierInbox:    "Inbox (in-app messages)",
}

// typeAbout tells what each notifier type does and where its settings
// come from, beside the form.
var typeAbout = map[string]string{
	herald.NotifierEmail:    "Sends email through your SMTP server. Ask your mail administrator for the server's host, port and TLS mode, and for an account if the server needs sign-in.",
	herald.NotifierSMS:      "Sends text messages through your SMS gateway's HTTP API: Herald fills in the body template with the recipient's mobile and the text, and sends it to the gateway's URL.",
	herald.NotifierDingTalk: "Posts to a DingTalk group through a custom robot. In the group: Group settings › Bots › Add robot › Custom; copy its Webhook URL and, if you chose the Additional Signature security setting, its secret.",
	herald.NotifierLark:     "Posts to a Feishu (Lark) group through a custom bot. In the group: Settings › Bots › Add bot › Custom bot; copy its webhook address and, if you turned on signature verification, its secret.",
	herald.NotifierWeCom:    "Posts to a WeCom group through a group robot. In the group: ··· › Add group robot; copy its Webhook URL, which carries the robot's key.",
	herald.NotifierWebhook:  "Posts each notification as JSON to your URL; with a secret, each request is signed the Standard Webhooks way, so the receiver can check it came from Herald.",
	herald.NotifierInbox:    "Delivers in-app messages to the recipients' Herald inbox, which they read in their own apps through Herald's API.",
}

// moreFields are the fields most notifiers leave as they are: the form
// keeps them under "More options", open when one is set or refused.
var moreFields = []string{"at_mobiles", "at_user_ids", "rate", "tls_ca_pem", "insecure_skip_verify"}

// fieldsFor lists the form fields of a notifier type.
func fieldsFor(typ string) map[string]bool {
	out := map[string]bool{}
	for f, types := range fieldTypes {
		if slices.Contains(types, typ) {
			out[f] = true
		}
	}
	return out
}

// notifierForm is the form's values, from the Redacted notifier: the
// secret is never sent back, the URL and headers show their credentials
// masked, and a form saved unchanged keeps them (UpdateNotifier's rule).
type notifierForm struct {
	ID        int64
	ProjectID int64
	Type      string
	Name      string
	Host      string
	Port      string
	Username  string
	From      string
	TLS       string
	TLSCAPEM  string
	Insecure  bool
	URL       string
	Method    string
	Headers   string
	Body      string
	AtMobiles string
	AtUserIDs string
	RateCount string
	RateSecs  string
	HasSecret bool
	// Retyped says the form comes back refused with a secret that was
	// typed: it is not shown again, and the form asks for it.
	Retyped    bool
	Masked     bool              // the URL or headers show a credential masked
	FieldTypes map[string]string // field -> space-separated types, for data-types
	Types      []string
	TypeLabels map[string]string
	About      map[string]string
	Project    *herald.Project
	CanWrite   bool
	To         string
}

func formOf(n *herald.Notifier) *notifierForm {
	n = n.Redacted()
	c := n.Config
	f := &notifierForm{ID: n.ID, ProjectID: n.ProjectID, Type: n.Type, Name: n.Name, Host: c.Host, Username: c.Username,
		From: c.From, TLS: c.TLS, TLSCAPEM: c.TLSCAPEM, Insecure: c.InsecureSkipVerify, URL: c.URL, Method: c.Method, Body: c.MessageBody,
		AtMobiles: strings.Join(c.AtMobiles, ", "), AtUserIDs: strings.Join(c.AtUserIDs, ", "), HasSecret: n.Secret != "",
		Masked: strings.Contains(c.URL, herald.SecretMask)}
	if c.Port != 0 {
		f.Port = strconv.Itoa(c.Port)
	}
	var hs []string
	for k, v := range c.HTTPHeaders {
		hs = append(hs, k+": "+v)
		f.Masked = f.Masked || v == herald.SecretMask
	}
	slices.Sort(hs)
	f.Headers = strings.Join(hs, "\n")
	if r := c.RateLimit; r != nil {
		f.RateCount, f.RateSecs = strconv.Itoa(r.Count), strconv.Itoa(r.Seconds)
	}
	return f
}

// formFromPost is the form as it was posted, for showing it again when
// it is refused: what was typed, except the secret, which is asked again.
func formFromPost(n *herald.Notifier, hadSecret bool, post url.Values) *notifierForm {
	get := func(name string) string { return post.Get(name) }
	f := &notifierForm{ID: n.ID, ProjectID: n.ProjectID, Type: n.Type, Name: get("name"), Host: get("host"), Port: get("port"),
		Username: get("username"), From: get("from"), TLS: get("tls"), TLSCAPEM: get("tls_ca_pem"), Insecure: get("insecure_skip_verify") != "",
		URL: get("url"), Method: get("method"), Headers: get("headers"), Body: get("message_body"), AtMobiles: get("at_mobiles"),
		AtUserIDs: get("at_user_ids"), RateCount: get("rate_count"), RateSecs: get("rate_seconds"), HasSecret: hadSecret,
		Retyped: get("secret") != "" && fieldsFor(n.Type)["secret"]}
	f.Masked = strings.Contains(f.URL, herald.SecretMask) || strings.Contains(f.Headers, herald.SecretMask)
	return f
}

// Show reports whether the form's type has the field.
func (f *notifierForm) Show(field string) bool { return fieldsFor(f.Type)[field] }

// Render reports whether the page carries the field: a saved notifier's
// page only its type's fields; the new notifier's page every field, the
// others hidden, for the type chooser to show (console.js).
func (f *notifierForm) Render(field string) bool { return f.ID == 0 || f.Show(field) }

// More reports whether the form's type has any of the "More options".
func (f *notifierForm) More() bool {
	return slices.ContainsFunc(moreFields, f.Show)
}

// MoreOpen reports whether "More options" starts open: one of them is
// set, or refused.
func (f *notifierForm) MoreOpen(v *view) bool {
	if f.AtMobiles != "" || f.AtUserIDs != "" || f.RateCount != "" || f.TLSCAPEM != "" || f.Insecure {
		return true
	}
	return slices.ContainsFunc(moreFields, func(m string) bool { return v.FieldError(m) != "" })
}

// TypesOf is the space-separated types that have any of fields, for a
// data-types attribute.
func (f *notifierForm) TypesOf(fields ...string) string {
	var out []string
	for _, t := range herald.NotifierTypes {
		if slices.ContainsFunc(fields, func(field string) bool { return fieldsFor(t)[field] }) {
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}

// formFields are the fields of a type's form, for the errors beside them.
func formFields(typ string) []string {
	out := []string{"name", "type"}
	for field := range fieldsFor(typ) {
		out = append(out, field)
	}
	return out
}

func (f *notifierForm) decorate(p *herald.Project, canWrite bool) {
	f.Project, f.CanWrite, f.Types, f.TypeLabels = p, canWrite, herald.NotifierTypes, typeLabels
	f.About = typeAbout
	f.FieldTypes = map[string]string{}
	for k, v := range fieldTypes {
		f.FieldTypes[k] = strings.Join(v, " ")
	}
}

// splitList reads a comma- or newline-separated list.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readNotifier fills n from the posted form: only the fields of n's type.
func readNotifier(r *http.Request, n *herald.Notifier) error {
	f := r.PostForm
	n.Name = strings.TrimSpace(f.Get("name"))
	has := fieldsFor(n.Type)
	c := herald.NotifierConfig{}
	get := func(name string) string {
		if !has[name] {
			return ""
		}
		return strings.TrimSpace(f.Get(name))
	}
	c.Host, c.Username, c.From, c.TLS = get("host"), get("username"), get("from"), get("tls")
	c.TLSCAPEM, c.InsecureSkipVerify = get("tls_ca_pem"), get("insecure_skip_verify") != ""
	if p := get("port"); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return herald.Errorf(herald.EINVALID, "config.port", "config.port must be a number")
		}
		c.Port = port
	}
	c.URL, c.Method, c.MessageBody = get("url"), get("method"), get("message_body")
	if h := get("headers"); h != "" {
		c.HTTPHeaders = map[string]string{}
		for _, line := range strings.Split(h, "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return herald.Errorf(herald.EINVALID, "config.http_headers", "write each header as Name: value")
			}
			c.HTTPHeaders[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	c.AtMobiles, c.AtUserIDs = splitList(get("at_mobiles")), splitList(get("at_user_ids"))
	if has["rate"] && (f.Get("rate_count") != "" || f.Get("rate_seconds") != "") {
		count, err1 := strconv.Atoi(strings.TrimSpace(f.Get("rate_count")))
		secs, err2 := strconv.Atoi(strings.TrimSpace(f.Get("rate_seconds")))
		if err1 != nil || err2 != nil {
			return herald.Errorf(herald.EINVALID, "config.rate_limit", "the rate limit needs a count and seconds")
		}
		c.RateLimit = &herald.RateLimit{Count: count, Seconds: secs}
	}
	n.Config = c
	// An empty secret, like the masked URL and header values the form
	// shows, keeps the stored one (UpdateNotifier's rule).
	n.Secret = ""
	if has["secret"] {
		n.Secret = f.Get("secret")
	}
	return nil
}

func (c *Console) handleNotifierForm(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	var n *herald.Notifier
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id", false)
		if err != nil {
			return err
		}
		if n, err = c.findNotifier(ctx, id); err != nil {
			return err
		}
	} else {
		pid, err := pathID(r, "pid", false)
		if err != nil {
			return err
		}
		typ := r.URL.Query().Get("type")
		if !slices.Contains(herald.NotifierTypes, typ) {
			typ = herald.NotifierWebhook
		}
		n = &herald.Notifier{ProjectID: pid, Type: typ}
	}
	return c.showNotifier(w, r, v, n, http.StatusOK, formOf(n))
}

func (c *Console) showNotifier(w http.ResponseWriter, r *http.Request, v *view, n *herald.Notifier, status int, f *notifierForm) error {
	p, err := c.findProject(r.Context(), n.ProjectID)
	if err != nil {
		return err
	}
	f.decorate(p, can(r.Context(), herald.ResNotifier, herald.ActUpdate))
	title := "New notifier"
	if n.ID != 0 {
		title = n.Name
	}
	v.Title, v.Data = title, f
	c.render(w, status, "notifier", v)
	return nil
}

func (c *Console) handleSaveNotifier(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	var n *herald.Notifier
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id", false)
		if err != nil {
			return err
		}
		if n, err = c.findNotifier(ctx, id); err != nil {
			return err
		}
	} else {
		pid, err := pathID(r, "pid", false)
		if err != nil {
			return err
		}
		if _, err := c.findProject(ctx, pid); err != nil {
			return err
		}
		n = &herald.Notifier{ProjectID: pid, Type: r.PostForm.Get("type")}
		if !slices.Contains(herald.NotifierTypes, n.Type) {
			return herald.Errorf(herald.EINVALID, "type", "type must be one of %s", strings.Join(herald.NotifierTypes, ", "))
		}
	}
	hadSecret := n.Secret != ""
	err := readNotifier(r, n)
	if err == nil {
		if n.ID == 0 {
			err = c.Notifiers.CreateNotifier(ctx, n)
		} else {
			err = c.Notifiers.UpdateNotifier(ctx, n)
		}
	}
	if isCode(err, herald.EINVALID) {
		// Show the form again with what was typed (credentials shown
		// masked stay masked; a typed secret is asked again), each
		// message beside its field.
		v.showForm(newForm(v.Lang, "notifier", r.PostForm, err, formFields(n.Type)))
		return c.showNotifier(w, r, v, n, http.StatusOK, formFromPost(n, hadSecret, r.PostForm))
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/notifiers/"+strconv.FormatInt(n.ID, 10), "Notifier saved.")
}

func (c *Console) handleTestNotifier(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "id", false)
	if err != nil {
		return err
	}
	n, err := c.NotifierSender.FindNotifierForSend(r.Context(), id)
	if err != nil {
		return err
	}
	f := formOf(n) // formOf shows it redacted
	f.To = r.PostForm.Get("to")
	if err := c.sendTest(r.Context(), n, f.To, v.Lang); err != nil {
		msg := err.Error()
		if herald.ErrorCode(err) != herald.EINTERNAL {
			msg = herald.ErrorMessage(err)
		}
		v.Error = translate(v.Lang, "Test message failed:") + " " + msg
		return c.showNotifier(w, r, v, n.Redacted(), http.StatusBadGateway, f)
	}
	v.Flash = "Test message sent."
	return c.showNotifier(w, r, v, n.Redacted(), http.StatusOK, f)
}
