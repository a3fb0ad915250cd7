// Package settings serves the project notification settings API (the
// vendor is not named; its shapes and errors follow Django REST
// Framework) over Herald's herald.NotificationSettingsService and
// herald.OTPService:
//
//	GET   /api/settings/notifications             the project's settings
//	PATCH /api/settings/notifications             change the fields sent
//	GET   /api/settings/notifiers                 the project's notifiers, paged
//	POST  /api/settings/notifications/otp/send    send a one-time code
//	POST  /api/settings/notifications/otp/verify  verify a one-time code
//
// The settings answer is exactly the page's: notifications_sms_notifier_data
// and notifications_email_notifier_data as {"id", "name"} or null,
// notifications_otp_code_len and notifications_otp_ttl. A PATCH changes the
// members it sends (null clears a notifier) and ignores members it does not
// know, as Django REST Framework does, so a client may send back what it
// read. The notifier listing pages as Django REST Framework's
// PageNumberPagination: ?page=N (and ?page_size=M, at most 100) answer
// {"count", "next", "previous", "results": [{"id", "name", "type"}]};
// ?type=sms or ?type=email narrows it.
//
// OTP send takes {"channel": "sms"|"email", "to", "purpose"} and answers
// {"id", "channel", "to", "purpose", "expires_at"} (never the code); verify
// takes {"id", "code"} or {"to", "purpose", "code"} and answers
// {"verified": true, "id"}.
//
// # Project and authentication
//
// `Authorization: Token <key>` carries a Herald token (the other headers
// api.Server accepts work too). The project is the one the token is scoped
// to; an unscoped token acts on the tenant's only project, and is refused
// (400) when the tenant has several. Reading needs settings:read, writing
// settings:write (code 1037; admin holds every permission), OTP send and
// verify need otp:send.
//
// # Errors
//
// Errors use Django REST Framework's envelope, on every path under
// /api/settings/ and for every method:
//
//	400 {"notifications_otp_code_len": ["…"], "notifications_otp_ttl": ["…"]}   fields are invalid (every one named)
//	400 {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
//	400 {"detail": "JSON parse error - …"}      malformed JSON; also an unscoped token of a tenant with several projects
//	400 {"detail": "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."}   a body over 2.5 MiB
//	401 {"detail": "Authentication credentials were not provided."}  no token
//	401 {"detail": "Invalid token."}            an unknown or revoked token
//	403 {"detail": "You do not have permission to perform this action."}
//	404 {"detail": "Not found."}                an unknown code id, or another tenant's; any other path under /api/settings/
//	405 {"detail": "Method \"PUT\" not allowed."}  a method the path does not serve (after the token is checked)
//	429 {"detail": "…"}                         too many codes to one destination
//	500 {"detail": "…"}                         a code that could not be sent, or a server error
//
// A notifier id that is not a notifier of the project, or not of the slot's
// type (sms for the SMS slot, email for the email slot), and a code length
// outside 4–10 or a TTL outside 30–86400 seconds are 400s naming the field.
//
// # Readings
//
// Where the page is silent, Django REST Framework's and Django's defaults
// are the reference:
//   - A serializer reads every member before answering, so every invalid
//     member is reported at once, in the serializer's declaration order
//     (sms, email, code length, TTL), each as a list of messages.
//     Members that cannot be read (type errors) and values out of range
//     are reported together; whether a notifier exists is checked only
//     when every member could be read (it needs the update to be tried).
//   - The range checks are IntegerField(min_value, max_value)'s: "Ensure
//     this value is greater than or equal to 4." / "… less than or equal
//     to 10."; type errors are IntegerField's and PrimaryKeyRelatedField's
//     own messages ("A valid integer is required.", "Incorrect type.
//     Expected pk value, received bool."); a notifier the slot may not
//     take (unknown, another project's, of another type) is
//     PrimaryKeyRelatedField's 'Invalid pk "9" - object does not exist.',
//     its queryset being the project's notifiers of the slot's type.
//   - APIView checks the token before the method, so a wrong method with
//     no or a bad token is a 401, and with a good one a 405 with Allow.
//   - Django resolves the URL before any view runs: any other path under
//     /api/settings/ is a 404 whatever the token. Django itself would
//     answer an HTML page there; the surface keeps DRF's JSON envelope.
//   - Django's DATA_UPLOAD_MAX_MEMORY_SIZE (default 2.5 MiB, applied to
//     JSON bodies by Django REST Framework from 3.17.2) raises
//     RequestDataTooBig, a SuspiciousOperation Django answers 400; its
//     message is the detail. A Content-Length over the limit is refused
//     before the body is read, as Django does.
package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/heraldhq/herald"
)

