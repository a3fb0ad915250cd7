package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// pushActionLabels are the buttons of a push row, in the order shown.
// Which of them a row gets is the push service's decision
// (PushService.PushActions: the status, the access policy and the approval
// rule); the console adds nothing. Editing has no page of its own.
var pushActionLabels = map[herald.PushAction]string{
	herald.PushActionSubmit:   "Submit for approval",
	herald.PushActionWithdraw: "Withdraw",
	herald.PushActionApprove:  "Approve",
	herald.PushActionReject:   "Reject",
	herald.PushActionExecute:  "Send…",
	herald.PushActionCancel:   "Cancel sending",
	herald.PushActionRecall:   "Recall…",
}

// pushStatusLabels name the statuses as people say them.
var pushStatusLabels = map[herald.PushStatus]string{
	herald.PushDraft: "Draft", herald.PushPendingApproval: "Pending approval", herald.PushApproved: "Approved",
	herald.PushRejected: "Rejected", herald.PushScheduled: "Scheduled", herald.PushSending: "Sending",
	herald.PushSent: "Sent", herald.PushCancelled: "Cancelled", herald.PushRecalled: "Recalled",
}

// pushConfirmLabels title the confirmation step of each action that has one.
var pushConfirmLabels = map[herald.PushAction]string{herald.PushActionExecute: "Send push", herald.PushActionRecall: "Recall push"}

// needsConfirm reports whether action needs the confirmation step: sending
// and recalling reach people and cannot be taken back.
func needsConfirm(a herald.PushAction) bool {
	return a == herald.PushActionExecute || a == herald.PushActionRecall
}

type pushButton struct {
	Action herald.PushAction
	Label  string
}

type pushRow struct {
	*herald.Push
	StatusLabel string
	Buttons     []pushButton
	// AwaitsOther: pending, and this principal may not approve it (its
	// own submission, or no push:approve).
	AwaitsOther bool
}

type statusOption struct {
	Value herald.PushStatus
	Label string
}

type pushesData struct {
	Pushes    []pushRow
	Next      string
	Status    string
	Statuses  []statusOption
	CanCreate bool
	// SelfApproval is the tenant's push policy; CanSetPolicy whether this
	// principal may change it (an admin).
	SelfApproval bool
	CanSetPolicy bool
}

func (c *Console) handlePushes(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	d := pushesData{Status: r.URL.Query().Get("status"), CanCreate: can(ctx, herald.ResPush, herald.ActCreate)}
	for _, s := range herald.PushStatuses {
		d.Statuses = append(d.Statuses, statusOption{s, pushStatusLabels[s]})
	}
	if !slices.Contains(herald.PushStatuses, herald.PushStatus(d.Status)) {
		d.Status = ""
	}
	ps, next, err := c.Pushes.FindPushes(ctx, herald.PushFilter{Status: herald.PushStatus(d.Status)}, pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	acts, err := c.Pushes.PushActions(ctx, ps)
	if err != nil {
		return err
	}
	pol, err := c.Pushes.FindPushPolicy(ctx)
	if err != nil {
		return err
	}
	d.SelfApproval, d.CanSetPolicy = pol.SelfApproval, can(ctx, herald.ResPushPolicy, herald.ActUpdate)
	for _, push := range ps {
		row := pushRow{Push: push, StatusLabel: pushStatusLabels[push.Status]}
		for _, a := range acts[push.ID] {
			if l, ok := pushActionLabels[a]; ok {
				row.Buttons = append(row.Buttons, pushButton{a, l})
			}
		}
		row.AwaitsOther = push.Status == herald.PushPendingApproval && !slices.Contains(acts[push.ID], herald.PushActionApprove)
		d.Pushes = append(d.Pushes, row)
	}
	if next != "" {
		d.Next = withQuery(r, "cursor", next)
	}
	return c.page(w, "pushes", "Pushes", v, d)
}

// ids reads a comma-separated list of ids.
func ids(field, s string) ([]int64, error) {
	var out []int64
	for _, p := range splitList(s) {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return nil, herald.Errorf(herald.EINVALID, field, "%s must be ids separated by commas", field)
		}
		out = append(out, id)
	}
	return out, nil
}

