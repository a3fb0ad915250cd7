// Package kintone serves Kintone's general notification settings API over
// Herald's settings, so that a client of Kintone's REST API works against
// Herald unchanged:
//
//	GET  /k/v1/app/notifications/general.json?app=N          live settings
//	GET  /k/v1/preview/app/notifications/general.json?app=N  pre-live settings
//	PUT  /k/v1/preview/app/notifications/general.json        update pre-live
//	POST /k/v1/preview/app/deploy.json                       deploy or revert
//	GET  /k/v1/preview/app/deploy.json?apps[0]=N             deploy status
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
// and answer CB_WA01. Reading needs settings:read, writing and deploying
// settings:write.
//
// # Errors
//
// Errors use Kintone's envelope {"code", "id", "message"} with a fresh
// random id, plus "errors" naming each field for CB_VA01. The codes used:
//
//	CB_VA01     400 invalid input ({"errors": {"notifications[0].entity.type": {"messages": ["…"]}}})
//	CB_IJ01     400 a body that is not JSON; 413 a body over 1 MiB
//	CB_WA01     401 no token, an invalid or revoked token, or password authentication
//	CB_NO02     403 the token lacks the permission
//	GAIA_AP01   404 the app is unknown, of another tenant or project, or under another space path
//	GAIA_CO02   409 the revision named is not the latest
//
// Where Kintone has no code we know of, the code is Herald's own:
//
//	HERALD_NA01 405 a method the path does not serve; 409 the request is
//	            not allowed in the settings' state
//	HERALD_RL01 429 rate limited
//	HERALD_IN01 500 an internal error (logged, never shown)
package kintone

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Surface is Kintone's general notification settings API. Set the services
// (all implemented by *store.DB) and mount it with api.Server.Surfaces.
type Surface struct {
	Sources   herald.SourceService
	Notifiers herald.NotifierService
	Settings  herald.SettingsService
	// Logger receives internal errors. Nil: discard.
	Logger *slog.Logger
}

// Register mounts every endpoint, under /k/v1 and under
// /k/guest/{spaceId}/v1.
func (s *Surface) Register(mux *http.ServeMux) {
	for _, prefix := range []string{"/k/v1", "/k/guest/{spaceId}/v1"} {
		mux.Handle("GET "+prefix+"/app/notifications/general.json", s.handle(s.handleGetNotifications(herald.VersionLive)))
		mux.Handle("GET "+prefix+"/preview/app/notifications/general.json", s.handle(s.handleGetNotifications(herald.VersionDraft)))
		mux.Handle("PUT "+prefix+"/preview/app/notifications/general.json", s.handle(s.handlePutNotifications))
		mux.Handle("POST "+prefix+"/preview/app/deploy.json", s.overridable(s.handle(s.handleDeployStatus), s.handle(s.handleDeploy)))
		mux.Handle("GET "+prefix+"/preview/app/deploy.json", s.handle(s.handleDeployStatus))
		// A GET whose query would make the URL too long is sent as a POST
		// with X-HTTP-Method-Override: GET (Kintone's REST API clients do).
		mux.Handle("POST "+prefix+"/app/notifications/general.json", s.overridable(s.handle(s.handleGetNotifications(herald.VersionLive)), nil))
		mux.Handle("POST "+prefix+"/preview/app/notifications/general.json", s.overridable(s.handle(s.handleGetNotifications(herald.VersionDraft)), nil))
	}
}

// overridable serves a POST carrying X-HTTP-Method-Override: GET with get,
// and any other POST with post (nil: the method is not allowed).
func (s *Surface) overridable(get, post http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.Header.Get("X-HTTP-Method-Override"), http.MethodGet):
			get.ServeHTTP(w, r)
		case post != nil:
			post.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET")
			s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: codeNotAllowed, message: "Method POST is not allowed here."})
		}
	})
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
