package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/preftest"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// A person's preferences and the policies round-trip on both databases,
// revision-checked, within the tenant.
func TestPreferenceService(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		other := storetest.NewTenant(t, db, "other")
		ann := &herald.User{Code: "ann", Name: "Ann", TimeZone: "Asia/Shanghai"}
		must(t, db.CreateUser(ctx, ann))
		got, err := db.FindUserByID(ctx, ann.ID)
		must(t, err)
		if got.TimeZone != "Asia/Shanghai" {
			t.Fatalf("time_zone read back %q", got.TimeZone)
		}
		p, err := db.FindUserPreferences(ctx, ann.ID)
		must(t, err)
		if p.Revision != 0 || len(p.Rules) != 0 || p.QuietHours == nil {
			t.Fatalf("a person who never chose: %+v", p)
		}
		p.Rules = []herald.PreferenceRule{{Channel: "email", Category: "builds"}}
		p.QuietHours = []herald.QuietHours{{Channel: "sms", Windows: []herald.QuietWindow{{Days: []string{"weekdays"}, Start: "22:00", End: "07:00"}}}}
		p1, err := db.UpdateUserPreferences(ctx, p)
		must(t, err)
		if p1.Revision != 1 {
			t.Fatalf("revision after the first write: %d", p1.Revision)
		}
		_, err = db.UpdateUserPreferences(ctx, p) // still revision 0
		code(t, err, herald.ECONFLICT)
		p2, err := db.SetUserPreference(ctx, ann.ID, herald.PreferenceRule{Channel: "inbox", EventType: "build.failed"})
		must(t, err)
		read, err := db.FindUserPreferences(ctx, ann.ID)
		must(t, err)
		if p2.Revision != 2 || read.Revision != 2 || len(read.Rules) != 2 || read.Rules[0].Category != "builds" ||
			strings.Join(read.QuietHours[0].Windows[0].Days, ",") != "mon,tue,wed,thu,fri" {
			t.Fatalf("after SetUserPreference: %+v", read)
		}
		// Setting the same subject again replaces it.
		_, err = db.SetUserPreference(ctx, ann.ID, herald.PreferenceRule{Channel: "inbox", EventType: "build.failed", Enabled: true})
		must(t, err)
		read, _ = db.FindUserPreferences(ctx, ann.ID)
		if len(read.Rules) != 2 || !read.Rules[1].Enabled {
			t.Fatalf("after setting a rule again: %+v", read.Rules)
		}
		p.Revision = herald.NoRevisionCheck
		_, err = db.UpdateUserPreferences(ctx, p)
		must(t, err)

		_, err = db.FindUserPreferences(ctx, 987654)
		code(t, err, herald.ENOTFOUND)
		_, err = db.FindUserPreferences(other, ann.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.SetUserPreference(other, ann.ID, herald.PreferenceRule{Channel: "email"})
		code(t, err, herald.ENOTFOUND)
		_, err = db.UpdateUserPreferences(ctx, &herald.UserPreferences{UserID: ann.ID, Revision: -1, Rules: []herald.PreferenceRule{{Channel: "fax"}}})
		code(t, err, herald.EINVALID)

		proj := &herald.Project{Name: "Payments"}
		must(t, db.CreateProject(ctx, proj))
		tp, err := db.FindPreferencePolicy(ctx, 0)
		must(t, err)
		if tp.Revision != 0 || tp.Categories == nil || tp.Required == nil {
			t.Fatalf("an unwritten tenant policy: %+v", tp)
		}
		tp.Required = []string{"custom.security"}
		tp1, err := db.UpdatePreferencePolicy(ctx, tp)
		must(t, err)
		pp, err := db.UpdatePreferencePolicy(ctx, &herald.PreferencePolicy{ProjectID: proj.ID, Urgent: []string{"deploy.failed"}})
		must(t, err)
		if tp1.Revision != 1 || pp.Revision != 1 || pp.UpdatedBy != "acme-admin" {
			t.Fatalf("revisions: tenant %d, project %d (by %q)", tp1.Revision, pp.Revision, pp.UpdatedBy)
		}
		_, err = db.UpdatePreferencePolicy(ctx, tp) // revision 0 again
		code(t, err, herald.ECONFLICT)
		tp1.Urgent = []string{"build.failed"}
		tp2, err := db.UpdatePreferencePolicy(ctx, tp1)
		must(t, err)
		back, err := db.FindPreferencePolicy(ctx, 0)
		must(t, err)
		if tp2.Revision != 2 || back.Revision != 2 || back.Required[0] != "custom.security" || back.Urgent[0] != "build.failed" {
			t.Fatalf("tenant policy read back: %+v", back)
		}
		projBack, err := db.FindPreferencePolicy(ctx, proj.ID)
		must(t, err)
		if projBack.Urgent[0] != "deploy.failed" || len(projBack.Required) != 0 {
			t.Fatalf("project policy read back: %+v", projBack)
		}
		_, err = db.FindPreferencePolicy(other, proj.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.UpdatePreferencePolicy(other, &herald.PreferencePolicy{ProjectID: proj.ID, Revision: -1})
		code(t, err, herald.ENOTFOUND)
		// The other tenant's own policy is its own.
		otp, err := db.FindPreferencePolicy(other, 0)
		must(t, err)
		if otp.Revision != 0 {
			t.Fatalf("another tenant sees a tenant policy at revision %d", otp.Revision)
		}

		// A person deleted takes their preferences along.
		must(t, db.DeleteUser(ctx, ann.ID))
		bob := &herald.User{Code: "bob", Name: "Bob"}
		must(t, db.CreateUser(ctx, bob))
		scopes, err := db.PreferenceScopes(ctx, proj.ID, []int64{ann.ID, bob.ID})
		must(t, err)
		if scopes[ann.ID].Person != nil || scopes[bob.ID].Person != nil || scopes[bob.ID].Project.Urgent[0] != "deploy.failed" {
			t.Fatalf("scopes after deleting ann: %+v", scopes)
		}
	})
}

