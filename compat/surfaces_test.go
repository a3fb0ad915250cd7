// Package compat_test checks what every vendor surface shares: how it
// answers when the token check itself fails.
package compat_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/codeartsbuild"
	"github.com/heraldhq/herald/compat/codeartsdeploy"
	"github.com/heraldhq/herald/compat/feishu"
	"github.com/heraldhq/herald/compat/kintone"
	"github.com/heraldhq/herald/compat/settings"
)

// tokens refuses "hld_bad" and cannot check anything else: its database
// is down.
type tokens struct{ herald.TokenService }

func (tokens) Authenticate(_ context.Context, secret string) (*herald.Principal, error) {
	if secret == "hld_bad" {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid or revoked token")
	}
	return nil, errors.New("dial tcp 127.0.0.1:5432: connection refused")
}

// TestSurfaces_AuthCheckFails: a token that cannot be checked is the
// server's failure (5xx in the vendor's envelope, details kept out), a
// refused one the client's (401).
func TestSurfaces_AuthCheckFails(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer((&api.Server{Tokens: tokens{}, Logger: logger, Surfaces: []api.Surface{
		&codeartsbuild.Surface{Logger: logger},
		&codeartsdeploy.Surface{Logger: logger},
		&feishu.Surface{Logger: logger},
		&kintone.Surface{Logger: logger},
		&settings.Surface{Logger: logger},
	}}).Handler())
	t.Cleanup(srv.Close)
	id32 := strings.Repeat("a", 32)
	for _, c := range []struct{ name, path, header, scheme string }{
		{"codearts build", "/v1/job/" + id32 + "/notice", "X-Auth-Token", ""},
		{"codearts deploy", "/v2/projects/" + id32 + "/applications/" + id32 + "/messages", "X-Auth-Token", ""},
		{"feishu", "/open-apis/helpdesk/v1/notifications/1", "Authorization", "Bearer "},
		{"kintone", "/k/v1/app/notifications/general.json?app=1", "X-Cybozu-API-Token", ""},
		{"kintone per-record", "/k/v1/preview/app/notifications/perRecord.json?app=1", "X-Cybozu-API-Token", ""},
		{"kintone reminder", "/k/guest/7/v1/app/notifications/reminder.json?app=1", "X-Cybozu-API-Token", ""},
		{"settings", "/api/settings/notifications", "Authorization", "Token "},
	} {
		for _, tc := range []struct {
			token string
			want  int
		}{{"hld_down", 500}, {"hld_bad", 401}} {
			req := httptest.NewRequest("GET", srv.URL+c.path, nil)
			req.RequestURI = ""
			req.Header.Set(c.header, c.scheme+tc.token)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s with %s: %d %s, want %d", c.name, tc.token, resp.StatusCode, body, tc.want)
				continue
			}
			var envelope map[string]any
			if err := json.Unmarshal(body, &envelope); err != nil || len(envelope) == 0 {
				t.Errorf("%s with %s: not a JSON envelope: %s", c.name, tc.token, body)
			}
			if strings.Contains(string(body), "5432") {
				t.Errorf("%s: the answer leaks the failure's details: %s", c.name, body)
			}
		}
	}
}
