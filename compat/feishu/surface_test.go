package feishu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/compat/feishu"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

var (
	_ api.Surface        = (*feishu.Surface)(nil)
	_ feishu.Directory   = (*store.DB)(nil)
	_ herald.PushService = (*store.DB)(nil)
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The example page's ids.
const (
	openID = "ou_7277fd1262bfafc363d5b2a1f9c2ac90"
	deptID = "od_7277fd1262bfafc363d5b2a1f9c2ac90"
	chatID = "oc_7277fd1262bfafc363d5b2a1f9c2ac90"
	base   = "/open-apis/helpdesk/v1/notifications"
)

// testBundle is a server over one database with a tenant holding the
// example page's user, department and chat, and tokens: writer is named
// like the user "test", so pushes it creates show that user as creator.
type testBundle struct {
	db     *store.DB
	ctx    context.Context
	srv    *httptest.Server
	user   *herald.User
	writer string
	admin  string
	reader string
}

func setup(t *testing.T, db *store.DB) *testBundle {
	t.Helper()
	b := &testBundle{db: db, ctx: storetest.NewTenant(t, db, "acme")}
	dept := &herald.Department{Code: deptID, Name: "测试部门"}
	must(t, db.CreateDepartment(b.ctx, dept))
	b.user = &herald.User{Code: "test", Name: "test", AvatarURL: "http://*.com/*.png", OpenID: openID,
		UnionID: "on_94a1ee5551019f18cd73d9f111898cf2", LarkUserID: "3e3cf96b", DepartmentIDs: []int64{dept.ID}}
	must(t, db.CreateUser(b.ctx, b.user))
	must(t, db.CreateChat(b.ctx, &herald.Chat{Code: chatID, Name: "测试群聊"}))
	b.writer = b.token(t, "test", herald.PermPushWrite)
	b.admin = b.token(t, "boss", herald.PermAdmin)
	b.reader = b.token(t, "reader", herald.PermPushRead)
	gs := storetest.Guard(db)
	s := &api.Server{Tokens: gs.Tokens, Surfaces: []api.Surface{&feishu.Surface{Pushes: gs.Pushes, Directory: gs.PushDirectory}}}
	b.srv = httptest.NewServer(s.Handler())
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) token(t *testing.T, name string, perms ...herald.Permission) string {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: name, Permissions: perms})
	must(t, err)
	return secret
}

// answer is the vendor's envelope.
type answer struct {
	status int
	Code   int             `json:"code"`
	Msg    string          `json:"msg"`
	Data   json.RawMessage `json:"data"`
	raw    []byte
}

// call sends a request with the token as a Bearer ("" for none).
func (b *testBundle) call(t *testing.T, method, path, token string, body any, headers ...string) *answer {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		must(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	must(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	a := &answer{status: resp.StatusCode, raw: raw}
	if err := json.Unmarshal(raw, a); err != nil {
		t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, raw, err)
	}
	return a
}

// ok calls and fails unless the answer is code 0.
func (b *testBundle) ok(t *testing.T, method, path, token string, body any) *answer {
	t.Helper()
	a := b.call(t, method, path, token, body)
	if a.status != 200 || a.Code != 0 || a.Msg != "success" {
		t.Fatalf("%s %s = %d %s, want 200 code 0", method, path, a.status, a.raw)
	}
	return a
}

// fails calls and checks the HTTP status and vendor code.
func (b *testBundle) fails(t *testing.T, status, code int, method, path, token string, body any) *answer {
	t.Helper()
	a := b.call(t, method, path, token, body)
	if a.status != status || a.Code != code || a.Msg == "" {
		t.Fatalf("%s %s = %d %s, want %d code %d", method, path, a.status, a.raw, status, code)
	}
	return a
}

// create posts a notification and returns its id.
func (b *testBundle) create(t *testing.T, token string, body map[string]any) string {
	t.Helper()
	a := b.ok(t, "POST", base, token, body)
	var d struct {
		NotificationID string `json:"notification_id"`
		Status         *int   `json:"status"`
	}
	must(t, json.Unmarshal(a.Data, &d))
	if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(d.NotificationID) || d.Status == nil || *d.Status != 0 {
		t.Fatalf("create answered %s", a.raw)
	}
	return d.NotificationID
}

func simple(name string) map[string]any {
	return map[string]any{"job_name": name, "push_content": "hello", "push_type": 0, "push_scope_type": 0}
}

// status reads a notification's status number.
func (b *testBundle) status(t *testing.T, id string) int {
	t.Helper()
	var d struct {
		Notification struct {
			Status int `json:"status"`
		} `json:"notification"`
	}
	must(t, json.Unmarshal(b.ok(t, "GET", base+"/"+id, b.reader, nil).Data, &d))
	return d.Notification.Status
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	return b
}

// sameJSON fails unless got and want are the same JSON document.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	must(t, json.Unmarshal(got, &g))
	must(t, json.Unmarshal(want, &w))
	gb, _ := json.MarshalIndent(g, "", "  ")
	wb, _ := json.MarshalIndent(w, "", "  ")
	if !bytes.Equal(gb, wb) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, gb, wb)
	}
}

