package api

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// anyToken marks a route any valid token may call.
const anyToken herald.Permission = ""

// routes lists every native endpoint with the permission it needs.
func (s *Server) routes(r *router, metrics http.Handler) {
	r.public("GET /healthz", s.handleHealthz)
	r.public("GET /readyz", s.handleReadyz)
	r.publicHTTP("GET /metrics", metrics)
	r.public("GET /api/v1/openapi.json", s.handleOpenAPI)

	r.handle("GET /api/v1/projects", anyToken, s.handleListProjects)
	r.handle("POST /api/v1/projects", herald.PermSettingsWrite, s.handleCreateProject)
	r.handle("GET /api/v1/projects/{id}", anyToken, s.handleGetProject)
	r.handle("PATCH /api/v1/projects/{id}", herald.PermSettingsWrite, s.handleUpdateProject)
	r.handle("DELETE /api/v1/projects/{id}", herald.PermSettingsWrite, s.handleDeleteProject)

	r.handle("GET /api/v1/projects/{id}/sources", anyToken, s.handleListSources)
	r.handle("POST /api/v1/projects/{id}/sources", herald.PermSettingsWrite, s.handleCreateSource)
	r.handle("GET /api/v1/sources/{id}", anyToken, s.handleGetSource)
	r.handle("PATCH /api/v1/sources/{id}", herald.PermSettingsWrite, s.handleUpdateSource)
	r.handle("DELETE /api/v1/sources/{id}", herald.PermSettingsWrite, s.handleDeleteSource)

	r.handle("GET /api/v1/projects/{id}/notifiers", anyToken, s.handleListNotifiers)
	r.handle("POST /api/v1/projects/{id}/notifiers", herald.PermNotifiersWrite, s.handleCreateNotifier)
	r.handle("GET /api/v1/notifiers/{id}", anyToken, s.handleGetNotifier)
	r.handle("PATCH /api/v1/notifiers/{id}", herald.PermNotifiersWrite, s.handleUpdateNotifier)
	r.handle("DELETE /api/v1/notifiers/{id}", herald.PermNotifiersWrite, s.handleDeleteNotifier)

	r.handle("GET /api/v1/users", anyToken, s.handleListUsers)
	r.handle("POST /api/v1/users", herald.PermDirectoryWrite, s.handleCreateUser)
	r.handle("GET /api/v1/users/{id}", anyToken, s.handleGetUser)
	r.handle("PATCH /api/v1/users/{id}", herald.PermDirectoryWrite, s.handleUpdateUser)
	r.handle("DELETE /api/v1/users/{id}", herald.PermDirectoryWrite, s.handleDeleteUser)

	r.handle("GET /api/v1/groups", anyToken, s.handleListGroups)
	r.handle("POST /api/v1/groups", herald.PermDirectoryWrite, s.handleCreateGroup)
	r.handle("GET /api/v1/groups/{id}", anyToken, s.handleGetGroup)
	r.handle("PATCH /api/v1/groups/{id}", herald.PermDirectoryWrite, s.handleUpdateGroup)
	r.handle("DELETE /api/v1/groups/{id}", herald.PermDirectoryWrite, s.handleDeleteGroup)

	r.handle("GET /api/v1/departments", anyToken, s.handleListDepartments)
	r.handle("POST /api/v1/departments", herald.PermDirectoryWrite, s.handleCreateDepartment)
	r.handle("GET /api/v1/departments/{id}", anyToken, s.handleGetDepartment)
	r.handle("PATCH /api/v1/departments/{id}", herald.PermDirectoryWrite, s.handleUpdateDepartment)
	r.handle("DELETE /api/v1/departments/{id}", herald.PermDirectoryWrite, s.handleDeleteDepartment)

	r.handle("GET /api/v1/chats", anyToken, s.handleListChats)
	r.handle("POST /api/v1/chats", herald.PermDirectoryWrite, s.handleCreateChat)
	r.handle("GET /api/v1/chats/{id}", anyToken, s.handleGetChat)
	r.handle("PATCH /api/v1/chats/{id}", herald.PermDirectoryWrite, s.handleUpdateChat)
	r.handle("DELETE /api/v1/chats/{id}", herald.PermDirectoryWrite, s.handleDeleteChat)

	// Settings of a source ({id} is the source) and of the project default
	// ({id} is the project): the same six operations.
	for _, scope := range []struct {
		prefix string
		find   scopeFinder
	}{
		{"/api/v1/sources/{id}/settings", s.sourceScope},
		{"/api/v1/projects/{id}/settings", s.projectScope},
	} {
		r.handle("GET "+scope.prefix, herald.PermSettingsRead, s.handleGetSettings(scope.find))
		r.handle("PUT "+scope.prefix, herald.PermSettingsWrite, s.handlePutSettings(scope.find))
		r.handle("POST "+scope.prefix+"/deploy", herald.PermSettingsWrite, s.handleDeploySettings(scope.find, false))
		r.handle("POST "+scope.prefix+"/revert", herald.PermSettingsWrite, s.handleDeploySettings(scope.find, true))
		r.handle("GET "+scope.prefix+"/effective", herald.PermSettingsRead, s.handleEffectiveSettings(scope.find))
		r.handle("GET "+scope.prefix+"/history", herald.PermSettingsRead, s.handleSettingsHistory(scope.find))
	}

	r.handle("POST /api/v1/events", herald.PermEventsWrite, s.handleCreateEvents)
	r.handle("GET /api/v1/events/{id}", herald.PermSettingsRead, s.handleGetEvent)
	r.handle("GET /api/v1/deliveries", herald.PermSettingsRead, s.handleListDeliveries)
	r.handle("GET /api/v1/deliveries/{id}", herald.PermSettingsRead, s.handleGetDelivery)
	r.handle("POST /api/v1/deliveries/{id}/retry", herald.PermEventsWrite, s.handleRetryDelivery)

	r.handle("GET /api/v1/users/{id}/inbox", anyToken, s.handleListInbox)
	r.handle("GET /api/v1/users/{id}/inbox/stream", anyToken, s.handleInboxStream)
	r.handle("POST /api/v1/users/{id}/inbox/{message_id}/read", anyToken, s.handleMarkInboxRead)
	r.handle("POST /api/v1/users/{id}/inbox/read-all", anyToken, s.handleMarkAllInboxRead)

	r.handle("GET /api/v1/pushes", herald.PermPushRead, s.handleListPushes)
	r.handle("POST /api/v1/pushes", herald.PermPushWrite, s.handleCreatePush)
	r.handle("GET /api/v1/pushes/{id}", herald.PermPushRead, s.handleGetPush)
	r.handle("PATCH /api/v1/pushes/{id}", herald.PermPushWrite, s.handleUpdatePush)
	r.handle("POST /api/v1/pushes/{id}/preview", herald.PermPushRead, s.handlePreviewPush)
	r.handle("POST /api/v1/pushes/{id}/submit", herald.PermPushWrite, s.handleSubmitPush)
	r.handle("POST /api/v1/pushes/{id}/withdraw", herald.PermPushWrite, s.handleWithdrawPush)
	r.handle("POST /api/v1/pushes/{id}/approve", herald.PermPushApprove, s.handleApprovePush)
	r.handle("POST /api/v1/pushes/{id}/reject", herald.PermPushApprove, s.handleRejectPush)
	r.handle("POST /api/v1/pushes/{id}/execute", herald.PermPushWrite, s.handleExecutePush)
	r.handle("POST /api/v1/pushes/{id}/cancel", herald.PermPushWrite, s.handleCancelPush)

	r.handle("GET /api/v1/tokens", herald.PermAdmin, s.handleListTokens)
	r.handle("POST /api/v1/tokens", herald.PermAdmin, s.handleCreateToken)
	r.handle("DELETE /api/v1/tokens/{id}", herald.PermAdmin, s.handleRevokeToken)

	r.handle("POST /api/v1/otp/send", herald.PermOTPSend, s.handleSendOTP)
	r.handle("POST /api/v1/otp/verify", herald.PermOTPSend, s.handleVerifyOTP)
}

