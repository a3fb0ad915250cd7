package herald_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/preftest"
)

// TestResolvePreference is the resolution order as a table: required >
// the person's choice > the project's default > the tenant's default > on,
// and within a level event type > category > channel.
func TestResolvePreference(t *testing.T) {
	t.Parallel()
	s := preftest.ResolutionFixture().Scope("ann")
	for _, doc := range []interface{ Validate() error }{s.Tenant, s.Project, s.Person} {
		if err := doc.Validate(); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	for _, tc := range preftest.Resolutions {
		t.Run(tc.Name, func(t *testing.T) {
			got := herald.ResolvePreference(s, tc.Channel, tc.EventType)
			if got.Enabled != tc.Enabled || got.By != tc.By {
				t.Fatalf("%s × %s = %v by %s, want %v by %s", tc.Channel, tc.EventType, got.Enabled, got.By, tc.Enabled, tc.By)
			}
		})
	}
	// Without a person, a project or a tenant: on.
	if got := herald.ResolvePreference(herald.PreferenceScope{}, "email", "build.failed"); !got.Enabled || got.By != herald.ByDefault {
		t.Fatalf("empty scope: %+v", got)
	}
}

// TestQuietUntil: quiet windows read in the person's zone, weekday and
// weekend variants, windows crossing midnight, chains, and DST.
func TestQuietUntil(t *testing.T) {
	t.Parallel()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	newYork, _ := time.LoadLocation("America/New_York")
	nights := []herald.QuietWindow{
		{Days: []string{"sun", "mon", "tue", "wed", "thu"}, Start: "22:00", End: "08:00"},
		{Days: []string{"fri", "sat"}, Start: "23:30", End: "10:00"},
	}
	lunch := []herald.QuietWindow{{Start: "12:00", End: "13:00"}}
	chain := []herald.QuietWindow{{Start: "22:00", End: "02:00"}, {Start: "01:00", End: "06:00"}, {Start: "06:00", End: "07:30"}}
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	// 2026-03-02 is a Monday.
	for _, tc := range []struct {
		name    string
		now     time.Time
		loc     *time.Location
		windows []herald.QuietWindow
		until   time.Time // zero: not quiet
	}{
		{"weekday night, before midnight", at(shanghai, 2026, 3, 2, 23, 15), shanghai, nights, at(shanghai, 2026, 3, 3, 8, 0)},
		{"weekday night, after midnight", at(shanghai, 2026, 3, 3, 7, 59), shanghai, nights, at(shanghai, 2026, 3, 3, 8, 0)},
		{"the window's end is not inside", at(shanghai, 2026, 3, 3, 8, 0), shanghai, nights, time.Time{}},
		{"the window's start is inside", at(shanghai, 2026, 3, 2, 22, 0), shanghai, nights, at(shanghai, 2026, 3, 3, 8, 0)},
		{"daytime", at(shanghai, 2026, 3, 3, 15, 0), shanghai, nights, time.Time{}},
		{"friday night keeps the weekend's hours", at(shanghai, 2026, 3, 6, 23, 0), shanghai, nights, time.Time{}},
		{"friday night late", at(shanghai, 2026, 3, 7, 1, 0), shanghai, nights, at(shanghai, 2026, 3, 7, 10, 0)},
		{"saturday morning", at(shanghai, 2026, 3, 7, 9, 0), shanghai, nights, at(shanghai, 2026, 3, 7, 10, 0)},
		{"sunday night is a weeknight", at(shanghai, 2026, 3, 8, 22, 30), shanghai, nights, at(shanghai, 2026, 3, 9, 8, 0)},
		{"read in the person's zone: 15:00 UTC is 23:00 in Shanghai", time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), shanghai, nights, at(shanghai, 2026, 3, 3, 8, 0)},
		{"the same instant in UTC is daytime", time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), time.UTC, nights, time.Time{}},
		{"every day", at(time.UTC, 2026, 3, 7, 12, 30), time.UTC, lunch, at(time.UTC, 2026, 3, 7, 13, 0)},
		{"a chain of windows ends with the last", at(time.UTC, 2026, 3, 2, 23, 0), time.UTC, chain, at(time.UTC, 2026, 3, 3, 7, 30)},
		{"no windows", at(time.UTC, 2026, 3, 2, 23, 0), time.UTC, nil, time.Time{}},
		// New York springs forward on 2026-03-08 at 02:00: the night is an
		// hour shorter, and ends at 08:00 local all the same.
		{"DST: the window ends at local time", at(newYork, 2026, 3, 7, 23, 45), newYork, nights, at(newYork, 2026, 3, 8, 10, 0)},
		{"DST: Sunday night", at(newYork, 2026, 3, 8, 23, 0), newYork, nights, at(newYork, 2026, 3, 9, 8, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.windows {
				if err := tc.windows[i].Validate("w"); err != nil {
					t.Fatal(err)
				}
			}
			until, quiet := herald.QuietUntil(tc.now, tc.loc, tc.windows)
			if quiet != !tc.until.IsZero() || (quiet && !until.Equal(tc.until)) {
				t.Fatalf("QuietUntil(%s) = %s, %v; want %s", tc.now, until, quiet, tc.until)
			}
		})
	}
	if d := at(newYork, 2026, 3, 8, 10, 0).Sub(at(newYork, 2026, 3, 7, 23, 45)); d != 9*time.Hour+15*time.Minute {
		t.Fatalf("fixture: the DST night lasts %s", d)
	}
}

