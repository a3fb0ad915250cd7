package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

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
	p := w.e.newPlanner()
	fs := make([]store.Fanout, 0, len(events))
	for _, ev := range events {
		ds, err := p.plan(ctx, ev, sources[ev.SourceID])
		if err != nil {
			return fmt.Errorf("fan out event %d: %w", ev.ID, err)
		}
		fs = append(fs, store.Fanout{EventID: ev.ID, Deliveries: ds})
	}
	// One transaction for the whole job, so the pending deliveries of many
	// events share deliver jobs.
	if _, err := w.e.db.RecordFanouts(ctx, fs); err != nil {
		return fmt.Errorf("record fan-out: %w", err)
	}
	return nil
}

// planner plans the events of one job, reading each source's settings,
// each notifier and each project's live templates once.
type planner struct {
	e         *Engine
	settings  map[int64]*herald.Settings
	notifiers map[int64]*herald.Notifier
	templates map[int64]*render.Set
}

func (e *Engine) newPlanner() *planner {
	return &planner{e: e, settings: map[int64]*herald.Settings{}, notifiers: map[int64]*herald.Notifier{}, templates: map[int64]*render.Set{}}
}

// projectTemplates returns a project's live templates, parsed; nil when
// it has none (the built-in ones render).
func (p *planner) projectTemplates(ctx context.Context, projectID int64) (*render.Set, error) {
	if set, ok := p.templates[projectID]; ok {
		return set, nil
	}
	live, err := p.e.db.FindTemplates(ctx, projectID, herald.VersionLive)
	if err != nil {
		return nil, err
	}
	var set *render.Set
	if len(live.Templates) > 0 {
		set = render.NewSet(live.Templates)
	}
	p.templates[projectID] = set
	return set, nil
}

// Plan returns the deliveries an event causes under its source's effective
// live settings: per notifier switched on with the event's type switched
// on, the resolved recipients mapped to that channel's addresses.
func (e *Engine) Plan(ctx context.Context, ev *herald.Event, src *herald.Source) ([]store.NewDelivery, error) {
	return e.newPlanner().plan(ctx, ev, src)
}

func (p *planner) plan(ctx context.Context, ev *herald.Event, src *herald.Source) ([]store.NewDelivery, error) {
	e := p.e
	settings, ok := p.settings[src.ID]
	if !ok {
		var err error
		settings, err = e.db.EffectiveSettings(ctx, herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID})
		if err != nil {
			return nil, err
		}
		p.settings[src.ID] = settings
	}
	templates, err := p.projectTemplates(ctx, src.ProjectID)
	if err != nil {
		return nil, err
	}
	var out []store.NewDelivery
	for _, ch := range settings.Channels {
		es := ch.Event(ev.Type)
		if !ch.Enabled || es == nil || !es.Enabled {
			continue
		}
		n, ok := p.notifiers[ch.NotifierID]
		if !ok {
			var err error
			n, err = e.db.FindNotifierByID(ctx, ch.NotifierID)
			if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
				return nil, err
			}
			p.notifiers[ch.NotifierID] = n
		}
		if n == nil {
			continue
		}
		commenters := settings.NotifyCommenters && ev.Type == "comment.added"
		users, err := resolve.Recipients(ctx, e.db, es.Recipients, ev, commenters)
		if err != nil {
			return nil, err
		}
		ds, err := plan(render.Input{Event: ev, Source: src, Notifier: n, BodyFields: ch.BodyFields, Templates: templates}, users)
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
	// One rendering per language, or per recipient when the template
	// names the recipient.
	type rendering struct {
		m   channel.Message
		err error
	}
	rendered := map[string]rendering{}
	message := func(locale string, u *herald.User) (channel.Message, error) {
		in.Locale, in.Recipient = locale, u
		key := locale
		if u != nil && render.NeedsRecipient(in) {
			key += "/" + strconv.FormatInt(u.ID, 10)
		}
		if r, ok := rendered[key]; ok {
			return r.m, r.err
		}
		m, err := render.Message(in)
		rendered[key] = rendering{m, err}
		return m, err
	}
	// A message that cannot be rendered (a notifier's template failing on
	// this event's payload) fails its delivery, visibly; failing the job
	// instead would hold back every event of the batch on every channel.
	unrendered := func(d store.NewDelivery, err error) store.NewDelivery {
		d.Status, d.LastError, d.Message = herald.StatusFailed, "cannot render the message: "+err.Error(), []byte(`{}`)
		return d
	}
	var out []store.NewDelivery
	switch n.Type {
	case herald.NotifierInbox, herald.NotifierEmail, herald.NotifierSMS:
		for _, u := range users {
			m, err := message(u.Locale, u)
			if err != nil {
				out = append(out, unrendered(store.NewDelivery{NotifierID: n.ID, Channel: n.Type, UserID: u.ID, Target: u.Code}, err))
				continue
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
		target := n.Name
		if u, err := url.Parse(n.Config.URL); err == nil && u.Host != "" {
			target = u.Host
		}
		m, err := message(majorityLocale(users), nil)
		if err != nil {
			out = append(out, unrendered(store.NewDelivery{NotifierID: n.ID, Channel: n.Type, Target: target}, err))
			break
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
