package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := herald.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture creates a project with a build job source and a webhook notifier.
type fixture struct {
	project  *herald.Project
	source   *herald.Source
	notifier *herald.Notifier
}

func newFixture(t *testing.T, ctx context.Context, db *store.DB) fixture {
	t.Helper()
	f := fixture{
		project:  &herald.Project{Name: "Payments"},
		notifier: &herald.Notifier{Type: herald.NotifierWebhook, Name: "ops hook", Config: herald.NotifierConfig{URL: "https://hooks.example.com/x"}, Secret: "whsec_c2VjcmV0"},
	}
	must(t, db.CreateProject(ctx, f.project))
	f.source = &herald.Source{ProjectID: f.project.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("a1", 16), Name: "build"}
	must(t, db.CreateSource(ctx, f.source))
	f.notifier.ProjectID = f.project.ID
	must(t, db.CreateNotifier(ctx, f.notifier))
	return f
}

func TestBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		secret, err := db.Bootstrap(ctx)
		must(t, err)
		if !strings.HasPrefix(secret, herald.TokenPrefix) || len(secret) < 40 {
			t.Fatalf("bootstrap token %q is not a Herald token", secret)
		}
		again, err := db.Bootstrap(ctx)
		must(t, err)
		if again != "" {
			t.Fatal("a second bootstrap created another admin token")
		}
		p, err := db.Authenticate(ctx, secret)
		must(t, err)
		if !p.Has(herald.PermAdmin) || p.TenantID == 0 {
			t.Fatalf("principal = %+v, want an admin of the default tenant", p)
		}
		tenant, err := db.FindTenantByName(ctx, store.DefaultTenant)
		must(t, err)
		if tenant.ID != p.TenantID {
			t.Fatalf("token tenant %d, default tenant %d", p.TenantID, tenant.ID)
		}
	})
}

func TestTokenService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		tok, secret, err := db.CreateToken(ctx, herald.TokenCreate{Name: "ci", Permissions: []herald.Permission{herald.PermSettingsWrite, herald.PermSettingsWrite}})
		must(t, err)
		if len(tok.Permissions) != 1 || tok.Prefix != secret[:8] {
			t.Fatalf("token = %+v", tok)
		}
		p, err := db.Authenticate(ctx, secret)
		must(t, err)
		if !p.Has(herald.PermSettingsRead) || p.Has(herald.PermAdmin) || p.TokenName != "ci" {
			t.Fatalf("principal = %+v", p)
		}
		_, err = db.Authenticate(ctx, secret+"x")
		code(t, err, herald.EUNAUTHORIZED)
		_, _, err = db.CreateToken(ctx, herald.TokenCreate{Name: "bad", Permissions: []herald.Permission{"root"}})
		code(t, err, herald.EINVALID)

		list, _, err := db.FindTokens(ctx, herald.Page{})
		must(t, err)
		if len(list) != 1 || list[0].ID != tok.ID {
			t.Fatalf("tokens = %+v", list)
		}
		must(t, db.RevokeToken(ctx, tok.ID))
		_, err = db.Authenticate(ctx, secret)
		code(t, err, herald.EUNAUTHORIZED)
		code(t, db.RevokeToken(storetest.NewTenant(t, db, "other"), tok.ID), herald.ENOTFOUND)
	})
}

func TestProjectService_Paging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		for i := 0; i < 5; i++ {
			must(t, db.CreateProject(ctx, &herald.Project{Name: "p" + string(rune('a'+i))}))
		}
		var names []string
		cursor := ""
		for pages := 0; ; pages++ {
			items, next, err := db.FindProjects(ctx, herald.Page{Limit: 2, Cursor: cursor})
			must(t, err)
			for _, p := range items {
				names = append(names, p.Name)
			}
			if next == "" {
				if pages != 2 {
					t.Fatalf("%d pages, want 3", pages+1)
				}
				break
			}
			cursor = next
		}
		if strings.Join(names, ",") != "pa,pb,pc,pd,pe" {
			t.Fatalf("paged names = %v", names)
		}
		_, _, err := db.FindProjects(ctx, herald.Page{Cursor: "!!"})
		code(t, err, herald.EINVALID)
	})
}

