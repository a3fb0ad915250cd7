package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

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
		rds, reminders, err := p.planRecord(ctx, ev, sources[ev.SourceID])
		if err != nil {
			return fmt.Errorf("fan out event %d: record notifications: %w", ev.ID, err)
		}
		fs = append(fs, store.Fanout{EventID: ev.ID, Deliveries: append(ds, rds...), Reminders: reminders})
	}
	// One transaction for the whole job, so the pending deliveries of many
	// events share deliver jobs.
	recorded, err := w.e.db.RecordFanouts(ctx, fs)
	if err != nil {
		return fmt.Errorf("record fan-out: %w", err)
	}
	// Another run of the job that recorded these events first counted
	// them; two runs racing on a part of the events each (which run
	// recorded which is not known here) go uncounted.
	if recorded == len(fs) {
		for i, f := range fs {
			w.e.countCreated("event", events[i].CreatedAt, f.Deliveries)
		}
	}
	return nil
}

// planner plans the events of one job, reading each source's settings,
// each notifier, each project's live templates, each project's preference
// policies and each person's preferences once.
type planner struct {
	e         *Engine
	now       time.Time // quiet hours are read at this time
	settings  map[int64]*herald.Settings
	notifiers map[int64]*herald.Notifier
	policies  map[int64][2]*herald.PreferencePolicy // project → its policy and its tenant's
	persons   map[int64]*herald.UserPreferences     // user → theirs (nil: none)
	// records are the sources' live record notifications (record.go).
	records   map[int64]*herald.RecordNotifications
	templates map[int64]*render.Set
}

func (e *Engine) newPlanner() *planner {
	return &planner{e: e, now: e.db.Now(), settings: map[int64]*herald.Settings{}, notifiers: map[int64]*herald.Notifier{},
		policies: map[int64][2]*herald.PreferencePolicy{}, persons: map[int64]*herald.UserPreferences{},
		records: map[int64]*herald.RecordNotifications{}, templates: map[int64]*render.Set{}}
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
// live settings and the people's preferences: per notifier switched on
// with the event's type switched on, the resolved recipients mapped to
// that channel's addresses.
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
		ds, err := p.channel(ctx, render.Input{Event: ev, Source: src, Notifier: n, BodyFields: ch.BodyFields, Templates: templates}, users)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// scopes returns the preference scope of each user in the event's
// project, reading only what the planner has not read yet.
func (p *planner) scopes(ctx context.Context, projectID int64, users []*herald.User) (map[int64]herald.PreferenceScope, error) {
	pol, ok := p.policies[projectID]
	if !ok {
		project, tenant, err := p.e.db.PreferencePolicies(ctx, projectID)
		if err != nil {
			return nil, err
		}
		pol = [2]*herald.PreferencePolicy{project, tenant}
		p.policies[projectID] = pol
	}
	var missing []int64
	for _, u := range users {
		if _, ok := p.persons[u.ID]; !ok {
			missing = append(missing, u.ID)
		}
	}
	if len(missing) > 0 {
		found, err := p.e.db.UserPreferencesOf(ctx, missing)
		if err != nil {
			return nil, err
		}
		for _, id := range missing {
			p.persons[id] = found[id] // nil: none
		}
	}
	out := make(map[int64]herald.PreferenceScope, len(users))
	for _, u := range users {
		out[u.ID] = herald.PreferenceScope{Person: p.persons[u.ID], Project: pol[0], Tenant: pol[1]}
	}
	return out, nil
}

// channel plans one notifier's deliveries of an event under the people's
// preferences (herald.Decide): the live settings decide who may be told,
// each person narrows it. A person who turned the channel off for the
// event gets a skipped delivery (reason preference) on the channels that
// reach one person, and is not mentioned by a robot; one in quiet hours
// gets a deferred delivery, due when they end. An email carries its
// recipient's one-click unsubscribe link, except for a required type.
func (p *planner) channel(ctx context.Context, in render.Input, users []*herald.User) ([]store.NewDelivery, error) {
	n, ev := in.Notifier, in.Event
	if n.Type == herald.NotifierWebhook || len(users) == 0 {
		return plan(in, users, nil) // a webhook tells a system: nobody's preferences
	}
	scopes, err := p.scopes(ctx, ev.ProjectID, users)
	if err != nil {
		return nil, err
	}
	tenantID, err := herald.TenantFromContext(ctx)
	if err != nil {
		return nil, err
	}
	var (
		out   []store.NewDelivery
		kept  []*herald.User
		held  = map[int64]time.Time{}
		links = map[int64]string{}
	)
	for _, u := range users {
		s := scopes[u.ID]
		v := herald.Decide(s, n.Type, ev.Type, p.now, u.TimeZone)
		if !v.Send {
			if perPerson(n.Type) {
				out = append(out, store.NewDelivery{NotifierID: n.ID, Channel: n.Type, UserID: u.ID, Target: address(n.Type, u),
					Status: herald.StatusSkipped, Reason: herald.ReasonPreference, LastError: turnedOff(n.Type, ev.Type, v.Resolution), Message: []byte(`{}`)})
			}
			continue
		}
		if !v.DueAt.IsZero() {
			held[u.ID] = v.DueAt
		}
		if n.Type == herald.NotifierEmail && v.Resolution.By != herald.ByRequired {
			links[u.ID] = p.e.unsubscribeURL(herald.UnsubscribeClaims{TenantID: tenantID, UserID: u.ID, Rule: herald.UnsubscribeRule(s, n.Type, ev.Type)})
		}
		kept = append(kept, u)
	}
	ds, err := plan(in, kept, links)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if due, ok := held[ds[i].UserID]; ok && ds[i].UserID != 0 && ds[i].Status == herald.StatusPending {
			ds[i].Status, ds[i].DueAt, ds[i].Reason = herald.StatusDeferred, due, herald.ReasonQuietHours
		}
	}
	return append(out, ds...), nil
}

