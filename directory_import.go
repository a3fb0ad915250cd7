package herald

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A user import is a CSV file of people, one per line after a header line
// naming the columns. It is all or nothing: every line is checked first,
// every bad cell is reported (by line and column), and only a file without
// one is written, in one transaction, creating the users whose code is new
// and updating those whose code exists.
//
// ImportUsers is the one entry point: it parses and checks the file here,
// then asks the directory service to write it (DirectoryService.ImportUsers,
// which a store runs in one transaction and which checks the access policy
// like every other directory write).

// UserImportColumns are the columns an import file may name, in the
// native API's field names. code and name are required; a column the file
// leaves out keeps an existing user's value (and is empty for a new user).
// departments lists department codes separated by ";" (or "|", ","), and
// replaces the user's departments.
var UserImportColumns = []string{"code", "name", "email", "mobile", "time_zone", "locale", "departments"}

// importAliases are other names a header may give a column (what other
// tools call them).
var importAliases = map[string]string{
	"external_id": "code", "id": "code", "timezone": "time_zone", "tz": "time_zone",
	"department": "departments", "phone": "mobile",
}

// MaxUserImportRows bounds the lines of one import.
const MaxUserImportRows = 5000

// UserImport is an import file read and checked by ParseUserImport.
type UserImport struct {
	// Columns are the file's columns, in its order, by their
	// UserImportColumns names.
	Columns []string
	Rows    []UserImportRow
}

// UserImportRow is one person of an import file.
type UserImportRow struct {
	// Line is the row's line in the file (the header is line 1).
	Line int
	// User holds the row's values; fields of columns the file lacks are
	// empty.
	User User
	// Departments are the codes of the row's departments column.
	Departments []string
}

// UserImportResult says what an import did.
type UserImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// Has reports whether the file has column.
func (im *UserImport) Has(column string) bool { return slices.Contains(im.Columns, column) }

// Apply sets the row's columns on u, a new user or an existing one whose
// other fields stay as they are. Departments are the store's to resolve
// (codes to ids).
func (im *UserImport) Apply(row *UserImportRow, u *User) {
	for _, c := range im.Columns {
		switch c {
		case "code":
			u.Code = row.User.Code
		case "name":
			u.Name = row.User.Name
		case "email":
			u.Email = row.User.Email
		case "mobile":
			u.Mobile = row.User.Mobile
		case "time_zone":
			u.TimeZone = row.User.TimeZone
		case "locale":
			u.Locale = row.User.Locale
		}
	}
}

// ImportCellField is the Field of an error about one cell of an import
// file: "lines[3].email" is the email column of the file's line 3.
// column is "" for a problem with the whole line.
func ImportCellField(line int, column string) string {
	f := "lines[" + strconv.Itoa(line) + "]"
	if column != "" {
		f += "." + column
	}
	return f
}

var reImportCell = regexp.MustCompile(`^lines\[([0-9]+)\](?:\.([a-z_]+))?$`)

// ImportCell reads back an ImportCellField.
func ImportCell(field string) (line int, column string, ok bool) {
	m := reImportCell.FindStringSubmatch(field)
	if m == nil {
		return 0, "", false
	}
	line, err := strconv.Atoi(m[1])
	return line, m[2], err == nil
}

// ImportUserError is an error about cell (line, column) of an import file.
func ImportUserError(line int, column, format string, args ...any) *Error {
	return Errorf(EINVALID, ImportCellField(line, column), format, args...)
}

// userColumn maps a User field an error names to the import column.
func userColumn(field string) string {
	if field == "department_ids" {
		return "departments"
	}
	return field
}

var reDeptSep = regexp.MustCompile(`[;|,\s]+`)

