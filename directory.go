package herald

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // the zone database, whatever the host has
)

var reMobile = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,20}$`)

// Locales Herald renders messages in.
const (
	LocaleEN = "en"
	LocaleZH = "zh"
)

// User is a person in the directory. Code is the login name other objects
// refer to (Kintone's entity code, event role fields); the IM ids are the
// addresses robots and the Feishu surface use.
type User struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Mobile string `json:"mobile"`
	Locale string `json:"locale"`
	// TimeZone is the person's IANA time zone ("Asia/Shanghai"): their
	// quiet hours and the times in their messages are read in it. Empty
	// is UTC.
	TimeZone      string    `json:"time_zone"`
	AvatarURL     string    `json:"avatar_url"`
	OpenID        string    `json:"open_id"`        // Feishu open_id
	UnionID       string    `json:"union_id"`       // Feishu union_id
	LarkUserID    string    `json:"lark_user_id"`   // Feishu user_id
	DingTalkID    string    `json:"dingtalk_id"`    // DingTalk userid
	WeComID       string    `json:"wecom_id"`       // WeCom userid
	DepartmentIDs []int64   `json:"department_ids"` // departments the user belongs to
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate checks a user.
func (u *User) Validate() error {
	if err := checkText(u); err != nil {
		return err
	}
	if err := validateCode("code", u.Code); err != nil {
		return err
	}
	if err := validateName("name", u.Name); err != nil {
		return err
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			return Errorf(EINVALID, "email", "email is not a valid address")
		}
	}
	if u.Mobile != "" && !reMobile.MatchString(u.Mobile) {
		return Errorf(EINVALID, "mobile", "mobile must be digits, optionally with a leading +")
	}
	switch u.Locale {
	case "":
		u.Locale = LocaleEN
	case LocaleEN, LocaleZH:
	default:
		return Errorf(EINVALID, "locale", "locale must be en or zh")
	}
	if err := ValidateTimeZone("time_zone", u.TimeZone); err != nil {
		return err
	}
	for f, v := range map[string]string{"avatar_url": u.AvatarURL, "open_id": u.OpenID, "union_id": u.UnionID,
		"lark_user_id": u.LarkUserID, "dingtalk_id": u.DingTalkID, "wecom_id": u.WeComID} {
		if err := validateOptional(f, v, 500); err != nil {
			return err
		}
	}
	if len(u.DepartmentIDs) > 100 {
		return Errorf(EINVALID, "department_ids", "a user belongs to at most 100 departments")
	}
	if u.DepartmentIDs == nil {
		u.DepartmentIDs = []int64{}
	}
	return nil
}

// ValidateTimeZone checks an IANA time zone name ("" is allowed: UTC).
// Names the zone database does not know, and "Local" (the server's own
// zone, which means nothing to a person), are EINVALID naming field.
func ValidateTimeZone(field, name string) error {
	if name == "" {
		return nil
	}
	if len(name) > 64 || name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return Errorf(EINVALID, field, "%s must be an IANA time zone such as Asia/Shanghai", field)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return Errorf(EINVALID, field, "%s must be an IANA time zone such as Asia/Shanghai", field)
	}
	return nil
}

// Group is a named set of users.
type Group struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	MemberIDs []int64   `json:"member_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a group.
func (g *Group) Validate() error {
	if err := checkText(g); err != nil {
		return err
	}
	if err := validateCode("code", g.Code); err != nil {
		return err
	}
	if err := validateName("name", g.Name); err != nil {
		return err
	}
	if len(g.MemberIDs) > 10000 {
		return Errorf(EINVALID, "member_ids", "a group has at most 10000 members")
	}
	if g.MemberIDs == nil {
		g.MemberIDs = []int64{}
	}
	return nil
}

// Department is a node of the organisation tree.
type Department struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	ParentID  *int64    `json:"parent_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a department.
func (d *Department) Validate() error {
	if err := checkText(d); err != nil {
		return err
	}
	if err := validateCode("code", d.Code); err != nil {
		return err
	}
	if err := validateName("name", d.Name); err != nil {
		return err
	}
	if d.ParentID != nil && *d.ParentID == d.ID && d.ID != 0 {
		return Errorf(EINVALID, "parent_id", "a department cannot be its own parent")
	}
	return nil
}

// Chat is a group chat a robot notifier posts into.
type Chat struct {
	ID         int64     `json:"id"`
	Code       string    `json:"code"` // the vendor's chat id, e.g. oc_…
	Name       string    `json:"name"`
	NotifierID *int64    `json:"notifier_id"` // the robot that posts into it
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks a chat.
func (c *Chat) Validate() error {
	if err := checkText(c); err != nil {
		return err
	}
	if err := validateCode("code", c.Code); err != nil {
		return err
	}
	return validateName("name", c.Name)
}

// DepartmentFilter narrows FindDepartments.
type DepartmentFilter struct {
	ParentID *int64 // only children of this department (0: roots)
}

// DirectoryService manages users, groups, departments and chats of a
// tenant. Codes are unique per tenant and kind.
type DirectoryService interface {
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByCode returns the user with this code (their login name).
	FindUserByCode(ctx context.Context, code string) (*User, error)
	FindUsers(ctx context.Context, page Page) ([]*User, string, error)
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, id int64) error
	// ImportUsers creates and updates the users of a checked import file
	// (see ImportUsers) in one transaction: all of them, or none when a
	// line names an unknown department or fails a user's validation.
	ImportUsers(ctx context.Context, im *UserImport) (UserImportResult, error)

	FindGroupByID(ctx context.Context, id int64) (*Group, error)
	FindGroups(ctx context.Context, page Page) ([]*Group, string, error)
	CreateGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, g *Group) error
	DeleteGroup(ctx context.Context, id int64) error

	FindDepartmentByID(ctx context.Context, id int64) (*Department, error)
	FindDepartments(ctx context.Context, f DepartmentFilter, page Page) ([]*Department, string, error)
	CreateDepartment(ctx context.Context, d *Department) error
	// UpdateDepartment refuses a parent that would make a cycle.
	UpdateDepartment(ctx context.Context, d *Department) error
	// DeleteDepartment refuses a department that still has children.
	DeleteDepartment(ctx context.Context, id int64) error

	FindChatByID(ctx context.Context, id int64) (*Chat, error)
	FindChats(ctx context.Context, page Page) ([]*Chat, string, error)
	CreateChat(ctx context.Context, c *Chat) error
	UpdateChat(ctx context.Context, c *Chat) error
	DeleteChat(ctx context.Context, id int64) error
}
