package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// statusCodes numbers the lifecycle as this surface shows it (the vendor
// publishes only 0, a created draft).
var statusCodes = map[herald.PushStatus]int{
	herald.PushDraft: 0, herald.PushPendingApproval: 1, herald.PushApproved: 2, herald.PushRejected: 3,
	herald.PushScheduled: 4, herald.PushSending: 5, herald.PushSent: 6, herald.PushCancelled: 7, herald.PushRecalled: 8,
}

// userRef, departmentRef and chatRef are the vendor's list items.
type userRef struct {
	UserID    string `json:"user_id"`
	AvatarURL string `json:"avatar_url,omitempty"`
	Name      string `json:"name,omitempty"`
}

type departmentRef struct {
	DepartmentID string `json:"department_id"`
	Name         string `json:"name,omitempty"`
}

type chatRef struct {
	ChatID string `json:"chat_id"`
	Name   string `json:"name,omitempty"`
}

// notificationIn is a notification as create and PATCH send it. Absent
// fields keep their value on PATCH; the read-only ones are ignored.
type notificationIn struct {
	ID                          *string          `json:"id"`
	JobName                     *string          `json:"job_name"`
	Status                      *int             `json:"status"`
	CreateUser                  *userRef         `json:"create_user"`
	CreatedAt                   *string          `json:"created_at"`
	UpdateUser                  *userRef         `json:"update_user"`
	UpdatedAt                   *string          `json:"updated_at"`
	TargetUserCount             *int             `json:"target_user_count"`
	SentUserCount               *int             `json:"sent_user_count"`
	ReadUserCount               *int             `json:"read_user_count"`
	SendAt                      *string          `json:"send_at"`
	PushContent                 *string          `json:"push_content"`
	PushType                    *int             `json:"push_type"`
	PushScopeType               *int             `json:"push_scope_type"`
	NewStaffScopeType           *int             `json:"new_staff_scope_type"`
	NewStaffScopeDepartmentList *[]departmentRef `json:"new_staff_scope_department_list"`
	UserList                    *[]userRef       `json:"user_list"`
	DepartmentList              *[]departmentRef `json:"department_list"`
	ChatList                    *[]chatRef       `json:"chat_list"`
	Ext                         *string          `json:"ext"`
}

// notificationOut is a notification as get answers it: every field of the
// page.
type notificationOut struct {
	ID                          string          `json:"id"`
	JobName                     string          `json:"job_name"`
	Status                      int             `json:"status"`
	CreateUser                  userRef         `json:"create_user"`
	CreatedAt                   string          `json:"created_at"`
	UpdateUser                  userRef         `json:"update_user"`
	UpdatedAt                   string          `json:"updated_at"`
	TargetUserCount             int             `json:"target_user_count"`
	SentUserCount               int             `json:"sent_user_count"`
	ReadUserCount               int             `json:"read_user_count"`
	SendAt                      string          `json:"send_at"`
	PushContent                 string          `json:"push_content"`
	PushType                    int             `json:"push_type"`
	PushScopeType               int             `json:"push_scope_type"`
	NewStaffScopeType           *int            `json:"new_staff_scope_type"`
	NewStaffScopeDepartmentList []departmentRef `json:"new_staff_scope_department_list"`
	UserList                    []userRef       `json:"user_list"`
	DepartmentList              []departmentRef `json:"department_list"`
	ChatList                    []chatRef       `json:"chat_list"`
	Ext                         string          `json:"ext"`
}

// maxBodyBytes bounds every request body.
const maxBodyBytes = 1 << 20

// decodeBody reads one JSON object into v: malformed JSON, a wrong type or
// an unknown field is a bad request naming the field. With optional, an
// empty body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return herald.Errorf(herald.ETOOLARGE, "", "the request body exceeds %d bytes", tooLarge.Limit)
		}
		return herald.Errorf(herald.EINVALID, "", "the request body cannot be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return herald.Errorf(herald.EINVALID, "", "the request body is empty; a JSON object is required")
	}
	if b := bytes.TrimSpace(body); b[0] != '{' {
		return herald.Errorf(herald.EINVALID, "", "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			syntax *json.SyntaxError
			typ    *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return herald.Errorf(herald.EINVALID, "", "the request body is malformed JSON")
		case errors.As(err, &typ):
			return herald.Errorf(herald.EINVALID, typ.Field, "%s must be %s, not %s", typ.Field, kindOf(typ.Type.Kind().String()), typ.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ = strconv.Unquote(name)
			return herald.Errorf(herald.EINVALID, name, "unknown field %q", name)
		}
		return herald.Errorf(herald.EINVALID, "", "the request body is not valid: %v", err)
	}
	if dec.More() {
		return herald.Errorf(herald.EINVALID, "", "the request body must hold a single JSON object")
	}
	return nil
}

