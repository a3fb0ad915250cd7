package herald

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// PermPushApprove lets a token approve or reject pushes submitted for
// approval. Whether it may approve its own submission is the tenant's
// PushPolicy.
const PermPushApprove Permission = "push:approve"

// PushStatus is where a push is in its lifecycle.
type PushStatus string

// Push statuses. A push is edited in draft, submitted for approval
// (approved at once only when the tenant allows self-approval and the
// submitter may approve), executed now or at
// send_at (scheduled), sent by the queue (sending, then sent), and may be
// cancelled while scheduled or sending, or recalled once sent.
const (
	PushDraft           PushStatus = "draft"
	PushPendingApproval PushStatus = "pending_approval"
	PushApproved        PushStatus = "approved"
	PushRejected        PushStatus = "rejected"
	PushScheduled       PushStatus = "scheduled"
	PushSending         PushStatus = "sending"
	PushSent            PushStatus = "sent"
	PushCancelled       PushStatus = "cancelled"
	PushRecalled        PushStatus = "recalled"
)

// PushStatuses lists every push status in lifecycle order.
var PushStatuses = []PushStatus{PushDraft, PushPendingApproval, PushApproved, PushRejected, PushScheduled, PushSending, PushSent, PushCancelled, PushRecalled}

// PushAction is an operation that moves a push between statuses.
type PushAction string

// Push actions.
const (
	PushActionEdit        PushAction = "edit"         // change the push's fields
	PushActionSubmit      PushAction = "submit"       // ask for approval
	PushActionAutoApprove PushAction = "auto_approve" // submit, by an approver where the policy allows self-approval
	PushActionApprove     PushAction = "approve"
	PushActionReject      PushAction = "reject"
	PushActionWithdraw    PushAction = "withdraw" // cancel_approve: back to draft
	PushActionExecute     PushAction = "execute"  // send now or at send_at
	PushActionStart       PushAction = "start"    // the queue begins sending
	PushActionFinish      PushAction = "finish"   // the queue has handed every message to its channel
	PushActionCancel      PushAction = "cancel"   // cancel_send without recall
	PushActionRecall      PushAction = "recall"   // cancel_send with is_recall
)

// pushTransitions is the lifecycle: for each action, the statuses it may
// start from and the status it leads to. Anything else is ENOTALLOWED.
var pushTransitions = map[PushAction]struct {
	from []PushStatus
	to   PushStatus
}{
	PushActionEdit:        {[]PushStatus{PushDraft}, PushDraft},
	PushActionSubmit:      {[]PushStatus{PushDraft}, PushPendingApproval},
	PushActionAutoApprove: {[]PushStatus{PushDraft}, PushApproved},
	PushActionApprove:     {[]PushStatus{PushPendingApproval}, PushApproved},
	PushActionReject:      {[]PushStatus{PushPendingApproval}, PushRejected},
	PushActionWithdraw:    {[]PushStatus{PushPendingApproval, PushRejected}, PushDraft},
	PushActionExecute:     {[]PushStatus{PushApproved}, PushScheduled},
	PushActionStart:       {[]PushStatus{PushScheduled, PushSending}, PushSending},
	PushActionFinish:      {[]PushStatus{PushSending}, PushSent},
	PushActionCancel:      {[]PushStatus{PushScheduled, PushSending}, PushCancelled},
	PushActionRecall:      {[]PushStatus{PushScheduled, PushSending, PushSent}, PushRecalled},
}

// PushTransition returns the status action leads to from status, or
// ENOTALLOWED when the lifecycle does not allow it.
func PushTransition(status PushStatus, action PushAction) (PushStatus, error) {
	t, ok := pushTransitions[action]
	if !ok {
		return "", Errorf(EINVALID, "action", "unknown push action %q", action)
	}
	for _, f := range t.from {
		if f == status {
			return t.to, nil
		}
	}
	return "", Errorf(ENOTALLOWED, "status", "a push in status %s cannot %s", status, strings.ReplaceAll(string(action), "_", "-"))
}

// PushAllowedFrom lists the statuses action may start from.
func PushAllowedFrom(action PushAction) []PushStatus {
	return append([]PushStatus(nil), pushTransitions[action].from...)
}

// Push types.
const (
	PushTypeScheduled = 0 // a broadcast sent once, now or at send_at
	PushTypeNewStaff  = 1 // sent to each new member while the push is active
)

// Push scopes: who the push reaches besides its chats.
const (
	PushScopeAll      = 0 // every user of the tenant
	PushScopeChats    = 1 // no user: only the chats of chat_ids
	PushScopeGiven    = 2 // user_ids and the members of department_ids (with sub-departments)
	PushScopeNewStaff = 3 // users created while the push is active
)

// New-staff scopes.
const (
	NewStaffAll         = 0 // every new user
	NewStaffDepartments = 1 // new users in new_staff_department_ids (with sub-departments)
)

