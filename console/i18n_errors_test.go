package console

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestErrorText_Chinese: a service error reads in Chinese on a Chinese
// page: known families by pattern, with the field's label for the member
// it names, and any other message after what kind of error it is.
func TestErrorText_Chinese(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{herald.Errorf(herald.EINVALID, "name", "name is required"), "名称为必填项"},
		{herald.Errorf(herald.EFORBIDDEN, "", "push 7 was submitted by this token (or its user); another approver must approve it, unless the tenant's push policy allows self-approval"),
			"推送 7 由当前令牌（或其用户）提交，须由其他审批人批准（除非租户的推送策略允许自审批）"},
		{herald.Errorf(herald.ENOTALLOWED, "status", "a push in status sent cannot approve"), "状态为“已发送”的推送不能“批准”"},
		{herald.Errorf(herald.EFORBIDDEN, "", "this token lacks the push:approve permission (code 1062)"), "当前令牌缺少 push:approve 权限（代码 1062）"},
		{herald.Errorf(herald.ECONFLICT, "", "something nobody translated"), "冲突： something nobody translated"},
		{herald.Errorf(herald.ENOTFOUND, "", "no such page"), "页面不存在"},
	} {
		if got := errorText(langZH, tc.err); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
		if got := errorText(langEN, tc.err); strings.ContainsFunc(got, func(r rune) bool { return r > 0x2e80 }) {
			t.Errorf("English %v: %q", tc.err, got)
		}
	}
}
