package queue

import (
	"context"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river"
)

// reminderWorker sends a record's reminder at its due time: the job the
// fan-out scheduled with it (store.ReminderArgs). A reminder moved since
// (another seq), sent already or cancelled is left alone; one whose
// reminder notification's timing or condition was changed, or that was
// removed, since is marked sent without a message
// (herald.RecordNotifications.ReminderKeys).
type reminderWorker struct {
	river.WorkerDefaults[store.ReminderArgs]
	e *Engine
}

// Work sends the reminder.
func (w *reminderWorker) Work(ctx context.Context, job *river.Job[store.ReminderArgs]) error {
	ctx = tenantContext(ctx, job.Args.TenantID)
	db := w.e.db
	rm, err := db.FindReminder(ctx, job.Args.ReminderID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if rm.Seq != job.Args.Seq || rm.FiredAt != nil || rm.CancelledAt != nil {
		return nil
	}
	if now := w.e.now(); rm.DueAt.After(now) {
		// Run early (another node's clock): wait for the time.
		return river.JobSnooze(rm.DueAt.Sub(now))
	}
	ds, err := w.deliveries(ctx, rm)
	if err != nil {
		return err
	}
	_, err = db.FireReminder(ctx, rm.ID, rm.Seq, ds)
	return err
}

// deliveries are the reminder's inbox messages, under the app's live
// reminder notifications and the record of the event that set it.
func (w *reminderWorker) deliveries(ctx context.Context, rm *store.Reminder) ([]store.NewDelivery, error) {
	db := w.e.db
	src, err := db.FindSourceByID(ctx, rm.SourceID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	rn, err := db.FindRecordNotifications(ctx, herald.SettingsScope{ProjectID: src.ProjectID, SourceID: src.ID}, herald.VersionLive)
	if err != nil {
		return nil, err
	}
	var rule *herald.ReminderNotification
	for i, key := range rn.ReminderKeys() {
		if key == rm.RuleKey {
			rule = &rn.Reminders[i]
			break
		}
	}
	if rule == nil {
		return nil, nil
	}
	ev, err := db.FindEventByID(ctx, rm.EventID)
	if herald.ErrorCode(err) == herald.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	er, ok := herald.RecordOfEvent(ev)
	if !ok || er.Deleted {
		return nil, nil
	}
	return w.e.recordDeliveries(ctx, ev, src, er, rule.Targets, recordText{title: rule.Title, reminder: true, at: rm.DueAt, loc: rn.Location()})
}