// Push content types.
const (
	PushContentText = "text"
	PushContentCard = "card" // a Feishu/Lark card, as JSON
)

// PushActor is who created or last changed a push: the token, and the
// directory user whose code is the token's name when there is one (a
// token acts for no user otherwise).
type PushActor struct {
	UserID    int64  `json:"user_id,omitempty"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

// Push is a broadcast to many people: the inboxes of the users its scope
// resolves to, and the robots of its chats. Chats are independent of the
// scope (as the vendor page says); lists the scope does not use are kept
// but do not target anyone.
type Push struct {
	ID                    int64      `json:"id"`
	JobName               string     `json:"job_name"`
	ContentType           string     `json:"content_type"`
	Content               string     `json:"content"`
	PushType              int        `json:"push_type"`
	ScopeType             int        `json:"push_scope_type"`
	NewStaffScopeType     *int       `json:"new_staff_scope_type"`
	NewStaffDepartmentIDs []int64    `json:"new_staff_department_ids"`
	UserIDs               []int64    `json:"user_ids"`
	DepartmentIDs         []int64    `json:"department_ids"`
	ChatIDs               []int64    `json:"chat_ids"`
	SendAt                *time.Time `json:"send_at"`
	Ext                   string     `json:"ext"`
	Status                PushStatus `json:"status"`
	// Reason is the submitter's reason for approval; RejectReason the
	// approver's reason for a rejection.
	Reason       string `json:"reason"`
	RejectReason string `json:"reject_reason"`
	// The counts are true: target is the distinct users the scope reaches
	// (until the push starts sending, whom it would reach now; from then,
	// whom it was sent to; none for one cancelled unsent), sent those whose
	// delivery succeeded, read those who read it in their inbox.
	TargetUserCount int        `json:"target_user_count"`
	SentUserCount   int        `json:"sent_user_count"`
	ReadUserCount   int        `json:"read_user_count"`
	CreatedBy       PushActor  `json:"created_by"`
	UpdatedBy       PushActor  `json:"updated_by"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	StartedAt       *time.Time `json:"started_at,omitempty"` // when sending began; new staff are users created after it
	SentAt          *time.Time `json:"sent_at,omitempty"`
	// Submitter is who last submitted the push for approval (zero before
	// a submission): the approval rule compares it with the approver.
	Submitter PushSubmitter `json:"-"`
}

// Bounds on a push.
const (
	maxPushContent = 256 << 10
	maxPushList    = 10000
)

// Validate checks a push's fields and the vendor's combinations: a
// scheduled push may not use scope 3; a new-staff push needs scope 1 or 3
// and new_staff_scope_type (1 needing departments); scope 0 takes no user
// or department lists (except that lists given with another scope's
// meaning are kept: see Push); scope 1 needs chats; scope 2 needs users
// or departments. A card is a JSON object.
func (p *Push) Validate() error {
	if err := checkText(p); err != nil {
		return err
	}
	if err := validateName("job_name", p.JobName); err != nil {
		return err
	}
	switch p.ContentType {
	case "":
		p.ContentType = PushContentText
		if t := strings.TrimSpace(p.Content); strings.HasPrefix(t, "{") {
			p.ContentType = PushContentCard
		}
	case PushContentText, PushContentCard:
	default:
		return Errorf(EINVALID, "content_type", "content_type must be text or card")
	}
	if strings.TrimSpace(p.Content) == "" {
		return Errorf(EINVALID, "content", "content is required")
	}
	if len(p.Content) > maxPushContent {
		return Errorf(EINVALID, "content", "content must be at most %d bytes", maxPushContent)
	}
	if p.ContentType == PushContentCard {
		var obj map[string]any
		if err := json.Unmarshal([]byte(p.Content), &obj); err != nil {
			return Errorf(EINVALID, "content", "a card must be a JSON object: %v", err)
		}
		if err := checkJSONText("content", []byte(p.Content)); err != nil {
			return err
		}
	}
	for f, l := range map[string][]int64{"user_ids": p.UserIDs, "department_ids": p.DepartmentIDs, "chat_ids": p.ChatIDs, "new_staff_department_ids": p.NewStaffDepartmentIDs} {
		if len(l) > maxPushList {
			return Errorf(EINVALID, f, "%s holds at most %d ids", f, maxPushList)
		}
	}
	if len(p.Ext) > 10000 {
		return Errorf(EINVALID, "ext", "ext must be at most 10000 characters")
	}
	switch p.ScopeType {
	case PushScopeAll, PushScopeChats, PushScopeGiven, PushScopeNewStaff:
	default:
		return Errorf(EINVALID, "push_scope_type", "push_scope_type must be 0 (all members), 1 (chats only), 2 (given users and departments) or 3 (new staff)")
	}
	switch p.PushType {
	case PushTypeScheduled:
		if p.ScopeType == PushScopeNewStaff {
			return Errorf(EINVALID, "push_scope_type", "a scheduled push (push_type 0) cannot use push_scope_type 3")
		}
	case PushTypeNewStaff:
		if p.ScopeType != PushScopeChats && p.ScopeType != PushScopeNewStaff {
			return Errorf(EINVALID, "push_scope_type", "a new-staff push (push_type 1) needs push_scope_type 1 or 3")
		}
		if p.NewStaffScopeType == nil {
			return Errorf(EINVALID, "new_staff_scope_type", "a new-staff push (push_type 1) needs new_staff_scope_type")
		}
	default:
		return Errorf(EINVALID, "push_type", "push_type must be 0 (scheduled) or 1 (new staff)")
	}
	if p.NewStaffScopeType != nil {
		switch *p.NewStaffScopeType {
		case NewStaffAll:
		case NewStaffDepartments:
			if p.PushType == PushTypeNewStaff && len(p.NewStaffDepartmentIDs) == 0 {
				return Errorf(EINVALID, "new_staff_department_ids", "new_staff_scope_type 1 needs new_staff_department_ids")
			}
		default:
			return Errorf(EINVALID, "new_staff_scope_type", "new_staff_scope_type must be 0 (all new staff) or 1 (given departments)")
		}
	}
	switch p.ScopeType {
	case PushScopeChats:
		if len(p.ChatIDs) == 0 {
			return Errorf(EINVALID, "chat_ids", "push_scope_type 1 (chats only) needs chats")
		}
	case PushScopeGiven:
		if len(p.UserIDs) == 0 && len(p.DepartmentIDs) == 0 {
			return Errorf(EINVALID, "user_ids", "push_scope_type 2 needs users or departments")
		}
	}
	for _, l := range []*[]int64{&p.UserIDs, &p.DepartmentIDs, &p.ChatIDs, &p.NewStaffDepartmentIDs} {
		if *l == nil {
			*l = []int64{}
		}
	}
	return nil
}

