package herald_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestRecipientValidate_FieldEntityCodes applies Kintone's field code rules
// to FIELD_ENTITY codes: Unicode letters and digits, _ ＿ · ･ ・ and the
// full-width currency symbols, 1 to 128 characters, not starting with a
// digit; native role names stay valid.
func TestRecipientValidate_FieldEntityCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code  string
		valid bool
	}{
		{"作成者", true}, // Created By in a Japanese app
		{"担当者", true},
		{"更新者", true},
		{"CREATOR", true},
		{"creator", true},
		{"user_select", true},
		{"ＵＳＥＲ１", true},
		{"顧客・担当", true},
		{"担当･者", true},
		{"受付·担当", true},
		{"担当＿者", true},
		{"金額＄", true},
		{"¥￥", false}, // the half-width yen is not allowed
		{"￥担当", true},
		{"ｶﾀｶﾅ", true},
		{"_1", true},
		{"build.owner", true}, // a native role name
		{"job-owner", true},
		{strings.Repeat("担", 128), true},
		{strings.Repeat("担", 129), false},
		{"", false},
		{"1st", false},
		{"１番", false}, // a full-width digit first
		{"has space", false},
		{"全角　空白", false},
		{"a(b)", false},
		{"【担当】", false},
		{"「担当」", false},
		{"a@b", false},
		{"a+b", false},
		{"a;b", false},
		{"a\x00b", false},
		{"\xff", false},
	} {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			err := herald.Recipient{Type: herald.EntityFieldEntity, Code: tt.code}.Validate("r")
			if tt.valid && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.valid {
				if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "r.code" {
					t.Errorf("err %v, want EINVALID on r.code", err)
				}
			}
		})
	}
}

// TestEventValidate_FieldCodeRoles shows an event may carry a role named
// by a Kintone field code, so that a FIELD_ENTITY recipient of that code
// can match it.
func TestEventValidate_FieldCodeRoles(t *testing.T) {
	t.Parallel()
	e := &herald.Event{SourceID: 1, Type: "record.added", Roles: map[string][]string{"作成者": {"ann"}, "Creator": {"bob"}}}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := e.Roles["作成者"]; len(got) != 1 || got[0] != "ann" {
		t.Errorf("roles %v", e.Roles)
	}
	bad := &herald.Event{SourceID: 1, Type: "record.added", Roles: map[string][]string{"担 当": {"ann"}}}
	if err := bad.Validate(); herald.ErrorCode(err) != herald.EINVALID {
		t.Errorf("a role name with a space: %v", err)
	}
}