// ParseUserImport reads and checks an import file. A file with problems
// answers FieldErrors (EINVALID) naming each bad cell by ImportCellField;
// nothing is written by a parse.
func ParseUserImport(r io.Reader) (*UserImport, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, ImportUserError(1, "", "the file is empty: its first line must name the columns, e.g. %s", strings.Join(UserImportColumns, ","))
	} else if err != nil {
		return nil, csvError(err)
	}
	var problems FieldErrors
	im := &UserImport{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) // Excel's byte-order mark
		if a, ok := importAliases[h]; ok {
			h = a
		}
		switch {
		case !slices.Contains(UserImportColumns, h):
			problems = append(problems, ImportUserError(1, "", "column %d, %q, is not one of %s", i+1, header[i], strings.Join(UserImportColumns, ", ")))
		case im.Has(h):
			problems = append(problems, ImportUserError(1, h, "the column %s is named twice", h))
		}
		im.Columns = append(im.Columns, h)
	}
	for _, req := range []string{"code", "name"} {
		if !im.Has(req) {
			problems = append(problems, ImportUserError(1, req, "the header must name the column %s", req))
		}
	}
	if len(problems) > 0 {
		return nil, problems.Err()
	}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, csvError(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue // the next line can still be read
			}
			break
		}
		if len(im.Rows) == MaxUserImportRows {
			problems = append(problems, ImportUserError(line, "", "an import has at most %d users: split the file", MaxUserImportRows))
			break
		}
		row := UserImportRow{Line: line}
		for i, c := range im.Columns {
			v := strings.TrimSpace(rec[i])
			switch c {
			case "departments":
				for _, code := range reDeptSep.Split(v, -1) {
					if code != "" {
						row.Departments = append(row.Departments, code)
					}
				}
			default:
				row.setColumn(c, v)
			}
		}
		problems = append(problems, row.check(im)...)
		if row.User.Code != "" {
			if first, dup := seen[row.User.Code]; dup {
				problems = append(problems, ImportUserError(line, "code", "the code %s is also on line %d", row.User.Code, first))
			} else {
				seen[row.User.Code] = line
			}
		}
		im.Rows = append(im.Rows, row)
	}
	if len(problems) > 0 {
		return nil, problems.Err()
	}
	if len(im.Rows) == 0 {
		return nil, ImportUserError(2, "", "the file has a header but no users")
	}
	return im, nil
}

func (row *UserImportRow) setColumn(c, v string) {
	switch c {
	case "code":
		row.User.Code = v
	case "name":
		row.User.Name = v
	case "email":
		row.User.Email = v
	case "mobile":
		row.User.Mobile = v
	case "time_zone":
		row.User.TimeZone = v
	case "locale":
		row.User.Locale = v
	}
}

// check validates each cell of the row on its own, by User.Validate (the
// one rule for a user), so that every bad cell is named and not only the
// first of a line.
func (row *UserImportRow) check(im *UserImport) FieldErrors {
	var out FieldErrors
	for _, c := range im.Columns {
		if c == "departments" {
			for _, code := range row.Departments {
				if err := validateCode(c, code); err != nil {
					out = append(out, ImportUserError(row.Line, c, "%q is not a department code (1-128 letters, digits or _.@/+-)", code))
					break
				}
			}
			continue
		}
		// A user valid but for this one cell.
		u := User{Code: "x", Name: "x"}
		(&UserImport{Columns: []string{c}}).Apply(row, &u)
		for _, fe := range ErrorFields(u.Validate()) {
			out = append(out, ImportUserError(row.Line, userColumn(fe.Field), "%s", fe.Message))
		}
	}
	return out
}

// csvError turns a CSV syntax error into an error about its line.
func csvError(err error) *Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "the line does not have as many cells as the header has columns"
		}
		return ImportUserError(pe.Line, "", "%s", msg)
	}
	return Errorf(EINVALID, "file", "the file cannot be read as CSV: %v", err)
}

// ImportUsers reads an import file and, when every line is good, creates
// and updates its users through dir in one go. A bad file answers the
// FieldErrors of ParseUserImport (or of the store: an unknown department)
// and changes nothing.
func ImportUsers(ctx context.Context, dir DirectoryService, r io.Reader) (UserImportResult, error) {
	im, err := ParseUserImport(r)
	if err != nil {
		return UserImportResult{}, err
	}
	return dir.ImportUsers(ctx, im)
}

// String says what an import did, for logs.
func (r UserImportResult) String() string {
	return fmt.Sprintf("%d created, %d updated", r.Created, r.Updated)
}
