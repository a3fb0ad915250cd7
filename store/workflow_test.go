package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// workflowBundle is a tenant with a fixture and the scope of its source.
type workflowBundle struct {
	db    *store.DB
	ctx   context.Context
	f     fixture
	scope herald.SettingsScope
}

func setupWorkflow(t *testing.T, db *store.DB) *workflowBundle {
	t.Helper()
	ctx := storetest.NewTenant(t, db, "acme")
	f := newFixture(t, ctx, db)
	return &workflowBundle{db: db, ctx: ctx, f: f, scope: herald.SettingsScope{ProjectID: f.project.ID, SourceID: f.source.ID}}
}

func (b *workflowBundle) find(t *testing.T, version string) *herald.Settings {
	t.Helper()
	s, err := b.db.FindSettings(b.ctx, b.scope, version)
	must(t, err)
	return s
}

func (b *workflowBundle) notifiers(t *testing.T) []*herald.Notifier {
	t.Helper()
	ns, _, err := b.db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.f.project.ID}, herald.Page{Limit: herald.MaxPageLimit})
	must(t, err)
	return ns
}

// enableInbox is a vendor's change: the project's inbox notifier's
// channel, switched on for build.failed.
func enableInbox(tx herald.SettingsTx, s *herald.Settings) error {
	n, err := tx.EnsureNotifier(herald.NotifierSpec{Type: herald.NotifierInbox})
	if err != nil {
		return err
	}
	if s.Channel(n.ID) == nil {
		s.Channels = append(s.Channels, herald.ChannelSettings{NotifierID: n.ID, Enabled: true,
			Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{}}}, BodyFields: []herald.BodyField{}})
	}
	return nil
}