// TestGolden_PatchExample replays the page's example PATCH (scope 0 with
// user, department and chat lists) and its answer, then reads the
// notification back.
func TestGolden_PatchExample(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, map[string]any{"job_name": "draft", "push_content": "hi", "push_type": 0, "push_scope_type": 0})
		a := b.call(t, "PATCH", base+"/"+id+"?user_id_type=open_id", b.writer, golden(t, "patch.request.json"))
		if a.status != 200 {
			t.Fatalf("PATCH = %d %s", a.status, a.raw)
		}
		sameJSON(t, "PATCH answer", a.raw, golden(t, "patch.response.json"))

		got := b.ok(t, "GET", base+"/"+id, b.writer, nil)
		// Ids and times are the server's: normalise them.
		var doc map[string]any
		must(t, json.Unmarshal(got.raw, &doc))
		n := doc["data"].(map[string]any)["notification"].(map[string]any)
		if n["id"] != id || n["created_at"] == "" || n["updated_at"] == "" {
			t.Fatalf("notification %v", n)
		}
		n["id"], n["created_at"], n["updated_at"] = "ID", "CREATED_AT", "UPDATED_AT"
		norm, _ := json.Marshal(doc)
		sameJSON(t, "GET answer", norm, golden(t, "get.response.json"))

		// user_id_type picks the id users are shown by.
		for typ, want := range map[string]string{"union_id": b.user.UnionID, "user_id": b.user.LarkUserID, "open_id": openID} {
			a := b.ok(t, "GET", base+"/"+id+"?user_id_type="+typ, b.reader, nil)
			if !strings.Contains(string(a.raw), `"user_id":"`+want+`"`) {
				t.Errorf("user_id_type=%s: %s lacks %s", typ, a.raw, want)
			}
		}
		// A PATCH naming users by union_id finds them.
		b.ok(t, "PATCH", base+"/"+id+"?user_id_type=union_id", b.writer, map[string]any{"push_scope_type": 2,
			"user_list": []map[string]any{{"user_id": b.user.UnionID}}})
		p, err := db.FindPushByID(b.ctx, mustID(t, id))
		must(t, err)
		if p.ScopeType != 2 || len(p.UserIDs) != 1 || p.UserIDs[0] != b.user.ID || p.JobName != "测试推送任务" {
			t.Fatalf("after PATCH %+v", p)
		}
	})
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLifecycle walks every transition through the surface, with 405 /
// 154005 for every forbidden one.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, simple("lifecycle"))
		p := base + "/" + id
		notAllowed := func(method, path string, body any) {
			t.Helper()
			b.fails(t, 405, 154005, method, path, b.writer, body)
		}
		b.ok(t, "POST", p+"/preview", b.reader, nil)

		// draft
		notAllowed("POST", p+"/cancel_approve", nil)
		notAllowed("POST", p+"/execute_send", map[string]any{"send_at": "1626332244719"})
		notAllowed("POST", p+"/cancel_send", map[string]any{"is_recall": false})
		notAllowed("POST", p+"/cancel_send", map[string]any{"is_recall": true})

		// draft → pending approval (the writer may not approve) → draft
		a := b.ok(t, "POST", p+"/submit_approve", b.writer, map[string]any{"reason": "weekly"})
		if string(a.Data) != `{"has_access":true}` {
			t.Fatalf("submit_approve data %s", a.Data)
		}
		if st := b.status(t, id); st != 1 {
			t.Fatalf("status %d, want 1", st)
		}
		if a := b.ok(t, "GET", p, b.reader, nil); !strings.Contains(string(a.raw), `"approval_app_link":"/api/v1/pushes/`+id+`/approve"`) {
			t.Fatalf("pending get %s", a.raw)
		}
		notAllowed("PATCH", p, simple("late"))
		notAllowed("POST", p+"/submit_approve", map[string]any{"reason": "again"})
		notAllowed("POST", p+"/execute_send", map[string]any{"send_at": "1626332244719"})
		b.ok(t, "POST", p+"/cancel_approve", b.writer, nil)
		if st := b.status(t, id); st != 0 {
			t.Fatalf("status %d, want 0", st)
		}
		b.ok(t, "PATCH", p, b.writer, simple("edited"))

		// pending → rejected (by an approver) → cancel_approve → draft
		b.ok(t, "POST", p+"/submit_approve", b.writer, map[string]any{"reason": "resubmit"})
		approver := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{
			TenantID: herald.PrincipalFromContext(b.ctx).TenantID, TokenName: "approver", Permissions: []herald.Permission{herald.PermPushApprove}})
		_, err := db.RejectPush(approver, mustID(t, id), "not this week")
		must(t, err)
		if st := b.status(t, id); st != 3 {
			t.Fatalf("status %d, want 3", st)
		}
		notAllowed("PATCH", p, simple("late"))
		notAllowed("POST", p+"/execute_send", map[string]any{"send_at": "1626332244719"})
		b.ok(t, "POST", p+"/cancel_approve", b.writer, nil)

		// → approved → scheduled → cancelled
		b.ok(t, "POST", p+"/submit_approve", b.writer, map[string]any{"reason": "resubmit"})
		_, err = db.ApprovePush(approver, mustID(t, id))
		must(t, err)
		if st := b.status(t, id); st != 2 {
			t.Fatalf("status %d, want 2", st)
		}
		notAllowed("PATCH", p, simple("late"))
		notAllowed("POST", p+"/cancel_approve", nil)
		notAllowed("POST", p+"/cancel_send", map[string]any{"is_recall": false})
		later := fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
		b.ok(t, "POST", p+"/execute_send", b.writer, map[string]any{"send_at": later})
		if st := b.status(t, id); st != 4 {
			t.Fatalf("status %d, want 4", st)
		}
		var got struct {
			Notification struct {
				SendAt string `json:"send_at"`
			} `json:"notification"`
		}
		must(t, json.Unmarshal(b.ok(t, "GET", p, b.reader, nil).Data, &got))
		if got.Notification.SendAt != later {
			t.Fatalf("send_at %q, want %q", got.Notification.SendAt, later)
		}
		notAllowed("POST", p+"/execute_send", map[string]any{"send_at": later})
		notAllowed("POST", p+"/submit_approve", map[string]any{"reason": "again"})
		b.ok(t, "POST", p+"/cancel_send", b.writer, map[string]any{"is_recall": false})
		if st := b.status(t, id); st != 7 {
			t.Fatalf("status %d, want 7", st)
		}
		notAllowed("POST", p+"/cancel_send", map[string]any{"is_recall": false})
		notAllowed("POST", p+"/cancel_send", map[string]any{"is_recall": true})
		notAllowed("PATCH", p, simple("late"))
		notAllowed("POST", p+"/execute_send", map[string]any{"send_at": later})
	})
}

