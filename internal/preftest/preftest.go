// Package preftest holds the preference tables the tests share: the
// resolution order (required > the person's choice > the project's default
// > the tenant's default > on) and quiet-hour deferral with the clock
// given. The root package runs them on the domain's functions; the store
// runs them on what each database reads back, so both databases keep
// every part of a preference document the resolution needs.
package preftest

import (
	"time"

	"github.com/heraldhq/herald"
)

func rule(channel, typ, cat string, on bool) herald.PreferenceRule {
	return herald.PreferenceRule{Channel: channel, EventType: typ, Category: cat, Enabled: on}
}

// Fixture is what a table's resolutions are made from: the tenant's and
// the project's policies, and persons by name.
type Fixture struct {
	Tenant, Project *herald.PreferencePolicy
	Persons         map[string]*herald.UserPreferences
}

// Scope is the resolution scope of one person of the fixture.
func (f Fixture) Scope(person string) herald.PreferenceScope {
	return herald.PreferenceScope{Person: f.Persons[person], Project: f.Project, Tenant: f.Tenant}
}

// Resolution is one row of the resolution table, for the person "ann".
type Resolution struct {
	Name      string
	Channel   string
	EventType string
	Enabled   bool
	By        string
}

// ResolutionFixture is the resolution table's fixture: a tenant default, a
// project default, and ann's choices.
func ResolutionFixture() Fixture {
	tenant := &herald.PreferencePolicy{
		Categories: []herald.Category{{Key: "deploys", Name: "Deployments", EventTypes: []string{"deploy.failed", "deploy.succeeded"}}},
		Required:   []string{"custom.security"},
		Defaults: []herald.PreferenceRule{
			rule("sms", "", "", false),                      // no SMS unless someone says so
			rule("email", "", "deploys", false),             // deployments off by email
			rule("lark", "record.added", "", false),         // the tenant's, overridden by the project
			rule("wecom", "comment.added", "", false),       // the tenant's only
			rule("email", "custom.security", "", false),     // required wins
			rule("dingtalk", "", "", false),                 // every event type
			rule("dingtalk", "", "builds", true),            // the project's category, matched by key
			rule("inbox", "job.deleted", "", false),         // the person turns it on again
			rule("email", "custom.digest", "", false),       // off for everyone
			rule("email", "", "", true),                     // explicitly on
			rule("inbox", "custom.nightly", "", false),      // off
			rule("inbox", "", "maintenance", false),         // a category nobody defines
			rule("sms", "custom.security-notice", "", true), // a type beats the channel-wide rule
		},
	}
	project := &herald.PreferencePolicy{
		Categories: []herald.Category{{Key: "builds", Name: "Builds", EventTypes: []string{"build.failed", "build.succeeded"}}},
		Defaults: []herald.PreferenceRule{
			rule("lark", "record.added", "", true),
			rule("email", "", "builds", false), // builds off by email by default
		},
	}
	ann := &herald.UserPreferences{Rules: []herald.PreferenceRule{
		rule("email", "build.failed", "", true),     // the one build email the person wants
		rule("inbox", "job.deleted", "", true),      // on again
		rule("email", "custom.security", "", false), // cannot: required
		rule("sms", "", "builds", true),             // a category beats the tenant's channel-wide rule
	}}
	return Fixture{Tenant: tenant, Project: project, Persons: map[string]*herald.UserPreferences{"ann": ann}}
}

