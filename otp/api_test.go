package otp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/authz"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestNativeAPI sends and verifies a code through /api/v1/otp with a
// project-scoped otp:send token; the server's request log never holds it.
func TestNativeAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, 10, otp.Config{})
		srv := httptest.NewServer((&api.Server{Tokens: storetest.Guard(db).Tokens, Tenants: db, Projects: storetest.Guard(db).Projects, Sources: storetest.Guard(db).Sources, Directory: storetest.Guard(db).Directory, Notifiers: storetest.Guard(db).Notifiers, Settings: storetest.Guard(db).Settings,
			OTP: authz.Guard(authz.Services{OTP: b.svc}).OTP, Logger: slog.New(slog.NewTextHandler(b.logs, nil))}).Handler())
		t.Cleanup(srv.Close)
		_, tok, err := db.CreateToken(b.ctx, herald.TokenCreate{Name: "app", Permissions: []herald.Permission{herald.PermOTPSend}, ProjectID: b.project.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, reader, err := db.CreateToken(b.ctx, herald.TokenCreate{Name: "reader", Permissions: []herald.Permission{herald.PermSettingsRead}})
		if err != nil {
			t.Fatal(err)
		}
		post := func(path, token, body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%s: %s", path, raw)
			}
			return resp.StatusCode, m
		}
		if status, _ := post("/api/v1/otp/send", reader, `{"channel": "sms", "to": "+15550000040"}`); status != 403 {
			t.Errorf("without otp:send: %d", status)
		}
		status, m := post("/api/v1/otp/send", tok, `{"channel": "sms", "to": "+15550000040", "purpose": "login"}`)
		if status != 201 || m["status"] != "active" || m["to"] != "+15550000040" || m["code_hash"] != nil {
			t.Fatalf("send: %d %v", status, m)
		}
		id := m["id"].(string)
		code := b.lastSMSCode(t)
		if status, m := post("/api/v1/otp/send", tok, `{"channel": "sms", "to": "+15550000040", "purpose": "login"}`); status != 429 || m["code"] != "rate_limited" {
			t.Errorf("resend: %d %v", status, m)
		}
		if status, m := post("/api/v1/otp/verify", tok, fmt.Sprintf(`{"id": %q, "code": "0000000000"}`, id)); status != 400 || m["field"] != "code" {
			t.Errorf("wrong code: %d %v", status, m)
		}
		if status, m := post("/api/v1/otp/verify", tok, fmt.Sprintf(`{"id": %q, "code": %q}`, id, code)); status != 200 || m["verified"] != true {
			t.Fatalf("verify: %d %v", status, m)
		}
		if status, m := post("/api/v1/otp/verify", tok, fmt.Sprintf(`{"id": %q, "code": %q}`, id, code)); status != 400 || !strings.Contains(fmt.Sprint(m["detail"]), "already been used") {
			t.Errorf("reuse: %d %v", status, m)
		}
		if status, m := post("/api/v1/otp/send", tok, `{"channel": "sms", "to": "+15550000041", "code": "1"}`); status != 400 || m["field"] != "code" {
			t.Errorf("unknown field: %d %v", status, m)
		}
		logs := b.logs.String()
		if !strings.Contains(logs, "/api/v1/otp/verify") {
			t.Fatalf("the request log is not captured: %s", logs)
		}
		if strings.Contains(logs, code) || strings.Contains(dumpTables(t, db), code) {
			t.Error("the code is in clear in the log or the database")
		}
	})
}