// TestSendAndRecall: an admin's submission waits for approval like any
// other (the surface follows the one rule); where the tenant's push policy
// allows self-approval it is approved at once, sent now by the engine with
// true counts, and recalled from every inbox.
func TestSendAndRecall(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		e, err := queue.New(db, queue.Config{AllowPrivateTargets: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		must(t, e.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.Stop(ctx)
		})
		id := b.create(t, b.admin, map[string]any{"job_name": "All hands", "push_content": `{"elements":[]}`, "push_type": 0,
			"push_scope_type": 2, "department_list": []map[string]any{{"department_id": deptID}}})
		p := base + "/" + id
		b.ok(t, "POST", p+"/submit_approve", b.admin, map[string]any{"reason": "all hands"})
		if st := b.status(t, id); st != 1 {
			t.Fatalf("an admin's submission: status %d, want 1 (pending approval)", st)
		}
		b.ok(t, "POST", p+"/cancel_approve", b.admin, nil)
		must(t, db.UpdatePushPolicy(b.ctx, &herald.PushPolicy{SelfApproval: true}))
		b.ok(t, "POST", p+"/submit_approve", b.admin, map[string]any{"reason": "all hands"})
		if st := b.status(t, id); st != 2 {
			t.Fatalf("an admin's submission: status %d, want 2 (approved)", st)
		}
		b.ok(t, "POST", p+"/execute_send", b.admin, map[string]any{"send_at": fmt.Sprint(time.Now().UnixMilli())})
		deadline := time.Now().Add(45 * time.Second)
		for b.status(t, id) != 6 {
			if time.Now().After(deadline) {
				t.Fatalf("not sent: status %d", b.status(t, id))
			}
			time.Sleep(50 * time.Millisecond)
		}
		var got struct {
			Notification struct {
				Target int `json:"target_user_count"`
				Sent   int `json:"sent_user_count"`
				Read   int `json:"read_user_count"`
			} `json:"notification"`
		}
		must(t, json.Unmarshal(b.ok(t, "GET", p, b.reader, nil).Data, &got))
		if n := got.Notification; n.Target != 1 || n.Sent != 1 || n.Read != 0 {
			t.Fatalf("counts %+v", n)
		}
		msgs, _, err := db.FindInbox(b.ctx, b.user.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 1 {
			t.Fatalf("inbox %+v", msgs)
		}
		must(t, db.MarkInboxRead(b.ctx, b.user.ID, msgs[0].ID))
		must(t, json.Unmarshal(b.ok(t, "GET", p, b.reader, nil).Data, &got))
		if got.Notification.Read != 1 {
			t.Fatalf("read count %d after reading", got.Notification.Read)
		}
		b.fails(t, 405, 154005, "POST", p+"/cancel_send", b.admin, map[string]any{"is_recall": false})
		b.ok(t, "POST", p+"/cancel_send", b.admin, map[string]any{"is_recall": true})
		if st := b.status(t, id); st != 8 {
			t.Fatalf("status %d, want 8 (recalled)", st)
		}
		msgs, _, err = db.FindInbox(b.ctx, b.user.ID, herald.InboxFilter{}, herald.Page{})
		must(t, err)
		if len(msgs) != 0 {
			t.Fatalf("inbox after recall %+v", msgs)
		}
	})
}

