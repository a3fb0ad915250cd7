package codeartsdeploy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// rawCall sends a request with the bundle's token and returns the status,
// the Content-Type and the body.
func (b *testBundle) rawCall(t *testing.T, method, p, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+p, strings.NewReader(body))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", b.token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// Every method on every path under /v2/projects/ answers in the vendor's
// envelope: the served ones succeed, the others are the gateway's 404
// APIG.0101 (APIG has no 405: a method no API defines is an API that does
// not exist).
func TestMessages_EveryMethodAndPathAnswersInEnvelope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		good := `[{"msg_type":"message","msg_state":true}]`
		app := "/v2/projects/" + projectID + "/applications/" + appID
		served := map[string]bool{"GET " + path: true, "HEAD " + path: true, "POST " + path: true}
		for _, p := range []string{path, path + "/1", app, app + "/message", "/v2/projects/" + projectID, "/v2/projects/", "/v2/projects"} {
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				t.Run(method+" "+p, func(t *testing.T) {
					status, ctype, raw := b.rawCall(t, method, p, good)
					if served[method+" "+p] {
						if status != http.StatusOK {
							t.Fatalf("served route: %d %s", status, raw)
						}
						return
					}
					if status != http.StatusNotFound {
						t.Fatalf("status %d %s, want 404", status, raw)
					}
					if !strings.HasPrefix(ctype, "application/json") {
						t.Errorf("Content-Type %q, want application/json", ctype)
					}
					if method == "HEAD" {
						return
					}
					want := `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published in the environment."}` + "\n"
					if p == path {
						want = `{"error_code":"APIG.0101","error_msg":"The API does not exist."}` + "\n"
					}
					if string(raw) != want {
						t.Errorf("body %s, want %s", raw, want)
					}
				})
			}
		}
	})
}

// A body over the limit is the gateway's 413 APIG.0201, not a 400.
func TestPostMessages_BodyTooLarge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		big := `[{"msg_type":"message","message_body":"` + strings.Repeat("x", 2<<20) + `"}]`
		status, ctype, raw := b.rawCall(t, "POST", path, big)
		want := `{"error_code":"APIG.0201","error_msg":"Request entity too large."}` + "\n"
		if status != http.StatusRequestEntityTooLarge || string(raw) != want || !strings.HasPrefix(ctype, "application/json") {
			t.Errorf("got %d %s %s, want 413 %s", status, ctype, raw, want)
		}
	})
}

// Unknown members, at any depth, are ignored, as Jackson with
// FAIL_ON_UNKNOWN_PROPERTIES off does.
func TestPostMessages_IgnoresUnknownMembers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		items := b.ok(t, "POST", `[{"msg_type":"message","msgState":false,"msg_state":true,"colour":"red","state_switch":[{"name":"failure","open":true,"priority":1}],"body_switch":[{"name":"projectName","open":true,"width":3}]}]`)
		if len(items) != 1 {
			t.Fatalf("answer %v, want one item", items)
		}
		var on bool
		for _, ch := range b.live(t).Channels {
			if ev := ch.Event("deploy.failed"); ch.Enabled && ev != nil && ev.Enabled {
				on = true
			}
		}
		if !on {
			t.Errorf("deploy.failed not enabled in the live settings: %+v", b.live(t).Channels)
		}
	})
}

// Authentication failures are the gateway's 401 APIG.0301 with its texts.
func TestMessages_AuthenticationFailuresAreTheGateways(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		for _, tc := range []struct {
			name, method, token, want string
		}{
			{"no token GET", "GET", "", "Incorrect IAM authentication information: x-auth-token not found"},
			{"no token POST", "POST", "", "Incorrect IAM authentication information: x-auth-token not found"},
			{"unknown token", "GET", "hld_not-a-token", "Incorrect IAM authentication information: decrypt token fail"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, got := b.call(t, tc.method, path, tc.token, `[]`)
				if status != http.StatusUnauthorized || got["error_code"] != "APIG.0301" || got["error_msg"] != tc.want || len(got) != 2 {
					t.Errorf("got %d %v, want 401 APIG.0301 %q", status, got, tc.want)
				}
			})
		}
		if n := len(b.live(t).Channels); n != 0 {
			t.Errorf("refused requests changed the settings: %d channels", n)
		}
	})
}
