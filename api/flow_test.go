package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

func TestFullFlow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		admin := ts.admin

		// Project, source, notifier.
		var project herald.Project
		ts.must(201, "POST", "/api/v1/projects", admin, map[string]any{"name": "Payments", "description": "the money"}, &project)
		if project.ID <= 0 || project.Name != "Payments" || project.CreatedAt.IsZero() {
			t.Fatalf("created project %+v", project)
		}
		var source herald.Source
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/sources", project.ID), admin,
			map[string]any{"kind": "build_job", "external_id": jobID, "name": "nightly"}, &source)
		if source.ProjectID != project.ID || source.ExternalID != jobID {
			t.Fatalf("created source %+v", source)
		}
		var notifier map[string]any
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", project.ID), admin,
			map[string]any{"type": "webhook", "name": "ops hook", "config": map[string]any{"url": "https://hooks.example.com/x"}, "secret": "whsec_czNjcmV0"}, &notifier)
		if notifier["secret"] != herald.SecretMask {
			t.Fatalf("notifier secret answered as %v, want the mask", notifier["secret"])
		}
		notifierID := int64(notifier["id"].(float64))
		r := ts.must(200, "GET", fmt.Sprintf("/api/v1/notifiers/%d", notifierID), admin, nil, nil)
		if strings.Contains(string(r.Body), "whsec_czNjcmV0") {
			t.Fatalf("GET notifier leaks the secret: %s", r.Body)
		}

		settingsPath := fmt.Sprintf("/api/v1/sources/%d/settings", source.ID)
		var draft0 herald.Settings
		ts.must(200, "GET", settingsPath, admin, nil, &draft0)

		// PUT the draft.
		channels := []herald.ChannelSettings{{
			NotifierID: notifierID,
			Enabled:    true,
			Events: []herald.EventSettings{{
				Type:    "build.failed",
				Enabled: true,
				Recipients: []herald.Recipient{
					{Type: herald.EntityUser, Code: "alice"},
					{Type: herald.EntityGroup, Code: "ops"},
					{Type: herald.EntityOrganization, Code: "eng", IncludeSubs: true},
					{Type: herald.EntityFieldEntity, Code: "creator"},
				},
			}},
			BodyFields: []herald.BodyField{{Name: "job_name", Shown: true}},
		}}
		var draft herald.Settings
		ts.must(200, "PUT", settingsPath, admin, map[string]any{"revision": draft0.Revision, "channels": channels}, &draft)
		if draft.Revision <= draft0.Revision || draft.Version != herald.VersionDraft || !reflect.DeepEqual(draft.Channels, channels) {
			t.Fatalf("PUT answered %+v, want the channels at a new revision", draft)
		}

		// Live is still empty.
		var live herald.Settings
		ts.must(200, "GET", settingsPath+"?version=live", admin, nil, &live)
		if len(live.Channels) != 0 {
			t.Fatalf("live before deploy = %+v, want no channels", live.Channels)
		}

		// Deploy, then live equals the draft.
		var deployed herald.Settings
		ts.must(200, "POST", settingsPath+"/deploy", admin, map[string]any{"revision": draft.Revision}, &deployed)
		ts.must(200, "GET", settingsPath+"?version=live", admin, nil, &live)
		if live.Version != herald.VersionLive || live.Revision != draft.Revision || !reflect.DeepEqual(live.Channels, draft.Channels) {
			t.Fatalf("live after deploy = %+v, want the draft's channels at revision %d", live, draft.Revision)
		}
		var effective herald.Settings
		ts.must(200, "GET", settingsPath+"/effective", admin, nil, &effective)
		if !reflect.DeepEqual(effective.Channels, draft.Channels) {
			t.Fatalf("effective = %+v", effective.Channels)
		}

		// A stale revision is refused and changes nothing.
		before := ts.dump(admin, fixture{Project: project.ID, Source: source.ID})
		r = ts.do("PUT", settingsPath, admin, map[string]any{"revision": draft0.Revision, "channels": []any{}})
		if r.Code != 409 {
			t.Fatalf("stale PUT = %s, want 409", r)
		}
		if p := r.problem(t); p.Code != herald.ECONFLICT || p.Field != "revision" {
			t.Fatalf("stale PUT problem = %+v", p)
		}
		r = ts.do("POST", settingsPath+"/deploy", admin, map[string]any{"revision": draft0.Revision})
		if r.Code != 409 {
			t.Fatalf("stale deploy = %s, want 409", r)
		}
		if after := ts.dump(admin, fixture{Project: project.ID, Source: source.ID}); after != before {
			t.Fatalf("a stale write changed data:\nbefore %s\nafter %s", before, after)
		}

		// History lists the update and the deploy, newest first.
		var history listPage[*herald.SettingsChange]
		ts.must(200, "GET", settingsPath+"/history", admin, nil, &history)
		var actions []string
		for _, c := range history.Items {
			actions = append(actions, fmt.Sprintf("%s@%d", c.Action, c.Revision))
		}
		want := []string{fmt.Sprintf("deploy@%d", draft.Revision), fmt.Sprintf("update@%d", draft.Revision)}
		if !reflect.DeepEqual(actions, want) {
			t.Fatalf("history = %v, want %v", actions, want)
		}
		if history.Items[1].Actor != "admin" {
			t.Fatalf("history actor = %q, want the token's name", history.Items[1].Actor)
		}

		// Revert discards a later draft back to live; the project default
		// settings have the same operations.
		ts.must(200, "PUT", settingsPath, admin, map[string]any{"channels": []any{}}, nil)
		var reverted herald.Settings
		ts.must(200, "POST", settingsPath+"/revert", admin, nil, &reverted)
		if !reflect.DeepEqual(reverted.Channels, draft.Channels) {
			t.Fatalf("revert = %+v, want live's channels", reverted.Channels)
		}
		projectSettings := fmt.Sprintf("/api/v1/projects/%d/settings", project.ID)
		var pd herald.Settings
		ts.must(200, "PUT", projectSettings, admin, map[string]any{"revision": -1, "channels": channels}, &pd)
		if pd.SourceID != 0 || pd.ProjectID != project.ID {
			t.Fatalf("project default settings = %+v", pd)
		}
		ts.must(200, "POST", projectSettings+"/deploy", admin, "", nil)
		// A source that inherits takes the project's live channels.
		ts.must(200, "PUT", settingsPath, admin, map[string]any{"inherit_project": true}, nil)
		ts.must(200, "POST", settingsPath+"/deploy", admin, map[string]any{}, nil)
		ts.must(200, "GET", settingsPath+"/effective", admin, nil, &effective)
		if !effective.InheritProject || !reflect.DeepEqual(effective.Channels, channels) {
			t.Fatalf("effective of an inheriting source = %+v", effective)
		}

		// A GET answer can be PUT back as it is.
		var current map[string]any
		ts.must(200, "GET", settingsPath, admin, nil, &current)
		ts.must(200, "PUT", settingsPath, admin, current, nil)
	})
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		admin := ts.admin
		f := ts.newFixture(admin)

		// PATCH changes only the fields sent.
		var u herald.User
		ts.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.User), admin, map[string]any{"mobile": "+8613800000000", "id": 999}, &u)
		if u.ID != f.User || u.Name != "Alice" || u.Email != "alice@example.com" || u.Mobile != "+8613800000000" {
			t.Fatalf("patched user %+v", u)
		}
		ts.must(200, "GET", fmt.Sprintf("/api/v1/users/%d", f.User), admin, nil, &u)
		if u.Mobile != "+8613800000000" || u.Name != "Alice" {
			t.Fatalf("user read back %+v", u)
		}

		// A source keeps its project, kind and external id.
		var s herald.Source
		ts.must(200, "PATCH", fmt.Sprintf("/api/v1/sources/%d", f.Source), admin,
			map[string]any{"name": "nightly-2", "kind": "app", "external_id": "12", "project_id": 77}, &s)
		if s.Name != "nightly-2" || s.Kind != "build_job" || s.ExternalID != jobID || s.ProjectID != f.Project {
			t.Fatalf("patched source %+v", s)
		}

		// A notifier PATCH without a secret, or with the mask, keeps it.
		p, err := db.Authenticate(t.Context(), admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []map[string]any{{"name": "renamed"}, {"secret": herald.SecretMask}, {"secret": ""}} {
			ts.must(200, "PATCH", fmt.Sprintf("/api/v1/notifiers/%d", f.Notifier), admin, body, nil)
			n, err := db.FindNotifierByID(herald.NewContextWithPrincipal(t.Context(), p), f.Notifier)
			if err != nil || n.Secret != "whsec_czNjcmV0" {
				t.Fatalf("after PATCH %v the stored secret is %q (%v)", body, n.Secret, err)
			}
		}

		// Departments: children and roots.
		var child herald.Department
		ts.must(201, "POST", "/api/v1/departments", admin, map[string]any{"code": "eng-be", "name": "Backend", "parent_id": f.Department}, &child)
		var page listPage[herald.Department]
		ts.must(200, "GET", fmt.Sprintf("/api/v1/departments?parent_id=%d", f.Department), admin, nil, &page)
		if len(page.Items) != 1 || page.Items[0].ID != child.ID {
			t.Fatalf("children = %+v", page.Items)
		}
		ts.must(200, "GET", "/api/v1/departments?parent_id=0", admin, nil, &page)
		if len(page.Items) != 1 || page.Items[0].ID != f.Department {
			t.Fatalf("roots = %+v", page.Items)
		}
		// A department with children cannot go: a conflict with its state.
		r := ts.do("DELETE", fmt.Sprintf("/api/v1/departments/%d", f.Department), admin, nil)
		if r.Code != 409 {
			t.Fatalf("DELETE parent department = %s, want 409", r)
		}

		// Paging: limit and cursor walk every project once, in id order.
		for i := range 4 {
			ts.must(201, "POST", "/api/v1/projects", admin, map[string]any{"name": fmt.Sprintf("p%d", i)}, nil)
		}
		var seen []int64
		cursor := ""
		for range 10 {
			var pp listPage[herald.Project]
			ts.must(200, "GET", "/api/v1/projects?limit=2&cursor="+cursor, admin, nil, &pp)
			for _, p := range pp.Items {
				seen = append(seen, p.ID)
			}
			if pp.NextCursor == "" {
				break
			}
			cursor = pp.NextCursor
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %v, want 5 projects", seen)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("pages out of order: %v", seen)
			}
		}

		// Filters.
		var sources listPage[herald.Source]
		ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/sources?kind=build_job&external_id=%s", f.Project, jobID), admin, nil, &sources)
		if len(sources.Items) != 1 {
			t.Fatalf("filtered sources = %+v", sources.Items)
		}
		ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/sources?kind=app", f.Project), admin, nil, &sources)
		if len(sources.Items) != 0 {
			t.Fatalf("sources of kind app = %+v", sources.Items)
		}
		var notifiers listPage[json.RawMessage]
		ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/notifiers?type=email", f.Project), admin, nil, &notifiers)
		if len(notifiers.Items) != 0 {
			t.Fatalf("email notifiers = %s", notifiers.Items)
		}
		ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/notifiers?type=webhook", f.Project), admin, nil, &notifiers)
		if len(notifiers.Items) != 1 || !strings.Contains(string(notifiers.Items[0]), `"secret":"********"`) {
			t.Fatalf("webhook notifiers = %s, want one with its secret masked", notifiers.Items)
		}

		// DELETE answers 204, then the object is gone.
		for _, p := range []string{
			fmt.Sprintf("/api/v1/chats/%d", f.Chat), fmt.Sprintf("/api/v1/groups/%d", f.Group),
			fmt.Sprintf("/api/v1/departments/%d", child.ID), fmt.Sprintf("/api/v1/sources/%d", f.Source),
		} {
			ts.must(204, "DELETE", p, admin, nil, nil)
			ts.must(404, "GET", p, admin, nil, nil)
		}
	})
}
