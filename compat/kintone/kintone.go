// Package kintone serves Kintone's notification settings API (general,
// per-record and reminder notifications) over Herald's settings, so that a
// client of Kintone's REST API works against Herald unchanged:
//
//	GET  /k/v1/app/notifications/general.json?app=N            live settings
//	GET  /k/v1/preview/app/notifications/general.json?app=N    pre-live settings
//	PUT  /k/v1/preview/app/notifications/general.json          update pre-live
//	GET  /k/v1/app/notifications/perRecord.json?app=N          live per-record notifications
//	GET  /k/v1/preview/app/notifications/perRecord.json?app=N  pre-live per-record notifications
//	PUT  /k/v1/preview/app/notifications/perRecord.json        update pre-live
//	GET  /k/v1/app/notifications/reminder.json?app=N           live reminder notifications
//	GET  /k/v1/preview/app/notifications/reminder.json?app=N   pre-live reminder notifications
//	PUT  /k/v1/preview/app/notifications/reminder.json         update pre-live
//	POST /k/v1/preview/app/deploy.json                         deploy or revert
//	GET  /k/v1/preview/app/deploy.json?apps[0]=N               deploy status
//
// and every path again under /k/guest/{spaceId}/v1/… for apps of a guest
// space. A GET may carry its parameters in a JSON body instead of the
// query, and may be sent as a POST with X-HTTP-Method-Override: GET, as
// Kintone's REST API clients do when the URL would be too long.
//
// # Mapping
//
// A Kintone app is a herald.Source of kind "app" whose ExternalID is the
// app id and whose SpaceID is its guest space ("" for none). An app of a
// guest space is found only under its own /k/guest/{spaceId} path, and an
// app outside guest spaces only under /k/v1: anything else is the app's
// not-found error, as Kintone answers it. The pre-live settings are
// Herald's draft, the live settings Herald's live version, and Kintone's
// revision is Herald's settings revision, answered as a string. A PUT
// answers the draft revision it produced; the page's own sample (request
// revision "2", answer "2") cannot both hold, since every write moves the
// revision on; testdata/README.md says how the golden test reads it.
//
// Kintone's notifications are recipient-centric; Herald's settings are
// event-centric. General notifications are in-app notifications, so they
// live on one channel: the first channel of the app's settings whose
// notifier is an inbox notifier of the project, else (on the first write
// that names recipients) a channel of the project's inbox notifier as
// herald.NotifierSpec finds or creates it for every surface: its first
// inbox notifier, or a new one named "system message". On that channel,
// the flags recordAdded, recordEdited, commentAdded, statusChanged and
// fileImported of an entry are the entry's entity among the recipients of the native event types
// record.added, record.edited, comment.added, status.changed and
// file.imported. Every entry, in the order written (Kintone's order of
// priority), is also kept as a recipient of the switched-off event type
// custom.kintone.notifications: it gives the entries back in their order,
// and keeps an entry whose flags are all false (fan-out ignores a
// switched-off event type). A GET groups recipients by (type, code,
// includeSubs) in that order; recipients added to those event types by the
// native API come after, in event order. A flag reads true only when the
// channel and its event type are switched on. notifyToCommenter is
// Settings.NotifyCommenters. A Kintone write makes the app use its own
// settings (InheritProject false) and leaves the other channels and event
// types alone.
//
// includeSubs is kept for ORGANIZATION and FIELD_ENTITY entries and ignored
// (read back false) for USER and GROUP, as the page says it applies to the
// former only. Two entries naming the same entity with the same includeSubs
// are refused. FIELD_ENTITY codes name role fields of the app's events
// (CREATOR, MODIFIER or any user-selection field), matched case-insensitively
// by the resolver; guest users keep the guest/ prefix in codes.
//
// FIELD_ENTITY codes follow Kintone's field code rules (its help page
// "Overview of Field Codes"), kept in one place, herald.IsFieldCode: 1 to
// 128 characters, letters and digits of any script and width (so 作成者,
// the Created By field of a Japanese app, and 担当者 are valid), the
// symbols _ ＿ · ･ ・ and the full-width currency symbols, not starting
// with a digit; spaces, brackets and other symbols are refused with
// CB_VA01 on notifications[i].entity.code. Where Kintone's form settings
// rewrite a bad code on save (a leading _ before a digit, _ for a bad
// symbol), the API here refuses it instead: a recipient names an existing
// field, never a new one. Native role names (herald.IsRoleName: creator,
// build.owner …) stay valid, and an event's role may carry a field code
// as its name, so a Japanese code reaches the users of that role.
//
// # Per-record and reminder notifications
//
// They are herald.RecordNotifications, a draft and a live document kept
// beside the app's settings: they share the settings' one revision (an app
// has one revision in Kintone, whichever of its settings a write changes:
// a PUT to any of the three documents moves it, and a stale revision is
// GAIA_CO02 on each), and one deploy.json deploys, or reverts, all three.
// The readings made of Kintone's pages (Get/Update Per Record Notification
// Settings, Get/Update Reminder Notification Settings on cybozu.dev, and
// the help page "Reminder Notifications"):
//
//   - notifications absent (or null) leaves the list as it is; [] removes
//     every entry. Entries are kept and answered in the order written.
//   - filterCond is a Kintone query. Absent, null or "" is every record (the
//     reminder page says so; the per-record page says it is required when
//     notifications is sent, yet also that omitting it means every record:
//     the lenient reading is taken for both). The query is evaluated by
//     package kquery: =, !=, >, <, >=, <=, in, not in, like, not like, is
//     empty, is not empty, and, or and parentheses. Anything else is CB_VA01
//     on notifications[i].filterCond, its message naming the query's field:
//     functions (LOGINUSER(), TODAY(), NOW() …: a notification has no viewer
//     and its condition no moment) and order by, limit, offset (which the
//     reminder page refuses too).
//   - title is optional ("" when absent) and at most 100 characters, the
//     reminder page's limit, taken for per-record titles too.
//   - targets is required when notifications is sent ([] for none); each
//     entity follows the general notifications' rules (field codes by
//     Kintone's rules, includeSubs ignored for USER and GROUP); the same
//     target twice in one entry is refused.
//   - timing: code (a field code) and daysLater are required, and one of
//     hoursLater or time; both at once is CB_VA01 on notifications[i].timing.
//     daysLater and hoursLater are integers from -10000 to 10000, as numbers
//     or strings; time is HH:mm in 10-minute steps (09:20). The Get page
//     answers daysLater and hoursLater as strings, and only the one of
//     hoursLater and time the entry has.
//   - At most 10 reminder notifications per app (the help page's "up to 10
//     notification triggers"); the pages name no limit on per-record
//     notifications: Herald takes 100.
//   - timezone is an IANA name (Asia/Tokyo); absent leaves it as it is, ""
//     or an unknown name is CB_VA01. An app that never set one reads "UTC",
//     Herald's default, as a Kintone app reads its domain's.
//   - lang is accepted and ignored: Herald keeps no localized option names,
//     so every language reads the conditions as written.
//   - Errors are those of the general settings, with the same codes:
//     CB_VA01 naming every invalid member at once, GAIA_CO02 for a stale
//     revision, GAIA_AP01 for an unknown app or another space's.
//
// Herald knows an app's records only from its events: an event of the app
// whose payload carries a record in Kintone's webhook shape ({"record":
// {"$id": {"type": "__ID__", "value": "1"}, "field": {"type": …, "value":
// …}}}) is checked against the live notifications. A per-record
// notification is checked on record.added, record.edited and
// status.changed events and tells its targets at once when the record
// meets it; a FIELD_ENTITY target naming a user, department or group
// selection field of the record (Created By, Updated By, the assignees …)
// is the people the field holds. A reminder notification the record meets
// is scheduled for the time its timing computes from the record's field,
// in the app's time zone (a date is read at midnight; days are calendar
// days); a later event of the record moves or cancels it, a payload
// {"type": "DELETE_RECORD", "recordId": …} cancels them all, and a time
// already past is not reminded of. Both are sent to the project's inbox
// (ensured by the first write that names a target). Kintone checks a
// reminder's condition when it falls due; Herald checks it on the record's
// latest event. A reminder notification deployed later reaches a record at
// its next event; a deployed change of a notification's title or targets
// reaches the reminders already scheduled, one of its timing, condition or
// the time zone drops them (they are scheduled again at the record's next
// event).
//
// Deploys run synchronously in one transaction (all listed apps or none), so
// the deploy status of an existing app is always SUCCESS: a deploy that
// fails answers its error at once and changes nothing, and no deploy is
// ever PROCESSING, so no write is refused for one.
//
// # Authentication
//
// X-Cybozu-API-Token carries Herald tokens (several comma-separated are
// tried in turn), as do the other headers api.Server accepts. Password
// (X-Cybozu-Authorization) and session authentication are not supported
// and answer CB_WA01. Reading any of the three documents needs
// settings:read, writing and deploying settings:write.
//
// # Errors
//
// Errors use Kintone's envelope {"code", "id", "message"} with a fresh
// random id, plus "errors" naming each field for CB_VA01, for every path
// under /k/v1/ and /k/guest/ and every method. The codes used:
//
//	CB_VA01     400 invalid input ({"errors": {"notifications[0].entity.type": {"messages": ["…"]}}})
//	CB_IJ01     400 a body that is not JSON; 413 a body over 1 MiB
//	CB_WA01     401 no token, an invalid or revoked token, or password authentication
//	CB_NO02     403 the token lacks the permission
//	GAIA_AP01   404 the app is unknown, of another tenant or project, or under another space path
//	CB_IL02     404 a path under /k/v1/ or /k/guest/ that names no API;
//	            405 a method the path does not serve (Allow names those it does)
//	GAIA_CO02   409 the revision named is not the latest
//
// Kintone's pages document no answer for an unknown API path, a method an
// API does not serve, or a body over its size limit. The readings here:
// CB_IL02 ("Illegal request.") is the code Kintone answers for a request it
// cannot take in the form sent, the closest documented one, and is used
// for both, with the HTTP statuses 404 and 405 so that generic clients
// read them too (no source found shows Kintone's exact answer; the
// message adds which case it is). An oversized body keeps CB_IJ01, the
// body code, with 413. Authentication comes before the app and permission
// checks but not before these two: a path or method that does not exist
// answers the same with or without a token, and tells nothing.
//
// Where Kintone has no code we know of, the code is Herald's own:
//
//	HERALD_NA01 409 the request is not allowed in the settings' state
//	HERALD_RL01 429 rate limited
//	HERALD_IN01 500 an internal error (logged, never shown)
package kintone

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Surface is Kintone's notification settings API: general, per-record
// and reminder notifications, and deploys. Set the services (all
// implemented by *store.DB) and mount it with api.Server.Surfaces.
type Surface struct {
	Sources   herald.SourceService
	Notifiers herald.NotifierService
	Settings  herald.SettingsService
	// Records serves the per-record and reminder notifications.
	Records herald.RecordNotificationService
	// Logger receives internal errors. Nil: discard.
	Logger *slog.Logger
}

