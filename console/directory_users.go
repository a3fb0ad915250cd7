package console

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// zones are time zones the form suggests; any IANA name is accepted (the
// domain checks it).
var zones = []string{"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Seoul", "Asia/Singapore",
	"Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Moscow", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney", "Pacific/Auckland"}

type userForm struct {
	User      *herald.User
	New       bool
	Errs      formErrors
	Tree      []*deptNode
	Hidden    []int64 // chosen departments the tree did not load
	Truncated bool
	Zones     []string
	Locales   []string
	Can       dirCan
	// Prefs are the person's notification preferences (nil: not shown).
	Prefs *herald.UserPreferences
}

// userFields are the members a user form shows errors beside.
var userFields = []string{"code", "name", "email", "mobile", "time_zone", "locale", "department_ids", "confirm"}

func (c *Console) findUserOf(r *http.Request) (*herald.User, error) {
	id, err := pathID(r, "id", false)
	if err != nil {
		return nil, err
	}
	return c.Directory.FindUserByID(r.Context(), id)
}

func (c *Console) handleUserForm(w http.ResponseWriter, r *http.Request, v *view) error {
	u := &herald.User{Locale: herald.LocaleEN}
	if r.PathValue("id") == "" {
		if err := needDirectory(r.Context(), herald.ActCreate); err != nil {
			return err
		}
	} else {
		var err error
		if u, err = c.findUserOf(r); err != nil {
			return err
		}
	}
	return c.showUser(w, r, v, u, http.StatusOK, nil)
}

func (c *Console) showUser(w http.ResponseWriter, r *http.Request, v *view, u *herald.User, status int, errs formErrors) error {
	tree, err := c.loadTree(r.Context())
	if err != nil {
		return err
	}
	f := userForm{User: u, New: u.ID == 0, Errs: errs, Tree: tree.Roots, Truncated: tree.Truncated, Zones: zones,
		Locales: []string{herald.LocaleEN, herald.LocaleZH}, Can: directoryCan(r.Context())}
	if u.ID != 0 && c.Preferences != nil && can(r.Context(), herald.ResPreferences, herald.ActRead) {
		if f.Prefs, err = c.Preferences.FindUserPreferences(r.Context(), u.ID); err != nil {
			return err
		}
	}
	for _, id := range u.DepartmentIDs {
		if n := tree.ByID[id]; n != nil {
			n.Selected = true
		} else {
			f.Hidden = append(f.Hidden, id)
		}
	}
	title := "Edit user"
	if f.New {
		title = "New user"
	}
	return c.renderForm(w, status, "directory_user", title, v, f)
}

func (c *Console) handleSaveUser(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	u := &herald.User{}
	if r.PathValue("id") != "" {
		var err error
		if u, err = c.findUserOf(r); err != nil {
			return err
		}
	}
	f := r.PostForm
	u.Code, u.Name = strings.TrimSpace(f.Get("code")), strings.TrimSpace(f.Get("name"))
	u.Email, u.Mobile = strings.TrimSpace(f.Get("email")), strings.TrimSpace(f.Get("mobile"))
	u.TimeZone, u.Locale = strings.TrimSpace(f.Get("time_zone")), f.Get("locale")
	u.DepartmentIDs = []int64{}
	var err error
	for _, s := range f["department_ids"] {
		id, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || id <= 0 {
			err = herald.Errorf(herald.EINVALID, "department_ids", "department_ids names an id that does not exist")
			break
		}
		u.DepartmentIDs = append(u.DepartmentIDs, id)
	}
	if err == nil {
		if u.ID == 0 {
			err = c.Directory.CreateUser(ctx, u)
		} else {
			err = c.Directory.UpdateUser(ctx, u)
		}
	}
	if errs, ok := inlineErrors(v.Lang, err, userFields...); ok {
		return c.showUser(w, r, v, u, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory/users/"+strconv.FormatInt(u.ID, 10), "User saved.")
}

func (c *Console) handleDeleteUser(w http.ResponseWriter, r *http.Request, v *view) error {
	u, err := c.findUserOf(r)
	if err != nil {
		return err
	}
	if err = confirmed(r); err == nil {
		err = c.Directory.DeleteUser(r.Context(), u.ID)
	}
	if errs, ok := inlineErrors(v.Lang, err, "confirm"); ok {
		return c.showUser(w, r, v, u, invalid, errs)
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/console/directory", "User deleted.")
}

// ---- import ----

type importForm struct {
	CSV      string
	Columns  []string
	Problems []importProblem
	Result   *herald.UserImportResult
	Can      dirCan
}

// importProblem is a bad cell of an import file, as a person reads it.
type importProblem struct {
	Line    int
	Column  string
	Message string
}

func (c *Console) handleImportForm(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := needDirectory(r.Context(), herald.ActCreate); err != nil {
		return err
	}
	return c.renderForm(w, http.StatusOK, "directory_import", "Import users", v,
		importForm{Columns: herald.UserImportColumns, Can: directoryCan(r.Context())})
}

// handleImport imports the uploaded file (or the pasted text): every line
// good, or nothing written and every bad cell listed beside the text.
func (c *Console) handleImport(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	f := importForm{Columns: herald.UserImportColumns, Can: directoryCan(ctx), CSV: r.PostForm.Get("csv")}
	if file, _, err := r.FormFile("file"); err == nil {
		raw, err := io.ReadAll(io.LimitReader(file, 1<<20))
		file.Close()
		if err != nil {
			return err
		}
		if len(raw) > 0 {
			f.CSV = string(raw)
		}
	}
	res, err := herald.ImportUsers(ctx, c.Directory, strings.NewReader(f.CSV))
	if herald.ErrorCode(err) == herald.EINVALID || herald.ErrorCode(err) == herald.ECONFLICT {
		for _, fe := range herald.ErrorFields(err) {
			line, col, ok := herald.ImportCell(fe.Field)
			if !ok {
				return err
			}
			label := col
			if l, ok := dirLabels[col]; ok {
				label = translate(v.Lang, l)
			}
			f.Problems = append(f.Problems, importProblem{Line: line, Column: label, Message: fieldText(v.Lang, fe, col)})
		}
		v.Error = translate(v.Lang, "Nothing was imported: fix the lines below and import again.")
		return c.renderForm(w, invalid, "directory_import", "Import users", v, f)
	} else if err != nil {
		return err
	}
	f.Result, f.CSV = &res, ""
	return c.renderForm(w, http.StatusOK, "directory_import", "Import users", v, f)
}
