package api

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// The directory is tenant-wide: a project scope does not narrow it.

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Directory.FindUsers(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(nil, func(u *herald.User, _ int64) {
		u.ID, u.CreatedAt, u.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Directory.CreateUser)(w, r)
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Directory.FindUserByID)(w, r)
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Directory.FindUserByID, func(cur, next *herald.User) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Directory.UpdateUser)(w, r)
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) error {
	return handleDelete[herald.User](nil, s.Directory.DeleteUser)(w, r)
}

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Directory.FindGroups(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(nil, func(g *herald.Group, _ int64) {
		g.ID, g.CreatedAt, g.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Directory.CreateGroup)(w, r)
}

func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Directory.FindGroupByID)(w, r)
}

func (s *Server) handleUpdateGroup(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Directory.FindGroupByID, func(cur, next *herald.Group) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Directory.UpdateGroup)(w, r)
}

func (s *Server) handleDeleteGroup(w http.ResponseWriter, r *http.Request) error {
	return handleDelete[herald.Group](nil, s.Directory.DeleteGroup)(w, r)
}

// handleListDepartments lists departments; parent_id narrows to the
// children of one (0: the roots).
func (s *Server) handleListDepartments(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	parent, err := queryInt64(r, "parent_id")
	if err != nil {
		return err
	}
	items, next, err := s.Directory.FindDepartments(r.Context(), herald.DepartmentFilter{ParentID: parent}, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateDepartment(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(nil, func(d *herald.Department, _ int64) {
		d.ID, d.CreatedAt, d.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Directory.CreateDepartment)(w, r)
}

func (s *Server) handleGetDepartment(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Directory.FindDepartmentByID)(w, r)
}

func (s *Server) handleUpdateDepartment(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Directory.FindDepartmentByID, func(cur, next *herald.Department) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Directory.UpdateDepartment)(w, r)
}

func (s *Server) handleDeleteDepartment(w http.ResponseWriter, r *http.Request) error {
	return handleDelete[herald.Department](nil, s.Directory.DeleteDepartment)(w, r)
}

func (s *Server) handleListChats(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Directory.FindChats(r.Context(), page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreateChat(w http.ResponseWriter, r *http.Request) error {
	return handleCreate(nil, func(c *herald.Chat, _ int64) {
		c.ID, c.CreatedAt, c.UpdatedAt = 0, time.Time{}, time.Time{}
	}, s.Directory.CreateChat)(w, r)
}

func (s *Server) handleGetChat(w http.ResponseWriter, r *http.Request) error {
	return handleGet(s.Directory.FindChatByID)(w, r)
}

func (s *Server) handleUpdateChat(w http.ResponseWriter, r *http.Request) error {
	return handlePatch(s.Directory.FindChatByID, func(cur, next *herald.Chat) {
		next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.UpdatedAt
	}, s.Directory.UpdateChat)(w, r)
}

func (s *Server) handleDeleteChat(w http.ResponseWriter, r *http.Request) error {
	return handleDelete[herald.Chat](nil, s.Directory.DeleteChat)(w, r)
}