func TestSettingsService_ApplyLive(t *testing.T) {
	t.Parallel()
	t.Run("ErrStaleRevision", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			// A pending draft edit moves the revision to 2.
			_, err := db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, &herald.Settings{NotifyCommenters: true})
			must(t, err)
			draft, live, ns := b.find(t, herald.VersionDraft), b.find(t, herald.VersionLive), b.notifiers(t)
			_, err = db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, enableInbox)
			code(t, err, herald.ECONFLICT)
			if got := b.find(t, herald.VersionDraft); !reflect.DeepEqual(got, draft) {
				t.Errorf("draft changed:\n got %+v\nwant %+v", got, draft)
			}
			if got := b.find(t, herald.VersionLive); !reflect.DeepEqual(got, live) {
				t.Errorf("live changed:\n got %+v\nwant %+v", got, live)
			}
			if got := b.notifiers(t); len(got) != len(ns) {
				t.Errorf("a refused apply created notifiers: %d -> %d", len(ns), len(got))
			}
			hist, _, err := db.FindSettingsHistory(b.ctx, b.scope, herald.Page{})
			must(t, err)
			if hist[0].Action != herald.ActionUpdate {
				t.Errorf("a refused apply wrote history: %+v", hist[0])
			}
		})
	})
	t.Run("NoPendingDraft", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			out, err := db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, enableInbox)
			must(t, err)
			draft, live := b.find(t, herald.VersionDraft), b.find(t, herald.VersionLive)
			if out.Version != herald.VersionLive || out.Revision != 2 || live.Revision != 2 || draft.Revision != 2 {
				t.Fatalf("revisions: answer %d (%s), live %d, draft %d; want 2", out.Revision, out.Version, live.Revision, draft.Revision)
			}
			if len(live.Channels) != 1 || !reflect.DeepEqual(draft.Channels, live.Channels) || !reflect.DeepEqual(out.Channels, live.Channels) {
				t.Errorf("draft %+v, live %+v: want both the change", draft.Channels, live.Channels)
			}
			ns := b.notifiers(t)
			if len(ns) != 2 || ns[1].Type != herald.NotifierInbox || ns[1].Name != herald.InboxNotifierName || live.Channels[0].NotifierID != ns[1].ID {
				t.Errorf("notifiers %+v: want the inbox created for the change", ns)
			}
			hist, _, err := db.FindSettingsHistory(b.ctx, b.scope, herald.Page{})
			must(t, err)
			if len(hist) != 1 || hist[0].Action != herald.ActionApply || hist[0].Revision != 2 || hist[0].Settings.Version != herald.VersionLive ||
				!reflect.DeepEqual(hist[0].Settings.Channels, live.Channels) {
				t.Errorf("history %+v", hist)
			}
			// Applying the same change again finds the inbox, creates none.
			_, err = db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, enableInbox)
			must(t, err)
			if got := b.notifiers(t); len(got) != 2 {
				t.Errorf("a second apply created notifiers: %+v", got)
			}
		})
	})
	t.Run("PendingDraftStaysPending", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			pending := herald.ChannelSettings{NotifierID: b.f.notifier.ID, Enabled: true, Events: []herald.EventSettings{}, BodyFields: []herald.BodyField{}}
			_, err := db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1},
				&herald.Settings{NotifyCommenters: true, Channels: []herald.ChannelSettings{pending}})
			must(t, err)
			_, err = db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 2}, enableInbox)
			must(t, err)
			draft, live := b.find(t, herald.VersionDraft), b.find(t, herald.VersionLive)
			if live.NotifyCommenters || live.Channel(b.f.notifier.ID) != nil || len(live.Channels) != 1 {
				t.Errorf("live %+v: the pending draft edit was deployed", live)
			}
			inbox := live.Channels[0].NotifierID
			if !draft.NotifyCommenters || !reflect.DeepEqual(draft.Channel(b.f.notifier.ID), &pending) ||
				!reflect.DeepEqual(draft.Channel(inbox), live.Channel(inbox)) || len(draft.Channels) != 2 {
				t.Errorf("draft %+v: want the pending edit and the change", draft)
			}
			if draft.Revision != 3 || live.Revision != 3 {
				t.Errorf("revisions: draft %d, live %d; want 3", draft.Revision, live.Revision)
			}
		})
	})
	t.Run("ErrChangeRollsBack", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			before := b.notifiers(t)
			_, err := db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, func(tx herald.SettingsTx, s *herald.Settings) error {
				if err := enableInbox(tx, s); err != nil {
					return err
				}
				// A later step fails: a robot with no URL.
				_, err := tx.EnsureNotifier(herald.NotifierSpec{Type: herald.NotifierDingTalk, Name: "build dingtalk", Configure: func(n *herald.Notifier) {}})
				return err
			})
			code(t, err, herald.EINVALID)
			if got := b.notifiers(t); !reflect.DeepEqual(got, before) {
				t.Errorf("notifiers after a failed apply: %+v, want %+v", got, before)
			}
			if live := b.find(t, herald.VersionLive); live.Revision != 1 || len(live.Channels) != 0 {
				t.Errorf("live after a failed apply: %+v", live)
			}
		})
	})
	t.Run("ErrForeignNotifier", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			_, err := db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, func(tx herald.SettingsTx, s *herald.Settings) error {
				s.Channels = append(s.Channels, herald.ChannelSettings{NotifierID: 999})
				return nil
			})
			code(t, err, herald.EINVALID)
			if live := b.find(t, herald.VersionLive); live.Revision != 1 {
				t.Errorf("live after a refused apply: %+v", live)
			}
		})
	})
	t.Run("ConcurrentLosesNoChange", func(t *testing.T) {
		t.Parallel()
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			b := setupWorkflow(t, db)
			const writers = 8
			errs := make(chan error, writers)
			for i := range writers {
				go func() {
					_, err := db.ApplyLive(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: herald.NoRevisionCheck}, func(tx herald.SettingsTx, s *herald.Settings) error {
						if err := enableInbox(tx, s); err != nil {
							return err
						}
						ch := &s.Channels[len(s.Channels)-1]
						ch.BodyFields = append(ch.BodyFields, herald.BodyField{Name: "field" + string(rune('a'+i)), Shown: true})
						return nil
					})
					errs <- err
				}()
			}
			for range writers {
				must(t, <-errs)
			}
			live := b.find(t, herald.VersionLive)
			if live.Revision != 1+writers || len(live.Channels) != 1 || len(live.Channels[0].BodyFields) != writers {
				t.Errorf("live after %d concurrent applies: revision %d, channels %+v", writers, live.Revision, live.Channels)
			}
			if ns := b.notifiers(t); len(ns) != 2 {
				t.Errorf("notifiers %+v: want the webhook and one inbox", ns)
			}
		})
	})
}

