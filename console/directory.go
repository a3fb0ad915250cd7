package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// The directory pages: users, groups and their members, the department
// tree and chats, each listed, added, edited and deleted through the
// (authorized) DirectoryService, and users imported from a CSV file
// through herald.ImportUsers. A page shows only the buttons the token's
// permissions allow (can); the services refuse the rest all the same.

// directoryRoutes mounts the directory's pages besides the overview.
func (c *Console) directoryRoutes(mux *http.ServeMux) {
	mux.Handle("GET /console/directory/users/new", c.private(c.handleUserForm))
	mux.Handle("POST /console/directory/users", c.private(c.handleSaveUser))
	mux.Handle("GET /console/directory/users/{id}", c.private(c.handleUserForm))
	mux.Handle("POST /console/directory/users/{id}", c.private(c.handleSaveUser))
	mux.Handle("POST /console/directory/users/{id}/delete", c.private(c.handleDeleteUser))
	mux.Handle("GET /console/directory/import", c.private(c.handleImportForm))
	mux.Handle("POST /console/directory/import", c.private(c.handleImport))

	mux.Handle("GET /console/directory/groups/new", c.private(c.handleGroupForm))
	mux.Handle("POST /console/directory/groups", c.private(c.handleSaveGroup))
	mux.Handle("GET /console/directory/groups/{id}", c.private(c.handleGroupForm))
	mux.Handle("POST /console/directory/groups/{id}", c.private(c.handleSaveGroup))
	mux.Handle("POST /console/directory/groups/{id}/delete", c.private(c.handleDeleteGroup))
	mux.Handle("POST /console/directory/groups/{id}/members", c.private(c.handleAddMember))
	mux.Handle("POST /console/directory/groups/{id}/members/{uid}/delete", c.private(c.handleRemoveMember))

	mux.Handle("GET /console/directory/departments/new", c.private(c.handleDepartmentForm))
	mux.Handle("POST /console/directory/departments", c.private(c.handleSaveDepartment))
	mux.Handle("GET /console/directory/departments/{id}", c.private(c.handleDepartmentForm))
	mux.Handle("POST /console/directory/departments/{id}", c.private(c.handleSaveDepartment))
	mux.Handle("POST /console/directory/departments/{id}/delete", c.private(c.handleDeleteDepartment))

	mux.Handle("GET /console/directory/chats/new", c.private(c.handleChatForm))
	mux.Handle("POST /console/directory/chats", c.private(c.handleSaveChat))
	mux.Handle("GET /console/directory/chats/{id}", c.private(c.handleChatForm))
	mux.Handle("POST /console/directory/chats/{id}", c.private(c.handleSaveChat))
	mux.Handle("POST /console/directory/chats/{id}/delete", c.private(c.handleDeleteChat))
}

func init() {
	for _, f := range []string{"User saved.", "User deleted.", "Group saved.", "Group deleted.", "Member added.", "Member removed.",
		"Department saved.", "Department deleted.", "Chat saved.", "Chat deleted."} {
		flashes[f] = true
	}
}

// dirCan says which directory buttons a page shows.
type dirCan struct{ Create, Update, Delete bool }

func directoryCan(ctx context.Context) dirCan {
	return dirCan{Create: can(ctx, herald.ResDirectory, herald.ActCreate), Update: can(ctx, herald.ResDirectory, herald.ActUpdate),
		Delete: can(ctx, herald.ResDirectory, herald.ActDelete)}
}

// needDirectory refuses a form page the token could not submit: the
// policy's own answer, so the page and the service agree.
func needDirectory(ctx context.Context, act herald.Action) error {
	_, err := herald.Authorize(ctx, herald.ResDirectory, act)
	return err
}

// ---- the department tree ----

// maxTree bounds the departments a page loads to draw the tree.
const maxTree = 5000

// deptNode is a department in the tree a page draws.
type deptNode struct {
	*herald.Department
	Depth    int
	Children []*deptNode
	// Selected marks a department a form has chosen (a user's).
	Selected bool
}

