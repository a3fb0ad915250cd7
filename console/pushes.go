package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// pushActions are the buttons of a push row: each shown only in the
// statuses its transition starts from.
var pushActions = []herald.PushAction{herald.PushActionSubmit, herald.PushActionWithdraw, herald.PushActionApprove,
	herald.PushActionReject, herald.PushActionExecute, herald.PushActionCancel, herald.PushActionRecall}

type pushRow struct {
	*herald.Push
	Actions []herald.PushAction
}

type pushesData struct {
	Pushes   []pushRow
	Next     string
	Status   string
	Statuses []herald.PushStatus
	CanWrite bool
}

func (c *Console) handlePushes(w http.ResponseWriter, r *http.Request, v *view) error {
	d := pushesData{Status: r.URL.Query().Get("status"), Statuses: herald.PushStatuses, CanWrite: can(r.Context(), herald.ResPush, herald.ActUpdate)}
	if !slices.Contains(herald.PushStatuses, herald.PushStatus(d.Status)) {
		d.Status = ""
	}
	ps, next, err := c.Pushes.FindPushes(r.Context(), herald.PushFilter{Status: herald.PushStatus(d.Status)}, pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	for _, push := range ps {
		row := pushRow{Push: push}
		for _, a := range pushActions {
			if slices.Contains(herald.PushAllowedFrom(a), push.Status) {
				row.Actions = append(row.Actions, a)
			}
		}
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

func (c *Console) handlePushAction(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "id", false)
	if err != nil {
		return err
	}
	ctx, f := r.Context(), r.PostForm
	switch herald.PushAction(f.Get("action")) {
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
