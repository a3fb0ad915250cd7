package feishu

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// Directory is what the surface needs of the directory: the users,
// departments and chats the vendor's ids name, and back.
type Directory = herald.PushDirectory

// Surface is the Feishu help desk notification API. Set the services and
// mount it with Register (api.Server does, through its Surfaces).
type Surface struct {
	Pushes    herald.PushService
	Directory Directory
	// Logger receives internal errors. Nil: slog.Default().
	Logger *slog.Logger
}

// The user id kinds of user_id_type.
const (
	idOpenID  = "open_id"
	idUnionID = "union_id"
	idUserID  = "user_id"
)

const base = "/open-apis/helpdesk/v1/notifications"

// Register mounts the surface's routes on mux.
func (s *Surface) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+base, s.handle(s.create))
	mux.HandleFunc("GET "+base+"/{notification_id}", s.handle(s.get))
	mux.HandleFunc("PATCH "+base+"/{notification_id}", s.handle(s.patch))
	mux.HandleFunc("POST "+base+"/{notification_id}/preview", s.handle(s.preview))
	mux.HandleFunc("POST "+base+"/{notification_id}/submit_approve", s.handle(s.submitApprove))
	mux.HandleFunc("POST "+base+"/{notification_id}/cancel_approve", s.handle(s.cancelApprove))
	mux.HandleFunc("POST "+base+"/{notification_id}/execute_send", s.handle(s.executeSend))
	mux.HandleFunc("POST "+base+"/{notification_id}/cancel_send", s.handle(s.cancelSend))
	// Every other method or path under the prefix answers in the envelope.
	mux.HandleFunc(base, s.noRoute)
	mux.HandleFunc(base+"/", s.noRoute)
}

// actions are the POST sub-resources of a notification.
var actions = map[string]bool{"preview": true, "submit_approve": true, "cancel_approve": true, "execute_send": true, "cancel_send": true}

// allowed is the methods a path under the prefix serves, or "" when the
// surface serves no such path.
func allowed(path string) string {
	rest, ok := strings.CutPrefix(path, base)
	switch {
	case !ok:
		return ""
	case rest == "":
		return "POST"
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	switch {
	case parts[0] == "":
		return ""
	case len(parts) == 1:
		return "GET, HEAD, PATCH"
	case len(parts) == 2 && actions[parts[1]]:
		return "POST"
	}
	return ""
}

// noRoute answers a method a path does not serve (405 / 154005, with
// Allow) and a path the surface does not serve (404 / 154004), in the
// envelope and before authentication, as a router in front of the
// handlers does.
func (s *Surface) noRoute(w http.ResponseWriter, r *http.Request) {
	if a := allowed(r.URL.Path); a != "" {
		w.Header().Set("Allow", a)
		writeJSON(w, http.StatusMethodNotAllowed, envelope{Code: codeNotAllowed, Msg: "Method Forbidden: " + r.Method + " is not allowed here; use " + a})
		return
	}
	writeJSON(w, http.StatusNotFound, envelope{Code: codeNotFound, Msg: "Resource not found: no such API path"})
}

// request is one call: its context, user id kind and push (for the
// routes with a notification_id).
type request struct {
	ctx    context.Context
	idType string
	push   *herald.Push
}

// handle authenticates, checks perm, reads user_id_type and the path's
// push (a foreign or unknown one is 404), runs fn and answers its data.
func (s *Surface) handle(fn func(w http.ResponseWriter, r *http.Request, req *request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := s.serve(w, r, fn)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeOK(w, data)
	}
}

func (s *Surface) serve(w http.ResponseWriter, r *http.Request, fn func(w http.ResponseWriter, r *http.Request, req *request) (any, error)) (any, error) {
	p := herald.PrincipalFromContext(r.Context())
	if err := herald.AuthErrorFromContext(r.Context()); p == nil && herald.ErrorCode(err) == herald.EINTERNAL {
		return nil, err // the token could not be checked: not the client's fault
	}
	if p == nil {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "Unauthorized: send a valid token as Authorization: Bearer <token>")
	}
	req := &request{ctx: r.Context(), idType: idOpenID}
	switch t := r.URL.Query().Get("user_id_type"); t {
	case "":
	case idOpenID, idUnionID, idUserID:
		req.idType = t
	default:
		return nil, herald.Errorf(herald.EINVALID, "user_id_type", "user_id_type must be open_id, union_id or user_id, not %q", t)
	}
	if raw := r.PathValue("notification_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return nil, herald.Errorf(herald.EINVALID, "notification_id", "notification_id must be a numeric string, not %q", raw)
		}
		if req.push, err = s.Pushes.FindPushByID(req.ctx, id); err != nil {
			return nil, err
		}
	}
	return fn(w, r, req)
}

