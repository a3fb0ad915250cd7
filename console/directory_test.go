package console_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authz"
)

// signInAs signs a fresh browser in with a token of perms (scoped to
// project when non-zero).
func (b *testBundle) signInAs(t *testing.T, project int64, perms ...herald.Permission) *browser {
	t.Helper()
	_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "t", ProjectID: project, Permissions: perms})
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	if st, loc, body := br.do("POST", "/console/signin", url.Values{"token": {secret}, "next": {"/console/"}}); st != http.StatusSeeOther {
		t.Fatalf("sign in: %d %q\n%s", st, loc, body)
	}
	return br
}

// A user is added with a time zone and a language, a bad field is shown
// beside itself with what was typed (422), and a delete needs its box
// ticked.
func TestDirectory_UserForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser(t)
	br.signIn()
	eng := &herald.Department{Code: "eng", Name: "Engineering"}
	if err := b.db.CreateDepartment(b.ctx, eng); err != nil {
		t.Fatal(err)
	}

	form := url.Values{"code": {"ann"}, "name": {"Ann Li"}, "email": {"not-an-email"}, "mobile": {"+8613800000000"},
		"time_zone": {"Mars/Olympus"}, "locale": {"zh"}, "department_ids": {itoa(eng.ID)}}
	st, _, body := br.post("/console/directory/users/new", "/console/directory/users", form)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-email"`) || !strings.Contains(body, `value="not-an-email"`) ||
		!strings.Contains(body, `value="&#43;8613800000000"`) || !strings.Contains(body, `value="Mars/Olympus"`) {
		t.Fatalf("a bad email: %d, want 422 with the error beside the field and the values kept\n%s", st, body)
	}
	if _, err := b.db.FindUserByCode(b.ctx, "ann"); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("a refused form created the user: %v", err)
	}
	form.Set("email", "ann@example.com")
	st, _, body = br.post("/console/directory/users/new", "/console/directory/users", form)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-time_zone"`) || !strings.Contains(body, "IANA") {
		t.Fatalf("an unknown time zone: %d\n%s", st, body)
	}
	form.Set("time_zone", "Asia/Shanghai")
	st, loc, body := br.post("/console/directory/users/new", "/console/directory/users", form)
	if st != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", st, body)
	}
	u, err := b.db.FindUserByCode(b.ctx, "ann")
	if err != nil || u.TimeZone != "Asia/Shanghai" || u.Locale != "zh" || len(u.DepartmentIDs) != 1 || u.DepartmentIDs[0] != eng.ID {
		t.Fatalf("created user %+v %v", u, err)
	}
	page := strings.SplitN(loc, "?", 2)[0]

	form.Set("time_zone", "Europe/Paris")
	form.Set("locale", "en")
	form.Del("department_ids")
	if st, _, body := br.post(page, page, form); st != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", st, body)
	}
	if u, _ = b.db.FindUserByID(b.ctx, u.ID); u.TimeZone != "Europe/Paris" || u.Locale != "en" || len(u.DepartmentIDs) != 0 {
		t.Fatalf("edited user %+v", u)
	}

	if st, _, body := br.post(page, page+"/delete", url.Values{}); st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-confirm"`) {
		t.Fatalf("delete without the box ticked: %d\n%s", st, body)
	}
	if st, _, body := br.post(page, page+"/delete", url.Values{"confirm": {"yes"}}); st != http.StatusSeeOther {
		t.Fatalf("delete: %d\n%s", st, body)
	}
	if _, err := b.db.FindUserByID(b.ctx, u.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
}