// PushFilter narrows FindPushes.
type PushFilter struct {
	Status PushStatus
}

// Validate checks a filter's status.
func (f PushFilter) Validate() error {
	if err := ValidText("status", string(f.Status)); err != nil {
		return err
	}
	if f.Status != "" && !slices.Contains(PushStatuses, f.Status) {
		return Errorf(EINVALID, "status", "unknown push status %q", f.Status)
	}
	return nil
}

// maxPushReason bounds a submitter's or an approver's reason.
const maxPushReason = 2000

// ValidatePushReason checks the reason given when submitting (optional) or
// rejecting (required) a push.
func ValidatePushReason(reason string, required bool) error {
	if err := ValidText("reason", reason); err != nil {
		return err
	}
	if required && reason == "" {
		return Errorf(EINVALID, "reason", "a reason of 1-%d characters is required to reject", maxPushReason)
	}
	if len(reason) > maxPushReason {
		return Errorf(EINVALID, "reason", "reason must be at most %d characters", maxPushReason)
	}
	return nil
}

// PushPreview is what a push's recipients will see.
type PushPreview struct {
	Title       string          `json:"title"`
	Body        string          `json:"body"`
	Card        json.RawMessage `json:"card,omitempty"`
	ContentType string          `json:"content_type"`
}

// PushService manages broadcast pushes. Every transition the lifecycle
// forbids is ENOTALLOWED; a push of another tenant is ENOTFOUND.
type PushService interface {
	FindPushByID(ctx context.Context, id int64) (*Push, error)
	FindPushes(ctx context.Context, f PushFilter, page Page) ([]*Push, string, error)
	// CreatePush creates a push in draft, created by the context's token.
	CreatePush(ctx context.Context, p *Push) error
	// UpdatePush saves a push's fields; only a draft may change.
	UpdatePush(ctx context.Context, p *Push) error
	// PreviewPush renders the push as its recipients will see it.
	PreviewPush(ctx context.Context, id int64) (*PushPreview, error)
	// SubmitPush asks for approval, recording the submitter; where the
	// push policy allows self-approval, a submitter holding push:approve
	// approves at once (PushSubmitAction).
	SubmitPush(ctx context.Context, id int64, reason string) (*Push, error)
	// WithdrawPush takes a pending (or rejected) push back to draft.
	WithdrawPush(ctx context.Context, id int64) (*Push, error)
	// ApprovePush and RejectPush decide a pending push (push:approve);
	// its submitter may not approve it unless the push policy allows
	// self-approval (CheckPushApprover).
	ApprovePush(ctx context.Context, id int64) (*Push, error)
	RejectPush(ctx context.Context, id int64, reason string) (*Push, error)
	// ExecutePush schedules an approved push for sendAt (zero or past:
	// now); the job that sends it is stored in the same transaction.
	ExecutePush(ctx context.Context, id int64, sendAt time.Time) (*Push, error)
	// CancelPush cancels a scheduled or sending push; with recall, it also
	// removes the inbox messages it delivered (allowed once sent too).
	CancelPush(ctx context.Context, id int64, recall bool) (*Push, error)
	// FindPushPolicy and UpdatePushPolicy read and set the tenant's
	// approval rule.
	FindPushPolicy(ctx context.Context) (*PushPolicy, error)
	UpdatePushPolicy(ctx context.Context, pol *PushPolicy) error
	// PushActions lists, for each of ps, the actions the context's
	// principal may take on it now (see PushActionsOf).
	PushActions(ctx context.Context, ps []*Push) (PushActionsOf, error)
}

