package codeartsbuild_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// rawCall sends a request with a token and returns the status, the
// Content-Type and the body.
func (b *testBundle) rawCall(t *testing.T, method, path, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
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

// Every method on every path under /v1/job/ answers in the vendor's
// envelope: the served ones succeed, the others are the gateway's 404
// APIG.0101 (APIG has no 405: a method no API defines is an API that does
// not exist).
func TestNotice_EveryMethodAndPathAnswersInEnvelope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		good := `{"notice_type":"MESSAGE","enabled_event_type_names":["buildJobFail"]}`
		notice := "/v1/job/" + jobID + "/notice"
		served := map[string]bool{"GET " + notice: true, "HEAD " + notice: true, "PUT " + notice: true, "PUT " + notice + "/update": true}
		for _, path := range []string{notice, notice + "/update", notice + "/other", "/v1/job/" + jobID, "/v1/job/", "/v1/job/" + jobID + "/notices"} {
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				t.Run(method+" "+path, func(t *testing.T) {
					status, ctype, raw := b.rawCall(t, method, path, good)
					if served[method+" "+path] {
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
					if _, known := map[string]bool{notice: true, notice + "/update": true}[path]; known {
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
func TestUpdateNotice_BodyTooLarge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		big := `{"notice_type":"MESSAGE","enabled_event_type_names":[],"param_config":"` + strings.Repeat("x", 2<<20) + `"}`
		status, ctype, raw := b.rawCall(t, "PUT", "/v1/job/"+jobID+"/notice", big)
		want := `{"error_code":"APIG.0201","error_msg":"Request entity too large."}` + "\n"
		if status != http.StatusRequestEntityTooLarge || string(raw) != want || !strings.HasPrefix(ctype, "application/json") {
			t.Errorf("got %d %s %s, want 413 %s", status, ctype, raw, want)
		}
	})
}

// Unknown body members are ignored, as Jackson with
// FAIL_ON_UNKNOWN_PROPERTIES off does; one named job_id is no task id.
func TestUpdateNotice_IgnoresUnknownMembers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		body := `{"job_id":"not-a-task-id","notice_type":"MESSAGE","enabled_event_type_names":["buildJobFail"],"sendSwitch":false,"send_switch":true,"extra":{"nested":[1,2]}}`
		status, got := b.call(t, "PUT", "/v1/job/"+jobID+"/notice", b.token, body)
		if status != http.StatusOK || got["status"] != "success" {
			t.Fatalf("got %d %v, want 200 success", status, got)
		}
		live := b.live(t)
		var on bool
		for _, ch := range live.Channels {
			if ev := ch.Event("build.failed"); ev != nil && ev.Enabled {
				on = true
			}
		}
		if !on {
			t.Errorf("build.failed not enabled in the live settings: %+v", live.Channels)
		}
	})
}

// Authentication failures are the gateway's 401 APIG.0301 with its texts.
func TestNotice_AuthenticationFailuresAreTheGateways(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		path := "/v1/job/" + jobID + "/notice"
		for _, tc := range []struct {
			name, method, token, want string
		}{
			{"no token GET", "GET", "", "Incorrect IAM authentication information: x-auth-token not found"},
			{"no token PUT", "PUT", "", "Incorrect IAM authentication information: x-auth-token not found"},
			{"unknown token", "GET", "hld_not-a-token", "Incorrect IAM authentication information: decrypt token fail"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, got := b.call(t, tc.method, path, tc.token, `{"notice_type":"MESSAGE","enabled_event_type_names":[]}`)
				if status != http.StatusUnauthorized || got["error_code"] != "APIG.0301" || got["error_msg"] != tc.want || len(got) != 2 {
					t.Errorf("got %d %v, want 401 APIG.0301 %q", status, got, tc.want)
				}
			})
		}
	})
}
