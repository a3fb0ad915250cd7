package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/render"
	"github.com/heraldhq/herald/resolve"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
)

type fanoutWorker struct {
	river.WorkerDefaults[store.FanoutArgs]
	e *Engine
}

// Work fans out each event of the job not fanned out yet.
func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[store.FanoutArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	events, sources, err := w.e.db.EventsToFanOut(ctx, job.Args.EventIDs)
	if err != nil {
		return err
	}
	for _, ev := range events {
		ds, err := w.e.Plan(ctx, ev, sources[ev.SourceID])
		if err != nil {
			return fmt.Errorf("fan out event %d: %w", ev.ID, err)
		}
		if _, err := w.e.db.RecordFanout(ctx, ev.ID, 0, ds); err != nil {
			return fmt.Errorf("record fan-out of event %d: %w", ev.ID, err)
		}
	}
	return nil
}

// Plan returns the deliveries an event causes under its source's effective
// live settings: per notifier switched on with the event's type switched
// on, the resolved recipients mapped to that channel's addresses.
func (e *Engine) Plan(ctx context.Context, ev *herald.Event, src *herald.Source) ([]store.NewDelivery, error) {
	settings, err := e.db.EffectiveSettings(ctx, herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID})
	if err != nil {
		return nil, err
	}
	var out []store.NewDelivery
	for _, ch := range settings.Channels {
		es := ch.Event(ev.Type)
		if !ch.Enabled || es == nil || !es.Enabled {
			continue
		}
		n, err := e.db.FindNotifierByID(ctx, ch.NotifierID)
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		commenters := settings.NotifyCommenters && ev.Type == "comment.added"
		users, err := resolve.Recipients(ctx, e.db, es.Recipients, ev, commenters)
		if err != nil {
			return nil, err
		}
		ds, err := plan(render.Input{Event: ev, Source: src, Notifier: n, BodyFields: ch.BodyFields}, users)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// plan maps users to one notifier's deliveries. Inbox, email and SMS send
// to each user; robots and webhooks post once, mentioning the users.
func plan(in render.Input, users []*herald.User) ([]store.NewDelivery, error) {
	n := in.Notifier
	// One rendering per language.
	rendered := map[string]channel.Message{}
	message := func(locale string) (channel.Message, error) {
		if m, ok := rendered[locale]; ok {
			return m, nil
		}
		in.Locale = locale
		m, err := render.Message(in)
		rendered[locale] = m
		return m, err
	}
	var out []store.NewDelivery
	switch n.Type {
	case herald.NotifierInbox, herald.NotifierEmail, herald.NotifierSMS:
		for _, u := range users {
			m, err := message(u.Locale)
			if err != nil {
				return nil, err
			}
			d := store.NewDelivery{NotifierID: n.ID, Channel: n.Type, UserID: u.ID, Status: herald.StatusPending}
			switch n.Type {
			case herald.NotifierInbox:
				d.Target, d.Status, d.Message = u.Code, herald.StatusDelivered, []byte(`{}`)
				d.Inbox = &herald.InboxMessage{UserID: u.ID, Title: m.Subject, Body: m.Text}
				out = append(out, d)
				continue
			case herald.NotifierEmail:
				d.Target = u.Email
			case herald.NotifierSMS:
				d.Target = u.Mobile
			}
			if d.Target == "" {
				d.Target, d.Status = u.Code, herald.StatusSkipped
				d.LastError = fmt.Sprintf("user %s has no %s", u.Code, map[string]string{herald.NotifierEmail: "email address", herald.NotifierSMS: "mobile number"}[n.Type])
				d.Message = []byte(`{}`)
				out = append(out, d)
				continue
			}
			m.To = channel.Address{Name: u.Name, Email: u.Email, Mobile: u.Mobile}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			d.Message = b
			out = append(out, d)
		}
	default: // dingtalk, lark, wecom, webhook: one post to the notifier's target
		m, err := message(majorityLocale(users))
		if err != nil {
			return nil, err
		}
		m.AtMobiles = append([]string(nil), n.Config.AtMobiles...)
		m.AtUserIDs = append([]string(nil), n.Config.AtUserIDs...)
		for _, u := range users {
			if id := imID(n.Type, u); id != "" {
				m.AtUserIDs = append(m.AtUserIDs, id)
			} else if u.Mobile != "" && n.Type != herald.NotifierLark {
				m.AtMobiles = append(m.AtMobiles, u.Mobile)
			}
		}
		if n.Type == herald.NotifierWebhook {
			m.AtMobiles, m.AtUserIDs = nil, nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		target := n.Name
		if u, err := url.Parse(n.Config.URL); err == nil && u.Host != "" {
			target = u.Host
		}
		out = append(out, store.NewDelivery{NotifierID: n.ID, Channel: n.Type, Target: target, Status: herald.StatusPending, Message: b})
	}
	return out, nil
}

// imID is the user's id on a robot's platform.
func imID(typ string, u *herald.User) string {
	switch typ {
	case herald.NotifierDingTalk:
		return u.DingTalkID
	case herald.NotifierWeCom:
		return u.WeComID
	case herald.NotifierLark:
		return u.OpenID
	}
	return ""
}

// majorityLocale is the language most recipients read (English on a tie).
func majorityLocale(users []*herald.User) string {
	zh := 0
	for _, u := range users {
		if u.Locale == herald.LocaleZH {
			zh++
		}
	}
	if zh*2 > len(users) {
		return herald.LocaleZH
	}
	return herald.LocaleEN
}
