package console

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// recordsData is a Kintone app's per-record and reminder notifications,
// shown read-only beside its general settings (the matrix): they are
// written through Kintone's API and deployed with the settings.
type recordsData struct {
	Draft, Live *herald.RecordNotifications
	// Differs is set when the draft's differ from live's.
	Differs bool
}

// loadRecords reads an app's record notifications; nil for any other
// source, or when the console has no record notification service.
func (c *Console) loadRecords(r *http.Request, src *herald.Source, scope herald.SettingsScope) (*recordsData, error) {
	if c.Records == nil || src == nil || src.Kind != herald.SourceApp {
		return nil, nil
	}
	d := &recordsData{}
	var err error
	if d.Draft, err = c.Records.FindRecordNotifications(r.Context(), scope, herald.VersionDraft); err != nil {
		return nil, err
	}
	if d.Live, err = c.Records.FindRecordNotifications(r.Context(), scope, herald.VersionLive); err != nil {
		return nil, err
	}
	d.Differs = !sameRecords(d.Draft, d.Live)
	return d, nil
}

func sameRecords(a, b *herald.RecordNotifications) bool {
	if a.Timezone != b.Timezone || len(a.PerRecord) != len(b.PerRecord) || len(a.Reminders) != len(b.Reminders) {
		return false
	}
	for i := range a.PerRecord {
		if !samePerRecord(a.PerRecord[i], b.PerRecord[i]) {
			return false
		}
	}
	for i := range a.Reminders {
		if a.Reminders[i].Key() != b.Reminders[i].Key() {
			return false
		}
	}
	return true
}

func samePerRecord(a, b herald.PerRecordNotification) bool {
	if a.FilterCond != b.FilterCond || a.Title != b.Title || len(a.Targets) != len(b.Targets) {
		return false
	}
	for i := range a.Targets {
		if a.Targets[i] != b.Targets[i] {
			return false
		}
	}
	return true
}
