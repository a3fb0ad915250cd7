package console

import (
	"net/http"

	"github.com/heraldhq/herald"
)

type directoryData struct {
	Users      []*herald.User
	NextUsers  string
	Groups     []*herald.Group
	NextGroups string
	// The department tree is walked one level at a time: the path from
	// the top to the department shown, and a page of its children.
	Trail     []*herald.Department
	Depts     []*herald.Department
	NextDepts string
}

// handleDirectory shows a page of users, a page of groups and one level of
// the department tree (?dept= the department whose children are listed).
func (c *Console) handleDirectory(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	var d directoryData
	var (
		next string
		err  error
	)
	if d.Users, next, err = c.Directory.FindUsers(ctx, pageOf(r, "users")); err != nil {
		return err
	}
	if next != "" {
		d.NextUsers = withQuery(r, "users", next)
	}
	if d.Groups, next, err = c.Directory.FindGroups(ctx, pageOf(r, "groups")); err != nil {
		return err
	}
	if next != "" {
		d.NextGroups = withQuery(r, "groups", next)
	}
	parent, err := formID(r, "dept")
	if err != nil {
		return err
	}
	// The trail up to the top, bounded so a cycle cannot loop.
	for id := parent; id != 0 && len(d.Trail) < 50; {
		dep, err := c.Directory.FindDepartmentByID(ctx, id)
		if err != nil {
			return err
		}
		d.Trail = append([]*herald.Department{dep}, d.Trail...)
		if dep.ParentID == nil {
			break
		}
		id = *dep.ParentID
	}
	if d.Depts, next, err = c.Directory.FindDepartments(ctx, herald.DepartmentFilter{ParentID: &parent}, pageOf(r, "depts")); err != nil {
		return err
	}
	if next != "" {
		d.NextDepts = withQuery(r, "depts", next)
	}
	return c.page(w, "directory", "Directory", v, d)
}
