package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// ---- groups ----

type groupForm struct {
	Group       *herald.Group
	New         bool
	Errs        formErrors
	Members     []*herald.User
	NextMembers string
	Member      string // the user code typed into "add member"
	Can         dirCan
}

// memberPage is how many members a group page lists.
const memberPage = 50

var groupFields = []string{"code", "name", "member_ids", "member", "confirm"}

func (c *Console) findGroupOf(r *http.Request) (*herald.Group, error) {
	id, err := pathID(r, "id", false)
	if err != nil {
		return nil, err
	}
	return c.Directory.FindGroupByID(r.Context(), id)
}

func (c *Console) handleGroupForm(w http.ResponseWriter, r *http.Request, v *view) error {
	g := &herald.Group{}
	if r.PathValue("id") == "" {
		if err := needDirectory(r.Context(), herald.ActCreate); err != nil {
			return err
		}
	} else {
		var err error
		if g, err = c.findGroupOf(r); err != nil {
			return err
		}
	}
	return c.showGroup(w, r, v, g, http.StatusOK, groupForm{})
}

// showGroup renders a group's form and a page of its members (?members=
// the offset).
func (c *Console) showGroup(w http.ResponseWriter, r *http.Request, v *view, g *herald.Group, status int, f groupForm) error {
	f.Group, f.New, f.Can = g, g.ID == 0, directoryCan(r.Context())
	off, _ := strconv.Atoi(r.URL.Query().Get("members"))
	off = max(0, min(off, len(g.MemberIDs)))
	end := min(off+memberPage, len(g.MemberIDs))
	for _, id := range g.MemberIDs[off:end] {
		u, err := c.Directory.FindUserByID(r.Context(), id)
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			continue // deleted meanwhile
		} else if err != nil {
			return err
		}
		f.Members = append(f.Members, u)
	}
	if end < len(g.MemberIDs) {
		f.NextMembers = withQuery(r, "members", strconv.Itoa(end))
	}
	title := "Edit group"
	if f.New {
		title = "New group"
	}
	return c.renderForm(w, status, "directory_group", title, v, f)
}

func (c *Console) handleSaveGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	g := &herald.Group{}
	if r.PathValue("id") != "" {
		var err error
		if g, err = c.findGroupOf(r); err != nil {
			return err
		}
	}
	g.Code, g.Name = strings.TrimSpace(r.PostForm.Get("code")), strings.TrimSpace(r.PostForm.Get("name"))
	var err error
	if g.ID == 0 {
		err = c.Directory.CreateGroup(ctx, g)
	} else {
		err = c.Directory.UpdateGroup(ctx, g)
	}
	if errs, ok := inlineErrors(v.Lang, err, groupFields...); ok {
		return c.showGroup(w, r, v, g, invalid, groupForm{Errs: errs})
	} else if err != nil {
		return err
	}
	return redirect(w, r, groupPath(g.ID), "Group saved.")
}

func groupPath(id int64) string { return "/console/directory/groups/" + strconv.FormatInt(id, 10) }