// TestErrors checks each error code of the page's table.
func TestErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, simple("errors"))
		p := base + "/" + id

		b.fails(t, 401, 154001, "GET", p, "", nil)
		b.fails(t, 401, 154001, "POST", base, "hld_notatoken", simple("x"))
		a := b.call(t, "GET", p, "", nil, "X-Lark-Helpdesk-Authorization", "Bearer "+b.reader)
		if a.status != 200 || a.Code != 0 {
			t.Fatalf("X-Lark-Helpdesk-Authorization: %d %s", a.status, a.raw)
		}
		b.fails(t, 403, 154003, "PATCH", p, b.reader, simple("x"))
		b.fails(t, 403, 154003, "POST", base, b.reader, simple("x"))
		b.fails(t, 404, 154004, "GET", base+"/999999", b.reader, nil)
		foreignTenant, err := db.CreateTenant(context.Background(), "other")
		must(t, err)
		octx := herald.NewContextWithPrincipal(context.Background(), &herald.Principal{TenantID: foreignTenant.ID, TokenName: "x", Permissions: []herald.Permission{herald.PermAdmin}})
		_, foreign, err := db.CreateToken(octx, herald.TokenCreate{Name: "other", Permissions: []herald.Permission{herald.PermAdmin}})
		must(t, err)
		b.fails(t, 404, 154004, "GET", p, foreign, nil)
		b.fails(t, 404, 154004, "PATCH", p, foreign, simple("hijack"))
		b.fails(t, 404, 154004, "POST", p+"/submit_approve", foreign, map[string]any{"reason": "hijack"})

		for _, tc := range []struct {
			name, method, path, field string
			body                      any
		}{
			{"bad id", "GET", base + "/abc", "notification_id", nil},
			{"bad user_id_type", "GET", p + "?user_id_type=email", "user_id_type", nil},
			{"scope 3 on a scheduled push", "PATCH", p, "push_scope_type", map[string]any{"push_scope_type": 3}},
			{"new staff without scope type", "POST", base, "push_scope_type", map[string]any{"job_name": "x", "push_content": "y", "push_type": 1, "push_scope_type": 2}},
			{"chats only without chats", "POST", base, "chat_list", map[string]any{"job_name": "x", "push_content": "y", "push_type": 0, "push_scope_type": 1}},
			{"bad card", "POST", base, "push_content", map[string]any{"job_name": "x", "push_content": "{oops", "push_type": 0, "push_scope_type": 0}},
			{"unknown user", "PATCH", p, "user_list[0].user_id", map[string]any{"user_list": []map[string]any{{"user_id": "ou_nobody"}}}},
			{"unknown department", "PATCH", p, "department_list[0].department_id", map[string]any{"department_list": []map[string]any{{"department_id": "od_none"}}}},
			{"unknown chat", "PATCH", p, "chat_list[0].chat_id", map[string]any{"chat_list": []map[string]any{{"chat_id": "oc_none"}}}},
			{"wrong type", "PATCH", p, "push_type", `{"push_type": "zero"}`},
			{"unknown field", "PATCH", p, "color", `{"color": "red"}`},
			{"bad send_at", "PATCH", p, "send_at", map[string]any{"send_at": "yesterday"}},
			{"malformed", "PATCH", p, "", `{"job_name": `},
			{"execute without send_at", "POST", p + "/execute_send", "send_at", map[string]any{}},
			{"cancel without is_recall", "POST", p + "/cancel_send", "is_recall", map[string]any{}},
		} {
			a := b.fails(t, 400, 154000, tc.method, tc.path, b.writer, tc.body)
			if tc.field != "" && !strings.Contains(a.Msg, tc.field) {
				t.Errorf("%s: msg %q does not name %s", tc.name, a.Msg, tc.field)
			}
		}
		// Nothing above changed the draft.
		got, err := db.FindPushByID(b.ctx, mustID(t, id))
		must(t, err)
		if got.JobName != "errors" || got.ScopeType != 0 || got.Status != herald.PushDraft {
			t.Fatalf("refused requests changed the push: %+v", got)
		}
	})
}