// Resolutions is the resolution table over ResolutionFixture, for ann.
var Resolutions = []Resolution{
	{"required beats the person", "email", "custom.security", true, herald.ByRequired},
	{"required on every channel", "sms", "custom.security", true, herald.ByRequired},
	{"the person's event type beats the project's category", "email", "build.failed", true, herald.ByPerson},
	{"the project's category default", "email", "build.succeeded", false, herald.ByProject},
	{"the person turns on what the tenant turned off", "inbox", "job.deleted", true, herald.ByPerson},
	{"the person's category beats the tenant's channel rule", "sms", "build.succeeded", true, herald.ByPerson},
	{"the project beats the tenant", "lark", "record.added", true, herald.ByProject},
	{"the tenant's event type", "wecom", "comment.added", false, herald.ByTenant},
	{"the tenant's category", "email", "deploy.failed", false, herald.ByTenant},
	{"the tenant's channel-wide rule", "sms", "record.added", false, herald.ByTenant},
	{"a specific type beats the channel-wide rule", "sms", "custom.security-notice", true, herald.ByTenant},
	{"the tenant's rule names the project's category", "dingtalk", "build.failed", true, herald.ByTenant},
	{"the tenant's channel-wide off", "dingtalk", "record.added", false, herald.ByTenant},
	{"the tenant's explicit on", "email", "record.added", true, herald.ByTenant},
	{"a type of a category nobody defines", "inbox", "status.changed", true, herald.ByDefault},
	{"nobody said anything", "lark", "app.updated", true, herald.ByDefault},
	{"an event type off for everyone", "email", "custom.digest", false, herald.ByTenant},
}

// Deferral is one row of the quiet-hours table: what Decide answers at
// Now for Person in Zone.
type Deferral struct {
	Name      string
	Person    string
	Channel   string
	EventType string
	Now       time.Time
	Zone      string
	Send      bool
	Due       time.Time // zero: at once
}

func nightly(start, end string) []herald.QuietWindow {
	return []herald.QuietWindow{{Days: []string{}, Start: start, End: end}}
}

// DeferralFixture is the quiet-hours table's fixture: the project holds
// email at night, the tenant email longer and SMS at night; ann wants SMS
// at night and no build successes by email; bob said nothing.
func DeferralFixture() Fixture {
	return Fixture{
		Project: &herald.PreferencePolicy{
			Urgent:     []string{"deploy.failed"},
			QuietHours: []herald.QuietHours{{Channel: "email", Windows: nightly("22:00", "08:00")}},
		},
		Tenant: &herald.PreferencePolicy{QuietHours: []herald.QuietHours{
			{Channel: "email", Windows: nightly("20:00", "09:00")}, // the project's replace them
			{Channel: "sms", Windows: nightly("22:00", "08:00")},
		}},
		Persons: map[string]*herald.UserPreferences{
			"ann": {
				Rules: []herald.PreferenceRule{rule("email", "build.succeeded", "", false)},
				// An empty list replaces the tenant's windows: SMS at night.
				QuietHours: []herald.QuietHours{{Channel: "sms", Windows: []herald.QuietWindow{}}},
			},
			"bob": {},
		},
	}
}

var (
	late    = time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC) // a Monday; 07:00 on Tuesday in Shanghai
	morning = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
)

// Deferrals is the quiet-hours table over DeferralFixture.
var Deferrals = []Deferral{
	{"opted out", "ann", "email", "build.succeeded", late, "", false, time.Time{}},
	{"the project's quiet hours defer", "ann", "email", "build.failed", late, "", true, morning},
	{"urgent bypasses", "ann", "email", "deploy.failed", late, "", true, time.Time{}},
	{"the inbox receives at once", "ann", "inbox", "build.failed", late, "", true, time.Time{}},
	{"a robot's post is its chat's", "ann", "lark", "build.failed", late, "", true, time.Time{}},
	{"the person's empty quiet hours replace the tenant's", "ann", "sms", "build.failed", late, "", true, time.Time{}},
	{"the tenant's quiet hours", "bob", "sms", "build.failed", late, "", true, morning},
	{"in the person's zone it is 07:00", "ann", "email", "build.failed", late, "Asia/Shanghai", true, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
	{"in Los Angeles it is 15:00", "bob", "email", "build.failed", late, "America/Los_Angeles", true, time.Time{}},
	{"daytime", "bob", "email", "build.failed", morning, "", true, time.Time{}},
}