// route is one registered endpoint, as routes() declared it.
type route struct {
	Pattern string            // "METHOD /path/{param}"
	Perm    herald.Permission // needed permission; anyToken: any valid token
	Public  bool              // no token needed
}

// router registers routes on mux (when set) and records them, so tests can
// compare the list with the OpenAPI document and walk every route.
type router struct {
	mux    *http.ServeMux // nil: record only
	s      *Server
	routes []route
}

// public registers a route that needs no token.
func (r *router) public(pattern string, h handlerFunc) {
	r.publicHTTP(pattern, h.serve())
}

func (r *router) publicHTTP(pattern string, h http.Handler) {
	r.routes = append(r.routes, route{Pattern: pattern, Public: true})
	if r.mux != nil {
		r.mux.Handle(pattern, h)
	}
}

// handle registers a route that needs a valid token holding perm.
func (r *router) handle(pattern string, perm herald.Permission, h handlerFunc) {
	r.routes = append(r.routes, route{Pattern: pattern, Perm: perm})
	if r.mux == nil {
		return
	}
	r.mux.Handle(pattern, handlerFunc(func(w http.ResponseWriter, req *http.Request) error {
		p, err := principal(req)
		if err != nil {
			return err
		}
		if perm != anyToken {
			if err := p.Require(perm); err != nil {
				return err
			}
		}
		return h(w, req)
	}).serve())
}

// serve adapts h to net/http, rendering its error.
func (h handlerFunc) serve() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, err)
		}
	})
}
