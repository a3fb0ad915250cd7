package console

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/dingtalk"
	"github.com/heraldhq/herald/channel/email"
	"github.com/heraldhq/herald/channel/lark"
	"github.com/heraldhq/herald/channel/netguard"
	"github.com/heraldhq/herald/channel/sms"
	"github.com/heraldhq/herald/channel/webhook"
	"github.com/heraldhq/herald/channel/wecom"
)

// "Send test message" sends one message straight through the notifier's
// channel sender, the same packages the delivery engine uses, over a
// client guarded against private and loopback targets (unless
// AllowPrivateTargets), SMTP included. It records no delivery: a test is
// not an event, and its outcome is shown at once instead: a peer's answer,
// or the category of a failure to reach one (channel.Reason).

func (c *Console) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return netguard.NewHTTPClient(netguard.Options{AllowPrivate: c.AllowPrivateTargets, Timeout: 15 * time.Second})
}

// sender builds the channel sender of a notifier.
func (c *Console) sender(n *herald.Notifier) (channel.Sender, error) {
	cfg, client := n.Config, c.httpClient()
	switch n.Type {
	case herald.NotifierWebhook:
		return webhook.New(webhook.Config{URL: cfg.URL, Headers: cfg.HTTPHeaders, Secret: n.Secret, Client: client})
	case herald.NotifierDingTalk:
		return dingtalk.New(dingtalk.Config{URL: cfg.URL, Secret: n.Secret, Client: client})
	case herald.NotifierLark:
		return lark.New(lark.Config{URL: cfg.URL, Secret: n.Secret, Client: client})
	case herald.NotifierWeCom:
		return wecom.New(wecom.Config{URL: cfg.URL, Client: client})
	case herald.NotifierSMS:
		return sms.New(sms.Config{URL: cfg.URL, Method: cfg.Method, Headers: cfg.HTTPHeaders, BodyTemplate: cfg.MessageBody, Client: client})
	case herald.NotifierEmail:
		return email.New(email.Config{Host: cfg.Host, Port: cfg.Port, Username: cfg.Username, Password: n.Secret, From: cfg.From, TLS: cfg.TLS, Timeout: 15 * time.Second,
			CAPEM: cfg.TLSCAPEM, InsecureSkipVerify: cfg.InsecureSkipVerify, Logger: c.logger().With("notifier", n.ID),
			AllowPrivate: c.AllowPrivateTargets})
	}
	return nil, herald.Errorf(herald.EINVALID, "type", "an inbox notifier delivers in-app messages; there is nothing to test")
}

// sendTest sends the test message; to is the address for email and SMS.
func (c *Console) sendTest(ctx context.Context, n *herald.Notifier, to, lang string) error {
	s, err := c.sender(n)
	if err != nil {
		return err
	}
	to = strings.TrimSpace(to)
	m := channel.Message{
		ID:      fmt.Sprintf("test_%d_%d", n.ID, c.now().UnixNano()),
		Subject: translate(lang, "Herald test message"),
		Text:    fmt.Sprintf(translate(lang, "This is a test message from the Herald console for the notifier %q."), n.Name),
	}
	m.Markdown, m.HTML = m.Text, "<p>"+html.EscapeString(m.Text)+"</p>"
	m.AtMobiles, m.AtUserIDs = n.Config.AtMobiles, n.Config.AtUserIDs
	switch n.Type {
	case herald.NotifierEmail:
		if to == "" {
			return herald.Errorf(herald.EINVALID, "to", "give an email address to send the test to")
		}
		m.To.Email = to
	case herald.NotifierSMS:
		if to == "" {
			return herald.Errorf(herald.EINVALID, "to", "give a mobile number to send the test to")
		}
		m.To.Mobile = to
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err = s.Send(ctx, m); err != nil {
		// The page shows err's text: a channel.Failure's category, never
		// the dial error that would tell closed, filtered and open ports
		// apart. The detail is for the operator.
		c.logger().WarnContext(ctx, "console: test message failed", "notifier_id", n.ID, "type", n.Type, "err", channel.Detail(err))
	}
	return err
}