// Indent draws the node's depth in a picker's option (which CSS cannot
// indent).
func (n *deptNode) Indent() string {
	if n.Depth == 0 {
		return ""
	}
	return strings.Repeat("\u00a0\u00a0\u00a0", n.Depth) + "└ "
}

// deptTree is the tenant's department tree.
type deptTree struct {
	Roots []*deptNode
	ByID  map[int64]*deptNode
	// Truncated says the tenant has more than maxTree departments.
	Truncated bool
}

// loadTree reads the departments (up to maxTree) and links them into a
// tree; a department whose parent is not loaded is shown as a root.
func (c *Console) loadTree(ctx context.Context) (*deptTree, error) {
	t := &deptTree{ByID: map[int64]*deptNode{}}
	var all []*herald.Department
	cursor := ""
	for {
		page, next, err := c.Directory.FindDepartments(ctx, herald.DepartmentFilter{}, herald.Page{Limit: herald.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		if len(all) >= maxTree {
			t.Truncated = true
			break
		}
		cursor = next
	}
	for _, d := range all {
		t.ByID[d.ID] = &deptNode{Department: d}
	}
	for _, d := range all {
		n := t.ByID[d.ID]
		if d.ParentID != nil && t.ByID[*d.ParentID] != nil && *d.ParentID != d.ID {
			p := t.ByID[*d.ParentID]
			p.Children = append(p.Children, n)
		} else {
			t.Roots = append(t.Roots, n)
		}
	}
	// Depths from the roots; a cycle (never stored, but bounded here) is
	// not walked twice.
	seen := map[int64]bool{}
	var walk func(ns []*deptNode, depth int)
	walk = func(ns []*deptNode, depth int) {
		for _, n := range ns {
			if seen[n.ID] {
				continue
			}
			seen[n.ID] = true
			n.Depth = depth
			walk(n.Children, depth+1)
		}
	}
	walk(t.Roots, 0)
	return t, nil
}

// flat lists the tree depth first, leaving out skip and everything below
// it (a department's own subtree cannot be its parent).
func (t *deptTree) flat(skip int64) []*deptNode {
	var out []*deptNode
	seen := map[int64]bool{}
	var walk func(ns []*deptNode)
	walk = func(ns []*deptNode) {
		for _, n := range ns {
			if n.ID == skip || seen[n.ID] {
				continue
			}
			seen[n.ID] = true
			out = append(out, n)
			walk(n.Children)
		}
	}
	walk(t.Roots)
	return out
}

// name is a department's name for a list ("#id" when not loaded).
func (t *deptTree) name(id int64) string {
	if n := t.ByID[id]; n != nil {
		return n.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

// ---- the overview ----

type directoryData struct {
	Can dirCan
	// The department tree: a page of top-level departments (or the
	// subtree of Focus) with everything below them.
	Trail     []*herald.Department
	Focus     *deptNode
	Tree      []*deptNode
	Truncated bool
	NextDepts string
	Users     []userRow
	NextUsers string
	Groups    []*herald.Group
	NextGrps  string
	Chats     []*herald.Chat
	NextChats string
}

// userRow is a user with the names of their departments.
type userRow struct {
	*herald.User
	Departments []string
}

// deptPage is how many top-level departments a page shows.
const deptPage = 50

// handleDirectory shows the department tree and a page each of users,
// groups and chats (?dept= shows one department's subtree).
func (c *Console) handleDirectory(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	d := directoryData{Can: directoryCan(ctx)}
	tree, err := c.loadTree(ctx)
	if err != nil {
		return err
	}
	d.Truncated = tree.Truncated
	focus, err := formID(r, "dept")
	if err != nil {
		return err
	}
	roots := tree.Roots
	if focus != 0 {
		n := tree.ByID[focus]
		if n == nil {
			dep, err := c.Directory.FindDepartmentByID(ctx, focus)
			if err != nil {
				return err
			}
			n = &deptNode{Department: dep}
		}
		d.Focus, roots = n, n.Children
		for p, hops := n.ParentID, 0; p != nil && hops < 50; hops++ {
			pn := tree.ByID[*p]
			if pn == nil {
				break
			}
			d.Trail = append([]*herald.Department{pn.Department}, d.Trail...)
			p = pn.ParentID
		}
	}
	off, _ := strconv.Atoi(r.URL.Query().Get("depts"))
	off = max(0, min(off, len(roots)))
	end := min(off+deptPage, len(roots))
	d.Tree = roots[off:end]
	if end < len(roots) {
		d.NextDepts = withQuery(r, "depts", strconv.Itoa(end))
	}

	users, next, err := c.Directory.FindUsers(ctx, pageOf(r, "users"))
	if err != nil {
		return err
	}
	for _, u := range users {
		row := userRow{User: u}
		for _, id := range u.DepartmentIDs {
			row.Departments = append(row.Departments, tree.name(id))
		}
		d.Users = append(d.Users, row)
	}
	if next != "" {
		d.NextUsers = withQuery(r, "users", next)
	}
	if d.Groups, next, err = c.Directory.FindGroups(ctx, pageOf(r, "groups")); err != nil {
		return err
	}
	if next != "" {
		d.NextGrps = withQuery(r, "groups", next)
	}
	if d.Chats, next, err = c.Directory.FindChats(ctx, pageOf(r, "chats")); err != nil {
		return err
	}
	if next != "" {
		d.NextChats = withQuery(r, "chats", next)
	}
	return c.page(w, "directory", "Directory", v, d)
}

// ---- inline errors ----

// formErrors are a form's errors by field, each shown beside its field.
// (A page answers 422 with them and the values as typed.)
type formErrors map[string]string

// dirLabels name the directory's API members by their form labels.
var dirLabels = map[string]string{
	"code": "Code", "name": "Name", "email": "Email", "mobile": "Mobile", "time_zone": "Time zone", "locale": "Language",
	"department_ids": "Departments", "departments": "Departments", "parent_id": "Parent department", "member_ids": "Members",
	"notifier_id": "Robot notifier", "member": "User code", "confirm": "Confirm",
}

// fieldText is the message shown beside a field: translated when the
// catalogue has it, else with the API member replaced by its label.
func fieldText(lang string, fe *herald.Error, member string) string {
	msg := translate(lang, fe.Message)
	if msg == fe.Message && member != "" {
		if l, ok := dirLabels[member]; ok {
			msg = strings.ReplaceAll(msg, member, translate(lang, l))
		}
	}
	return msg
}

// inlineErrors turns err into errors beside the fields of a form, when it
// is about fields the form has (invalid input, or a code already taken);
// ok is false for any other error, which the error page shows.
func inlineErrors(lang string, err error, fields ...string) (formErrors, bool) {
	code := herald.ErrorCode(err)
	if code != herald.EINVALID && code != herald.ECONFLICT {
		return nil, false
	}
	out := formErrors{}
	for _, fe := range herald.ErrorFields(err) {
		f := fe.Field
		if i := strings.IndexAny(f, ".["); i > 0 {
			f = f[:i]
		}
		if !slices.Contains(fields, f) {
			return nil, false
		}
		if _, dup := out[f]; !dup {
			out[f] = fieldText(lang, fe, f)
		}
	}
	return out, len(out) > 0
}

// invalid is the status of a form shown again with its errors.
const invalid = http.StatusUnprocessableEntity

// renderForm renders a form page with status (422 with errors).
func (c *Console) renderForm(w http.ResponseWriter, status int, name, title string, v *view, data any) error {
	v.Title, v.Data = title, data
	if status == invalid && v.Error == "" {
		v.Error = translate(v.Lang, "Check the fields marked below.")
	}
	c.render(w, status, name, v)
	return nil
}

// confirmed refuses a delete whose confirmation box is not ticked.
func confirmed(r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return herald.Errorf(herald.EINVALID, "confirm", "Tick the box to confirm the deletion.")
	}
	return nil
}

// optionalID reads an optional positive id of a form ("" or "0": none).
func optionalID(r *http.Request, name string) (*int64, error) {
	id, err := formID(r, name)
	if err != nil || id == 0 {
		return nil, err
	}
	return &id, nil
}