func TestSourceService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		for _, bad := range []herald.Source{
			{ProjectID: f.project.ID, Kind: herald.SourceBuildJob, ExternalID: "short", Name: "x"},
			{ProjectID: f.project.ID, Kind: herald.SourceApp, ExternalID: "0", Name: "x"},
			{ProjectID: f.project.ID, Kind: "robot", ExternalID: "1", Name: "x"},
		} {
			code(t, db.CreateSource(ctx, &bad), herald.EINVALID)
		}
		dup := *f.source
		code(t, db.CreateSource(ctx, &dup), herald.ECONFLICT)
		got, err := db.FindSourceByExternalID(ctx, herald.SourceBuildJob, f.source.ExternalID)
		must(t, err)
		if got.ID != f.source.ID {
			t.Fatalf("found source %d, want %d", got.ID, f.source.ID)
		}
		scope := herald.SettingsScope{ProjectID: f.project.ID, SourceID: f.source.ID}
		_, err = db.FindSettings(ctx, scope, herald.VersionDraft)
		must(t, err)
		must(t, db.DeleteSource(ctx, f.source.ID))
		_, err = db.FindSettings(ctx, scope, herald.VersionDraft)
		code(t, err, herald.ENOTFOUND)
	})
}

func TestTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.NewTenant(t, db, "a")
		b := storetest.NewTenant(t, db, "b")
		f := newFixture(t, a, db)
		u := &herald.User{Code: "alice", Name: "Alice"}
		must(t, db.CreateUser(a, u))

		_, err := db.FindProjectByID(b, f.project.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.FindSourceByID(b, f.source.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.FindNotifierByID(b, f.notifier.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.FindUserByID(b, u.ID)
		code(t, err, herald.ENOTFOUND)
		_, err = db.FindSettings(b, herald.SettingsScope{ProjectID: f.project.ID}, herald.VersionLive)
		code(t, err, herald.ENOTFOUND)
		code(t, db.UpdateProject(b, &herald.Project{ID: f.project.ID, Name: "stolen"}), herald.ENOTFOUND)
		code(t, db.DeleteUser(b, u.ID), herald.ENOTFOUND)
		// A foreign id is refused where another object references it.
		code(t, db.CreateSource(b, &herald.Source{ProjectID: f.project.ID, Kind: herald.SourceApp, ExternalID: "7", Name: "x"}), herald.ENOTFOUND)
		code(t, db.CreateGroup(b, &herald.Group{Code: "g", Name: "G", MemberIDs: []int64{u.ID}}), herald.EINVALID)

		list, _, err := db.FindProjects(b, herald.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("tenant b sees %d projects of tenant a", len(list))
		}
		_, _, err = db.FindProjects(context.Background(), herald.Page{})
		code(t, err, herald.EUNAUTHORIZED)
	})
}

