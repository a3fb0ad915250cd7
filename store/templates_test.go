package store_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func TestTemplateService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		pid := f.project.ID

		// A project that never wrote templates has none, at revision 0.
		for _, v := range []string{herald.VersionDraft, herald.VersionLive} {
			s, err := db.FindTemplates(ctx, pid, v)
			must(t, err)
			if s.Revision != 0 || len(s.Templates) != 0 || s.Templates == nil || s.Version != v || s.ProjectID != pid {
				t.Fatalf("new project's %s templates = %+v", v, s)
			}
		}
		_, err := db.FindTemplates(ctx, pid, "preview")
		code(t, err, herald.EINVALID)
		_, err = db.FindTemplates(ctx, 99999, herald.VersionDraft)
		code(t, err, herald.ENOTFOUND)
		_, err = db.UpdateTemplates(ctx, 99999, -1, nil)
		code(t, err, herald.ENOTFOUND)

		one := []herald.Template{
			{EventType: "build.failed", Channel: herald.NotifierEmail, Locale: herald.LocaleZH, Subject: "{{ title }}", Text: "失败：{{ source.name }}"},
			{EventType: "*", Channel: herald.NotifierWebhook, Locale: herald.LocaleEN, Body: `{"t":{{ title | json }}}`},
		}
		t.Run("ErrStaleRevision", func(t *testing.T) {
			_, err := db.UpdateTemplates(ctx, pid, 3, one)
			code(t, err, herald.ECONFLICT)
		})
		draft, err := db.UpdateTemplates(ctx, pid, 0, one)
		must(t, err)
		if draft.Revision != 1 || draft.Version != herald.VersionDraft || !reflect.DeepEqual(draft.Templates, one) || draft.UpdatedBy != "acme-admin" {
			t.Fatalf("draft after the first write = %+v", draft)
		}
		// A write naming the revision it read moves it on; one naming the
		// old revision conflicts and changes nothing.
		two := append([]herald.Template{{EventType: "custom.nightly", Channel: herald.NotifierInbox, Locale: herald.LocaleEN, Subject: "s", Text: "t"}}, one...)
		draft, err = db.UpdateTemplates(ctx, pid, 1, two)
		must(t, err)
		if draft.Revision != 2 || len(draft.Templates) != 3 {
			t.Fatalf("draft after the second write = %+v", draft)
		}
		_, err = db.UpdateTemplates(ctx, pid, 1, one)
		code(t, err, herald.ECONFLICT)
		if live, _ := db.FindTemplates(ctx, pid, herald.VersionLive); len(live.Templates) != 0 || live.Revision != 0 {
			t.Fatalf("a draft write changed live: %+v", live)
		}

		// A set of a bad shape is refused, every fault at once.
		_, err = db.UpdateTemplates(ctx, pid, -1, []herald.Template{
			{EventType: "nope", Channel: herald.NotifierEmail, Locale: herald.LocaleEN, Subject: "s", Text: "t"},
			{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleZH, HTML: "<b>"},
			{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "again"},
			{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "twice"},
		})
		var fields []string
		for _, e := range herald.ErrorFields(err) {
			fields = append(fields, e.Field)
		}
		if want := []string{"templates[0].event_type", "templates[1].html", "templates[1].text", "templates[3]"}; !reflect.DeepEqual(fields, want) {
			t.Fatalf("bad set: fields %v (%v), want %v", fields, err, want)
		}

		// Deploy checks the revision, then live is the draft.
		_, err = db.DeployTemplates(ctx, pid, 1, false)
		code(t, err, herald.ECONFLICT)
		live, err := db.DeployTemplates(ctx, pid, 2, false)
		must(t, err)
		if live.Version != herald.VersionLive || live.Revision != 2 || !reflect.DeepEqual(live.Templates, two) || live.UpdatedAt.IsZero() {
			t.Fatalf("live after deploy = %+v", live)
		}
		if got, _ := db.FindTemplates(ctx, pid, herald.VersionLive); !reflect.DeepEqual(got, live) {
			t.Fatalf("live read back = %+v\nwant %+v", got, live)
		}

		// Revert: a draft edit discarded back to live.
		_, err = db.UpdateTemplates(ctx, pid, -1, nil)
		must(t, err)
		reverted, err := db.DeployTemplates(ctx, pid, 3, true)
		must(t, err)
		if reverted.Version != herald.VersionDraft || reverted.Revision != 4 || !reflect.DeepEqual(reverted.Templates, two) {
			t.Fatalf("draft after revert = %+v", reverted)
		}

		hist, next, err := db.FindTemplatesHistory(ctx, pid, herald.Page{Limit: 2})
		must(t, err)
		if len(hist) != 2 || next == "" || hist[0].Action != herald.ActionRevert || hist[1].Action != herald.ActionUpdate || len(hist[1].Set.Templates) != 0 {
			t.Fatalf("history = %+v next %q", hist, next)
		}
		rest, _, err := db.FindTemplatesHistory(ctx, pid, herald.Page{Limit: 10, Cursor: next})
		must(t, err)
		var actions []string
		for _, h := range rest {
			actions = append(actions, h.Action)
		}
		if !reflect.DeepEqual(actions, []string{"deploy", "update", "update"}) || rest[0].Set.Version != herald.VersionLive || !reflect.DeepEqual(rest[2].Set.Templates, one) {
			t.Fatalf("older history %v", actions)
		}

		// Another tenant sees none of it.
		other := storetest.NewTenant(t, db, "other")
		_, err = db.FindTemplates(other, pid, herald.VersionLive)
		code(t, err, herald.ENOTFOUND)
		_, err = db.UpdateTemplates(other, pid, -1, nil)
		code(t, err, herald.ENOTFOUND)
		_, err = db.DeployTemplates(other, pid, -1, false)
		code(t, err, herald.ENOTFOUND)
		_, _, err = db.FindTemplatesHistory(other, pid, herald.Page{})
		code(t, err, herald.ENOTFOUND)

		// Deleting the project deletes its templates.
		must(t, db.DeleteProject(ctx, pid, true))
		_, err = db.FindTemplates(ctx, pid, herald.VersionLive)
		code(t, err, herald.ENOTFOUND)
	})
}

// TestTemplateService_ConcurrentFirstWrites: two first writes of a project
// naming revision 0 at once: one wins, the other conflicts (the row is
// created once).
func TestTemplateService_ConcurrentFirstWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		for round := 0; round < 5; round++ {
			p := &herald.Project{Name: "race"}
			must(t, db.CreateProject(ctx, p))
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = db.UpdateTemplates(ctx, p.ID, 0, []herald.Template{{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "x"}})
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch herald.ErrorCode(err) {
				case "":
					won++
				case herald.ECONFLICT:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d first writes won", round, won)
			}
			if s, _ := db.FindTemplates(ctx, p.ID, herald.VersionDraft); s.Revision != 1 {
				t.Fatalf("revision %d after one write", s.Revision)
			}
		}
		_ = f
	})
}
