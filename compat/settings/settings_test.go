package settings_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/authz"
	"github.com/heraldhq/herald/compat/settings"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// testBundle is a server over one database, the bootstrap admin token of
// its tenant and a context acting as that tenant.
type testBundle struct {
	db    *store.DB
	srv   *httptest.Server
	admin string
	ctx   context.Context
}

func setup(t *testing.T, db *store.DB, otpSvc func(*store.DB) herald.OTPService) *testBundle {
	t.Helper()
	ctx := context.Background()
	secret, err := db.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	gs := storetest.Guard(db)
	sf := &settings.Surface{Projects: gs.Projects, Notifiers: gs.Notifiers, NotificationSettings: gs.NotificationSettings}
	if otpSvc != nil {
		sf.OTP = authz.Guard(authz.Services{OTP: otpSvc(db)}).OTP
	}
	srv := httptest.NewServer((&api.Server{Tokens: gs.Tokens, Tenants: db, Projects: gs.Projects, Sources: gs.Sources, Directory: gs.Directory, Notifiers: gs.Notifiers, Settings: gs.Settings,
		Surfaces: []api.Surface{sf}}).Handler())
	t.Cleanup(srv.Close)
	return &testBundle{db: db, srv: srv, admin: secret, ctx: herald.NewContextWithPrincipal(ctx, p)}
}

func (b *testBundle) project(t *testing.T, name string) *herald.Project {
	t.Helper()
	p := &herald.Project{Name: name}
	if err := b.db.CreateProject(b.ctx, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *testBundle) notifier(t *testing.T, project int64, typ, name string) *herald.Notifier {
	t.Helper()
	n := &herald.Notifier{ProjectID: project, Type: typ, Name: name, Config: herald.NotifierConfig{URL: "https://hooks.example.com/x"}}
	if typ == herald.NotifierEmail {
		n.Config = herald.NotifierConfig{Host: "smtp.example.com", From: "otp@example.com"}
	}
	if err := b.db.CreateNotifier(b.ctx, n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *testBundle) token(t *testing.T, project int64, perms ...herald.Permission) string {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "t", Permissions: perms, ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// do sends a request with `Authorization: Token <token>` (none when token
// is "") and returns the status and the decoded JSON answer.
func (b *testBundle) do(t *testing.T, method, path, token, body string) (int, any) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s %s: %s: %v", method, path, raw, err)
	}
	return resp.StatusCode, v
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantJSON(t *testing.T, what string, status, wantStatus int, got any, want string) {
	t.Helper()
	if status != wantStatus || !reflect.DeepEqual(got, decode(t, want)) {
		g, _ := json.Marshal(got)
		t.Errorf("%s: %d %s\nwant %d %s", what, status, g, wantStatus, want)
	}
}

func TestGolden_PageRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		p := b.project(t, "shop")
		b.notifier(t, p.ID, herald.NotifierSMS, "ippanel_one")
		b.notifier(t, p.ID, herald.NotifierEmail, "moeinmail")
		status, got := b.do(t, "PATCH", settings.PathNotifications, b.admin, golden(t, "patch_notifications.request.json"))
		wantJSON(t, "PATCH", status, 200, got, golden(t, "patch_notifications.response.json"))
		status, got = b.do(t, "GET", settings.PathNotifications, b.admin, "")
		wantJSON(t, "GET", status, 200, got, golden(t, "patch_notifications.response.json"))
	})
}

func TestGolden_PageResponse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		p := b.project(t, "shop")
		b.notifier(t, p.ID, herald.NotifierWebhook, "hook")
		b.notifier(t, p.ID, herald.NotifierSMS, "ippanel_one")
		b.notifier(t, p.ID, herald.NotifierEmail, "moeinmail")
		tok := b.token(t, p.ID, herald.PermSettingsWrite)
		status, got := b.do(t, "PATCH", settings.PathNotifications, tok, golden(t, "page_response.request.json"))
		wantJSON(t, "PATCH", status, 200, got, golden(t, "page_response.response.json"))
		status, got = b.do(t, "GET", settings.PathNotifications, tok, "")
		wantJSON(t, "GET", status, 200, got, golden(t, "page_response.response.json"))
	})
}

func TestPatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		p := b.project(t, "shop")
		smsN := b.notifier(t, p.ID, herald.NotifierSMS, "sms")
		mailN := b.notifier(t, p.ID, herald.NotifierEmail, "mail")
		hook := b.notifier(t, p.ID, herald.NotifierWebhook, "hook")
		other := b.project(t, "blog")
		foreign := b.notifier(t, other.ID, herald.NotifierSMS, "blog sms")
		tok := b.token(t, p.ID, herald.PermSettingsWrite)

		status, got := b.do(t, "GET", settings.PathNotifications, tok, "")
		wantJSON(t, "defaults", status, 200, got, `{"notifications_sms_notifier_data": null, "notifications_email_notifier_data": null,
			"notifications_otp_code_len": 5, "notifications_otp_ttl": 120}`)

		start := fmt.Sprintf(`{"notifications_sms_notifier": %d, "notifications_email_notifier": "%d", "notifications_otp_code_len": "7", "notifications_otp_ttl": 300.0}`, smsN.ID, mailN.ID)
		state := fmt.Sprintf(`{"notifications_sms_notifier_data": {"id": %d, "name": "sms"}, "notifications_email_notifier_data": {"id": %d, "name": "mail"},
			"notifications_otp_code_len": 7, "notifications_otp_ttl": 300}`, smsN.ID, mailN.ID)
		status, got = b.do(t, "PATCH", settings.PathNotifications, tok, start)
		wantJSON(t, "numeric strings and integral floats", status, 200, got, state)

		for _, tt := range []struct {
			name, body, want string
		}{
			{"UnknownNotifier", `{"notifications_sms_notifier": 9999}`, `{"notifications_sms_notifier": ["Invalid pk \"9999\" - object does not exist."]}`},
			{"ZeroNotifier", `{"notifications_email_notifier": 0}`, `{"notifications_email_notifier": ["Invalid pk \"0\" - object does not exist."]}`},
			{"OtherProjectNotifier", fmt.Sprintf(`{"notifications_sms_notifier": %d}`, foreign.ID),
				fmt.Sprintf(`{"notifications_sms_notifier": ["Invalid pk \"%d\" - object does not exist."]}`, foreign.ID)},
			{"EmailInSMSSlot", fmt.Sprintf(`{"notifications_sms_notifier": %d}`, mailN.ID),
				fmt.Sprintf(`{"notifications_sms_notifier": ["Invalid pk \"%d\" - object does not exist."]}`, mailN.ID)},
			{"WebhookInEmailSlot", fmt.Sprintf(`{"notifications_email_notifier": %d}`, hook.ID),
				fmt.Sprintf(`{"notifications_email_notifier": ["Invalid pk \"%d\" - object does not exist."]}`, hook.ID)},
			{"CodeLenLow", `{"notifications_otp_code_len": 3}`, `{"notifications_otp_code_len": ["Ensure this value is greater than or equal to 4."]}`},
			{"CodeLenHigh", `{"notifications_otp_code_len": 11}`, `{"notifications_otp_code_len": ["Ensure this value is less than or equal to 10."]}`},
			{"TTLLow", `{"notifications_otp_ttl": 29}`, `{"notifications_otp_ttl": ["Ensure this value is greater than or equal to 30."]}`},
			{"TTLHigh", `{"notifications_otp_ttl": 86401}`, `{"notifications_otp_ttl": ["Ensure this value is less than or equal to 86400."]}`},
			{"CodeLenText", `{"notifications_otp_code_len": "six"}`, `{"notifications_otp_code_len": ["A valid integer is required."]}`},
			{"CodeLenFraction", `{"notifications_otp_code_len": 6.5}`, `{"notifications_otp_code_len": ["A valid integer is required."]}`},
			{"CodeLenNull", `{"notifications_otp_code_len": null}`, `{"notifications_otp_code_len": ["This field may not be null."]}`},
			{"NotifierBool", `{"notifications_sms_notifier": true}`, `{"notifications_sms_notifier": ["Incorrect type. Expected pk value, received bool."]}`},
			{"NotifierText", `{"notifications_sms_notifier": "sms"}`, `{"notifications_sms_notifier": ["Incorrect type. Expected pk value, received str."]}`},
			{"NotifierObject", `{"notifications_sms_notifier": {"id": 1}}`, `{"notifications_sms_notifier": ["Incorrect type. Expected pk value, received dict."]}`},
			{"List", `[1, 2]`, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}`},
			{"ValidThenInvalid", `{"notifications_otp_code_len": 8, "notifications_otp_ttl": 10}`, `{"notifications_otp_ttl": ["Ensure this value is greater than or equal to 30."]}`},
			// Every field at fault is reported at once, as a serializer does.
			{"TwoRanges", `{"notifications_otp_code_len": 3, "notifications_otp_ttl": 10}`,
				`{"notifications_otp_code_len": ["Ensure this value is greater than or equal to 4."], "notifications_otp_ttl": ["Ensure this value is greater than or equal to 30."]}`},
			{"TypeAndRange", `{"notifications_otp_code_len": "six", "notifications_otp_ttl": 86401, "notifications_sms_notifier": true}`,
				`{"notifications_sms_notifier": ["Incorrect type. Expected pk value, received bool."], "notifications_otp_code_len": ["A valid integer is required."],
				"notifications_otp_ttl": ["Ensure this value is less than or equal to 86400."]}`},
			{"TwoNotifiers", fmt.Sprintf(`{"notifications_sms_notifier": %d, "notifications_email_notifier": %d}`, mailN.ID, hook.ID),
				fmt.Sprintf(`{"notifications_sms_notifier": ["Invalid pk \"%d\" - object does not exist."], "notifications_email_notifier": ["Invalid pk \"%d\" - object does not exist."]}`, mailN.ID, hook.ID)},
			{"NotifierAndRange", `{"notifications_sms_notifier": 9999, "notifications_otp_code_len": 11}`,
				`{"notifications_sms_notifier": ["Invalid pk \"9999\" - object does not exist."], "notifications_otp_code_len": ["Ensure this value is less than or equal to 10."]}`},
		} {
			status, got := b.do(t, "PATCH", settings.PathNotifications, tok, tt.body)
			wantJSON(t, tt.name, status, 400, got, tt.want)
		}
		status, got = b.do(t, "PATCH", settings.PathNotifications, tok, `{"notifications_otp_ttl": `)
		if m, _ := got.(map[string]any); status != 400 || !strings.HasPrefix(fmt.Sprint(m["detail"]), "JSON parse error") {
			t.Errorf("malformed JSON: %d %v", status, got)
		}
		status, got = b.do(t, "GET", settings.PathNotifications, tok, "")
		wantJSON(t, "unchanged by refused writes", status, 200, got, state)

		// Only the members sent change, null clears, unknown members (such
		// as the read-only *_data) are ignored, and an empty body changes
		// nothing.
		status, got = b.do(t, "PATCH", settings.PathNotifications, tok, `{"notifications_email_notifier": null, "notifications_sms_notifier_data": {"id": 1}, "extra": 1}`)
		wantJSON(t, "null clears", status, 200, got, fmt.Sprintf(`{"notifications_sms_notifier_data": {"id": %d, "name": "sms"},
			"notifications_email_notifier_data": null, "notifications_otp_code_len": 7, "notifications_otp_ttl": 300}`, smsN.ID))
		status, _ = b.do(t, "PATCH", settings.PathNotifications, tok, "")
		if status != 200 {
			t.Errorf("empty PATCH: %d", status)
		}
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, func(db *store.DB) herald.OTPService {
			svc, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: bytes.Repeat([]byte("k"), 32)})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		})
		p := b.project(t, "shop")
		reader := b.token(t, p.ID, herald.PermSettingsRead)
		writer := b.token(t, p.ID, herald.PermSettingsWrite)
		patch := `{"notifications_otp_code_len": 6}`

		status, got := b.do(t, "PATCH", settings.PathNotifications, "", patch)
		wantJSON(t, "no token", status, 401, got, `{"detail": "Authentication credentials were not provided."}`)
		status, got = b.do(t, "GET", settings.PathNotifications, "hld_notatoken", "")
		wantJSON(t, "unknown token", status, 401, got, `{"detail": "Invalid token."}`)
		status, got = b.do(t, "PATCH", settings.PathNotifications, reader, patch)
		wantJSON(t, "without settings:write", status, 403, got, `{"detail": "You do not have permission to perform this action."}`)
		status, got = b.do(t, "POST", settings.PathOTPSend, writer, `{"channel": "sms", "to": "+15550000000"}`)
		wantJSON(t, "OTP without otp:send", status, 403, got, `{"detail": "You do not have permission to perform this action."}`)
		if status, _ := b.do(t, "GET", settings.PathNotifications, reader, ""); status != 200 {
			t.Errorf("GET with settings:read: %d", status)
		}
		if status, _ := b.do(t, "PATCH", settings.PathNotifications, writer, patch); status != 200 {
			t.Errorf("PATCH with settings:write: %d", status)
		}
		status, got = b.do(t, "PUT", settings.PathNotifications, writer, patch)
		wantJSON(t, "PUT", status, 405, got, `{"detail": "Method \"PUT\" not allowed."}`)

		// The admin token is not scoped: fine while the tenant has one
		// project, refused once it has two.
		if status, _ := b.do(t, "PATCH", settings.PathNotifications, b.admin, patch); status != 200 {
			t.Errorf("unscoped token, one project: %d", status)
		}
		other := b.project(t, "blog")
		status, got = b.do(t, "GET", settings.PathNotifications, b.admin, "")
		if m, _ := got.(map[string]any); status != 400 || !strings.Contains(fmt.Sprint(m["detail"]), "project-scoped token") {
			t.Errorf("unscoped token, two projects: %d %v", status, got)
		}
		// Each scoped token sees its own project's settings.
		status, got = b.do(t, "GET", settings.PathNotifications, b.token(t, other.ID, herald.PermSettingsRead), "")
		if m, _ := got.(map[string]any); status != 200 || m["notifications_otp_code_len"] != 5.0 {
			t.Errorf("other project: %d %v", status, got)
		}
		status, got = b.do(t, "GET", settings.PathNotifications, reader, "")
		if m, _ := got.(map[string]any); status != 200 || m["notifications_otp_code_len"] != 6.0 {
			t.Errorf("own project: %d %v", status, got)
		}
	})
}

func TestListNotifiers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		p := b.project(t, "shop")
		n1 := b.notifier(t, p.ID, herald.NotifierSMS, "ippanel_one")
		n2 := b.notifier(t, p.ID, herald.NotifierEmail, "moeinmail")
		n3 := b.notifier(t, p.ID, herald.NotifierWebhook, "hook")
		other := b.project(t, "blog")
		b.notifier(t, other.ID, herald.NotifierSMS, "not mine")
		tok := b.token(t, p.ID, herald.PermSettingsRead)

		status, got := b.do(t, "GET", settings.PathNotifiers+"?page_size=2", tok, "")
		wantJSON(t, "page 1", status, 200, got, fmt.Sprintf(`{"count": 3, "next": "%s%s?page=2&page_size=2", "previous": null,
			"results": [{"id": %d, "name": "ippanel_one", "type": "sms"}, {"id": %d, "name": "moeinmail", "type": "email"}]}`,
			b.srv.URL, settings.PathNotifiers, n1.ID, n2.ID))
		status, got = b.do(t, "GET", settings.PathNotifiers+"?page=2&page_size=2", tok, "")
		wantJSON(t, "page 2", status, 200, got, fmt.Sprintf(`{"count": 3, "next": null, "previous": "%s%s?page_size=2",
			"results": [{"id": %d, "name": "hook", "type": "webhook"}]}`, b.srv.URL, settings.PathNotifiers, n3.ID))
		status, got = b.do(t, "GET", settings.PathNotifiers+"?type=email", tok, "")
		wantJSON(t, "by type", status, 200, got, fmt.Sprintf(`{"count": 1, "next": null, "previous": null,
			"results": [{"id": %d, "name": "moeinmail", "type": "email"}]}`, n2.ID))
		status, got = b.do(t, "GET", settings.PathNotifiers+"?page=9", tok, "")
		wantJSON(t, "past the end", status, 404, got, `{"detail": "Not found."}`)
	})
}

// gateway is an httptest SMS gateway that keeps the texts it gets.
type gateway struct {
	mu    sync.Mutex
	texts []string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]string
	_ = json.NewDecoder(r.Body).Decode(&m)
	g.mu.Lock()
	g.texts = append(g.texts, m["text"])
	g.mu.Unlock()
	_, _ = io.WriteString(w, `{"id": "1"}`)
}

func (g *gateway) last() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.texts) == 0 {
		return ""
	}
	return g.texts[len(g.texts)-1]
}

func TestOTP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		gw := &gateway{}
		gsrv := httptest.NewServer(gw)
		t.Cleanup(gsrv.Close)
		b := setup(t, db, func(db *store.DB) herald.OTPService {
			svc, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: bytes.Repeat([]byte("k"), 32), AllowPrivateTargets: true})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		})
		p := b.project(t, "shop")
		n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierSMS, Name: "gw", Config: herald.NotifierConfig{URL: gsrv.URL}}
		if err := db.CreateNotifier(b.ctx, n); err != nil {
			t.Fatal(err)
		}
		tok := b.token(t, p.ID, herald.PermOTPSend, herald.PermSettingsWrite)

		status, got := b.do(t, "POST", settings.PathOTPSend, tok, `{"channel": "sms", "to": "+15550000000", "purpose": "login"}`)
		wantJSON(t, "no notifier yet", status, 400, got, `{"channel": ["This project has no sms notifier for one-time codes; set one in its notification settings."]}`)
		if status, _ := b.do(t, "PATCH", settings.PathNotifications, tok, fmt.Sprintf(`{"notifications_sms_notifier": %d, "notifications_otp_code_len": 4}`, n.ID)); status != 200 {
			t.Fatalf("PATCH: %d", status)
		}
		before := time.Now()
		status, got = b.do(t, "POST", settings.PathOTPSend, tok, `{"channel": "sms", "to": 15550000000, "purpose": "login"}`)
		m, _ := got.(map[string]any)
		id, _ := m["id"].(string)
		exp, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(m["expires_at"]))
		// A number without its country code is read in the default region (CN).
		if status != 200 || !strings.HasPrefix(id, "otp_") || m["to"] != "+8615550000000" || exp.Before(before.Add(119*time.Second)) || len(m) != 5 {
			t.Fatalf("send: %d %v", status, got)
		}
		code := regexp.MustCompile(`is ([0-9]{4})\.`).FindStringSubmatch(gw.last())
		if code == nil {
			t.Fatalf("gateway got %q", gw.last())
		}
		if strings.Contains(fmt.Sprint(got), code[1]) && !strings.Contains(id, code[1]) {
			t.Fatalf("the answer holds the code: %v", got)
		}

		status, got = b.do(t, "POST", settings.PathOTPSend, tok, `{"channel": "sms", "to": "15550000000", "purpose": "login"}`)
		if m, _ := got.(map[string]any); status != 429 || !strings.Contains(fmt.Sprint(m["detail"]), "less than 30 seconds ago") {
			t.Errorf("resend: %d %v", status, got)
		}
		wrong := "0000"
		if code[1] == wrong {
			wrong = "1111"
		}
		status, got = b.do(t, "POST", settings.PathOTPVerify, tok, fmt.Sprintf(`{"id": %q, "code": %q}`, id, wrong))
		wantJSON(t, "wrong code", status, 400, got, `{"code": ["The code is wrong."]}`)
		status, got = b.do(t, "POST", settings.PathOTPVerify, tok, fmt.Sprintf(`{"to": "15550000000", "purpose": "login", "code": %q}`, code[1]))
		wantJSON(t, "right code", status, 200, got, fmt.Sprintf(`{"verified": true, "id": %q}`, id))
		status, got = b.do(t, "POST", settings.PathOTPVerify, tok, fmt.Sprintf(`{"id": %q, "code": %q}`, id, code[1]))
		wantJSON(t, "reused code", status, 400, got, `{"code": ["This code has already been used; request a new one."]}`)
		status, got = b.do(t, "POST", settings.PathOTPVerify, tok, `{"id": "otp_UNKNOWN", "code": "1234"}`)
		wantJSON(t, "unknown id", status, 404, got, `{"detail": "Not found."}`)
		status, got = b.do(t, "POST", settings.PathOTPSend, tok, `{"channel": "pigeon", "to": "15550000000"}`)
		wantJSON(t, "bad channel", status, 400, got, `{"channel": ["The channel must be sms or email."]}`)
		status, got = b.do(t, "POST", settings.PathOTPSend, tok, `{"channel": ["sms"], "to": "15550000000"}`)
		wantJSON(t, "channel not a string", status, 400, got, `{"channel": ["Not a valid string."]}`)
	})
}

// raw sends a request with the admin token and returns the status, the
// Content-Type and the body as sent.
func (b *testBundle) raw(t *testing.T, method, path, token string, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(got)
}

func TestPatch_FieldErrorsInDeclarationOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		b.project(t, "shop")
		status, _, got := b.raw(t, "PATCH", settings.PathNotifications, b.admin,
			strings.NewReader(`{"notifications_otp_ttl": 1, "notifications_otp_code_len": "x", "notifications_email_notifier": false, "notifications_sms_notifier": []}`))
		want := `{"notifications_sms_notifier":["Incorrect type. Expected pk value, received list."],` +
			`"notifications_email_notifier":["Incorrect type. Expected pk value, received bool."],` +
			`"notifications_otp_code_len":["A valid integer is required."],` +
			`"notifications_otp_ttl":["Ensure this value is greater than or equal to 30."]}` + "\n"
		if status != 400 || got != want {
			t.Errorf("%d %s\nwant 400 %s", status, got, want)
		}
	})
}

// TestEnvelope_EveryMethodOnEveryPath: whatever the method and the path
// under the surface, the answer is JSON in Django REST Framework's shape:
// a known path asked with a method it does not serve is a 405 naming the
// method, an unknown path Django's 404 as {"detail": "Not found."}.
func TestEnvelope_EveryMethodOnEveryPath(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, func(db *store.DB) herald.OTPService {
			svc, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: bytes.Repeat([]byte("k"), 32)})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		})
		b.project(t, "shop")
		served := map[string][]string{
			settings.PathNotifications: {"GET", "HEAD", "PATCH"},
			settings.PathNotifiers:     {"GET", "HEAD"},
			settings.PathOTPSend:       {"POST"},
			settings.PathOTPVerify:     {"POST"},
		}
		unknown := []string{"/api/settings/", "/api/settings/notifiers/1", "/api/settings/notifications/", "/api/settings/notifications/otp",
			"/api/settings/nope", "/api/settings/notifications/otp/send/x"}
		methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
		check := func(what string, status int, h http.Header, body string, wantStatus int, wantDetail string) {
			t.Helper()
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q, body %q", what, ct, body)
			}
			if wantStatus != 0 && status != wantStatus {
				t.Errorf("%s: status %d, want %d (%s)", what, status, wantStatus, body)
			}
			if strings.HasPrefix(what, "HEAD") {
				return
			}
			var env map[string]any
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Errorf("%s: not a JSON object: %q", what, body)
				return
			}
			if status < 400 {
				return
			}
			if d, ok := env["detail"]; ok {
				if _, isStr := d.(string); !isStr || len(env) != 1 || (wantDetail != "" && d != wantDetail) {
					t.Errorf("%s: %d %s, want {\"detail\": %q}", what, status, body, wantDetail)
				}
				return
			}
			if wantDetail != "" {
				t.Errorf("%s: %d %s, want {\"detail\": %q}", what, status, body, wantDetail)
			}
			for k, v := range env { // a serializer's answer: {"field": ["message", …]}
				list, ok := v.([]any)
				if !ok || len(list) == 0 {
					t.Errorf("%s: member %q is %v, want a list of messages", what, k, v)
				}
			}
		}
		for path, allowed := range served {
			for _, m := range methods {
				what := m + " " + path
				status, h, body := b.raw(t, m, path, b.admin, nil)
				if slices.Contains(allowed, m) {
					check(what, status, h, body, 0, "")
					if status == 404 || status == 405 {
						t.Errorf("%s: %d %s", what, status, body)
					}
					continue
				}
				check(what, status, h, body, 405, `Method "`+m+`" not allowed.`)
				if allow := h.Get("Allow"); !strings.Contains(allow, allowed[0]) {
					t.Errorf("%s: Allow %q", what, allow)
				}
				// Authentication comes first, as in Django REST Framework.
				status, h, body = b.raw(t, m, path, "", nil)
				check(what+" without a token", status, h, body, 401, "Authentication credentials were not provided.")
				status, h, body = b.raw(t, m, path, "hld_notatoken", nil)
				check(what+" with an unknown token", status, h, body, 401, "Invalid token.")
			}
		}
		for _, path := range unknown {
			for _, m := range methods {
				// URLs resolve before any view runs: 404 with or without a token.
				for _, tok := range []string{b.admin, ""} {
					status, h, body := b.raw(t, m, path, tok, nil)
					check(fmt.Sprintf("%s %s (token %t)", m, path, tok != ""), status, h, body, 404, "Not found.")
				}
			}
		}
	})
}

// TestEnvelope_OversizedBody: a body over Django's default
// DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) is refused as Django refuses it,
// 400, in the surface's envelope; a body at the limit is read.
func TestEnvelope_OversizedBody(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, nil)
		b.project(t, "shop")
		const limit = 2621440
		body := func(n int) io.Reader { // a JSON object of n bytes
			prefix, suffix := `{"notifications_otp_code_len": 6, "padding": "`, `"}`
			return strings.NewReader(prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix)
		}
		status, h, got := b.raw(t, "PATCH", settings.PathNotifications, b.admin, body(limit))
		if status != 200 {
			t.Errorf("at the limit: %d %s", status, got)
		}
		for _, chunked := range []bool{false, true} {
			var r io.Reader = body(limit + 1)
			if chunked { // no Content-Length: the limit holds while reading
				r = io.MultiReader(r)
			}
			status, h, got = b.raw(t, "PATCH", settings.PathNotifications, b.admin, r)
			if want := `{"detail":"Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."}` + "\n"; status != 400 || got != want || h.Get("Content-Type") != "application/json" {
				t.Errorf("over the limit (chunked %t): %d %s %q\nwant 400 %s", chunked, status, h.Get("Content-Type"), got, want)
			}
		}
	})
}
