package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// switchSettings answers encoded settings through the service underneath,
// or, when slow, declines to, so that the handler encodes FindSettings as
// every other handler does.
type switchSettings struct {
	herald.SettingsService
	slow *bool
}

func (s switchSettings) FindSettingsJSON(ctx context.Context, scope herald.SettingsScope, version string) (string, bool, error) {
	if *s.slow {
		return "", false, nil
	}
	return s.SettingsService.(settingsJSONFinder).FindSettingsJSON(ctx, scope, version)
}

// The settings GET answers the store's cached encoding byte for byte as
// the handler would encode FindSettings' answer: same status, headers and
// body, for both versions, from the cache (the repeat) as on a miss; and a
// deploy shows at once.
func TestSettingsGet_EncodedAnswerIsTheEncodedValue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, ok := storetest.Guard(db).Settings.(settingsJSONFinder); !ok {
			t.Fatal("the guarded settings service does not answer encoded settings: the GET would encode on every request")
		}
		var slow bool
		ts := newTestServer(t, db, func(s *Server) { s.Settings = switchSettings{s.Settings, &slow} })
		get := func(p, token string, fast bool) *response {
			slow = !fast
			return ts.do("GET", p, token, nil)
		}
		f := ts.newFixture(ts.admin)
		reader := ts.newToken(ts.admin, herald.TokenCreate{Name: "r", ProjectID: f.Project, Permissions: []herald.Permission{herald.PermSettingsRead}})
		compare := func(what string) {
			t.Helper()
			for _, scope := range []string{fmt.Sprintf("/api/v1/sources/%d", f.Source), fmt.Sprintf("/api/v1/projects/%d", f.Project)} {
				for _, q := range []string{"", "?version=draft", "?version=live"} {
					for range 2 {
						p := scope + "/settings" + q
						got, want := get(p, reader, true), get(p, reader, false)
						if got.Code != 200 || got.String() != want.String() ||
							fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
							t.Fatalf("%s: GET %s = %s %v, want %s %v", what, p, got, got.Header, want, want.Header)
						}
					}
				}
			}
		}
		compare("fresh")
		settings := fmt.Sprintf("/api/v1/sources/%d/settings", f.Source)
		ts.must(200, "PUT", settings, ts.admin, map[string]any{"notify_commenters": true, "channels": []map[string]any{{
			"notifier_id": f.Notifier, "enabled": true, "events": []map[string]any{{"type": "build.failed", "enabled": true,
				"recipients": []map[string]any{{"type": "USER", "code": "alice"}}}}, "body_fields": []any{},
			// What a vendor surface keeps of a channel reads back too.
			"ext": map[string]any{"task_id": "t-1"}}}}, nil)
		compare("drafted")
		var live herald.Settings
		slow = false
		ts.must(200, "POST", settings+"/deploy", ts.admin, map[string]any{}, nil)
		ts.must(200, "GET", settings+"?version=live", reader, nil, &live)
		if !live.NotifyCommenters || len(live.Channels) != 1 {
			t.Fatalf("a deploy is not read back at once: %+v", live)
		}
		compare("deployed")
	})
}
