package console

import (
	"net/http"
	"reflect"

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
	return a.Timezone == b.Timezone && reflect.DeepEqual(a.PerRecord, b.PerRecord) && reflect.DeepEqual(a.Reminders, b.Reminders)
}
