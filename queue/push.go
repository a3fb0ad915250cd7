package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
)

// pushWorker sends a push at its send_at: it is the job ExecutePush stored
// with the state change, so it runs once on whichever node is up; a push
// found in any status but scheduled or sending (cancelled, already sent)
// is left alone.
type pushWorker struct {
	river.WorkerDefaults[store.PushArgs]
	e *Engine
}

// Work sends the push: an inbox message to each user the scope resolves
// to, and a post through the robot of each of its chats.
func (w *pushWorker) Work(ctx context.Context, job *river.Job[store.PushArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	p, err := w.e.db.StartPush(ctx, job.Args.PushID)
	switch herald.ErrorCode(err) {
	case "":
	case herald.ENOTALLOWED, herald.ENOTFOUND:
		return nil // cancelled or sent already, or deleted
	default:
		return err
	}
	ds, err := w.e.pushChatDeliveries(ctx, p)
	if err != nil {
		return err
	}
	finish := true
	var users []*herald.User
	if p.PushType == herald.PushTypeNewStaff {
		// A new-staff push stays sending, active, until cancelled: the
		// sweep sends it to each user created after it started.
		finish = false
	} else if users, err = w.e.db.PushTargets(ctx, p, time.Time{}); err != nil {
		return err
	}
	recipients, inbox := pushInbox(p, users)
	all := append(inbox, ds...)
	recorded, err := w.e.db.RecordPushSend(ctx, p.ID, recipients, all, finish)
	if recorded && err == nil {
		w.e.countCreated("push", time.Time{}, all)
	}
	if err != nil || !recorded || finish {
		return err
	}
	return w.e.db.ScheduleNewStaffSweep(ctx, p.ID, time.Now().Add(w.e.cfg.NewStaffSweep))
}

// pushNewStaffWorker sends an active new-staff push to the users created
// since it started and not reached yet, then schedules its next run.
type pushNewStaffWorker struct {
	river.WorkerDefaults[store.PushNewStaffArgs]
	e *Engine
}

// Work runs one sweep.
func (w *pushNewStaffWorker) Work(ctx context.Context, job *river.Job[store.PushNewStaffArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	p, err := w.e.db.FindPushByID(ctx, job.Args.PushID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if p.Status != herald.PushSending || p.StartedAt == nil {
		return nil // cancelled or recalled: the sweep ends
	}
	var users []*herald.User
	if p.ScopeType == herald.PushScopeNewStaff {
		if users, err = w.e.db.PushTargets(ctx, p, *p.StartedAt); err != nil {
			return err
		}
	}
	recipients, inbox := pushInbox(p, users)
	recorded, err := w.e.db.RecordPushSend(ctx, p.ID, recipients, inbox, false)
	if err != nil || !recorded {
		return err
	}
	if len(inbox) > 0 { // a sweep that found nobody new fans out nothing
		w.e.countCreated("push", time.Time{}, inbox)
	}
	return w.e.db.ScheduleNewStaffSweep(ctx, p.ID, time.Now().Add(w.e.cfg.NewStaffSweep))
}

// pushInbox is an inbox message for each user, delivered at once. Push
// deliveries belong to no project, so they name no notifier (0).
func pushInbox(p *herald.Push, users []*herald.User) ([]int64, []store.NewDelivery) {
	pv := store.PreviewOf(p)
	ids := make([]int64, 0, len(users))
	ds := make([]store.NewDelivery, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
		ds = append(ds, store.NewDelivery{Channel: herald.NotifierInbox, UserID: u.ID, Target: u.Code, Status: herald.StatusDelivered,
			Message: []byte(`{}`), Inbox: &herald.InboxMessage{UserID: u.ID, Title: pv.Title, Body: pv.Body}})
	}
	return ids, ds
}

// pushChatDeliveries is a post for each chat of the push through the
// chat's robot notifier; a chat without a robot gets a skipped delivery
// saying so. The deliver worker sends the pending ones.
func (e *Engine) pushChatDeliveries(ctx context.Context, p *herald.Push) ([]store.NewDelivery, error) {
	if len(p.ChatIDs) == 0 {
		return nil, nil
	}
	chats, err := e.db.FindChatsByIDs(ctx, p.ChatIDs)
	if err != nil {
		return nil, err
	}
	pv := store.PreviewOf(p)
	m := channel.Message{Subject: pv.Title, Text: pv.Body, Markdown: pv.Body}
	if pv.Card != nil {
		m.Card, m.Text, m.Markdown = pv.Card, pv.Title, "**"+pv.Title+"**"
	}
	var out []store.NewDelivery
	for _, ch := range chats {
		d := store.NewDelivery{Target: ch.Code, Channel: "chat", Message: []byte(`{}`)}
		var n *herald.Notifier
		if ch.NotifierID != nil {
			n, err = e.db.FindNotifierByID(ctx, *ch.NotifierID)
			if err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
				return nil, err
			}
		}
		switch {
		case n == nil:
			d.Status, d.LastError = herald.StatusSkipped, fmt.Sprintf("chat %s has no robot notifier", ch.Code)
		case n.Type == herald.NotifierInbox || n.Type == herald.NotifierEmail || n.Type == herald.NotifierSMS:
			d.NotifierID, d.Channel = n.ID, n.Type
			d.Status, d.LastError = herald.StatusSkipped, fmt.Sprintf("chat %s's notifier %d is not a robot or webhook", ch.Code, n.ID)
		default:
			d.NotifierID, d.Channel, d.Status = n.ID, n.Type, herald.StatusPending
			if u, err := url.Parse(n.Config.URL); err == nil && u.Host != "" {
				d.Target = ch.Code + "@" + u.Host
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			d.Message = b
		}
		out = append(out, d)
	}
	return out, nil
}