func kindOf(k string) string {
	switch {
	case strings.HasPrefix(k, "int"):
		return "an integer"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice":
		return "an array"
	}
	return "an object"
}

// parseMS reads a millisecond timestamp string.
func parseMS(field, s string) (time.Time, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || len(s) > 16 {
		return time.Time{}, herald.Errorf(herald.EINVALID, field, "%s must be a timestamp in milliseconds, as a string of digits", field)
	}
	return time.UnixMilli(v).UTC(), nil
}

func msString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// imID is the user's Feishu id of kind.
func imID(kind string, u *herald.User) string {
	switch kind {
	case idUnionID:
		return u.UnionID
	case idUserID:
		return u.LarkUserID
	}
	return u.OpenID
}

// apply puts the fields in sends onto p, resolving the vendor's ids of
// users, departments and chats to the directory's.
func (s *Surface) apply(ctx context.Context, in *notificationIn, p *herald.Push, idType string) error {
	if in.JobName != nil {
		p.JobName = *in.JobName
	}
	if in.PushContent != nil {
		// The content decides its type again: a card is a JSON object.
		p.Content, p.ContentType = *in.PushContent, ""
	}
	if in.PushType != nil {
		p.PushType = *in.PushType
	}
	if in.PushScopeType != nil {
		p.ScopeType = *in.PushScopeType
	}
	if in.NewStaffScopeType != nil {
		v := *in.NewStaffScopeType
		p.NewStaffScopeType = &v
	}
	if in.Ext != nil {
		p.Ext = *in.Ext
	}
	if in.SendAt != nil {
		if *in.SendAt == "" {
			p.SendAt = nil
		} else {
			t, err := parseMS("send_at", *in.SendAt)
			if err != nil {
				return err
			}
			p.SendAt = &t
		}
	}
	if in.UserList != nil {
		ids := make([]string, len(*in.UserList))
		for i, u := range *in.UserList {
			ids[i] = u.UserID
		}
		users, err := s.Directory.FindUsersByIMIDs(ctx, idType, ids)
		if err != nil {
			return err
		}
		byID := map[string]int64{}
		for _, u := range users {
			byID[imID(idType, u)] = u.ID
		}
		p.UserIDs = []int64{}
		for i, id := range ids {
			uid, ok := byID[id]
			if !ok {
				return herald.Errorf(herald.EINVALID, fmt.Sprintf("user_list[%d].user_id", i), "no user has the %s %q", idType, id)
			}
			p.UserIDs = append(p.UserIDs, uid)
		}
	}
	for _, l := range []struct {
		field string
		refs  *[]departmentRef
		dst   *[]int64
	}{
		{"department_list", in.DepartmentList, &p.DepartmentIDs},
		{"new_staff_scope_department_list", in.NewStaffScopeDepartmentList, &p.NewStaffDepartmentIDs},
	} {
		if l.refs == nil {
			continue
		}
		codes := make([]string, len(*l.refs))
		for i, d := range *l.refs {
			codes[i] = d.DepartmentID
		}
		depts, err := s.Directory.FindDepartmentsByCodes(ctx, codes)
		if err != nil {
			return err
		}
		byCode := map[string]int64{}
		for _, d := range depts {
			byCode[d.Code] = d.ID
		}
		*l.dst = []int64{}
		for i, c := range codes {
			id, ok := byCode[c]
			if !ok {
				return herald.Errorf(herald.EINVALID, fmt.Sprintf("%s[%d].department_id", l.field, i), "no department has the id %q", c)
			}
			*l.dst = append(*l.dst, id)
		}
	}
	if in.ChatList != nil {
		codes := make([]string, len(*in.ChatList))
		for i, c := range *in.ChatList {
			codes[i] = c.ChatID
		}
		chats, err := s.Directory.FindChatsByCodes(ctx, codes)
		if err != nil {
			return err
		}
		byCode := map[string]int64{}
		for _, c := range chats {
			byCode[c.Code] = c.ID
		}
		p.ChatIDs = []int64{}
		for i, c := range codes {
			id, ok := byCode[c]
			if !ok {
				return herald.Errorf(herald.EINVALID, fmt.Sprintf("chat_list[%d].chat_id", i), "no chat has the id %q", c)
			}
			p.ChatIDs = append(p.ChatIDs, id)
		}
	}
	return nil
}

