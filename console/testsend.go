package console

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/channel/senders"
)

// "Send test message" sends one message straight through the notifier's
// channel sender, the same packages the delivery engine uses, over a
// client guarded against private and loopback targets (unless
// AllowPrivateTargets), SMTP included. It records no delivery: a test is
// not an event, and its outcome is shown at once instead: a peer's answer,
// or the category of a failure to reach one (channel.Reason).

// senders is the sender factory: the one serve shares with the engine and
// OTP (Senders), whose shared rate limiter a test message waits for like
// any other send, or one of the console's own.
func (c *Console) senders() *senders.Factory {
	if c.Senders != nil {
		return c.Senders
	}
	return senders.New(senders.Options{AllowPrivateTargets: c.AllowPrivateTargets, HTTPClient: c.HTTPClient})
}

// sender builds the channel sender of a notifier.
func (c *Console) sender(n *herald.Notifier) (channel.Sender, error) {
	if n.Type == herald.NotifierInbox {
		return nil, herald.Errorf(herald.EINVALID, "type", "an inbox notifier delivers in-app messages; there is nothing to test")
	}
	return c.senders().Paced(n)
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

// "Send a test event" on a source's page posts an event of that source
// through the same EventService the API uses (events:write): the live
// settings decide who is told, as for a real event, and the person lands
// on the event's page to watch its deliveries. Its payload says it came
// from here.

// handleTestEvent posts a test event of the page's source.
func (c *Console) handleTestEvent(w http.ResponseWriter, r *http.Request, v *view) error {
	_, src, _, err := c.scopeOf(r)
	if err != nil {
		return err
	}
	if src == nil {
		return herald.Errorf(herald.EINVALID, "source", "a test event belongs to a source: open one of the project's sources")
	}
	f := r.PostForm
	ev := &herald.Event{SourceID: src.ID, Type: strings.TrimSpace(f.Get("type")), Actor: strings.TrimSpace(f.Get("actor")),
		Roles: map[string][]string{}, Payload: json.RawMessage(`{"test": true, "sent_from": "console"}`)}
	if creator := strings.TrimSpace(f.Get("creator")); creator != "" {
		ev.Roles["creator"] = []string{creator}
	}
	if err := c.Events.CreateEvents(r.Context(), []*herald.Event{ev}); err != nil {
		return err
	}
	return redirect(w, r, "/console/events/"+strconv.FormatInt(ev.ID, 10), flashTestEvent)
}

// flashTestEvent is the flash on the test event's page.
const flashTestEvent = "Test event sent. Its deliveries appear below as they are made; reload to follow them."

func init() { flashes[flashTestEvent] = true }