// perPerson reports whether a channel sends one delivery per person.
func perPerson(typ string) bool {
	return typ == herald.NotifierInbox || typ == herald.NotifierEmail || typ == herald.NotifierSMS
}

// address is a person's address on a per-person channel, or their code
// when they have none (or for the inbox).
func address(typ string, u *herald.User) string {
	switch {
	case typ == herald.NotifierEmail && u.Email != "":
		return u.Email
	case typ == herald.NotifierSMS && u.Mobile != "":
		return u.Mobile
	}
	return u.Code
}

// turnedOff says, for the delivery log, which rule turned a channel off.
func turnedOff(channel, eventType string, r herald.Resolution) string {
	who := map[string]string{herald.ByPerson: "the person's preferences", herald.ByProject: "the project's default preferences",
		herald.ByTenant: "the tenant's default preferences"}[r.By]
	what := "every event type"
	if r.Rule != nil && r.Rule.EventType != "" {
		what = r.Rule.EventType
	} else if r.Rule != nil && r.Rule.Category != "" {
		what = "the category " + r.Rule.Category
	}
	return fmt.Sprintf("%s turn %s off for %s (%s)", who, channel, what, eventType)
}

// unsubscribeURL is the one-click unsubscribe link of c, or "" when the
// server has no public URL to put it under.
func (e *Engine) unsubscribeURL(c herald.UnsubscribeClaims) string {
	if e.cfg.PublicURL == "" || len(e.cfg.UnsubscribeKey) == 0 {
		return ""
	}
	return strings.TrimSuffix(e.cfg.PublicURL, "/") + UnsubscribePath + herald.SignUnsubscribe(e.cfg.UnsubscribeKey, c)
}

// UnsubscribePath is where, under the public URL, one-click unsubscribe
// links are served (api.Server's handler).
const UnsubscribePath = "/unsubscribe/"

// plan maps users to one notifier's deliveries. Inbox, email and SMS send
// to each user, in their language and time zone (an email with its
// unsubscribe link of links, if any); robots and webhooks post once,
// mentioning the users, in the language and zone most of them read.
func plan(in render.Input, users []*herald.User, links map[int64]string) ([]store.NewDelivery, error) {
	n := in.Notifier
	// One rendering per language and zone, or per recipient when the
	// template names the recipient.
	type rendering struct {
		m   channel.Message
		err error
	}
	rendered := map[string]rendering{}
	message := func(locale, zone string, u *herald.User) (channel.Message, error) {
		in.Locale, in.TimeZone, in.Recipient = locale, zone, u
		key := locale + "/" + zone
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
			m, err := message(u.Locale, u.TimeZone, u)
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
				m.Unsubscribe = links[u.ID]
			case herald.NotifierSMS:
				d.Target = u.Mobile
			}
			if d.Target == "" {
				d.Target, d.Status, d.Reason = u.Code, herald.StatusSkipped, herald.ReasonNoAddress
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
		m, err := message(majorityLocale(users), majorityZone(users), nil)
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

// majorityZone is the time zone most recipients live in (UTC on a tie).
func majorityZone(users []*herald.User) string {
	count := map[string]int{}
	best, most, tie := "", 0, false
	for _, u := range users {
		count[u.TimeZone]++
		switch c := count[u.TimeZone]; {
		case c > most:
			best, most, tie = u.TimeZone, c, false
		case c == most && u.TimeZone != best:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
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
