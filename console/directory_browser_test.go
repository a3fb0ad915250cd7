package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald"
)

// TestBrowser_Directory drives the directory pages in Chromium, in English
// and in Chinese, as a person would: a department with a sub-department
// seen as a tree, a user added with a time zone and a language (after an
// inline error that keeps the input), edited and deleted, a group with a
// member, a chat, and a CSV import (a bad file refused with its line
// shown and nothing imported, then a good one uploaded). Each page is
// saved as a screenshot under the test's temp dir.
func TestBrowser_Directory(t *testing.T) {
	needChromium(t)
	t.Parallel()
	shots := t.TempDir()
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			b := setup(t)
			tab := &page{t: t, ctx: newBrowser(t)}
			base := b.srv.URL
			id := func(s string) chromedp.ID { return chromedp.ID(s) }
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			tr := map[string]map[string]string{
				"en": {"Directory": "Directory", "saved": "User saved.", "department": "Department saved.", "deleted": "User deleted.",
					"member": "Member added.", "chat": "Chat saved.", "fields": "Check the fields marked below.", "nothing": "Nothing was imported"},
				"zh": {"Directory": "通讯录", "saved": "用户已保存。", "department": "部门已保存。", "deleted": "用户已删除。",
					"member": "成员已添加。", "chat": "群聊已保存。", "fields": "请检查下方标出的字段。", "nothing": "未导入任何内容"},
			}[lang]
			shot := func(name string) {
				t.Helper()
				tab.shot(shots, "directory-"+name+"-"+lang)
			}
			// clear drops the last answer's messages, so that waiting for
			// #flash or #error waits for the next page.
			clear := func() {
				t.Helper()
				tab.eval(`(() => { for (const id of ["flash", "error"]) { const e = document.getElementById(id); if (e) e.remove(); } return 1; })()`)
			}
			flash := func(want string) {
				t.Helper()
				if got := tab.text("#flash"); got != want {
					t.Fatalf("flash %q, want %q", got, want)
				}
			}

			tab.do("choose the language and sign in",
				chromedp.Navigate(base+"/console/lang/"+lang+"?next=/console/"),
				chromedp.WaitVisible(id("token")),
				chromedp.SendKeys(id("token"), b.token),
				chromedp.Click(id("signin")),
				chromedp.WaitVisible(id("projects")),
				chromedp.Navigate(base+"/console/directory"),
				chromedp.WaitVisible(id("departments")),
			)
			if h := tab.text("h1"); h != tr["Directory"] {
				t.Fatalf("the directory page's heading is %q", h)
			}

			// A department and a sub-department: a tree.
			tab.do("create a department",
				chromedp.Click(id("new-department")),
				chromedp.WaitVisible(id("department-form")),
				chromedp.SendKeys(id("code"), "eng"),
				chromedp.SendKeys(id("name"), "Engineering"),
				chromedp.Click(id("save-department")),
				chromedp.WaitVisible(id("flash")),
			)
			flash(tr["department"])
			tab.do("create a sub-department",
				chromedp.Click(id("new-sub-department")),
				chromedp.WaitVisible(id("department-form")),
				chromedp.SendKeys(id("code"), "web"),
				chromedp.SendKeys(id("name"), "Web team"),
				chromedp.Click(id("save-department")),
				chromedp.WaitVisible(id("flash")),
			)
			tab.do("see the tree", chromedp.Navigate(base+"/console/directory"), chromedp.WaitVisible(css(`li[data-dept="eng"] li[data-dept="web"]`)))
			shot("tree")

			// A user: a bad time zone first, shown beside the field with
			// everything typed kept.
			tab.do("fill in a new user with a bad time zone",
				chromedp.Click(id("new-user")),
				chromedp.WaitVisible(id("user-form")),
				chromedp.SendKeys(id("code"), "ann"),
				chromedp.SendKeys(id("name"), "Ann Li"),
				chromedp.SendKeys(id("email"), "ann@example.com"),
				chromedp.SendKeys(id("mobile"), "+8613800000000"),
				chromedp.SendKeys(id("time_zone"), "Mars/Olympus"),
				chromedp.SetValue(id("locale"), "zh"),
				chromedp.Click(css(`input[data-dept="web"]`)),
				chromedp.Click(id("save-user")),
				chromedp.WaitVisible(id("err-time_zone")),
			)
			if got := tab.text("#error"); got != tr["fields"] {
				t.Errorf("the summary says %q", got)
			}
			kept := tab.eval(`(document.getElementById("email").value === "ann@example.com" && document.getElementById("time_zone").value === "Mars/Olympus" &&
				document.getElementById("locale").value === "zh" && document.querySelector('input[data-dept="web"]').checked) ? 1 : 0`)
			if kept != 1 {
				t.Errorf("the form lost what was typed")
			}
			shot("user-error")
			clear()
			tab.do("fix the time zone",
				chromedp.SetValue(id("time_zone"), "Asia/Shanghai"),
				chromedp.Click(id("save-user")),
				chromedp.WaitVisible(id("flash")),
			)
			flash(tr["saved"])
			u, err := b.db.FindUserByCode(b.ctx, "ann")
			if err != nil || u.TimeZone != "Asia/Shanghai" || u.Locale != "zh" || u.Mobile != "+8613800000000" || len(u.DepartmentIDs) != 1 {
				t.Fatalf("the user saved: %+v %v", u, err)
			}
			clear()
			tab.do("edit the user",
				chromedp.SetValue(id("name"), "Ann Lee"),
				chromedp.SetValue(id("time_zone"), "Europe/London"),
				chromedp.SetValue(id("locale"), "en"),
				chromedp.Click(id("save-user")),
				chromedp.WaitVisible(id("flash")),
			)
			if u, _ = b.db.FindUserByID(b.ctx, u.ID); u.Name != "Ann Lee" || u.TimeZone != "Europe/London" || u.Locale != "en" {
				t.Fatalf("the user edited: %+v", u)
			}
			shot("user")

			// A group with a member.
			tab.do("create a group",
				chromedp.Navigate(base+"/console/directory/groups/new"),
				chromedp.WaitVisible(id("group-form")),
				chromedp.SendKeys(id("code"), "ops"),
				chromedp.SendKeys(id("name"), "Operations"),
				chromedp.Click(id("save-group")),
				chromedp.WaitVisible(id("add-member-form")),
				chromedp.SendKeys(id("member"), "ann"),
				chromedp.Click(id("add-member")),
				chromedp.WaitVisible(css(`tr[data-member="ann"]`)),
			)
			flash(tr["member"])
			shot("group")

			// A chat.
			tab.do("create a chat",
				chromedp.Navigate(base+"/console/directory/chats/new"),
				chromedp.WaitVisible(id("chat-form")),
				chromedp.SendKeys(id("code"), "oc_ops"),
				chromedp.SendKeys(id("name"), "Ops chat"),
				chromedp.Click(id("save-chat")),
				chromedp.WaitVisible(id("flash")),
			)
			flash(tr["chat"])

			// A CSV import: a bad file first.
			bad := "code,name,email,mobile,time_zone,locale,departments\nbob,Bob,bob@example.com,,Europe/Paris,en,eng\ncat,Cat,,,Nowhere/City,en,web\n"
			tab.do("import a bad file",
				chromedp.Navigate(base+"/console/directory/import"),
				chromedp.WaitVisible(id("import-form")),
				chromedp.SetValue(id("import-csv"), bad),
				chromedp.Click(id("import")),
				chromedp.WaitVisible(id("import-errors")),
			)
			if rows := tab.text("#import-errors tbody"); !strings.Contains(rows, "3") || !strings.Contains(rows, "IANA") {
				t.Errorf("the import's errors do not show line 3's time zone: %q", rows)
			}
			if got := tab.text("#error"); !strings.Contains(got, tr["nothing"]) {
				t.Errorf("the summary says %q", got)
			}
			if _, err := b.db.FindUserByCode(b.ctx, "bob"); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("a refused import created bob: %v", err)
			}
			shot("import-error")
			good := filepath.Join(t.TempDir(), "users.csv")
			if err := os.WriteFile(good, []byte(strings.Replace(bad, "Nowhere/City", "Asia/Tokyo", 1)+"ann,Ann Lee,ann@example.com,,Asia/Shanghai,zh,eng\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			clear()
			tab.eval(`(() => { document.getElementById("import-csv").value = ""; return 1; })()`)
			tab.do("upload a good file",
				chromedp.SetUploadFiles(id("import-file"), []string{good}),
				chromedp.Click(id("import")),
				chromedp.WaitVisible(id("import-result")),
			)
			if c, u := tab.text("#import-created"), tab.text("#import-updated"); c != "2" || u != "1" {
				t.Errorf("the import says %s created, %s updated", c, u)
			}
			if cat, err := b.db.FindUserByCode(b.ctx, "cat"); err != nil || cat.TimeZone != "Asia/Tokyo" {
				t.Fatalf("cat after the import: %+v %v", cat, err)
			}
			shot("import")

			// Delete the user, confirming.
			tab.do("delete the user",
				chromedp.Navigate(base+"/console/directory/users/"+itoa(u.ID)),
				chromedp.WaitVisible(id("user-form")),
				chromedp.Click(css("#delete-user summary")),
				chromedp.Click(id("confirm-delete")),
				chromedp.Click(id("delete")),
				chromedp.WaitVisible(id("flash")),
			)
			flash(tr["deleted"])
			if _, err := b.db.FindUserByID(b.ctx, u.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("after delete: %v", err)
			}
			shot("directory")
		})
	}
}