func TestDirectoryService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		root := &herald.Department{Code: "eng", Name: "Engineering"}
		must(t, db.CreateDepartment(ctx, root))
		child := &herald.Department{Code: "eng-web", Name: "Web", ParentID: &root.ID}
		must(t, db.CreateDepartment(ctx, child))
		root.ParentID = &child.ID
		code(t, db.UpdateDepartment(ctx, root), herald.EINVALID) // a cycle
		code(t, db.DeleteDepartment(ctx, root.ID), herald.ECONFLICT)

		u := &herald.User{Code: "alice", Name: "Alice", Email: "alice@example.com", Locale: "zh", DepartmentIDs: []int64{child.ID, root.ID}}
		must(t, db.CreateUser(ctx, u))
		got, err := db.FindUserByID(ctx, u.ID)
		must(t, err)
		if !reflect.DeepEqual(got.DepartmentIDs, []int64{root.ID, child.ID}) || got.Locale != "zh" {
			t.Fatalf("user = %+v", got)
		}
		code(t, db.CreateUser(ctx, &herald.User{Code: "alice", Name: "Again"}), herald.ECONFLICT)
		code(t, db.CreateUser(ctx, &herald.User{Code: "bob", Name: "Bob", DepartmentIDs: []int64{999}}), herald.EINVALID)
		code(t, db.CreateUser(ctx, &herald.User{Code: "bob", Name: "Bob", Email: "not-an-email"}), herald.EINVALID)

		g := &herald.Group{Code: "oncall", Name: "On call", MemberIDs: []int64{u.ID}}
		must(t, db.CreateGroup(ctx, g))
		groups, _, err := db.FindGroups(ctx, herald.Page{})
		must(t, err)
		if len(groups) != 1 || !reflect.DeepEqual(groups[0].MemberIDs, []int64{u.ID}) {
			t.Fatalf("groups = %+v", groups)
		}
		users, _, err := db.FindUsers(ctx, herald.Page{})
		must(t, err)
		if len(users) != 1 || len(users[0].DepartmentIDs) != 2 {
			t.Fatalf("users = %+v", users)
		}
		roots := int64(0)
		top, _, err := db.FindDepartments(ctx, herald.DepartmentFilter{ParentID: &roots}, herald.Page{})
		must(t, err)
		if len(top) != 1 || top[0].ID != root.ID {
			t.Fatalf("roots = %+v", top)
		}
		must(t, db.DeleteUser(ctx, u.ID))
		g2, err := db.FindGroupByID(ctx, g.ID)
		must(t, err)
		if len(g2.MemberIDs) != 0 {
			t.Fatalf("deleted user still a member: %v", g2.MemberIDs)
		}
		ch := &herald.Chat{Code: "oc_123", Name: "Ops"}
		must(t, db.CreateChat(ctx, ch))
		bad := int64(12345)
		ch.NotifierID = &bad
		code(t, db.UpdateChat(ctx, ch), herald.EINVALID)
	})
}

func TestNotifierService_Secrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		var raw string
		must(t, db.SQL().QueryRow(`SELECT secret FROM notifiers`).Scan(&raw))
		if raw == "" || strings.Contains(raw, "c2VjcmV0") {
			t.Fatalf("secret stored as %q: not sealed", raw)
		}
		n, err := db.FindNotifierByID(ctx, f.notifier.ID)
		must(t, err)
		if n.Secret != "whsec_c2VjcmV0" {
			t.Fatalf("secret read back as %q", n.Secret)
		}
		out, _ := json.Marshal(n)
		if strings.Contains(string(out), "c2VjcmV0") || !strings.Contains(string(out), herald.SecretMask) {
			t.Fatalf("JSON shows the secret: %s", out)
		}
		n.Secret, n.Name = herald.SecretMask, "renamed"
		must(t, db.UpdateNotifier(ctx, n))
		n, err = db.FindNotifierByID(ctx, f.notifier.ID)
		must(t, err)
		if n.Secret != "whsec_c2VjcmV0" || n.Name != "renamed" {
			t.Fatalf("after an update with the mask: %q %q", n.Name, n.Secret)
		}
		code(t, db.CreateNotifier(ctx, &herald.Notifier{ProjectID: f.project.ID, Type: "pager", Name: "x"}), herald.EINVALID)
		code(t, db.CreateNotifier(ctx, &herald.Notifier{ProjectID: f.project.ID, Type: herald.NotifierDingTalk, Name: "x", Config: herald.NotifierConfig{URL: "ftp://x"}}), herald.EINVALID)

		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: herald.SettingsScope{ProjectID: f.project.ID}, Revision: -1},
			&herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: f.notifier.ID, Enabled: true}}})
		must(t, err)
		code(t, db.DeleteNotifier(ctx, f.notifier.ID), herald.ECONFLICT)
	})
}