// TestErrors_EveryMethodEveryPath sends every method to every path under
// the surface's prefix: each answer is the vendor's envelope
// (application/json, a code and a msg), a method the path does not serve
// is 405 / 154005 and a path the surface does not serve is 404 / 154004.
func TestErrors_EveryMethodEveryPath(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, simple("methods"))
		p := base + "/" + id
		routes := map[string]string{base: "POST", p: "GET HEAD PATCH"}
		for _, a := range []string{"preview", "submit_approve", "cancel_approve", "execute_send", "cancel_send"} {
			routes[p+"/"+a] = "POST"
		}
		unknown := []string{base + "/", p + "/", p + "/nope", p + "/preview/more", base + "/" + id + "/submit_approve/x", base + "s", base + "/a/b/c"}
		methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}
		for _, path := range append(append([]string{}, unknown...), base, p, p+"/preview", p+"/submit_approve", p+"/cancel_approve", p+"/execute_send", p+"/cancel_send") {
			allowed, known := routes[path]
			if path == base+"s" {
				continue // outside the prefix: not the surface's
			}
			for _, m := range methods {
				if known && strings.Contains(" "+allowed+" ", " "+m+" ") {
					continue
				}
				req, err := http.NewRequest(m, b.srv.URL+path, strings.NewReader(`{}`))
				must(t, err)
				req.Header.Set("Authorization", "Bearer "+b.writer)
				resp, err := http.DefaultClient.Do(req)
				must(t, err)
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				must(t, err)
				status, code := 404, 154004
				if known {
					status, code = 405, 154005
				}
				if resp.StatusCode != status {
					t.Errorf("%s %s = %d %q, want %d", m, path, resp.StatusCode, raw, status)
					continue
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s %s: Content-Type %q", m, path, ct)
				}
				if known && resp.Header.Get("Allow") == "" {
					t.Errorf("%s %s: 405 without Allow", m, path)
				}
				if m == "HEAD" {
					continue // no body
				}
				var env map[string]json.RawMessage
				if err := json.Unmarshal(raw, &env); err != nil {
					t.Errorf("%s %s: %q is not JSON", m, path, raw)
					continue
				}
				var a answer
				must(t, json.Unmarshal(raw, &a))
				if len(env) != 2 || env["code"] == nil || env["msg"] == nil || a.Code != code || a.Msg == "" {
					t.Errorf("%s %s = %s, want {code: %d, msg}", m, path, raw, code)
				}
			}
		}
		// Without a token the route still decides first: a wrong method is
		// 405 in the envelope, not a 401.
		b.fails(t, 405, 154005, "PUT", p, "", `{}`)
		b.fails(t, 404, 154004, "GET", p+"/nope", "", nil)
	})
}

