package herald

import (
	"unicode"
	"unicode/utf8"
)

// maxFieldCode is the longest Kintone field code, in characters.
const maxFieldCode = 128

// IsFieldCode reports whether s is a field code as Kintone allows one
// (its help page "Overview of Field Codes"): 1 to 128 characters, each a
// letter or digit of any script (hiragana, katakana of either width,
// kanji, Latin letters and digits of either width …) or one of the
// symbols _ ＿ · ･ ・ and the full-width currency symbols ＄ ￠ ￡ ￥ ￦;
// the first is not a digit. Spaces, brackets and every other symbol are
// refused. Combining marks are kept after the first character (a
// decomposed が). The strings Kintone keeps for its system fields (作成者,
// 更新者, ステータス, 作業者 …) are valid: they are those fields' own
// codes, which is what a FIELD_ENTITY names.
func IsFieldCode(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxFieldCode {
		return false
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r), fieldCodeSymbol(r):
		case unicode.IsDigit(r), unicode.IsMark(r):
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fieldCodeSymbol reports whether r is one of the symbols a Kintone field
// code may hold.
func fieldCodeSymbol(r rune) bool {
	switch r {
	case '_', '＿', '·', '･', '・', '＄', '￠', '￡', '￥', '￦':
		return true
	}
	return false
}

// IsRoleName reports whether s may name a role of an event, and so be the
// code of a FIELD_ENTITY recipient: a native role name (a letter, then up
// to 63 ASCII letters, digits or _./-, such as creator or build.owner) or a
// Kintone field code (IsFieldCode). Roles match case-insensitively.
func IsRoleName(s string) bool {
	return reRole.MatchString(s) || IsFieldCode(s)
}

// validateRoleName returns EINVALID naming field unless s is a role name.
func validateRoleName(field, s string) error {
	if !IsRoleName(s) {
		return Errorf(EINVALID, field, "%s must be a role name or a Kintone field code: 1-128 letters, digits or _＿·・＄￥, not starting with a digit", field)
	}
	return nil
}
