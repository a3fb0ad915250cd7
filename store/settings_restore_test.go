package store_test

import (
	"reflect"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// switchOn is a person's matrix edit: the fixture's webhook on for
// build.failed, to recipient code.
func switchOn(id int64, code string) herald.SettingsChangeFunc {
	return func(_ herald.SettingsTx, s *herald.Settings) error {
		s.Channels = []herald.ChannelSettings{{NotifierID: id, Enabled: true, BodyFields: []herald.BodyField{},
			Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{{Type: herald.EntityUser, Code: code}}}}}}
		return nil
	}
}

func TestSettingsService_SaveAndDeploy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		id := b.f.notifier.ID
		t.Run("ErrStaleRevision", func(t *testing.T) {
			draft, live := b.find(t, herald.VersionDraft), b.find(t, herald.VersionLive)
			_, err := db.SaveAndDeploy(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 9}, switchOn(id, "alice"))
			code(t, err, herald.ECONFLICT)
			if got := b.find(t, herald.VersionDraft); !reflect.DeepEqual(got, draft) {
				t.Errorf("draft changed: %+v", got)
			}
			if got := b.find(t, herald.VersionLive); !reflect.DeepEqual(got, live) {
				t.Errorf("live changed: %+v", got)
			}
		})
		live, err := db.SaveAndDeploy(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, switchOn(id, "alice"))
		must(t, err)
		if live.Version != herald.VersionLive || live.Revision != 2 || live.Channel(id) == nil || live.Channel(id).Event("build.failed").Recipients[0].Code != "alice" {
			t.Fatalf("live after save and deploy: %+v", live)
		}
		if draft := b.find(t, herald.VersionDraft); draft.Revision != 2 || docEqual(draft, live) != "" {
			t.Errorf("draft %+v is not what was deployed: %s", draft, docEqual(draft, live))
		}
		hist, _, err := db.FindSettingsHistory(b.ctx, b.scope, herald.Page{})
		must(t, err)
		if len(hist) < 2 || hist[0].Action != herald.ActionDeploy || hist[1].Action != herald.ActionUpdate || hist[0].Revision != 2 {
			t.Errorf("history %+v %+v: want an update then a deploy of revision 2", hist[0], hist[1])
		}
		// An edit that changes nothing writes no revision.
		live, err = db.SaveAndDeploy(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 2}, switchOn(id, "alice"))
		must(t, err)
		if live.Revision != 2 {
			t.Errorf("a no-op edit moved the revision to %d", live.Revision)
		}
	})
}

func TestSettingsService_RestoreSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		id := b.f.notifier.ID
		_, err := db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, switchOn(id, "alice"))
		must(t, err)
		_, err = db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 2}, switchOn(id, "bob"))
		must(t, err)
		hist, _, err := db.FindSettingsHistory(b.ctx, b.scope, herald.Page{})
		must(t, err)
		alice := hist[1] // revision 2
		if alice.Revision != 2 {
			t.Fatalf("history %+v", hist)
		}
		_, err = db.RestoreSettings(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 2}, alice.ID)
		code(t, err, herald.ECONFLICT)
		_, err = db.RestoreSettings(b.ctx, herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: b.scope.ProjectID}, Revision: 1}, alice.ID)
		code(t, err, herald.ENOTFOUND)
		draft, err := db.RestoreSettings(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 3}, alice.ID)
		must(t, err)
		if draft.Revision != 4 || draft.Channel(id).Event("build.failed").Recipients[0].Code != "alice" {
			t.Fatalf("draft after restore: %+v", draft)
		}
		if live := b.find(t, herald.VersionLive); live.Revision != 1 || len(live.Channels) != 0 {
			t.Errorf("restore changed live: %+v", live)
		}
		// A channel of a notifier deleted since is left out.
		gone := &herald.Notifier{ProjectID: b.f.project.ID, Type: herald.NotifierInbox, Name: "gone"}
		must(t, db.CreateNotifier(b.ctx, gone))
		withGone, err := db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 4}, switchOn(gone.ID, "carol"))
		must(t, err)
		_, err = db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 5}, switchOn(id, "dave"))
		must(t, err)
		must(t, db.DeleteNotifier(b.ctx, gone.ID))
		hist, _, err = db.FindSettingsHistory(b.ctx, b.scope, herald.Page{})
		must(t, err)
		if hist[1].Revision != withGone.Revision {
			t.Fatalf("history %+v", hist[1])
		}
		draft, err = db.RestoreSettings(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, hist[1].ID)
		must(t, err)
		if len(draft.Channels) != 0 {
			t.Errorf("restored a deleted notifier's channel: %+v", draft)
		}
	})
}

// docEqual compares two settings documents, "" when they are the same.
func docEqual(a, b *herald.Settings) string {
	if a.InheritProject != b.InheritProject || a.NotifyCommenters != b.NotifyCommenters || !reflect.DeepEqual(a.Channels, b.Channels) {
		return "documents differ"
	}
	return ""
}
