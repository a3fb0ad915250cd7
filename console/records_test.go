package console_test

import (
	"html"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestMatrix_RecordNotifications: a Kintone app's settings page shows its
// per-record and reminder notifications read-only beside the general
// settings, and marks a draft that differs from live; another source's
// page has no such section.
func TestMatrix_RecordNotifications(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, generic, _ := b.fixture(t)
	app := &herald.Source{ProjectID: p.ID, Kind: herald.SourceApp, ExternalID: "5", Name: "Deals"}
	if err := b.db.CreateSource(b.ctx, app); err != nil {
		t.Fatal(err)
	}
	ref := herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: p.ID, SourceID: app.ID}, Revision: herald.NoRevisionCheck}
	if _, err := b.db.UpdateRecordNotifications(b.ctx, ref, func(rn *herald.RecordNotifications) error {
		rn.Timezone = "Asia/Tokyo"
		rn.PerRecord = []herald.PerRecordNotification{{FilterCond: `Status in ("Done")`, Title: "Deal closed",
			Targets: []herald.Recipient{{Type: herald.EntityOrganization, Code: "sales", IncludeSubs: true}}}}
		rn.Reminders = []herald.ReminderNotification{{Timing: herald.ReminderTiming{Code: "期限", DaysLater: -1, Time: "09:00"},
			Title: "Due tomorrow", Targets: []herald.Recipient{{Type: herald.EntityFieldEntity, Code: "作成者"}}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	_, page := br.get(matrixPath(p, app))
	page = html.UnescapeString(page)
	for _, want := range []string{`id="record-notifications"`, `Status in ("Done")`, "Deal closed", "ORGANIZATION <code>sales</code>+",
		"期限 -1 day(s) at 09:00", "Due tomorrow", "FIELD_ENTITY <code>作成者</code>", `<code id="reminder-timezone">Asia/Tokyo</code>`,
		`class="differs" id="records-diff"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the app's page lacks %q", want)
		}
	}
	if _, err := b.db.DeploySettings(b.ctx, []herald.SettingsRef{ref}, false); err != nil {
		t.Fatal(err)
	}
	if _, page := br.get(matrixPath(p, app)); strings.Contains(page, `class="differs" id="records-diff"`) {
		t.Error("the deployed notifications are marked as differing")
	}
	if _, page := br.get(matrixPath(p, generic)); strings.Contains(page, "record-notifications") {
		t.Error("a source other than an app shows record notifications")
	}
}