func TestSettingsService_ApplyDraft(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		_, err := db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 7}, enableInbox)
		code(t, err, herald.ECONFLICT)
		if ns := b.notifiers(t); len(ns) != 1 {
			t.Fatalf("a refused draft write created notifiers: %+v", ns)
		}
		out, err := db.ApplyDraft(b.ctx, herald.SettingsRef{Scope: b.scope, Revision: 1}, enableInbox)
		must(t, err)
		if out.Version != herald.VersionDraft || out.Revision != 2 || len(out.Channels) != 1 {
			t.Fatalf("draft %+v", out)
		}
		if live := b.find(t, herald.VersionLive); live.Revision != 1 || len(live.Channels) != 0 {
			t.Errorf("a draft write changed live: %+v", live)
		}
	})
}

func TestSettingsService_EnsureNotifier(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupWorkflow(t, db)
		pid := b.f.project.ID
		// The project's shared webhook is its oldest; nothing is written.
		n, err := db.EnsureNotifier(b.ctx, herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierWebhook})
		must(t, err)
		if n.ID != b.f.notifier.ID {
			t.Errorf("shared webhook = %d, want %d", n.ID, b.f.notifier.ID)
		}
		// A shared notifier other than the inbox is never created.
		_, err = db.EnsureNotifier(b.ctx, herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierEmail})
		code(t, err, herald.ENOTFOUND)
		// The inbox is created once, named InboxNotifierName.
		inbox, err := db.EnsureNotifier(b.ctx, herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierInbox})
		must(t, err)
		again, err := db.EnsureNotifier(b.ctx, herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierInbox})
		must(t, err)
		if inbox.Name != herald.InboxNotifierName || again.ID != inbox.ID {
			t.Errorf("inbox %+v, again %+v", inbox, again)
		}

		// A named robot is created, then re-pointed; a blank secret keeps
		// the stored one; an unchanged one is not written.
		robot := func(url, secret string) herald.NotifierSpec {
			return herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierDingTalk, Name: "build dingtalk", Configure: func(n *herald.Notifier) {
				n.Config.URL, n.Secret = url, secret
			}}
		}
		r1, err := db.EnsureNotifier(b.ctx, robot("https://oapi.dingtalk.com/robot/send?access_token=a", "SEC1"))
		must(t, err)
		r2, err := db.EnsureNotifier(b.ctx, robot("https://oapi.dingtalk.com/robot/send?access_token=b", ""))
		must(t, err)
		stored, err := db.FindNotifierByID(b.ctx, r1.ID)
		must(t, err)
		if r2.ID != r1.ID || stored.Config.URL != "https://oapi.dingtalk.com/robot/send?access_token=b" || stored.Secret != "SEC1" {
			t.Errorf("re-pointed robot %+v (first %d)", stored, r1.ID)
		}

		for _, tc := range []struct {
			name string
			spec herald.NotifierSpec
			code string
		}{
			{"ErrUnknownType", herald.NotifierSpec{ProjectID: pid, Type: "pager"}, herald.EINVALID},
			{"ErrConfiguredShared", herald.NotifierSpec{ProjectID: pid, Type: herald.NotifierWebhook, Configure: func(*herald.Notifier) {}}, herald.EINVALID},
			{"ErrInvalidConfig", robot("ftp://x", ""), herald.EINVALID},
			{"ErrUnknownProject", herald.NotifierSpec{ProjectID: pid + 100, Type: herald.NotifierInbox}, herald.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := db.EnsureNotifier(b.ctx, tc.spec)
				code(t, err, tc.code)
			})
		}
		if ns := b.notifiers(t); len(ns) != 3 {
			t.Errorf("notifiers %+v: want the webhook, the inbox and the robot", ns)
		}
		if n, _ := db.FindNotifierByID(b.ctx, r1.ID); n.Config.URL != stored.Config.URL {
			t.Errorf("a refused re-pointing changed the robot: %+v", n)
		}
	})
}