// endpoint is an API path under a prefix and the methods it serves, in
// the order Allow names them.
type endpoint struct {
	path    string
	methods []string
}

var (
	get, getPut, getPost = []string{http.MethodGet}, []string{http.MethodGet, http.MethodPut}, []string{http.MethodGet, http.MethodPost}
	// documents are the notification settings documents: each has a live
	// path (GET) and a preview path (GET, PUT).
	documents = []struct{ live, preview string }{
		{"/app/notifications/general.json", "/preview/app/notifications/general.json"},
		{"/app/notifications/perRecord.json", "/preview/app/notifications/perRecord.json"},
		{"/app/notifications/reminder.json", "/preview/app/notifications/reminder.json"},
	}
	deployPath = "/preview/app/deploy.json"
)

// endpoints lists every API path and its methods.
func endpoints() []endpoint {
	var out []endpoint
	for _, d := range documents {
		out = append(out, endpoint{d.live, get}, endpoint{d.preview, getPut})
	}
	return append(out, endpoint{deployPath, getPost})
}

// documentHandlers are the handlers of one notification settings
// document: its GET of a version and its PUT.
func (s *Surface) documentHandlers(live string) (func(version string) handlerFunc, handlerFunc) {
	switch live {
	case documents[1].live:
		return s.handleGetPerRecord, s.handlePutPerRecord
	case documents[2].live:
		return s.handleGetReminder, s.handlePutReminder
	}
	return s.handleGetNotifications, s.handlePutNotifications
}