// Departments make a tree, groups get members by code, chats get a robot.
func TestDirectory_DepartmentsGroupsChats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	robot := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierLark, Name: "Ops robot", Config: herald.NotifierConfig{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/x"}}
	if err := b.db.CreateNotifier(b.ctx, robot); err != nil {
		t.Fatal(err)
	}
	if err := b.db.CreateUser(b.ctx, &herald.User{Code: "bob", Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	create := func(path string, form url.Values) string {
		t.Helper()
		st, loc, body := br.post("/console/directory", path, form)
		if st != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", path, st, body)
		}
		return strings.SplitN(loc, "?", 2)[0]
	}
	engPage := create("/console/directory/departments", url.Values{"code": {"eng"}, "name": {"Engineering"}})
	eng := engPage[strings.LastIndex(engPage, "/")+1:]
	create("/console/directory/departments", url.Values{"code": {"web"}, "name": {"Web team"}, "parent_id": {eng}})
	_, body := br.get("/console/directory")
	if !strings.Contains(body, `<li data-dept="eng"><a href="`+engPage+`">Engineering</a> <code>eng</code><ul><li data-dept="web">`) {
		t.Fatalf("the tree does not nest web under eng:\n%s", body)
	}
	// A department cannot move under its own child; the picker leaves its
	// subtree out, and the domain refuses it all the same.
	_, body = br.get(engPage)
	if strings.Contains(body, "(web)</option>") {
		t.Errorf("eng's parent picker offers its own sub-department")
	}
	if st, _, body := br.post(engPage, engPage+"/delete", url.Values{"confirm": {"yes"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-confirm"`) {
		t.Errorf("deleting a department with a sub-department: %d\n%s", st, body)
	}

	grpPage := create("/console/directory/groups", url.Values{"code": {"ops"}, "name": {"Ops"}})
	if st, _, body := br.post(grpPage, grpPage+"/members", url.Values{"member": {"nobody"}}); st != http.StatusUnprocessableEntity ||
		!strings.Contains(body, `id="err-member"`) || !strings.Contains(body, `value="nobody"`) {
		t.Fatalf("adding an unknown user: %d\n%s", st, body)
	}
	create(grpPage+"/members", url.Values{"member": {"bob"}})
	_, body = br.get(grpPage)
	if !strings.Contains(body, `data-member="bob"`) {
		t.Fatalf("bob is not listed as a member:\n%s", body)
	}
	gs, _, _ := b.db.FindGroups(b.ctx, herald.Page{})
	if len(gs) != 1 || len(gs[0].MemberIDs) != 1 {
		t.Fatalf("groups %+v", gs)
	}
	create(grpPage+"/members/"+itoa(gs[0].MemberIDs[0])+"/delete", url.Values{})
	if g, _ := b.db.FindGroupByID(b.ctx, gs[0].ID); len(g.MemberIDs) != 0 {
		t.Fatalf("after remove: %+v", g)
	}

	create("/console/directory/chats", url.Values{"code": {"oc_ops"}, "name": {"Ops chat"}, "notifier_id": {itoa(robot.ID)}})
	cs, _, _ := b.db.FindChats(b.ctx, herald.Page{})
	if len(cs) != 1 || cs[0].NotifierID == nil || *cs[0].NotifierID != robot.ID {
		t.Fatalf("chats %+v", cs)
	}
}

// A token that may read the directory but not write it sees no button
// that writes, and every write is refused: 403 without directory:write,
// 403 with it when scoped to one project (people are the tenant's).
func TestDirectory_ReadOnlyToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	u := &herald.User{Code: "ann", Name: "Ann"}
	if err := b.db.CreateUser(b.ctx, u); err != nil {
		t.Fatal(err)
	}
	d := &herald.Department{Code: "eng", Name: "Engineering"}
	if err := b.db.CreateDepartment(b.ctx, d); err != nil {
		t.Fatal(err)
	}
	g := &herald.Group{Code: "ops", Name: "Ops"}
	if err := b.db.CreateGroup(b.ctx, g); err != nil {
		t.Fatal(err)
	}
	ch := &herald.Chat{Code: "oc_1", Name: "Chat"}
	if err := b.db.CreateChat(b.ctx, ch); err != nil {
		t.Fatal(err)
	}
	for name, br := range map[string]*browser{
		"read-only":      b.signInAs(t, 0, herald.PermDirectoryRead),
		"project-scoped": b.signInAs(t, p.ID, herald.PermDirectoryRead, herald.PermDirectoryWrite),
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/console/directory", "/console/directory/users/" + itoa(u.ID), "/console/directory/groups/" + itoa(g.ID),
				"/console/directory/departments/" + itoa(d.ID), "/console/directory/chats/" + itoa(ch.ID)} {
				st, body := br.get(path)
				if st != 200 {
					t.Fatalf("GET %s: %d", path, st)
				}
				for _, button := range []string{`id="new-user"`, `id="import-users"`, `id="new-group"`, `id="new-department"`, `id="new-chat"`,
					`id="save-user"`, `id="save-group"`, `id="save-department"`, `id="save-chat"`, `id="delete"`, `id="add-member"`, `class="remove-member"`,
					`id="new-sub-department"`} {
					if strings.Contains(body, button) {
						t.Errorf("GET %s shows %s", path, button)
					}
				}
			}
			for _, path := range []string{"/console/directory/users/new", "/console/directory/import", "/console/directory/groups/new",
				"/console/directory/departments/new", "/console/directory/chats/new"} {
				if st, _ := br.get(path); st != http.StatusForbidden {
					t.Errorf("GET %s: %d, want 403", path, st)
				}
			}
			csrf := br.csrf("/console/directory")
			for path, form := range map[string]url.Values{
				"/console/directory/users":                                      {"code": {"x"}, "name": {"X"}},
				"/console/directory/users/" + itoa(u.ID):                        {"code": {"ann"}, "name": {"Renamed"}},
				"/console/directory/users/" + itoa(u.ID) + "/delete":            {"confirm": {"yes"}},
				"/console/directory/import":                                     {"csv": {"code,name\nzed,Zed\n"}},
				"/console/directory/groups":                                     {"code": {"g2"}, "name": {"G2"}},
				"/console/directory/groups/" + itoa(g.ID) + "/members":          {"member": {"ann"}},
				"/console/directory/groups/" + itoa(g.ID) + "/delete":           {"confirm": {"yes"}},
				"/console/directory/departments":                                {"code": {"d2"}, "name": {"D2"}},
				"/console/directory/departments/" + itoa(d.ID) + "/delete":      {"confirm": {"yes"}},
				"/console/directory/chats/" + itoa(ch.ID):                       {"code": {"oc_1"}, "name": {"Renamed"}},
				"/console/directory/chats/" + itoa(ch.ID) + "/delete":           {"confirm": {"yes"}},
				"/console/directory/groups/" + itoa(g.ID) + "/members/1/delete": {},
			} {
				form.Set("csrf", csrf)
				if st, _, _ := br.do("POST", path, form); st != http.StatusForbidden {
					t.Errorf("POST %s: %d, want 403", path, st)
				}
			}
		})
	}
	// Nothing changed.
	if got, _ := b.db.FindUserByID(b.ctx, u.ID); got.Name != "Ann" {
		t.Errorf("ann renamed to %q", got.Name)
	}
	if _, err := b.db.FindUserByCode(b.ctx, "zed"); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Errorf("zed imported: %v", err)
	}
	if _, err := b.db.FindChatByID(b.ctx, ch.ID); err != nil {
		t.Errorf("the chat: %v", err)
	}
}