// vendorField names a domain field as the vendor does, for messages.
var vendorField = map[string]string{
	"job_name": "job_name", "content": "push_content", "content_type": "push_content", "push_type": "push_type",
	"push_scope_type": "push_scope_type", "new_staff_scope_type": "new_staff_scope_type",
	"new_staff_department_ids": "new_staff_scope_department_list", "user_ids": "user_list",
	"department_ids": "department_list", "chat_ids": "chat_list", "ext": "ext", "send_at": "send_at",
}

// vendorError renames the field of a domain error the vendor's way.
func vendorError(err error) error {
	f := herald.ErrorField(err)
	v, ok := vendorField[f]
	if !ok || v == f {
		return err
	}
	msg := strings.ReplaceAll(herald.ErrorMessage(err), f, v)
	return herald.Errorf(herald.ErrorCode(err), v, "%s", msg)
}

// encode shows p the vendor's way, with users named by idType.
func (s *Surface) encode(ctx context.Context, p *herald.Push, idType string) (*notificationOut, error) {
	out := &notificationOut{
		ID: strconv.FormatInt(p.ID, 10), JobName: p.JobName, Status: statusCodes[p.Status],
		CreatedAt: msString(&p.CreatedAt), UpdatedAt: msString(&p.UpdatedAt),
		TargetUserCount: p.TargetUserCount, SentUserCount: p.SentUserCount, ReadUserCount: p.ReadUserCount,
		SendAt: msString(p.SendAt), PushContent: p.Content, PushType: p.PushType, PushScopeType: p.ScopeType,
		NewStaffScopeType: p.NewStaffScopeType, Ext: p.Ext,
		NewStaffScopeDepartmentList: []departmentRef{}, UserList: []userRef{}, DepartmentList: []departmentRef{}, ChatList: []chatRef{},
	}
	userIDs := append([]int64{}, p.UserIDs...)
	for _, a := range []herald.PushActor{p.CreatedBy, p.UpdatedBy} {
		if a.UserID != 0 {
			userIDs = append(userIDs, a.UserID)
		}
	}
	users, err := s.Directory.FindUsersByIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*herald.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	ref := func(u *herald.User) userRef {
		return userRef{UserID: imID(idType, u), AvatarURL: u.AvatarURL, Name: u.Name}
	}
	actor := func(a herald.PushActor) userRef {
		if u, ok := byID[a.UserID]; ok {
			return ref(u)
		}
		return userRef{Name: a.Name, AvatarURL: a.AvatarURL}
	}
	out.CreateUser, out.UpdateUser = actor(p.CreatedBy), actor(p.UpdatedBy)
	for _, id := range p.UserIDs {
		if u, ok := byID[id]; ok { // a user deleted since is left out
			out.UserList = append(out.UserList, ref(u))
		}
	}
	depts, err := s.Directory.FindDepartmentsByIDs(ctx, append(append([]int64{}, p.DepartmentIDs...), p.NewStaffDepartmentIDs...))
	if err != nil {
		return nil, err
	}
	deptByID := map[int64]*herald.Department{}
	for _, d := range depts {
		deptByID[d.ID] = d
	}
	for _, l := range []struct {
		ids []int64
		dst *[]departmentRef
	}{{p.DepartmentIDs, &out.DepartmentList}, {p.NewStaffDepartmentIDs, &out.NewStaffScopeDepartmentList}} {
		for _, id := range l.ids {
			if d, ok := deptByID[id]; ok {
				*l.dst = append(*l.dst, departmentRef{DepartmentID: d.Code, Name: d.Name})
			}
		}
	}
	chats, err := s.Directory.FindChatsByIDs(ctx, p.ChatIDs)
	if err != nil {
		return nil, err
	}
	for _, c := range chats {
		out.ChatList = append(out.ChatList, chatRef{ChatID: c.Code, Name: c.Name})
	}
	return out, nil
}