func TestSettingsService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		scope := herald.SettingsScope{ProjectID: f.project.ID, SourceID: f.source.ID}
		draft, err := db.FindSettings(ctx, scope, herald.VersionDraft)
		must(t, err)
		if draft.Revision != 1 || len(draft.Channels) != 0 {
			t.Fatalf("new settings = %+v", draft)
		}
		doc := &herald.Settings{Channels: []herald.ChannelSettings{{
			NotifierID: f.notifier.ID, Enabled: true,
			Events: []herald.EventSettings{{Type: "build.failed", Enabled: true, Recipients: []herald.Recipient{
				{Type: herald.EntityUser, Code: "alice"}, {Type: herald.EntityOrganization, Code: "eng", IncludeSubs: true},
				{Type: herald.EntityFieldEntity, Code: "creator"},
			}}},
			BodyFields: []herald.BodyField{{Name: "projectName", Shown: true}},
		}}}

		t.Run("ErrStaleRevision", func(t *testing.T) {
			_, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: 7}, doc)
			code(t, err, herald.ECONFLICT)
		})
		updated, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: 1}, doc)
		must(t, err)
		if updated.Revision != 2 {
			t.Fatalf("revision after update = %d, want 2", updated.Revision)
		}
		live, err := db.FindSettings(ctx, scope, herald.VersionLive)
		must(t, err)
		if len(live.Channels) != 0 {
			t.Fatal("a draft write changed the live settings")
		}
		_, err = db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: 1}}, false)
		code(t, err, herald.ECONFLICT)
		deployed, err := db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: 2}}, false)
		must(t, err)
		live, err = db.FindSettings(ctx, scope, herald.VersionLive)
		must(t, err)
		if !reflect.DeepEqual(live.Channels, doc.Channels) || live.Revision != 2 || deployed[0].Revision != 2 {
			t.Fatalf("live after deploy = %+v", live)
		}

		// A foreign notifier is refused and changes nothing.
		bad := &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: 999, Enabled: true}}}
		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: -1}, bad)
		code(t, err, herald.EINVALID)
		if d, _ := db.FindSettings(ctx, scope, herald.VersionDraft); d.Revision != 2 {
			t.Fatalf("a refused write moved the revision to %d", d.Revision)
		}

		// Revert discards a draft back to live.
		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: -1}, &herald.Settings{})
		must(t, err)
		reverted, err := db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: 3}}, true)
		must(t, err)
		if !reflect.DeepEqual(reverted[0].Channels, doc.Channels) || reverted[0].Revision != 4 {
			t.Fatalf("draft after revert = %+v", reverted[0])
		}

		// Inheritance: the effective settings are the project's.
		project := herald.SettingsScope{ProjectID: f.project.ID}
		projDoc := &herald.Settings{Channels: []herald.ChannelSettings{{NotifierID: f.notifier.ID, Enabled: false, Events: []herald.EventSettings{}, BodyFields: []herald.BodyField{}}}}
		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: project, Revision: -1}, projDoc)
		must(t, err)
		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: -1}, &herald.Settings{InheritProject: true})
		must(t, err)
		_, err = db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: -1}, {Scope: project, Revision: -1}}, false)
		must(t, err)
		eff, err := db.EffectiveSettings(ctx, scope)
		must(t, err)
		if !eff.InheritProject || !reflect.DeepEqual(eff.Channels, projDoc.Channels) {
			t.Fatalf("effective = %+v", eff)
		}

		// Deploying several scopes is all or nothing.
		_, err = db.UpdateSettings(ctx, herald.SettingsRef{Scope: project, Revision: -1}, &herald.Settings{})
		must(t, err)
		_, err = db.DeploySettings(ctx, []herald.SettingsRef{{Scope: project, Revision: -1}, {Scope: scope, Revision: 1}}, false)
		code(t, err, herald.ECONFLICT)
		if p, _ := db.FindSettings(ctx, project, herald.VersionLive); len(p.Channels) != 1 {
			t.Fatal("a failed multi-deploy deployed its first scope")
		}

		hist, next, err := db.FindSettingsHistory(ctx, scope, herald.Page{Limit: 3})
		must(t, err)
		if len(hist) != 3 || next == "" || hist[0].Action != herald.ActionDeploy || hist[0].Actor != "acme-admin" {
			t.Fatalf("history = %+v next=%q", hist, next)
		}
		rest, _, err := db.FindSettingsHistory(ctx, scope, herald.Page{Limit: 10, Cursor: next})
		must(t, err)
		if len(rest) != 3 || rest[len(rest)-1].Action != herald.ActionUpdate || rest[len(rest)-1].Revision != 2 {
			t.Fatalf("older history = %+v", rest)
		}
	})
}