// Register mounts every endpoint, under /k/v1 and under
// /k/guest/{spaceId}/v1, and answers every other method on them, and every
// other path under /k/v1/ and /k/guest/, in Kintone's envelope.
func (s *Surface) Register(mux *http.ServeMux) {
	for _, prefix := range []string{"/k/v1", "/k/guest/{spaceId}/v1"} {
		for _, d := range documents {
			getFn, put := s.documentHandlers(d.live)
			live, preview := prefix+d.live, prefix+d.preview
			mux.Handle("GET "+live, s.handle(getFn(herald.VersionLive)))
			mux.Handle("GET "+preview, s.handle(getFn(herald.VersionDraft)))
			mux.Handle("PUT "+preview, s.handle(put))
			// A GET whose query would make the URL too long is sent as a
			// POST with X-HTTP-Method-Override: GET (Kintone's REST API
			// clients do).
			mux.Handle("POST "+live, s.overridable(s.handle(getFn(herald.VersionLive)), nil, get))
			mux.Handle("POST "+preview, s.overridable(s.handle(getFn(herald.VersionDraft)), nil, getPut))
		}
		deploy := prefix + deployPath
		mux.Handle("POST "+deploy, s.overridable(s.handle(s.handleDeployStatus), s.handle(s.handleDeploy), getPost))
		mux.Handle("GET "+deploy, s.handle(s.handleDeployStatus))
		// Any other method on an endpoint.
		for _, e := range endpoints() {
			mux.Handle(prefix+e.path, s.notAllowed(e.methods))
		}
	}
	mux.Handle("/k/v1/", http.HandlerFunc(s.noAPI))
	mux.Handle("/k/guest/", http.HandlerFunc(s.noAPI))
}