// Paths of this surface.
const (
	PathNotifications = "/api/settings/notifications"
	PathNotifiers     = "/api/settings/notifiers"
	PathOTPSend       = "/api/settings/notifications/otp/send"
	PathOTPVerify     = "/api/settings/notifications/otp/verify"
)

// Surface is the project notification settings API; set the services and
// mount it on api.Server.Surfaces. OTP may be nil: the OTP endpoints then
// answer 404.
type Surface struct {
	Projects             herald.ProjectService
	Notifiers            herald.NotifierService
	NotificationSettings herald.NotificationSettingsService
	OTP                  herald.OTPService
	Logger               *slog.Logger
}

// Register mounts the surface's routes.
func (s *Surface) Register(mux *http.ServeMux) {
	s.handle(mux, "GET "+PathNotifications, s.handleGetSettings)
	s.handle(mux, "PATCH "+PathNotifications, s.handlePatchSettings)
	s.handle(mux, "GET "+PathNotifiers, s.handleListNotifiers)
	s.handle(mux, "POST "+PathOTPSend, s.handleSendOTP)
	s.handle(mux, "POST "+PathOTPVerify, s.handleVerifyOTP)
	for _, p := range []string{PathNotifications, PathNotifiers, PathOTPSend, PathOTPVerify} {
		mux.HandleFunc(p, s.handleMethodNotAllowed)
	}
	mux.HandleFunc(pathPrefix, s.handleNoRoute)
}

// pathPrefix is the subtree the surface owns: a path under it that names
// no route is the surface's 404.
const pathPrefix = "/api/settings/"

// handleNoRoute answers a path under the surface that names no route:
// Django resolves the URL before any view (and so any authentication)
// runs, so it is a 404 whatever the token, here in Django REST Framework's
// envelope.
func (s *Surface) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, herald.Errorf(herald.ENOTFOUND, "", "no such path"))
}

// handle registers h behind authentication; the services decide what the
// token may do.
func (s *Surface) handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticated(w, r) {
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticated reports whether the request carries a valid token, and
// answers it when not: 401, or 500 when the token could not be checked
// (not the client's fault).
func (s *Surface) authenticated(w http.ResponseWriter, r *http.Request) bool {
	if herald.PrincipalFromContext(r.Context()) != nil {
		return true
	}
	if err := herald.AuthErrorFromContext(r.Context()); herald.ErrorCode(err) == herald.EINTERNAL {
		s.writeError(w, r, err)
		return false
	}
	s.writeError(w, r, herald.Errorf(herald.EUNAUTHORIZED, "", "authentication required"))
	return false
}

// handleMethodNotAllowed answers a known path asked with another method;
// the token is checked first, as Django REST Framework does.
func (s *Surface) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if !s.authenticated(w, r) {
		return
	}
	allow := "GET, PATCH"
	switch r.URL.Path {
	case PathNotifiers:
		allow = "GET"
	case PathOTPSend, PathOTPVerify:
		allow = "POST"
	}
	w.Header().Set("Allow", allow+", OPTIONS")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "Method \"" + r.Method + "\" not allowed."})
}

// project is the project the request acts on.
func (s *Surface) project(ctx context.Context) (int64, error) {
	return herald.ProjectOf(ctx, s.Projects, 0)
}

// notifierData is a notifier as the settings answer shows it.
type notifierData struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// settingsBody is the settings answer, member for member as the page shows.
type settingsBody struct {
	SMSNotifierData   *notifierData `json:"notifications_sms_notifier_data"`
	EmailNotifierData *notifierData `json:"notifications_email_notifier_data"`
	OTPCodeLen        int           `json:"notifications_otp_code_len"`
	OTPTTL            int           `json:"notifications_otp_ttl"`
}

func encodeSettings(ns *herald.NotificationSettings) settingsBody {
	data := func(r *herald.NotifierRef) *notifierData {
		if r == nil {
			return nil
		}
		return &notifierData{ID: r.ID, Name: r.Name}
	}
	return settingsBody{
		SMSNotifierData:   data(ns.SMSNotifier),
		EmailNotifierData: data(ns.EmailNotifier),
		OTPCodeLen:        ns.OTPCodeLen,
		OTPTTL:            ns.OTPTTL,
	}
}

