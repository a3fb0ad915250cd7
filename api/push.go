package api

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// Pushes are tenant-wide, like the directory they target. Every handler
// that takes an id finds the push first, so a foreign id is 404 whatever
// the body.

// pushInput is what a client may write of a push; the status, counts,
// actors and times are the server's.
type pushInput struct {
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
}

func inputOf(p *herald.Push) pushInput {
	return pushInput{JobName: p.JobName, ContentType: p.ContentType, Content: p.Content, PushType: p.PushType, ScopeType: p.ScopeType,
		NewStaffScopeType: p.NewStaffScopeType, NewStaffDepartmentIDs: p.NewStaffDepartmentIDs, UserIDs: p.UserIDs,
		DepartmentIDs: p.DepartmentIDs, ChatIDs: p.ChatIDs, SendAt: p.SendAt, Ext: p.Ext}
}

func (in pushInput) apply(p *herald.Push) {
	p.JobName, p.ContentType, p.Content, p.PushType, p.ScopeType = in.JobName, in.ContentType, in.Content, in.PushType, in.ScopeType
	p.NewStaffScopeType, p.NewStaffDepartmentIDs, p.UserIDs = in.NewStaffScopeType, in.NewStaffDepartmentIDs, in.UserIDs
	p.DepartmentIDs, p.ChatIDs, p.SendAt, p.Ext = in.DepartmentIDs, in.ChatIDs, in.SendAt, in.Ext
}

func (s *Server) handleListPushes(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, next, err := s.Pushes.FindPushes(r.Context(), herald.PushFilter{Status: herald.PushStatus(r.URL.Query().Get("status"))}, page)
	if err != nil {
		return err
	}
	return writeList(w, items, next)
}

func (s *Server) handleCreatePush(w http.ResponseWriter, r *http.Request) error {
	var in pushInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := &herald.Push{}
	in.apply(p)
	if err := s.Pushes.CreatePush(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

// findPush finds the path's push.
func (s *Server) findPush(r *http.Request) (*herald.Push, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Pushes.FindPushByID(r.Context(), id)
}

func (s *Server) handleGetPush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.findPush(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// handleUpdatePush changes the fields sent; only a draft may change.
func (s *Server) handleUpdatePush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.findPush(r)
	if err != nil {
		return err
	}
	in := inputOf(p)
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.apply(p)
	if err := s.Pushes.UpdatePush(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) handlePreviewPush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.findPush(r)
	if err != nil {
		return err
	}
	pv, err := s.Pushes.PreviewPush(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pv)
}

// pushAction is a lifecycle endpoint: it finds the push, reads the
// optional body into in, and answers the push as it now is.
func (s *Server) pushAction(in any, act func(r *http.Request, id int64) (*herald.Push, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.findPush(r)
		if err != nil {
			return err
		}
		if in != nil {
			if err := decodeOptional(w, r, in); err != nil {
				return err
			}
		}
		p, err = act(r, p.ID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, p)
	}
}

// reasonInput is the body of submit and reject.
type reasonInput struct {
	Reason string `json:"reason"`
}

func (s *Server) handleSubmitPush(w http.ResponseWriter, r *http.Request) error {
	var in reasonInput
	return s.pushAction(&in, func(r *http.Request, id int64) (*herald.Push, error) {
		return s.Pushes.SubmitPush(r.Context(), id, in.Reason)
	})(w, r)
}

func (s *Server) handleWithdrawPush(w http.ResponseWriter, r *http.Request) error {
	return s.pushAction(nil, func(r *http.Request, id int64) (*herald.Push, error) {
		return s.Pushes.WithdrawPush(r.Context(), id)
	})(w, r)
}

func (s *Server) handleApprovePush(w http.ResponseWriter, r *http.Request) error {
	return s.pushAction(nil, func(r *http.Request, id int64) (*herald.Push, error) {
		return s.Pushes.ApprovePush(r.Context(), id)
	})(w, r)
}

func (s *Server) handleRejectPush(w http.ResponseWriter, r *http.Request) error {
	var in reasonInput
	return s.pushAction(&in, func(r *http.Request, id int64) (*herald.Push, error) {
		return s.Pushes.RejectPush(r.Context(), id, in.Reason)
	})(w, r)
}

// executeInput is the body of execute: send_at, or now when absent.
type executeInput struct {
	SendAt *time.Time `json:"send_at"`
}

func (s *Server) handleExecutePush(w http.ResponseWriter, r *http.Request) error {
	var in executeInput
	return s.pushAction(&in, func(r *http.Request, id int64) (*herald.Push, error) {
		var at time.Time
		if in.SendAt != nil {
			at = *in.SendAt
		}
		return s.Pushes.ExecutePush(r.Context(), id, at)
	})(w, r)
}

// cancelInput is the body of cancel: recall also removes what was
// delivered.
type cancelInput struct {
	Recall bool `json:"recall"`
}

func (s *Server) handleCancelPush(w http.ResponseWriter, r *http.Request) error {
	var in cancelInput
	return s.pushAction(&in, func(r *http.Request, id int64) (*herald.Push, error) {
		return s.Pushes.CancelPush(r.Context(), id, in.Recall)
	})(w, r)
}

// pushPolicyBody is a PUT of the tenant's push policy: every field given.
type pushPolicyBody struct {
	SelfApproval *bool `json:"self_approval"`
}

func (s *Server) handleGetPushPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Pushes.FindPushPolicy(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) handlePutPushPolicy(w http.ResponseWriter, r *http.Request) error {
	var b pushPolicyBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if b.SelfApproval == nil {
		return herald.Errorf(herald.EINVALID, "self_approval", "self_approval is required (true or false)")
	}
	p := &herald.PushPolicy{SelfApproval: *b.SelfApproval}
	if err := s.Pushes.UpdatePushPolicy(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
