package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// The embedded inbox's data on both databases, through the access policy
// as every entry point gets it: an end-user token of ann lists, counts and
// marks ann's messages of its project and sees her panel; bob's inbox,
// preferences and panel are not found to it, and nothing of bob's changes.
func TestEmbed_EndUserInbox_AB(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		admin := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, admin, db)
		inboxN := &herald.Notifier{ProjectID: f.project.ID, Type: herald.NotifierInbox, Name: "system message"}
		must(t, db.CreateNotifier(admin, inboxN))
		ann, bob := &herald.User{Code: "ann", Name: "Ann"}, &herald.User{Code: "bob", Name: "Bob"}
		must(t, db.CreateUser(admin, ann))
		must(t, db.CreateUser(admin, bob))
		// Another project's message to ann stays out of this project's
		// token's sight.
		other := &herald.Project{Name: "Other"}
		must(t, db.CreateProject(admin, other))
		otherSrc := &herald.Source{ProjectID: other.ID, Kind: herald.SourceApp, ExternalID: "9", Name: "app"}
		must(t, db.CreateSource(admin, otherSrc))
		deliver := func(src int64, to *herald.User, title string) {
			t.Helper()
			ev := &herald.Event{SourceID: src, Type: "build.failed"}
			must(t, db.CreateEvents(admin, []*herald.Event{ev}))
			_, err := db.RecordFanouts(admin, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{
				{NotifierID: inboxN.ID, Channel: "inbox", UserID: to.ID, Target: to.Code, Status: herald.StatusDelivered, Message: []byte(`{}`),
					Inbox: &herald.InboxMessage{UserID: to.ID, Title: title}},
			}}})
			must(t, err)
		}
		for i := range 3 {
			deliver(f.source.ID, ann, fmt.Sprint("ann ", i))
			deliver(f.source.ID, bob, fmt.Sprint("bob ", i))
		}
		deliver(otherSrc.ID, ann, "ann elsewhere")
		_, err := db.UpdatePreferencePolicy(admin, &herald.PreferencePolicy{ProjectID: f.project.ID, Revision: herald.NoRevisionCheck,
			Categories: []herald.Category{{Key: "builds", Name: "Builds", EventTypes: []string{"build.failed"}}}})
		must(t, err)

		g := storetest.Guard(db)
		a := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: tenantOf(admin), ProjectID: f.project.ID, UserID: ann.ID})

		n, err := g.Inbox.CountUnreadInbox(a, ann.ID)
		must(t, err)
		if n != 3 {
			t.Fatalf("ann's unread count with her token: %d, want 3 (her messages of this project)", n)
		}
		if all, err := db.CountUnreadInbox(admin, ann.ID); err != nil || all != 4 {
			t.Fatalf("ann's unread count with an admin token: %d %v, want 4", all, err)
		}
		page1, next, err := g.Inbox.FindInbox(a, ann.ID, herald.InboxFilter{}, herald.Page{Limit: 2})
		must(t, err)
		if len(page1) != 2 || next == "" || page1[0].Title != "ann 2" {
			t.Fatalf("ann's first page: %d messages, next %q", len(page1), next)
		}
		must(t, g.Inbox.MarkInboxRead(a, ann.ID, page1[0].ID))
		if n, _ := g.Inbox.CountUnreadInbox(a, ann.ID); n != 2 {
			t.Fatalf("after marking one read: %d unread", n)
		}
		if m, err := g.Inbox.MarkAllInboxRead(a, ann.ID); err != nil || m != 2 {
			t.Fatalf("mark all: %d %v", m, err)
		}
		panel, err := g.Preferences.FindPreferencePanel(a, f.project.ID, ann.ID)
		must(t, err)
		// One channel: the fixture's webhook tells no person.
		if len(panel.Channels) != 1 || panel.Channels[0] != "inbox" || len(panel.Categories) != 1 || !panel.Categories[0].Switches[0].Enabled {
			t.Fatalf("ann's panel: %+v", panel)
		}

		// Bob's data with ann's token: not found, as an unknown id.
		bobMsgs, _, err := db.FindInbox(admin, bob.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		notFound := func(what string, err error) {
			t.Helper()
			if herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Errorf("%s with ann's token: %v, want not found", what, err)
			}
		}
		_, _, err = g.Inbox.FindInbox(a, bob.ID, herald.InboxFilter{}, herald.Page{})
		notFound("bob's inbox", err)
		_, err = g.Inbox.CountUnreadInbox(a, bob.ID)
		notFound("bob's unread count", err)
		notFound("marking bob's message", g.Inbox.MarkInboxRead(a, bob.ID, bobMsgs[0].ID))
		notFound("bob's message as hers", g.Inbox.MarkInboxRead(a, ann.ID, bobMsgs[0].ID))
		_, err = g.Inbox.MarkAllInboxRead(a, bob.ID)
		notFound("marking bob's inbox", err)
		_, err = g.Preferences.FindUserPreferences(a, bob.ID)
		notFound("bob's preferences", err)
		_, err = g.Preferences.UpdateUserPreferences(a, &herald.UserPreferences{UserID: bob.ID, Revision: herald.NoRevisionCheck})
		notFound("writing bob's preferences", err)
		_, err = g.Preferences.FindPreferencePanel(a, f.project.ID, bob.ID)
		notFound("bob's panel", err)
		_, err = g.Preferences.FindPreferencePanel(a, other.ID, ann.ID)
		notFound("her panel of another project", err)
		if n, _ := db.CountUnreadInbox(admin, bob.ID); n != 3 {
			t.Fatalf("bob's unread count changed: %d", n)
		}
		if p, _ := db.FindUserPreferences(admin, bob.ID); p.Revision != 0 {
			t.Fatalf("bob's preferences changed: %+v", p)
		}
	})
}

