package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/kquery"
	"github.com/heraldhq/herald/resolve"
	"github.com/heraldhq/herald/store"
)

// Kintone's per-record and reminder notifications (herald.RecordNotifications):
// an event of an app carrying a record is checked against the app's live
// ones when it is fanned out. A per-record notification the record meets
// tells its targets at once; a reminder notification it meets is
// (re)scheduled for the time its timing computes, and the record's
// reminders it no longer meets are cancelled (store.RecordReminders). Both
// are in-app notifications: they go to the project's inbox.

// now is the engine's clock.
func (e *Engine) now() time.Time {
	if e.cfg.Now != nil {
		return e.cfg.Now()
	}
	return time.Now()
}

// planRecord returns what an event carrying a Kintone record causes
// besides its settings' channels: the deliveries of the per-record
// notifications the record meets, and the record's reminders from now on
// (nil for an event that carries no record).
func (p *planner) planRecord(ctx context.Context, ev *herald.Event, src *herald.Source) ([]store.NewDelivery, *store.RecordReminders, error) {
	if src == nil || src.Kind != herald.SourceApp {
		return nil, nil, nil
	}
	er, ok := herald.RecordOfEvent(ev)
	if !ok {
		return nil, nil, nil
	}
	rn, ok := p.records[src.ID]
	if !ok {
		var err error
		rn, err = p.e.db.FindRecordNotifications(ctx, herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}, herald.VersionLive)
		if err != nil {
			return nil, nil, err
		}
		p.records[src.ID] = rn
	}
	rr := &store.RecordReminders{ProjectID: src.ProjectID, SourceID: src.ID, RecordID: er.ID, EventID: ev.ID, Due: map[string]time.Time{}}
	if er.Deleted {
		return nil, rr, nil
	}
	loc := rn.Location()
	now := p.e.now()
	keys := rn.ReminderKeys()
	for i := range rn.Reminders {
		r := &rn.Reminders[i]
		if !r.Match(er.Record, loc) {
			continue
		}
		// A time already past is not reminded of, as Kintone sends a
		// reminder only when its time comes.
		if due, ok := r.Timing.Due(er.Record, loc); ok && due.After(now) {
			rr.Due[keys[i]] = due
		}
	}
	var out []store.NewDelivery
	if !slices.Contains(herald.PerRecordEventTypes, ev.Type) {
		return nil, rr, nil
	}
	for i := range rn.PerRecord {
		n := &rn.PerRecord[i]
		if !n.Match(er.Record, loc) {
			continue
		}
		ds, err := p.e.recordDeliveries(ctx, ev, src, er, n.Targets, recordText{title: n.Title, at: ev.CreatedAt, loc: loc})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ds...)
	}
	return out, rr, nil
}

// recordText is what a record notification's message says: its title
// (the notification's summary) and the time it is about.
type recordText struct {
	title    string
	reminder bool
	at       time.Time
	loc      *time.Location
}

// message is the inbox message of a record notification in locale.
func (t recordText) message(locale, app, recordID string) (subject, text string) {
	at := t.at.In(t.loc).Format("2006-01-02 15:04 MST")
	if locale == herald.LocaleZH {
		subject = fmt.Sprintf("%s：记录 %s", app, recordID)
		if t.reminder {
			subject = "提醒：" + subject
		}
		if t.title != "" {
			subject = t.title
		}
		return subject, fmt.Sprintf("%s\n%s：记录 %s\n时间：%s\n", subject, app, recordID, at)
	}
	subject = fmt.Sprintf("Record %s of %s", recordID, app)
	if t.reminder {
		subject = "Reminder: " + subject
	}
	if t.title != "" {
		subject = t.title
	}
	return subject, fmt.Sprintf("%s\n%s: record %s\nTime: %s\n", subject, app, recordID, at)
}

// recordDeliveries are the inbox messages of one record notification: its
// targets resolved against the record (herald.RecordTargets) and the
// event, on the project's inbox notifier (none when the project has no
// inbox).
func (e *Engine) recordDeliveries(ctx context.Context, ev *herald.Event, src *herald.Source, er *herald.EventRecord, targets []herald.Recipient, t recordText) ([]store.NewDelivery, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	ns, _, err := e.db.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: src.ProjectID, Type: herald.NotifierInbox}, herald.Page{Limit: 1})
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	n := ns[0]
	rec := er.Record
	if rec == nil {
		rec = kquery.Record{}
	}
	users, err := resolve.Recipients(ctx, e.db, herald.RecordTargets(targets, rec), ev, false)
	if err != nil {
		return nil, err
	}
	out := make([]store.NewDelivery, 0, len(users))
	for _, u := range users {
		subject, text := t.message(u.Locale, src.Name, er.ID)
		out = append(out, store.NewDelivery{NotifierID: n.ID, Channel: herald.NotifierInbox, UserID: u.ID, Target: u.Code,
			Status: herald.StatusDelivered, Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: u.ID, Title: subject, Body: text}})
	}
	return out, nil
}