// storeFixture writes a fixture's documents to db (the tenant's policy, a
// new project's, each person's preferences) and reads them back as the
// engine does.
func storeFixture(t *testing.T, db *store.DB, name string, f preftest.Fixture) preftest.Fixture {
	t.Helper()
	ctx := storetest.NewTenant(t, db, name)
	proj := &herald.Project{Name: name}
	must(t, db.CreateProject(ctx, proj))
	tenant, project := *f.Tenant, *f.Project
	tenant.Revision, project.Revision, project.ProjectID = -1, -1, proj.ID
	_, err := db.UpdatePreferencePolicy(ctx, &tenant)
	must(t, err)
	_, err = db.UpdatePreferencePolicy(ctx, &project)
	must(t, err)
	ids := map[string]int64{}
	for code, prefs := range f.Persons {
		u := &herald.User{Code: code, Name: code}
		must(t, db.CreateUser(ctx, u))
		p := *prefs
		p.Revision, p.UserID = -1, u.ID
		_, err = db.UpdateUserPreferences(ctx, &p)
		must(t, err)
		ids[code] = u.ID
	}
	out := preftest.Fixture{Persons: map[string]*herald.UserPreferences{}}
	for code, id := range ids {
		scopes, err := db.PreferenceScopes(ctx, proj.ID, []int64{id})
		must(t, err)
		s := scopes[id]
		out.Tenant, out.Project, out.Persons[code] = s.Tenant, s.Project, s.Person
	}
	return out
}

// The resolution table and the quiet-hours table, with the clock given,
// on what each database reads back.
func TestPreferenceTables_OnBothDatabases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := storeFixture(t, db, "resolution", preftest.ResolutionFixture()).Scope("ann")
		for _, tc := range preftest.Resolutions {
			if got := herald.ResolvePreference(s, tc.Channel, tc.EventType); got.Enabled != tc.Enabled || got.By != tc.By {
				t.Errorf("%s: %s × %s = %v by %s, want %v by %s", tc.Name, tc.Channel, tc.EventType, got.Enabled, got.By, tc.Enabled, tc.By)
			}
		}
		f := storeFixture(t, db, "deferral", preftest.DeferralFixture())
		for _, tc := range preftest.Deferrals {
			if v := herald.Decide(f.Scope(tc.Person), tc.Channel, tc.EventType, tc.Now, tc.Zone); v.Send != tc.Send || !v.DueAt.Equal(tc.Due) {
				t.Errorf("%s: send %v due %s; want send %v due %s", tc.Name, v.Send, v.DueAt, tc.Send, tc.Due)
			}
		}
	})
}

// An end-user token authenticates as its person, of its project, only
// while its project's key signed it and it has not expired.
func TestAuthenticate_EndUserToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		other := storetest.NewTenant(t, db, "other")
		proj := &herald.Project{Name: "Payments"}
		must(t, db.CreateProject(ctx, proj))
		ann := &herald.User{Code: "ann@example.com", Name: "Ann"}
		must(t, db.CreateUser(ctx, ann))
		tok := func(key, user string, exp time.Duration) string {
			return herald.SignEndUserToken(key, herald.EndUserClaims{ProjectID: proj.ID, UserCode: user, ExpiresAt: time.Now().Add(exp)})
		}
		if _, err := db.Authenticate(context.Background(), tok(herald.NewEndUserKey(), ann.Code, time.Hour)); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			t.Fatalf("a project without a key: %v", err)
		}
		_, err := db.RotateEndUserKey(other, proj.ID)
		code(t, err, herald.ENOTFOUND)
		key, err := db.RotateEndUserKey(ctx, proj.ID)
		must(t, err)
		if !strings.HasPrefix(key, herald.EndUserKeyPrefix) {
			t.Fatalf("key %q", key)
		}
		p, err := db.Authenticate(context.Background(), tok(key, ann.Code, time.Hour))
		must(t, err)
		tenant := herald.PrincipalFromContext(ctx).TenantID
		if p.UserID != ann.ID || p.ProjectID != proj.ID || p.TenantID != tenant || len(p.Permissions) != 0 || p.TokenID != 0 {
			t.Fatalf("principal %+v", p)
		}
		for name, bad := range map[string]string{
			"expired":        tok(key, ann.Code, -time.Second),
			"too long-lived": tok(key, ann.Code, 30*24*time.Hour),
			"unknown person": tok(key, "nobody", time.Hour),
			"another key":    tok(herald.NewEndUserKey(), ann.Code, time.Hour),
		} {
			if _, err := db.Authenticate(context.Background(), bad); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Errorf("%s: %v, want unauthorized", name, err)
			}
		}
		old := tok(key, ann.Code, time.Hour)
		key2, err := db.RotateEndUserKey(ctx, proj.ID)
		must(t, err)
		if _, err := db.Authenticate(context.Background(), old); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			t.Errorf("a token of the rotated key: %v", err)
		}
		fresh := tok(key2, ann.Code, time.Hour)
		if _, err := db.Authenticate(context.Background(), fresh); err != nil {
			t.Fatalf("the new key's token: %v", err)
		}
		must(t, db.DeleteEndUserKey(ctx, proj.ID))
		if _, err := db.Authenticate(context.Background(), fresh); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			t.Errorf("a token after the key's deletion: %v", err)
		}
	})
}

