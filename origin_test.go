package herald_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald"
)

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://App.Example.com":     "https://app.example.com",
		"https://app.example.com:443": "https://app.example.com",
		"http://127.0.0.1:8080/":      "http://127.0.0.1:8080",
		"http://[::1]:3000":           "http://[::1]:3000",
		"ftp://example.com":           "",
		"https://example.com/path":    "",
		"https://*.example.com":       "",
		"example.com":                 "",
		"https://user@example.com":    "",
		"null":                        "",
		"https://example.com?x=1":     "",
	} {
		got, err := herald.NormalizeOrigin(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestProject_AllowedOrigins(t *testing.T) {
	t.Parallel()
	p := &herald.Project{Name: "p", AllowedOrigins: []string{"https://B.example.com", "https://a.example.com:443", "https://b.example.com"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(p.AllowedOrigins) != 2 || p.AllowedOrigins[0] != "https://a.example.com" {
		t.Fatalf("normalized: %v", p.AllowedOrigins)
	}
	if !p.AllowsOrigin("https://A.example.com") || p.AllowsOrigin("https://c.example.com") || p.AllowsOrigin("http://a.example.com") {
		t.Fatal("AllowsOrigin")
	}
	none := &herald.Project{Name: "p"}
	if err := none.Validate(); err != nil || none.AllowedOrigins == nil {
		t.Fatalf("no origins: %#v %v, want an empty list", none.AllowedOrigins, err)
	}
	bad := &herald.Project{Name: "p", AllowedOrigins: []string{"https://ok.example.com", "*"}}
	if err := bad.Validate(); herald.ErrorField(err) != "allowed_origins[1]" {
		t.Fatalf("a bad origin: %v (field %q)", err, herald.ErrorField(err))
	}
}

// The panel shows the project's categories, then the tenant's, with one
// switch per channel resolved for the whole category; a category whose
// every type is required has its switches on and disabled.
func TestBuildPreferencePanel(t *testing.T) {
	t.Parallel()
	s := herald.PreferenceScope{
		Project: &herald.PreferencePolicy{
			Categories: []herald.Category{
				{Key: "builds", Name: "Builds", EventTypes: []string{"build.failed", "build.succeeded"}},
				{Key: "security", Name: "Security", EventTypes: []string{"custom.security"}},
			},
			Required: []string{"custom.security"},
			Defaults: []herald.PreferenceRule{{Channel: "email", Category: "builds", Enabled: false}},
		},
		Tenant: &herald.PreferencePolicy{Categories: []herald.Category{
			{Key: "builds", Name: "Tenant builds"},
			{Key: "deploys", Name: "Deploys", EventTypes: []string{"deploy.failed"}},
		}},
		Person: &herald.UserPreferences{Rules: []herald.PreferenceRule{
			{Channel: "inbox", Category: "deploys", Enabled: false},
			{Channel: "email", Enabled: true},                             // every type by email: the person's level wins over the project's category default
			{Channel: "inbox", EventType: "build.failed", Enabled: false}, // a type's rule does not switch its category
		}},
	}
	p := herald.BuildPreferencePanel(s, []string{"webhook", "email", "inbox", "email"})
	if len(p.Channels) != 2 || p.Channels[0] != "inbox" || p.Channels[1] != "email" {
		t.Fatalf("channels: %v", p.Channels)
	}
	if len(p.Categories) != 3 || p.Categories[0].Key != "builds" || p.Categories[0].Name != "Builds" || p.Categories[2].Key != "deploys" {
		t.Fatalf("categories: %+v", p.Categories)
	}
	type sw struct {
		on, req bool
		by      string
	}
	want := map[string][2]sw{
		"builds":   {{true, false, herald.ByDefault}, {true, false, herald.ByPerson}},
		"security": {{true, true, herald.ByRequired}, {true, true, herald.ByRequired}},
		"deploys":  {{false, false, herald.ByPerson}, {true, false, herald.ByPerson}},
	}
	for _, c := range p.Categories {
		for i, x := range c.Switches {
			w := want[c.Key][i]
			if x.Enabled != w.on || x.Required != w.req || x.By != w.by || x.Channel != p.Channels[i] {
				t.Errorf("%s × %s = %+v, want %+v", c.Key, p.Channels[i], x, w)
			}
		}
	}
	if !p.Categories[1].Required || p.Categories[0].Required {
		t.Errorf("required flags: %+v", p.Categories)
	}
	// Nothing said: every switch on, by default; no policy, no category.
	if empty := herald.BuildPreferencePanel(herald.PreferenceScope{}, []string{"inbox"}); len(empty.Categories) != 0 || len(empty.Channels) != 1 {
		t.Fatalf("empty scope: %+v", empty)
	}
}

// An end-user token reads and marks its own person's inbox only: another
// person is not found, as an unknown id.
func TestAuthorizeUser_Inbox(t *testing.T) {
	t.Parallel()
	ctx := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: 1, ProjectID: 7, UserID: 5})
	nf := herald.NotFound("user", 6)
	for _, act := range []herald.Action{herald.ActRead, herald.ActUpdate} {
		if err := herald.AuthorizeUser(ctx, herald.ResInbox, act, 5, nf); err != nil {
			t.Errorf("own inbox %s: %v", act, err)
		}
		if err := herald.AuthorizeUser(ctx, herald.ResInbox, act, 6, nf); err != nf {
			t.Errorf("another's inbox %s: %v", act, err)
		}
	}
}