// overridable serves a POST carrying X-HTTP-Method-Override: GET with get,
// and any other POST with post (nil: the method is not allowed; allowed
// names the path's methods).
func (s *Surface) overridable(get, post http.Handler, allowed []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.Header.Get("X-HTTP-Method-Override"), http.MethodGet):
			get.ServeHTTP(w, r)
		case post != nil:
			post.ServeHTTP(w, r)
		default:
			s.notAllowed(allowed).ServeHTTP(w, r)
		}
	})
}

// notAllowed answers a method the path does not serve: 405 with the
// methods it does in Allow, in Kintone's envelope (see the package doc).
func (s *Surface) notAllowed(allowed []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: codeIllegal,
			message: msgIllegal + " Method " + r.Method + " is not allowed for this API."})
	})
}

// noAPI answers a path under /k/v1/ or /k/guest/ that names no API: 404 in
// Kintone's envelope (see the package doc).
func (s *Surface) noAPI(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, &apiError{status: http.StatusNotFound, code: codeIllegal,
		message: msgIllegal + " The API does not exist."})
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle authenticates the request and renders h's error; the services
// decide what the token may do.
func (s *Surface) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			p := herald.PrincipalFromContext(r.Context())
			if err := herald.AuthErrorFromContext(r.Context()); p == nil && herald.ErrorCode(err) == herald.EINTERNAL {
				return err // the token could not be checked: not the client's fault
			}
			if p == nil {
				if r.Header.Get("X-Cybozu-Authorization") != "" {
					return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
						message: "Password authentication failed. Herald accepts API tokens only (X-Cybozu-API-Token)."}
				}
				return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
					message: "Authentication failed. Send a valid API token in X-Cybozu-API-Token."}
			}
			return h(w, r)
		}()
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Surface) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
