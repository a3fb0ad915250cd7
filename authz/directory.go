package authz

import (
	"context"

	"github.com/heraldhq/herald"
)

// directory: people are the tenant's; reading needs directory:read (a
// scoped token may read), changing needs directory:write and an unscoped
// token.
type directory struct{ g *guard }

func dirCheck(ctx context.Context, act herald.Action) error {
	_, err := herald.Authorize(ctx, herald.ResDirectory, act)
	return err
}

func (s directory) FindUserByID(ctx context.Context, id int64) (*herald.User, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Directory.FindUserByID(ctx, id)
}

func (s directory) FindUsers(ctx context.Context, page herald.Page) ([]*herald.User, string, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Directory.FindUsers(ctx, page)
}

func (s directory) CreateUser(ctx context.Context, u *herald.User) error {
	if err := dirCheck(ctx, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Directory.CreateUser(ctx, u)
}

func (s directory) UpdateUser(ctx context.Context, u *herald.User) error {
	if err := dirCheck(ctx, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Directory.UpdateUser(ctx, u)
}

func (s directory) DeleteUser(ctx context.Context, id int64) error {
	if err := dirCheck(ctx, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Directory.DeleteUser(ctx, id)
}

func (s directory) FindGroupByID(ctx context.Context, id int64) (*herald.Group, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Directory.FindGroupByID(ctx, id)
}

func (s directory) FindGroups(ctx context.Context, page herald.Page) ([]*herald.Group, string, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Directory.FindGroups(ctx, page)
}

func (s directory) CreateGroup(ctx context.Context, g *herald.Group) error {
	if err := dirCheck(ctx, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Directory.CreateGroup(ctx, g)
}

func (s directory) UpdateGroup(ctx context.Context, g *herald.Group) error {
	if err := dirCheck(ctx, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Directory.UpdateGroup(ctx, g)
}

func (s directory) DeleteGroup(ctx context.Context, id int64) error {
	if err := dirCheck(ctx, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Directory.DeleteGroup(ctx, id)
}

func (s directory) FindDepartmentByID(ctx context.Context, id int64) (*herald.Department, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Directory.FindDepartmentByID(ctx, id)
}

func (s directory) FindDepartments(ctx context.Context, f herald.DepartmentFilter, page herald.Page) ([]*herald.Department, string, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Directory.FindDepartments(ctx, f, page)
}

func (s directory) CreateDepartment(ctx context.Context, d *herald.Department) error {
	if err := dirCheck(ctx, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Directory.CreateDepartment(ctx, d)
}

func (s directory) UpdateDepartment(ctx context.Context, d *herald.Department) error {
	if err := dirCheck(ctx, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Directory.UpdateDepartment(ctx, d)
}

func (s directory) DeleteDepartment(ctx context.Context, id int64) error {
	if err := dirCheck(ctx, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Directory.DeleteDepartment(ctx, id)
}

func (s directory) FindChatByID(ctx context.Context, id int64) (*herald.Chat, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Directory.FindChatByID(ctx, id)
}

func (s directory) FindChats(ctx context.Context, page herald.Page) ([]*herald.Chat, string, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Directory.FindChats(ctx, page)
}

func (s directory) CreateChat(ctx context.Context, c *herald.Chat) error {
	if err := dirCheck(ctx, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Directory.CreateChat(ctx, c)
}

func (s directory) UpdateChat(ctx context.Context, c *herald.Chat) error {
	if err := dirCheck(ctx, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Directory.UpdateChat(ctx, c)
}

func (s directory) DeleteChat(ctx context.Context, id int64) error {
	if err := dirCheck(ctx, herald.ActDelete); err != nil {
		return err
	}
	return s.g.raw.Directory.DeleteChat(ctx, id)
}