func (c *Console) handleCreatePush(w http.ResponseWriter, r *http.Request, v *view) error {
	f := r.PostForm
	p := &herald.Push{JobName: strings.TrimSpace(f.Get("job_name")), ContentType: f.Get("content_type"), Content: f.Get("content"),
		PushType: herald.PushTypeScheduled, ScopeType: herald.PushScopeAll}
	if f.Get("scope") == "given" {
		p.ScopeType = herald.PushScopeGiven
	}
	var err error
	if p.UserIDs, err = ids("user_ids", f.Get("user_ids")); err != nil {
		return err
	}
	if p.DepartmentIDs, err = ids("department_ids", f.Get("department_ids")); err != nil {
		return err
	}
	if err := c.Pushes.CreatePush(r.Context(), p); err != nil {
		return err
	}
	return redirect(w, r, "/console/pushes", "Push created.")
}

// pushConfirmData is the confirmation step of a send or a recall: what
// the push says, and whom it reaches.
type pushConfirmData struct {
	Push        *herald.Push
	Preview     *herald.PushPreview
	Action      herald.PushAction
	StatusLabel string
}

func (c *Console) handlePushAction(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "id", false)
	if err != nil {
		return err
	}
	ctx, f := r.Context(), r.PostForm
	action := herald.PushAction(f.Get("action"))
	if needsConfirm(action) && f.Get("confirmed") != "yes" {
		// The row's button asks first: the push as its recipients will
		// see it, and how many people it reaches.
		p, err := c.Pushes.FindPushByID(ctx, id)
		if err != nil {
			return err
		}
		if _, err := herald.PushTransition(p.Status, action); err != nil {
			return err
		}
		pv, err := c.Pushes.PreviewPush(ctx, id)
		if err != nil {
			return err
		}
		return c.page(w, "push_confirm", pushConfirmLabels[action], v, pushConfirmData{Push: p, Preview: pv, Action: action, StatusLabel: pushStatusLabels[p.Status]})
	}
	switch action {
	case herald.PushActionSubmit:
		_, err = c.Pushes.SubmitPush(ctx, id, f.Get("reason"))
	case herald.PushActionWithdraw:
		_, err = c.Pushes.WithdrawPush(ctx, id)
	case herald.PushActionApprove:
		_, err = c.Pushes.ApprovePush(ctx, id)
	case herald.PushActionReject:
		_, err = c.Pushes.RejectPush(ctx, id, f.Get("reason"))
	case herald.PushActionExecute:
		var at time.Time
		if s := strings.TrimSpace(f.Get("send_at")); s != "" {
			// A datetime-local input, in UTC as the pages show times.
			if at, err = time.Parse("2006-01-02T15:04", s); err != nil {
				return herald.Errorf(herald.EINVALID, "send_at", "send_at must be a date and time")
			}
		}
		_, err = c.Pushes.ExecutePush(ctx, id, at)
	case herald.PushActionCancel:
		_, err = c.Pushes.CancelPush(ctx, id, false)
	case herald.PushActionRecall:
		_, err = c.Pushes.CancelPush(ctx, id, true)
	default:
		return herald.Errorf(herald.EINVALID, "action", "unknown push action")
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/console/pushes", "Push updated.")
}

// handlePushPolicy sets the tenant's push policy from the pushes page.
func (c *Console) handlePushPolicy(w http.ResponseWriter, r *http.Request, v *view) error {
	pol := &herald.PushPolicy{SelfApproval: r.PostForm.Get("self_approval") == "on"}
	if err := c.Pushes.UpdatePushPolicy(r.Context(), pol); err != nil {
		return err
	}
	return redirect(w, r, "/console/pushes", "Push policy saved.")
}