func (s *Surface) handleGetSettings(w http.ResponseWriter, r *http.Request) error {
	projectID, err := s.project(r.Context())
	if err != nil {
		return err
	}
	ns, err := s.NotificationSettings.FindNotificationSettings(r.Context(), projectID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, encodeSettings(ns))
	return nil
}

// Members of the PATCH body, in the serializer's declaration order: the
// order Django REST Framework reports their errors in.
const (
	memberSMSNotifier   = "notifications_sms_notifier"
	memberEmailNotifier = "notifications_email_notifier"
	memberOTPCodeLen    = "notifications_otp_code_len"
	memberOTPTTL        = "notifications_otp_ttl"
)

// memberOrder ranks the members of an error answer.
var memberOrder = map[string]int{memberSMSNotifier: 1, memberEmailNotifier: 2, memberOTPCodeLen: 3, memberOTPTTL: 4}

// decodeUpdate reads a PATCH body into an update: only the members sent.
// As a serializer does, it reads every member before answering, and
// reports every member it cannot read at once (herald.FieldErrors); the
// update then holds the members it could read.
func decodeUpdate(m map[string]json.RawMessage) (herald.NotificationSettingsUpdate, error) {
	var (
		u    herald.NotificationSettingsUpdate
		errs herald.FieldErrors
	)
	collect := func(err error) {
		if err != nil {
			errs = append(errs, herald.ErrorFields(err)...)
		}
	}
	var err error
	if raw, ok := m[memberSMSNotifier]; ok {
		u.SMSNotifier, err = pkField(memberSMSNotifier, raw)
		collect(err)
	}
	if raw, ok := m[memberEmailNotifier]; ok {
		u.EmailNotifier, err = pkField(memberEmailNotifier, raw)
		collect(err)
	}
	if raw, ok := m[memberOTPCodeLen]; ok {
		u.OTPCodeLen, err = intField(memberOTPCodeLen, raw)
		collect(err)
	}
	if raw, ok := m[memberOTPTTL]; ok {
		u.OTPTTL, err = intField(memberOTPTTL, raw)
		collect(err)
	}
	return u, errs.Err()
}

// updateErrors renders the domain's verdict on u in the serializer's
// words: a value out of range gets IntegerField's min_value/max_value
// messages (the bounds are the domain's); a notifier the slot may not take
// gets PrimaryKeyRelatedField's does_not_exist (its queryset is the
// project's notifiers of the slot's type); any other error keeps the
// domain's message.
func updateErrors(u herald.NotificationSettingsUpdate, err error) error {
	if herald.ErrorCode(err) != herald.EINVALID {
		return err
	}
	bound := func(v *int, lo, hi int) string {
		if v != nil && *v < lo {
			return fmt.Sprintf("Ensure this value is greater than or equal to %d.", lo)
		} else if v != nil && *v > hi {
			return fmt.Sprintf("Ensure this value is less than or equal to %d.", hi)
		}
		return ""
	}
	var out herald.FieldErrors
	for _, e := range herald.ErrorFields(err) {
		msg := ""
		switch e.Field {
		case herald.FieldOTPCodeLen:
			msg = bound(u.OTPCodeLen, herald.MinOTPCodeLen, herald.MaxOTPCodeLen)
		case herald.FieldOTPTTL:
			msg = bound(u.OTPTTL, herald.MinOTPTTL, herald.MaxOTPTTL)
		case herald.FieldSMSNotifier:
			msg = pkMissing(u.SMSNotifier)
		case herald.FieldEmailNotifier:
			msg = pkMissing(u.EmailNotifier)
		}
		if msg == "" {
			msg = e.Message
		}
		out = append(out, &herald.Error{Code: e.Code, Field: e.Field, Message: msg})
	}
	return out.Err()
}

// pkMissing is PrimaryKeyRelatedField's does_not_exist message for id.
func pkMissing(id *herald.NullableID) string {
	if id == nil || id.Null {
		return ""
	}
	return fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", id.ID)
}

func (s *Surface) handlePatchSettings(w http.ResponseWriter, r *http.Request) error {
	projectID, err := s.project(r.Context())
	if err != nil {
		return err
	}
	m, err := readObject(w, r)
	if err != nil {
		return err
	}
	u, err := decodeUpdate(m)
	if err != nil {
		// The members that could be read are checked too, so that every
		// field at fault is reported at once; whether a notifier exists
		// is only known once the update is tried, which it is not here.
		all := herald.FieldErrors(herald.ErrorFields(err))
		all = append(all, herald.ErrorFields(updateErrors(u, u.Validate()))...)
		return all.Err()
	}
	ns, err := s.NotificationSettings.UpdateNotificationSettings(r.Context(), projectID, u)
	if err != nil {
		return updateErrors(u, err)
	}
	writeJSON(w, http.StatusOK, encodeSettings(ns))
	return nil
}