// TestDecide: the engine's one call per person × channel — preferences,
// then quiet hours (never the inbox, never an urgent type), with the
// clock given.
func TestDecide(t *testing.T) {
	t.Parallel()
	f := preftest.DeferralFixture()
	for _, tc := range preftest.Deferrals {
		t.Run(tc.Name, func(t *testing.T) {
			v := herald.Decide(f.Scope(tc.Person), tc.Channel, tc.EventType, tc.Now, tc.Zone)
			if v.Send != tc.Send || !v.DueAt.Equal(tc.Due) {
				t.Fatalf("Decide = send %v due %s; want send %v due %s", v.Send, v.DueAt, tc.Send, tc.Due)
			}
		})
	}
}

func TestPreferenceValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		doc   interface{ Validate() error }
		field string
	}{
		{"unknown channel", &herald.UserPreferences{Rules: []herald.PreferenceRule{{Channel: "webhook"}}}, "rules[0].channel"},
		{"both subjects", &herald.UserPreferences{Rules: []herald.PreferenceRule{{Channel: "email", EventType: "build.failed", Category: "x"}}}, "rules[0].category"},
		{"unknown type", &herald.UserPreferences{Rules: []herald.PreferenceRule{{Channel: "email", EventType: "nope"}}}, "rules[0].event_type"},
		{"twice", &herald.UserPreferences{Rules: []herald.PreferenceRule{{Channel: "email"}, {Channel: "email", Enabled: true}}}, "rules[1]"},
		{"bad start", &herald.UserPreferences{QuietHours: []herald.QuietHours{{Channel: "email", Windows: []herald.QuietWindow{{Start: "25:00", End: "08:00"}}}}}, "quiet_hours[0].windows[0].start"},
		{"empty window", &herald.UserPreferences{QuietHours: []herald.QuietHours{{Channel: "email", Windows: []herald.QuietWindow{{Start: "08:00", End: "08:00"}}}}}, "quiet_hours[0].windows[0].end"},
		{"bad day", &herald.UserPreferences{QuietHours: []herald.QuietHours{{Channel: "email", Windows: []herald.QuietWindow{{Days: []string{"someday"}, Start: "08:00", End: "09:00"}}}}}, "quiet_hours[0].windows[0].days[0]"},
		{"channel twice", &herald.UserPreferences{QuietHours: []herald.QuietHours{{Channel: "email"}, {Channel: "email"}}}, "quiet_hours[1].channel"},
		{"type in two categories", &herald.PreferencePolicy{Categories: []herald.Category{{Key: "a", EventTypes: []string{"build.failed"}}, {Key: "b", EventTypes: []string{"build.failed"}}}}, "categories[1].event_types"},
		{"bad key", &herald.PreferencePolicy{Categories: []herald.Category{{Key: "Not OK"}}}, "categories[0].key"},
		{"unknown required", &herald.PreferencePolicy{Required: []string{"nope"}}, "required[0]"},
		{"not text", &herald.PreferencePolicy{Categories: []herald.Category{{Key: "a", Name: "\x00"}}}, "categories[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.doc.Validate()
			if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tc.field {
				t.Fatalf("Validate = %v (field %q), want invalid %s", err, herald.ErrorField(err), tc.field)
			}
		})
	}
	w := herald.QuietWindow{Days: []string{"weekends", "FRI", "sat"}, Start: "22:00", End: "07:00"}
	if err := w.Validate("w"); err != nil || strings.Join(w.Days, ",") != "fri,sat,sun" {
		t.Fatalf("days spelled out: %v %v", w.Days, err)
	}
}

func TestValidateTimeZone(t *testing.T) {
	t.Parallel()
	for zone, ok := range map[string]bool{"": true, "Asia/Shanghai": true, "America/Argentina/Buenos_Aires": true, "UTC": true,
		"Local": false, "Mars/Olympus": false, "../etc/passwd": false, "/etc/localtime": false, "asia/shanghai": false} {
		if err := herald.ValidateTimeZone("time_zone", zone); (err == nil) != ok {
			t.Errorf("ValidateTimeZone(%q) = %v", zone, err)
		}
	}
	u := &herald.User{Code: "ann", Name: "Ann", TimeZone: "Nowhere/City"}
	if err := u.Validate(); herald.ErrorField(err) != "time_zone" {
		t.Fatalf("User.Validate = %v", err)
	}
}