// A project's allowed origins round-trip, and the CORS look-ups answer
// for the listed origins only.
func TestProject_AllowedOrigins_OnBothDatabases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p := &herald.Project{Name: "Web", AllowedOrigins: []string{"https://App.example.com:443", "http://127.0.0.1:3000"}}
		must(t, db.CreateProject(ctx, p))
		q := &herald.Project{Name: "Quiet"}
		must(t, db.CreateProject(ctx, q))
		got, err := db.FindProjectByID(ctx, p.ID)
		must(t, err)
		if fmt.Sprint(got.AllowedOrigins) != "[http://127.0.0.1:3000 https://app.example.com]" {
			t.Fatalf("read back %v", got.AllowedOrigins)
		}
		if got, _ := db.FindProjectByID(ctx, q.ID); got.AllowedOrigins == nil || len(got.AllowedOrigins) != 0 {
			t.Fatalf("no origins read back as %#v", got.AllowedOrigins)
		}
		bg := context.Background()
		for _, c := range []struct {
			project int64
			origin  string
			want    bool
		}{
			{p.ID, "https://app.example.com", true},
			{p.ID, "HTTPS://APP.EXAMPLE.COM", true},
			{p.ID, "http://127.0.0.1:3000", true},
			{p.ID, "http://127.0.0.1:3001", false},
			{p.ID, "https://evil.example.com", false},
			{p.ID, "https://app.example.co", false},
			{q.ID, "https://app.example.com", false},
		} {
			if ok, err := db.ProjectAllowsOrigin(bg, c.project, c.origin); err != nil || ok != c.want {
				t.Errorf("ProjectAllowsOrigin(%d, %s) = %v %v, want %v", c.project, c.origin, ok, err, c.want)
			}
		}
		if ok, _ := db.AnyProjectAllowsOrigin(bg, "https://app.example.com"); !ok {
			t.Error("AnyProjectAllowsOrigin of a listed origin")
		}
		if ok, _ := db.AnyProjectAllowsOrigin(bg, "https://evil.example.com"); ok {
			t.Error("AnyProjectAllowsOrigin of an unlisted origin")
		}
		p.AllowedOrigins = nil
		must(t, db.UpdateProject(ctx, p))
		if ok, _ := db.ProjectAllowsOrigin(bg, p.ID, "https://app.example.com"); ok {
			t.Error("an origin still allowed after the list was emptied")
		}
	})
}

func tenantOf(ctx context.Context) int64 { return herald.PrincipalFromContext(ctx).TenantID }