// TestErrors_OversizedBody: a body over the limit is refused in the
// envelope on every route that reads one.
func TestErrors_OversizedBody(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, simple("big"))
		p := base + "/" + id
		big := `{"job_name": "` + strings.Repeat("x", 1<<20) + `"}`
		for _, r := range [][2]string{{"POST", base}, {"PATCH", p}, {"POST", p + "/submit_approve"}, {"POST", p + "/execute_send"}, {"POST", p + "/cancel_send"}} {
			a := b.fails(t, 400, 154000, r[0], r[1], b.writer, big)
			if !strings.Contains(a.Msg, "exceeds") {
				t.Errorf("%s %s: msg %q", r[0], r[1], a.Msg)
			}
		}
	})
}

// TestSubmitApprove_ReasonRequired: the page marks reason 必填; a missing,
// null or blank reason is a bad request naming it.
func TestSubmitApprove_ReasonRequired(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		id := b.create(t, b.writer, simple("reason"))
		p := base + "/" + id + "/submit_approve"
		for _, body := range []any{nil, `{}`, `{"reason": null}`, `{"reason": ""}`, `{"reason": "  "}`, `{"reason": 1}`} {
			a := b.fails(t, 400, 154000, "POST", p, b.writer, body)
			if !strings.Contains(a.Msg, "reason") {
				t.Errorf("%v: msg %q does not name reason", body, a.Msg)
			}
		}
		if st := b.status(t, id); st != 0 {
			t.Fatalf("refused submissions moved the draft to %d", st)
		}
		b.ok(t, "POST", p, b.writer, map[string]any{"reason": "weekly"})
	})
}
