package herald

import (
	"regexp"
	"strconv"
	"unicode/utf8"
)

var (
	reExternal32 = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	reCode       = regexp.MustCompile(`^[A-Za-z0-9_.@/+\-]{1,128}$`)
	rePositive   = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
)

// IsExternalID32 reports whether s is a 32-character letters-and-digits id,
// as the CodeArts pages require of job, application and project ids.
func IsExternalID32(s string) bool { return reExternal32.MatchString(s) }

func indexField(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

func subField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func validateName(field, s string) error {
	if s == "" {
		return Errorf(EINVALID, field, "%s is required", field)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
		return Errorf(EINVALID, field, "%s must be valid text of at most 200 characters", field)
	}
	return nil
}

func validateCode(field, s string) error {
	if !reCode.MatchString(s) {
		return Errorf(EINVALID, field, "%s must be 1-128 letters, digits or _.@/+-", field)
	}
	return nil
}

func validateOptional(field, s string, max int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return Errorf(EINVALID, field, "%s must be valid text of at most %d characters", field, max)
	}
	return nil
}