func TestEndUserToken(t *testing.T) {
	t.Parallel()
	key := herald.NewEndUserKey()
	now := time.Unix(1_800_000_000, 0)
	c := herald.EndUserClaims{ProjectID: 7, UserCode: "ann.lee@example.com", ExpiresAt: now.Add(time.Hour)}
	tok := herald.SignEndUserToken(key, c)
	got, err := herald.VerifyEndUserToken(key, tok, now)
	if err != nil || got.ProjectID != 7 || got.UserCode != c.UserCode || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	bad := map[string]string{
		"another key":   herald.SignEndUserToken(herald.NewEndUserKey(), c),
		"expired":       herald.SignEndUserToken(key, herald.EndUserClaims{ProjectID: 7, UserCode: "ann", ExpiresAt: now}),
		"too long":      herald.SignEndUserToken(key, herald.EndUserClaims{ProjectID: 7, UserCode: "ann", ExpiresAt: now.Add(48 * time.Hour)}),
		"tampered":      strings.Replace(tok, tok[5:9], "AAAA", 1),
		"not one":       "hlu_nonsense",
		"an API token":  herald.NewTokenSecret(),
		"signature cut": tok[:len(tok)-3],
	}
	for name, tok := range bad {
		if _, err := herald.VerifyEndUserToken(key, tok, now); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
}

func TestUnsubscribeLink(t *testing.T) {
	t.Parallel()
	key := herald.DeriveKey([]byte("0123456789abcdef0123456789abcdef"), "unsubscribe")
	c := herald.UnsubscribeClaims{TenantID: 3, UserID: 42, Rule: herald.PreferenceRule{Channel: "email", Category: "builds"}}
	tok := herald.SignUnsubscribe(key, c)
	got, err := herald.VerifyUnsubscribe(key, tok)
	if err != nil || got != c {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	other := herald.DeriveKey([]byte("0123456789abcdef0123456789abcdef"), "sessions")
	if _, err := herald.VerifyUnsubscribe(other, tok); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("another purpose's key: %v", err)
	}
	forged := herald.SignUnsubscribe(key, herald.UnsubscribeClaims{TenantID: 3, UserID: 43, Rule: c.Rule})
	if _, sig, _ := strings.Cut(forged, "."); sig == "" {
		t.Fatal("no signature")
	}
	// Another user's payload with this link's signature.
	enc, _, _ := strings.Cut(forged, ".")
	_, sig, _ := strings.Cut(tok, ".")
	if _, err := herald.VerifyUnsubscribe(key, enc+"."+sig); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("a swapped payload: %v", err)
	}
}

func TestAuthorizeUser(t *testing.T) {
	t.Parallel()
	nf := herald.NotFound("user", 2)
	endUser := herald.NewContextWithPrincipal(t.Context(), &herald.Principal{TenantID: 1, ProjectID: 5, UserID: 1})
	if err := herald.AuthorizeUser(endUser, herald.ResPreferences, herald.ActUpdate, 1, nf); err != nil {
		t.Fatalf("own preferences: %v", err)
	}
	if err := herald.AuthorizeUser(endUser, herald.ResPreferences, herald.ActRead, 2, nf); err != nf {
		t.Fatalf("another person's: %v, want the not-found error", err)
	}
	if err := herald.AuthorizeUser(endUser, herald.ResDirectory, herald.ActRead, 1, nf); herald.ErrorCode(err) != herald.EFORBIDDEN {
		t.Fatalf("a rule without Self: %v", err)
	}
	// Everything else is refused to an end-user token, even a rule any
	// token passes.
	if _, err := herald.Authorize(endUser, herald.ResProject, herald.ActRead); herald.ErrorCode(err) != herald.EFORBIDDEN {
		t.Fatalf("Authorize(project read) = %v", err)
	}
	if _, err := herald.Authorize(endUser, herald.ResPreferences, herald.ActRead); herald.ErrorCode(err) != herald.EFORBIDDEN {
		t.Fatalf("Authorize without the user check = %v", err)
	}
	// An admin token: as Authorize decides, whoever the person.
	if err := herald.AuthorizeUser(principal(0, herald.PermDirectoryWrite), herald.ResPreferences, herald.ActUpdate, 2, nf); err != nil {
		t.Fatalf("directory:write: %v", err)
	}
	if err := herald.AuthorizeUser(principal(7, herald.PermDirectoryWrite), herald.ResPreferences, herald.ActUpdate, 2, nf); herald.ErrorCode(err) != herald.EFORBIDDEN {
		t.Fatalf("a scoped token writing a person's preferences: %v", err)
	}
}
