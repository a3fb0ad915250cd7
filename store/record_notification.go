package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/heraldhq/herald"
)

var _ herald.RecordNotificationService = (*DB)(nil)

// recordDoc is what a record_notifications draft or live column holds.
type recordDoc struct {
	PerRecord []herald.PerRecordNotification `json:"per_record"`
	Reminders []herald.ReminderNotification  `json:"reminders"`
	Timezone  string                         `json:"timezone"`
}

const emptyRecordDoc = `{"per_record":[],"reminders":[],"timezone":""}`

func recordDocOf(rn *herald.RecordNotifications) string {
	b, err := json.Marshal(recordDoc{PerRecord: rn.PerRecord, Reminders: rn.Reminders, Timezone: rn.Timezone})
	if err != nil {
		panic(err) // a validated document always marshals
	}
	return string(b)
}

// recordScope refuses the project default: record notifications belong
// to a source (a Kintone app).
func recordScope(scope herald.SettingsScope) error {
	if scope.SourceID == 0 {
		return herald.Errorf(herald.EINVALID, "source_id", "record notifications belong to a source")
	}
	return nil
}

// recordNotifications decodes one version of a source's record
// notifications, at the settings row's revision of that version.
func (c conn) recordNotifications(r *settingsRow, version string) (*herald.RecordNotifications, error) {
	var draft, live string
	err := c.queryRow(`SELECT draft, live FROM record_notifications WHERE tenant_id = ? AND source_id = ?`, c.tenantID, r.sourceID).Scan(&draft, &live)
	if err == sql.ErrNoRows {
		draft, live = emptyRecordDoc, emptyRecordDoc
	} else if err != nil {
		return nil, err
	}
	rn := &herald.RecordNotifications{ProjectID: r.projectID, SourceID: r.sourceID, Version: version, Revision: r.revision}
	raw := draft
	if version == herald.VersionLive {
		raw, rn.Revision = live, r.liveRevision
	}
	var d recordDoc
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, err
	}
	rn.PerRecord, rn.Reminders, rn.Timezone = d.PerRecord, d.Reminders, d.Timezone
	if rn.PerRecord == nil {
		rn.PerRecord = []herald.PerRecordNotification{}
	}
	if rn.Reminders == nil {
		rn.Reminders = []herald.ReminderNotification{}
	}
	return rn, nil
}

// FindRecordNotifications returns a source's draft or live record
// notifications.
func (db *DB) FindRecordNotifications(ctx context.Context, scope herald.SettingsScope, version string) (*herald.RecordNotifications, error) {
	if version != herald.VersionDraft && version != herald.VersionLive {
		return nil, herald.Errorf(herald.EINVALID, "version", "version must be draft or live")
	}
	if err := recordScope(scope); err != nil {
		return nil, err
	}
	c, err := db.reader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.findSettingsRow(scope)
	if err != nil {
		return nil, err
	}
	return c.recordNotifications(r, version)
}

// UpdateRecordNotifications applies change to the draft, moving the
// settings' revision on, in one transaction.
func (db *DB) UpdateRecordNotifications(ctx context.Context, ref herald.SettingsRef, change herald.RecordNotificationsChangeFunc) (*herald.RecordNotifications, error) {
	if err := checkRevisionArg(ref.Revision); err != nil {
		return nil, err
	}
	if err := recordScope(ref.Scope); err != nil {
		return nil, err
	}
	var out *herald.RecordNotifications
	err := db.update(ctx, func(tx *Tx) error {
		r, err := tx.lockAtRevision(ref)
		if err != nil {
			return err
		}
		c := tx.conn()
		rn, err := c.recordNotifications(r, herald.VersionDraft)
		if err != nil {
			return err
		}
		if change != nil {
			if err := change(rn); err != nil {
				return err
			}
		}
		if err := rn.Validate(); err != nil {
			return err
		}
		if hasTargets(rn) {
			// Record notifications are delivered to the project's inbox.
			if _, err := tx.ensureNotifier(herald.NotifierSpec{ProjectID: r.projectID, Type: herald.NotifierInbox}); err != nil {
				return err
			}
		}
		doc := recordDocOf(rn)
		if _, err := c.exec(`INSERT INTO record_notifications (tenant_id, project_id, source_id, draft, live) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, source_id) DO UPDATE SET draft = excluded.draft`,
			tx.tenantID, r.projectID, r.sourceID, doc, emptyRecordDoc); err != nil {
			return err
		}
		// The app's one revision moves on, as any write to its settings
		// moves it; the history records the settings' draft at it.
		general, err := r.settings(herald.VersionDraft)
		if err != nil {
			return err
		}
		if _, err := tx.writeDraft(r, general, ref.Revision); err != nil {
			return err
		}
		rn.Revision = r.revision
		out = rn
		return nil
	})
	return out, err
}

func hasTargets(rn *herald.RecordNotifications) bool {
	for _, n := range rn.PerRecord {
		if len(n.Targets) > 0 {
			return true
		}
	}
	for _, n := range rn.Reminders {
		if len(n.Targets) > 0 {
			return true
		}
	}
	return false
}

// deployRecordNotifications deploys (or with revert, discards) a source's
// record notifications draft with its settings row r.
func (tx *Tx) deployRecordNotifications(r *settingsRow, revert bool) error {
	if r.sourceID == 0 {
		return nil
	}
	q := `UPDATE record_notifications SET live = draft WHERE tenant_id = ? AND source_id = ?`
	if revert {
		q = `UPDATE record_notifications SET draft = live WHERE tenant_id = ? AND source_id = ?`
	}
	_, err := tx.conn().exec(q, tx.tenantID, r.sourceID)
	return err
}