// multipart posts a file upload with the page's CSRF token.
func (br *browser) multipart(page, action string, fields map[string]string, file string) (int, string) {
	br.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", br.csrf(page))
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "users.csv")
	_, _ = io.WriteString(fw, file)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", br.b.srv.URL+action, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := br.c.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An uploaded CSV with a bad line imports nothing and lists the line;
// a good one creates and updates in one go.
func TestDirectory_Import(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.db.CreateDepartment(b.ctx, &herald.Department{Code: "eng", Name: "Engineering"}); err != nil {
		t.Fatal(err)
	}
	if err := b.db.CreateUser(b.ctx, &herald.User{Code: "ann", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	bad := "external_id,name,email,mobile,time_zone,locale,department\n" +
		"ann,Ann Li,ann@example.com,,Asia/Shanghai,zh,eng\n" +
		"cat,Cat,cat@,,Nowhere/City,fr,eng\n"
	st, body := br.multipart("/console/directory/import", "/console/directory/import", nil, bad)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="import-errors"`) || !strings.Contains(body, "<td>3</td><td>Time zone</td>") ||
		!strings.Contains(body, "<td>3</td><td>Email</td>") || !strings.Contains(body, "Nowhere/City") {
		t.Fatalf("a bad file: %d, want 422 listing line 3's cells and keeping the text\n%s", st, body)
	}
	if u, _ := b.db.FindUserByCode(b.ctx, "ann"); u.Name != "Ann" {
		t.Fatalf("a refused import changed ann: %+v", u)
	}
	// A department the store does not know is refused too, by line.
	st, _, body = br.post("/console/directory/import", "/console/directory/import", url.Values{"csv": {"code,name,departments\ncat,Cat,nowhere\n"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "<td>2</td><td>Departments</td>") {
		t.Fatalf("an unknown department: %d\n%s", st, body)
	}
	good := strings.Replace(bad, "cat@,,Nowhere/City,fr", "cat@example.com,,Europe/Paris,en", 1)
	st, body = br.multipart("/console/directory/import", "/console/directory/import", nil, good)
	if st != 200 || !strings.Contains(body, `<span id="import-created">1</span>`) || !strings.Contains(body, `<span id="import-updated">1</span>`) {
		t.Fatalf("a good file: %d\n%s", st, body)
	}
	if u, _ := b.db.FindUserByCode(b.ctx, "cat"); u == nil || u.TimeZone != "Europe/Paris" || len(u.DepartmentIDs) != 1 {
		t.Fatalf("cat after the import: %+v", u)
	}
	// Without the CSRF token a multipart form is refused like any other.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csv", "code,name\nmallory,M\n")
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.srv.URL+"/console/directory/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := br.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a multipart POST without CSRF: %d, want 403", resp.StatusCode)
	}
}

// A user's page shows their notification preferences: the channels and
// event types they turned off, and their quiet hours.
func TestDirectory_UserPreferences(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.console.Preferences = authz.Guard(authz.Services{Preferences: b.db}).Preferences
	u := &herald.User{Code: "ann", Name: "Ann", TimeZone: "Asia/Shanghai"}
	if err := b.db.CreateUser(b.ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.UpdateUserPreferences(b.ctx, &herald.UserPreferences{UserID: u.ID, Revision: herald.NoRevisionCheck,
		Rules:      []herald.PreferenceRule{{Channel: "email", EventType: "build.failed", Enabled: false}},
		QuietHours: []herald.QuietHours{{Channel: "sms", Windows: []herald.QuietWindow{{Days: []string{"weekdays"}, Start: "22:00", End: "07:00"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	st, body := br.get("/console/directory/users/" + itoa(u.ID))
	if st != 200 || !strings.Contains(body, `id="preferences"`) || !strings.Contains(body, "build.failed") || !strings.Contains(body, "22:00") {
		t.Fatalf("the user's page lacks their preferences: %d\n%s", st, body)
	}
}