// notifierItem is one notifier of the listing.
type notifierItem struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// pageBody is Django REST Framework's PageNumberPagination answer.
type pageBody struct {
	Count    int            `json:"count"`
	Next     *string        `json:"next"`
	Previous *string        `json:"previous"`
	Results  []notifierItem `json:"results"`
}

// Page sizes of the notifier listing.
const (
	defaultPageSize = 50
	maxPageSize     = 100
	// maxNotifiers bounds what one listing reads: a project's notifiers
	// are a handful, counted in full for "count".
	maxNotifiers = 10000
)

func (s *Surface) handleListNotifiers(w http.ResponseWriter, r *http.Request) error {
	projectID, err := s.project(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	size := defaultPageSize
	if v := q.Get("page_size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			size = min(n, maxPageSize)
		}
	}
	pageNo := 1
	if v := q.Get("page"); v != "" && v != "last" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return herald.Errorf(herald.ENOTFOUND, "", "Invalid page.")
		}
		pageNo = n
	}
	typ := q.Get("type")
	if typ != "" && !slices.Contains(herald.NotifierTypes, typ) {
		return herald.Errorf(herald.EINVALID, "type", "Select a valid choice. %s is not one of the available choices.", typ)
	}
	var all []notifierItem
	cursor := ""
	for len(all) < maxNotifiers {
		list, next, err := s.Notifiers.FindNotifiers(r.Context(), herald.NotifierFilter{ProjectID: projectID, Type: typ}, herald.Page{Limit: herald.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, n := range list {
			all = append(all, notifierItem{ID: n.ID, Name: n.Name, Type: n.Type})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	pages := max(1, (len(all)+size-1)/size)
	if q.Get("page") == "last" {
		pageNo = pages
	}
	if pageNo > pages {
		return herald.Errorf(herald.ENOTFOUND, "", "Invalid page.")
	}
	from := (pageNo - 1) * size
	body := pageBody{Count: len(all), Results: all[from:min(from+size, len(all))]}
	if body.Results == nil {
		body.Results = []notifierItem{}
	}
	if pageNo < pages {
		u := pageURL(r, pageNo+1)
		body.Next = &u
	}
	if pageNo > 1 {
		u := pageURL(r, pageNo-1)
		body.Previous = &u
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// pageURL is the absolute URL of page n of the request's listing; page 1
// drops the parameter, as Django REST Framework does.
func pageURL(r *http.Request, n int) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		u.Scheme = "https"
	}
	q := r.URL.Query()
	if n == 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(n))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// otpBody is the answer of an OTP send.
type otpBody struct {
	ID        string `json:"id"`
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Purpose   string `json:"purpose"`
	ExpiresAt string `json:"expires_at"`
}

func (s *Surface) handleSendOTP(w http.ResponseWriter, r *http.Request) error {
	if s.OTP == nil {
		return herald.Errorf(herald.ENOTFOUND, "", "one-time codes are not enabled")
	}
	m, err := readObject(w, r)
	if err != nil {
		return err
	}
	var req herald.OTPSend
	for _, f := range []struct {
		name string
		dst  *string
	}{{"channel", &req.Channel}, {"to", &req.To}, {"purpose", &req.Purpose}} {
		if *f.dst, err = strField(m, f.name); err != nil {
			return err
		}
	}
	o, err := s.OTP.SendOTP(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, otpBody{ID: o.ID, Channel: o.Channel, To: o.To, Purpose: o.Purpose, ExpiresAt: herald.Timestamp(o.ExpiresAt)})
	return nil
}

func (s *Surface) handleVerifyOTP(w http.ResponseWriter, r *http.Request) error {
	if s.OTP == nil {
		return herald.Errorf(herald.ENOTFOUND, "", "one-time codes are not enabled")
	}
	m, err := readObject(w, r)
	if err != nil {
		return err
	}
	var req herald.OTPVerify
	for _, f := range []struct {
		name string
		dst  *string
	}{{"id", &req.ID}, {"to", &req.To}, {"purpose", &req.Purpose}, {"code", &req.Code}} {
		if *f.dst, err = strField(m, f.name); err != nil {
			return err
		}
	}
	o, err := s.OTP.VerifyOTP(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "id": o.ID})
	return nil
}