// A deferred delivery is left alone by the dispatcher until its due time,
// then becomes pending, due at once, with its reason kept.
func TestDispatch_DeferredOnTime(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2030, 1, 1, 23, 0, 0, 0, time.UTC)}
			db, ctx, _ := leaseFixture(t, dialect, clk)
			p := &herald.Project{Name: "q"}
			must(t, db.CreateProject(ctx, p))
			src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("b2", 16), Name: "s"}
			must(t, db.CreateSource(ctx, src))
			n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "in"}
			must(t, db.CreateNotifier(ctx, n))
			ev := &herald.Event{SourceID: src.ID, Type: "build.failed"}
			must(t, db.CreateEvents(ctx, []*herald.Event{ev}))
			due := clk.now().Add(9 * time.Hour)
			_, err := db.RecordFanouts(ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{
				{NotifierID: n.ID, Channel: "email", Target: "a@example.com", Status: herald.StatusDeferred, Reason: herald.ReasonQuietHours, DueAt: due, Message: []byte(`{"text":"hi"}`)},
				{NotifierID: n.ID, Channel: "email", Target: "b@example.com", Status: herald.StatusSkipped, Reason: herald.ReasonPreference, LastError: "off", Message: []byte(`{}`)},
			}}})
			must(t, err)
			e, err := db.FindEventByID(ctx, ev.ID)
			must(t, err)
			d := e.Deliveries[0]
			if d.Status != herald.StatusDeferred || d.Reason != herald.ReasonQuietHours || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(due) {
				t.Fatalf("deferred delivery: %+v", d)
			}
			if s := e.Deliveries[1]; s.Status != herald.StatusSkipped || s.Reason != herald.ReasonPreference {
				t.Fatalf("skipped delivery: %+v", s)
			}
			list, _, err := db.FindDeliveries(ctx, herald.DeliveryFilter{Status: herald.StatusDeferred}, herald.Page{})
			must(t, err)
			if len(list) != 1 || list[0].ID != d.ID {
				t.Fatalf("deferred deliveries listed: %d", len(list))
			}
			// A claim before the due time takes nothing.
			if c, err := db.ClaimDeliveries(ctx, []int64{d.ID}, store.ClaimOptions{}); err != nil || len(c) != 0 {
				t.Fatalf("claimed a deferred delivery: %d %v", len(c), err)
			}
			clk.add(9*time.Hour - time.Second)
			// (The fixture's new pending delivery waits for its job, which
			// is still queued: the dispatcher leaves it alone.)
			if got, err := db.Dispatch(context.Background(), time.Minute); err != nil || got.Deliveries != 0 {
				t.Fatalf("dispatch before the due time: %+v %v", got, err)
			}
			if d, _ := db.FindDeliveryByID(ctx, d.ID); d.Status != herald.StatusDeferred {
				t.Fatalf("dispatched before its due time: %s", d.Status)
			}
			clk.add(time.Second)
			got, err := db.Dispatch(context.Background(), time.Minute)
			must(t, err)
			if got.Deliveries != 1 {
				t.Fatalf("dispatch at the due time took %d deliveries, want 1", got.Deliveries)
			}
			d, err = db.FindDeliveryByID(ctx, d.ID)
			must(t, err)
			if d.Status != herald.StatusPending || d.Reason != herald.ReasonQuietHours {
				t.Fatalf("at its due time the delivery is %s (%s), want pending, reason kept", d.Status, d.Reason)
			}
			c, err := db.ClaimDeliveries(ctx, []int64{d.ID}, store.ClaimOptions{})
			must(t, err)
			if len(c) != 1 || c[0].Attempts != 1 {
				t.Fatalf("claim after the due time: %+v", c)
			}
		})
	}
}