// create makes a draft: {"notification_id", "status": 0}.
func (s *Surface) create(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	var in notificationIn
	if err := decodeBody(w, r, &in, false); err != nil {
		return nil, err
	}
	p := &herald.Push{}
	if err := s.apply(req.ctx, &in, p, req.idType); err != nil {
		return nil, err
	}
	if err := s.Pushes.CreatePush(req.ctx, p); err != nil {
		return nil, vendorError(err)
	}
	return map[string]any{"notification_id": strconv.FormatInt(p.ID, 10), "status": statusCodes[p.Status]}, nil
}

// get answers the notification with its approval link.
func (s *Surface) get(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	n, err := s.encode(req.ctx, req.push, req.idType)
	if err != nil {
		return nil, err
	}
	link := ""
	if req.push.Status == herald.PushPendingApproval {
		link = "/api/v1/pushes/" + strconv.FormatInt(req.push.ID, 10) + "/approve"
	}
	return map[string]any{"notification": n, "approval_app_link": link}, nil
}

// patch changes the fields sent; only a draft may change.
func (s *Surface) patch(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	var in notificationIn
	if err := decodeBody(w, r, &in, false); err != nil {
		return nil, err
	}
	if _, err := herald.PushTransition(req.push.Status, herald.PushActionEdit); err != nil {
		return nil, err
	}
	if err := s.apply(req.ctx, &in, req.push, req.idType); err != nil {
		return nil, err
	}
	return nil, vendorError(s.Pushes.UpdatePush(req.ctx, req.push))
}

func (s *Surface) preview(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	_, err := s.Pushes.PreviewPush(req.ctx, req.push.ID)
	return nil, err
}

func (s *Surface) submitApprove(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	var in struct {
		Reason *string `json:"reason"`
	}
	if err := decodeBody(w, r, &in, true); err != nil {
		return nil, err
	}
	if in.Reason == nil || strings.TrimSpace(*in.Reason) == "" {
		return nil, herald.Errorf(herald.EINVALID, "reason", "reason is required")
	}
	if _, err := s.Pushes.SubmitPush(req.ctx, req.push.ID, *in.Reason); err != nil {
		return nil, err
	}
	return map[string]any{"has_access": true}, nil
}

func (s *Surface) cancelApprove(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	_, err := s.Pushes.WithdrawPush(req.ctx, req.push.ID)
	return nil, err
}

func (s *Surface) executeSend(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	var in struct {
		SendAt *string `json:"send_at"`
	}
	if err := decodeBody(w, r, &in, false); err != nil {
		return nil, err
	}
	if in.SendAt == nil {
		return nil, herald.Errorf(herald.EINVALID, "send_at", "send_at is required")
	}
	at, err := parseMS("send_at", *in.SendAt)
	if err != nil {
		return nil, err
	}
	_, err = s.Pushes.ExecutePush(req.ctx, req.push.ID, at)
	return nil, err
}

func (s *Surface) cancelSend(w http.ResponseWriter, r *http.Request, req *request) (any, error) {
	var in struct {
		IsRecall *bool `json:"is_recall"`
	}
	if err := decodeBody(w, r, &in, false); err != nil {
		return nil, err
	}
	if in.IsRecall == nil {
		return nil, herald.Errorf(herald.EINVALID, "is_recall", "is_recall is required")
	}
	_, err := s.Pushes.CancelPush(req.ctx, req.push.ID, *in.IsRecall)
	return nil, err
}