// PushDirectory finds the people, departments and chats a push names by
// the vendor's ids and back; reading them is part of reading pushes.
type PushDirectory interface {
	// FindUsersByIMIDs finds users by their IM id of kind open_id,
	// union_id or user_id.
	FindUsersByIMIDs(ctx context.Context, kind string, ids []string) ([]*User, error)
	FindUsersByIDs(ctx context.Context, ids []int64) ([]*User, error)
	FindDepartmentsByCodes(ctx context.Context, codes []string) ([]*Department, error)
	FindDepartmentsByIDs(ctx context.Context, ids []int64) ([]*Department, error)
	FindChatsByCodes(ctx context.Context, codes []string) ([]*Chat, error)
	FindChatsByIDs(ctx context.Context, ids []int64) ([]*Chat, error)
}

// PushPolicy is the tenant's rule for approving pushes. Pushes are the
// tenant's (no project owns one), so the rule is too.
type PushPolicy struct {
	// SelfApproval lets a submitter holding push:approve approve their
	// own push: submitting it approves it at once. Off (the default), a
	// push always waits for approval and another principal approves it.
	SelfApproval bool `json:"self_approval"`
}

// PushSubmitter is who submitted a push for approval: the token, and the
// directory user the token acts for (its name is the user's code), 0 when
// none.
type PushSubmitter struct {
	TokenID int64
	UserID  int64
}

// Is reports whether the token tokenID, acting for the user userID (0:
// none), is the submitter: the same token, or another token of the same
// person.
func (s PushSubmitter) Is(tokenID, userID int64) bool {
	return (s.TokenID != 0 && s.TokenID == tokenID) || (s.UserID != 0 && s.UserID == userID)
}

// PushSubmitAction is what submitting a push does for pr under pol: it
// waits for approval, unless the policy allows self-approval and pr may
// approve, when it is approved at once.
func PushSubmitAction(pr *Principal, pol PushPolicy) PushAction {
	if pol.SelfApproval && pr.Has(PermPushApprove) {
		return PushActionAutoApprove
	}
	return PushActionSubmit
}

// CheckPushApprover refuses the approval of p by its own submitter (the
// token tokenID acting for userID) unless pol allows self-approval:
// another principal must approve it.
func CheckPushApprover(p *Push, tokenID, userID int64, pol PushPolicy) error {
	if !pol.SelfApproval && p.Submitter.Is(tokenID, userID) {
		return Errorf(EFORBIDDEN, "", "push %d was submitted by this token (or its user); another approver must approve it, unless the tenant's push policy allows self-approval", p.ID)
	}
	return nil
}

// PushActionsOf lists the actions a principal may take on each push: the
// ones its status allows, that Policy admits for the principal, and, for
// approve, that the approval rule admits. Surfaces show these and no
// other.
type PushActionsOf map[int64][]PushAction

// PushUserActions are the actions a person takes on a push (the queue
// takes start and finish), in the order surfaces show them.
var PushUserActions = []PushAction{PushActionEdit, PushActionSubmit, PushActionWithdraw, PushActionApprove,
	PushActionReject, PushActionExecute, PushActionCancel, PushActionRecall}

// AllowedPushActions is the rule behind PushService.PushActions: the
// actions of PushUserActions that p's status allows, that Policy admits
// for ctx's principal (approve and reject need push:approve, the rest
// push:write), and, for approve, that CheckPushApprover admits (userID is
// the directory user the principal acts for, 0: none).
func AllowedPushActions(ctx context.Context, p *Push, userID int64, pol PushPolicy) []PushAction {
	var out []PushAction
	for _, a := range PushUserActions {
		if !slices.Contains(PushAllowedFrom(a), p.Status) {
			continue
		}
		act := ActUpdate
		if a == PushActionApprove || a == PushActionReject {
			act = ActApprove
		}
		pr, err := Authorize(ctx, ResPush, act)
		if err != nil {
			continue
		}
		if a == PushActionApprove && CheckPushApprover(p, pr.TokenID, userID, pol) != nil {
			continue
		}
		out = append(out, a)
	}
	return out
}
