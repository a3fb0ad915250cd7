package herald_test

import (
	"testing"

	"github.com/heraldhq/herald"
)

// TestPushTransition checks the whole lifecycle table: every action from
// every status, allowed ones leading where the lifecycle says and the
// rest ENOTALLOWED.
func TestPushTransition(t *testing.T) {
	t.Parallel()
	allowed := map[herald.PushAction]map[herald.PushStatus]herald.PushStatus{
		herald.PushActionEdit:        {herald.PushDraft: herald.PushDraft},
		herald.PushActionSubmit:      {herald.PushDraft: herald.PushPendingApproval},
		herald.PushActionAutoApprove: {herald.PushDraft: herald.PushApproved},
		herald.PushActionApprove:     {herald.PushPendingApproval: herald.PushApproved},
		herald.PushActionReject:      {herald.PushPendingApproval: herald.PushRejected},
		herald.PushActionWithdraw:    {herald.PushPendingApproval: herald.PushDraft, herald.PushRejected: herald.PushDraft},
		herald.PushActionExecute:     {herald.PushApproved: herald.PushScheduled},
		herald.PushActionStart:       {herald.PushScheduled: herald.PushSending, herald.PushSending: herald.PushSending},
		herald.PushActionFinish:      {herald.PushSending: herald.PushSent},
		herald.PushActionCancel:      {herald.PushScheduled: herald.PushCancelled, herald.PushSending: herald.PushCancelled},
		herald.PushActionRecall:      {herald.PushScheduled: herald.PushRecalled, herald.PushSending: herald.PushRecalled, herald.PushSent: herald.PushRecalled},
	}
	for action, from := range allowed {
		for _, st := range herald.PushStatuses {
			got, err := herald.PushTransition(st, action)
			if want, ok := from[st]; ok {
				if err != nil || got != want {
					t.Errorf("%s from %s = %q, %v; want %s", action, st, got, err, want)
				}
			} else if herald.ErrorCode(err) != herald.ENOTALLOWED {
				t.Errorf("%s from %s = %q, %v; want not_allowed", action, st, got, err)
			}
		}
	}
	if _, err := herald.PushTransition(herald.PushDraft, "fly"); herald.ErrorCode(err) != herald.EINVALID {
		t.Errorf("unknown action: %v", err)
	}
}

func intp(v int) *int { return &v }

// TestPush_Validate checks the vendor's combinations of type and scope.
func TestPush_Validate(t *testing.T) {
	t.Parallel()
	base := func() herald.Push {
		return herald.Push{JobName: "notice", Content: "hello", PushType: 0, ScopeType: 0}
	}
	for _, tc := range []struct {
		name  string
		edit  func(p *herald.Push)
		field string // "" means valid
	}{
		{"all members", func(p *herald.Push) {}, ""},
		{"all members keeps unused lists", func(p *herald.Push) { p.UserIDs, p.DepartmentIDs, p.ChatIDs = []int64{1}, []int64{2}, []int64{3} }, ""},
		{"card", func(p *herald.Push) { p.Content = `{"elements":[]}` }, ""},
		{"bad card", func(p *herald.Push) { p.Content = `{"elements":` }, "content"},
		{"no name", func(p *herald.Push) { p.JobName = "" }, "job_name"},
		{"no content", func(p *herald.Push) { p.Content = " " }, "content"},
		{"scheduled with new staff scope", func(p *herald.Push) { p.ScopeType = 3 }, "push_scope_type"},
		{"new staff with scope 2", func(p *herald.Push) { p.PushType, p.ScopeType, p.NewStaffScopeType = 1, 2, intp(0) }, "push_scope_type"},
		{"new staff without scope type", func(p *herald.Push) { p.PushType, p.ScopeType = 1, 3 }, "new_staff_scope_type"},
		{"new staff", func(p *herald.Push) { p.PushType, p.ScopeType, p.NewStaffScopeType = 1, 3, intp(0) }, ""},
		{"new staff departments without list", func(p *herald.Push) { p.PushType, p.ScopeType, p.NewStaffScopeType = 1, 3, intp(1) }, "new_staff_department_ids"},
		{"chats only without chats", func(p *herald.Push) { p.ScopeType = 1 }, "chat_ids"},
		{"chats only", func(p *herald.Push) { p.ScopeType, p.ChatIDs = 1, []int64{1} }, ""},
		{"given without anyone", func(p *herald.Push) { p.ScopeType = 2 }, "user_ids"},
		{"given departments", func(p *herald.Push) { p.ScopeType, p.DepartmentIDs = 2, []int64{1} }, ""},
		{"unknown scope", func(p *herald.Push) { p.ScopeType = 4 }, "push_scope_type"},
		{"unknown type", func(p *herald.Push) { p.PushType = 2 }, "push_type"},
		{"unknown content type", func(p *herald.Push) { p.ContentType = "html" }, "content_type"},
	} {
		p := base()
		tc.edit(&p)
		err := p.Validate()
		if tc.field == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if tc.field != "" && (herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tc.field) {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
}