func (c *Console) handleDeleteGroup(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.findGroupOf(r)
	if err != nil {
		return err
	}
	if err = confirmed(r); err == nil {
		err = c.Directory.DeleteGroup(r.Context(), g.ID)
	}
	if errs, ok := inlineErrors(v.Lang, err, "confirm"); ok {
		return c.showGroup(w, r, v, g, invalid, groupForm{Errs: errs})
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory", "Group deleted.")
}

// handleAddMember adds the user with the typed code to the group.
func (c *Console) handleAddMember(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	g, err := c.findGroupOf(r)
	if err != nil {
		return err
	}
	code := strings.TrimSpace(r.PostForm.Get("member"))
	u, err := c.Directory.FindUserByCode(ctx, code)
	if herald.ErrorCode(err) == herald.ENOTFOUND || (err == nil && code == "") {
		err = herald.Errorf(herald.EINVALID, "member", "There is no user with this code.")
	}
	if err == nil {
		// Saved even when already a member: the service decides who may.
		if !slices.Contains(g.MemberIDs, u.ID) {
			g.MemberIDs = append(g.MemberIDs, u.ID)
		}
		err = c.Directory.UpdateGroup(ctx, g)
	}
	if errs, ok := inlineErrors(v.Lang, err, groupFields...); ok {
		fresh, ferr := c.findGroupOf(r)
		if ferr != nil {
			return ferr
		}
		return c.showGroup(w, r, v, fresh, invalid, groupForm{Errs: errs, Member: code})
	} else if err != nil {
		return err
	}
	return redirect(w, r, groupPath(g.ID), "Member added.")
}

func (c *Console) handleRemoveMember(w http.ResponseWriter, r *http.Request, v *view) error {
	g, err := c.findGroupOf(r)
	if err != nil {
		return err
	}
	uid, err := pathID(r, "uid", false)
	if err != nil {
		return err
	}
	// Saved even when not a member: the service decides who may.
	g.MemberIDs = slices.DeleteFunc(g.MemberIDs, func(id int64) bool { return id == uid })
	if err := c.Directory.UpdateGroup(r.Context(), g); err != nil {
		return err
	}
	return redirect(w, r, groupPath(g.ID), "Member removed.")
}

// ---- departments ----

type departmentForm struct {
	Department *herald.Department
	New        bool
	Errs       formErrors
	// Parents are the departments it may move under: the tree without
	// its own subtree.
	Parents   []*deptNode
	Truncated bool
	Children  []*deptNode
	Can       dirCan
	// Parent is the chosen parent's id (0: top level).
	Parent int64
}

var departmentFields = []string{"code", "name", "parent_id", "confirm"}

func (c *Console) findDepartmentOf(r *http.Request) (*herald.Department, error) {
	id, err := pathID(r, "id", false)
	if err != nil {
		return nil, err
	}
	return c.Directory.FindDepartmentByID(r.Context(), id)
}

// handleDepartmentForm shows a department (or a new one, under ?parent=).
func (c *Console) handleDepartmentForm(w http.ResponseWriter, r *http.Request, v *view) error {
	d := &herald.Department{}
	if r.PathValue("id") == "" {
		if err := needDirectory(r.Context(), herald.ActCreate); err != nil {
			return err
		}
		parent, err := optionalID(r, "parent")
		if err != nil {
			return err
		}
		d.ParentID = parent
	} else {
		var err error
		if d, err = c.findDepartmentOf(r); err != nil {
			return err
		}
	}
	return c.showDepartment(w, r, v, d, http.StatusOK, nil)
}

func (c *Console) showDepartment(w http.ResponseWriter, r *http.Request, v *view, d *herald.Department, status int, errs formErrors) error {
	tree, err := c.loadTree(r.Context())
	if err != nil {
		return err
	}
	f := departmentForm{Department: d, New: d.ID == 0, Errs: errs, Parents: tree.flat(d.ID), Truncated: tree.Truncated, Can: directoryCan(r.Context())}
	if d.ParentID != nil {
		f.Parent = *d.ParentID
	}
	if n := tree.ByID[d.ID]; n != nil && d.ID != 0 {
		f.Children = n.Children
	}
	title := "Edit department"
	if f.New {
		title = "New department"
	}
	return c.renderForm(w, status, "directory_department", title, v, f)
}

func (c *Console) handleSaveDepartment(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	d := &herald.Department{}
	if r.PathValue("id") != "" {
		var err error
		if d, err = c.findDepartmentOf(r); err != nil {
			return err
		}
	}
	d.Code, d.Name = strings.TrimSpace(r.PostForm.Get("code")), strings.TrimSpace(r.PostForm.Get("name"))
	parent, err := optionalID(r, "parent_id")
	if err == nil {
		d.ParentID = parent
		if d.ID == 0 {
			err = c.Directory.CreateDepartment(ctx, d)
		} else {
			err = c.Directory.UpdateDepartment(ctx, d)
		}
	}
	if errs, ok := inlineErrors(v.Lang, err, departmentFields...); ok {
		return c.showDepartment(w, r, v, d, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory/departments/"+strconv.FormatInt(d.ID, 10), "Department saved.")
}

func (c *Console) handleDeleteDepartment(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := c.findDepartmentOf(r)
	if err != nil {
		return err
	}
	if err = confirmed(r); err == nil {
		err = c.Directory.DeleteDepartment(r.Context(), d.ID)
		if herald.ErrorCode(err) == herald.ECONFLICT {
			// Sub-departments first: say so beside the button.
			err = herald.Errorf(herald.EINVALID, "confirm", "Move or delete its sub-departments first.")
		}
	}
	if errs, ok := inlineErrors(v.Lang, err, "confirm"); ok {
		return c.showDepartment(w, r, v, d, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory", "Department deleted.")
}

// ---- chats ----

type chatForm struct {
	Chat   *herald.Chat
	New    bool
	Errs   formErrors
	Robots []*herald.Notifier
	// Unlisted is the chat's notifier when the token cannot list
	// notifiers (kept as is).
	Unlisted *int64
	Can      dirCan
	// Notifier is the chosen notifier's id (0: none).
	Notifier int64
}

var chatFields = []string{"code", "name", "notifier_id", "confirm"}

// robotTypes are the notifiers that post into a chat.
var robotTypes = []string{herald.NotifierDingTalk, herald.NotifierLark, herald.NotifierWeCom}

func (c *Console) findChatOf(r *http.Request) (*herald.Chat, error) {
	id, err := pathID(r, "id", false)
	if err != nil {
		return nil, err
	}
	return c.Directory.FindChatByID(r.Context(), id)
}

func (c *Console) handleChatForm(w http.ResponseWriter, r *http.Request, v *view) error {
	ch := &herald.Chat{}
	if r.PathValue("id") == "" {
		if err := needDirectory(r.Context(), herald.ActCreate); err != nil {
			return err
		}
	} else {
		var err error
		if ch, err = c.findChatOf(r); err != nil {
			return err
		}
	}
	return c.showChat(w, r, v, ch, http.StatusOK, nil)
}

// robots lists the robot notifiers the token may see (none without
// notifiers:read).
func (c *Console) robots(ctx context.Context) ([]*herald.Notifier, error) {
	if c.Notifiers == nil || !can(ctx, herald.ResNotifier, herald.ActRead) {
		return nil, nil
	}
	var out []*herald.Notifier
	for _, t := range robotTypes {
		ns, _, err := c.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{Type: t}, herald.Page{Limit: herald.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	slices.SortFunc(out, func(a, b *herald.Notifier) int { return int(a.ID - b.ID) })
	return out, nil
}

func (c *Console) showChat(w http.ResponseWriter, r *http.Request, v *view, ch *herald.Chat, status int, errs formErrors) error {
	robots, err := c.robots(r.Context())
	if err != nil {
		return err
	}
	f := chatForm{Chat: ch, New: ch.ID == 0, Errs: errs, Robots: robots, Can: directoryCan(r.Context())}
	if ch.NotifierID != nil {
		f.Notifier = *ch.NotifierID
	}
	if ch.NotifierID != nil && !slices.ContainsFunc(robots, func(n *herald.Notifier) bool { return n.ID == *ch.NotifierID }) {
		f.Unlisted = ch.NotifierID
	}
	title := "Edit chat"
	if f.New {
		title = "New chat"
	}
	return c.renderForm(w, status, "directory_chat", title, v, f)
}

func (c *Console) handleSaveChat(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	ch := &herald.Chat{}
	if r.PathValue("id") != "" {
		var err error
		if ch, err = c.findChatOf(r); err != nil {
			return err
		}
	}
	ch.Code, ch.Name = strings.TrimSpace(r.PostForm.Get("code")), strings.TrimSpace(r.PostForm.Get("name"))
	nid, err := optionalID(r, "notifier_id")
	if err == nil {
		ch.NotifierID = nid
		if ch.ID == 0 {
			err = c.Directory.CreateChat(ctx, ch)
		} else {
			err = c.Directory.UpdateChat(ctx, ch)
		}
	}
	if errs, ok := inlineErrors(v.Lang, err, chatFields...); ok {
		return c.showChat(w, r, v, ch, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory/chats/"+strconv.FormatInt(ch.ID, 10), "Chat saved.")
}

func (c *Console) handleDeleteChat(w http.ResponseWriter, r *http.Request, v *view) error {
	ch, err := c.findChatOf(r)
	if err != nil {
		return err
	}
	if err = confirmed(r); err == nil {
		err = c.Directory.DeleteChat(r.Context(), ch.ID)
	}
	if errs, ok := inlineErrors(v.Lang, err, "confirm"); ok {
		return c.showChat(w, r, v, ch, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory", "Chat deleted.")
}
