package api

import (
	"net/http"
)

// routes lists every native endpoint. Each needs a valid token except the
// public ones; what the token may do is the services' decision
// (herald.Policy), not the router's.
func (s *Server) routes(r *router, metrics http.Handler) {
	r.public("GET /healthz", s.handleHealthz)
	r.public("GET /readyz", s.handleReadyz)
	r.publicHTTP("GET /metrics", metrics)
	r.public("GET /api/v1/openapi.json", s.handleOpenAPI)
	r.public("GET /api/v1/docs", s.handleDocs)

	r.handle("GET /api/v1/projects", s.handleListProjects)
	r.handle("POST /api/v1/projects", s.handleCreateProject)
	r.handle("GET /api/v1/projects/{id}", s.handleGetProject)
	r.handle("PATCH /api/v1/projects/{id}", s.handleUpdateProject)
	r.handle("DELETE /api/v1/projects/{id}", s.handleDeleteProject)

	r.handle("GET /api/v1/projects/{id}/sources", s.handleListSources)
	r.handle("POST /api/v1/projects/{id}/sources", s.handleCreateSource)
	r.handle("GET /api/v1/sources/{id}", s.handleGetSource)
	r.handle("PATCH /api/v1/sources/{id}", s.handleUpdateSource)
	r.handle("DELETE /api/v1/sources/{id}", s.handleDeleteSource)

	r.handle("GET /api/v1/projects/{id}/notifiers", s.handleListNotifiers)
	r.handle("POST /api/v1/projects/{id}/notifiers", s.handleCreateNotifier)
	r.handle("GET /api/v1/notifiers/{id}", s.handleGetNotifier)
	r.handle("PATCH /api/v1/notifiers/{id}", s.handleUpdateNotifier)
	r.handle("DELETE /api/v1/notifiers/{id}", s.handleDeleteNotifier)

	r.handle("GET /api/v1/users", s.handleListUsers)
	r.handle("POST /api/v1/users", s.handleCreateUser)
	r.handle("GET /api/v1/users/{id}", s.handleGetUser)
	r.handle("PATCH /api/v1/users/{id}", s.handleUpdateUser)
	r.handle("DELETE /api/v1/users/{id}", s.handleDeleteUser)

	r.handle("GET /api/v1/groups", s.handleListGroups)
	r.handle("POST /api/v1/groups", s.handleCreateGroup)
	r.handle("GET /api/v1/groups/{id}", s.handleGetGroup)
	r.handle("PATCH /api/v1/groups/{id}", s.handleUpdateGroup)
	r.handle("DELETE /api/v1/groups/{id}", s.handleDeleteGroup)

	r.handle("GET /api/v1/departments", s.handleListDepartments)
	r.handle("POST /api/v1/departments", s.handleCreateDepartment)
	r.handle("GET /api/v1/departments/{id}", s.handleGetDepartment)
	r.handle("PATCH /api/v1/departments/{id}", s.handleUpdateDepartment)
	r.handle("DELETE /api/v1/departments/{id}", s.handleDeleteDepartment)

	r.handle("GET /api/v1/chats", s.handleListChats)
	r.handle("POST /api/v1/chats", s.handleCreateChat)
	r.handle("GET /api/v1/chats/{id}", s.handleGetChat)
	r.handle("PATCH /api/v1/chats/{id}", s.handleUpdateChat)
	r.handle("DELETE /api/v1/chats/{id}", s.handleDeleteChat)

	// Settings of a source ({id} is the source) and of the project default
	// ({id} is the project): the same six operations.
	for _, scope := range []struct {
		prefix string
		find   scopeFinder
	}{
		{"/api/v1/sources/{id}/settings", s.sourceScope},
		{"/api/v1/projects/{id}/settings", s.projectScope},
	} {
		r.handle("GET "+scope.prefix, s.handleGetSettings(scope.find))
		r.handle("PUT "+scope.prefix, s.handlePutSettings(scope.find))
		r.handle("POST "+scope.prefix+"/deploy", s.handleDeploySettings(scope.find, false))
		r.handle("POST "+scope.prefix+"/revert", s.handleDeploySettings(scope.find, true))
		r.handle("GET "+scope.prefix+"/effective", s.handleEffectiveSettings(scope.find))
		r.handle("GET "+scope.prefix+"/history", s.handleSettingsHistory(scope.find))
	}

	// A project's message templates: the settings' workflow, and the
	// built-in templates and a preview beside it.
	r.handle("GET /api/v1/projects/{id}/templates", s.handleGetTemplates)
	r.handle("PUT /api/v1/projects/{id}/templates", s.handlePutTemplates)
	r.handle("POST /api/v1/projects/{id}/templates/deploy", s.handleDeployTemplates(false))
	r.handle("POST /api/v1/projects/{id}/templates/revert", s.handleDeployTemplates(true))
	r.handle("GET /api/v1/projects/{id}/templates/history", s.handleTemplatesHistory)
	r.handle("GET /api/v1/projects/{id}/templates/defaults", s.handleDefaultTemplates)
	r.handle("POST /api/v1/projects/{id}/templates/preview", s.handlePreviewTemplate)

	r.handle("POST /api/v1/events", s.handleCreateEvents)
	r.handle("GET /api/v1/events/{id}", s.handleGetEvent)
	r.handle("GET /api/v1/deliveries", s.handleListDeliveries)
	r.handle("GET /api/v1/deliveries/{id}", s.handleGetDelivery)
	r.handle("POST /api/v1/deliveries/{id}/retry", s.handleRetryDelivery)
	r.handle("POST /api/v1/deliveries/retry", s.handleRetryDeliveries)

	// A person's preferences, by an API token or by their own end-user
	// token (/me); the administrator's policies; the project's key for
	// end-user tokens; one-click unsubscribe links (the link is the
	// credential).
	r.handle("GET /api/v1/users/{id}/preferences", s.userPreferences(false, pathUser))
	r.handle("PUT /api/v1/users/{id}/preferences", s.userPreferences(true, pathUser))
	r.handle("GET /api/v1/me/preferences", s.userPreferences(false, me))
	r.handle("PUT /api/v1/me/preferences", s.userPreferences(true, me))
	r.handle("GET /api/v1/preference-policy", s.preferencePolicy(false, nil))
	r.handle("PUT /api/v1/preference-policy", s.preferencePolicy(true, nil))
	r.handle("GET /api/v1/projects/{id}/preference-policy", s.preferencePolicy(false, s.projectParent))
	r.handle("PUT /api/v1/projects/{id}/preference-policy", s.preferencePolicy(true, s.projectParent))
	r.handle("POST /api/v1/projects/{id}/end-user-key", s.handleRotateEndUserKey)
	r.handle("DELETE /api/v1/projects/{id}/end-user-key", s.handleDeleteEndUserKey)
	r.public("GET /unsubscribe/{token}", s.handleUnsubscribe)
	r.public("POST /unsubscribe/{token}", s.handleUnsubscribe)

	r.handle("GET /api/v1/users/{id}/inbox", s.listInbox(pathUser))
	r.handle("GET /api/v1/users/{id}/inbox/stream", s.handleInboxStream)
	r.handle("POST /api/v1/users/{id}/inbox/{message_id}/read", s.markInboxRead(pathUser))
	r.handle("POST /api/v1/users/{id}/inbox/read-all", s.markAllInboxRead(pathUser))

	// The embedded inbox (<herald-inbox>, served at /embed/inbox.js): the
	// person of an end-user token reads and marks their own inbox of the
	// token's project and sees their preferences panel. Browsers on the
	// origins the project lists may call these (cors.go).
	r.handle("GET /api/v1/me/inbox", s.listInbox(me))
	r.handle("GET /api/v1/me/inbox/unread-count", s.unreadInbox(me))
	r.handle("GET /api/v1/me/inbox/stream", s.inboxStream(me))
	r.handle("POST /api/v1/me/inbox/{message_id}/read", s.markInboxRead(me))
	r.handle("POST /api/v1/me/inbox/read-all", s.markAllInboxRead(me))
	r.handle("GET /api/v1/me/preference-panel", s.handlePreferencePanel)
	r.publicHTTP("GET /embed/inbox.js", s.embedScript())

	r.handle("GET /api/v1/pushes", s.handleListPushes)
	r.handle("POST /api/v1/pushes", s.handleCreatePush)
	r.handle("GET /api/v1/pushes/{id}", s.handleGetPush)
	r.handle("PATCH /api/v1/pushes/{id}", s.handleUpdatePush)
	r.handle("POST /api/v1/pushes/{id}/preview", s.handlePreviewPush)
	r.handle("POST /api/v1/pushes/{id}/submit", s.handleSubmitPush)
	r.handle("POST /api/v1/pushes/{id}/withdraw", s.handleWithdrawPush)
	r.handle("GET /api/v1/push-policy", s.handleGetPushPolicy)
	r.handle("PUT /api/v1/push-policy", s.handlePutPushPolicy)
	r.handle("POST /api/v1/pushes/{id}/approve", s.handleApprovePush)
	r.handle("POST /api/v1/pushes/{id}/reject", s.handleRejectPush)
	r.handle("POST /api/v1/pushes/{id}/execute", s.handleExecutePush)
	r.handle("POST /api/v1/pushes/{id}/cancel", s.handleCancelPush)

	r.handle("GET /api/v1/tokens", s.handleListTokens)
	r.handle("POST /api/v1/tokens", s.handleCreateToken)
	r.handle("DELETE /api/v1/tokens/{id}", s.handleRevokeToken)

	r.handle("POST /api/v1/otp/send", s.handleSendOTP)
	r.handle("POST /api/v1/otp/verify", s.handleVerifyOTP)
}

// Route is one native endpoint as routes() registers it: its pattern
// ("METHOD /path/{param}") and whether it needs no token.
type Route struct {
	Pattern string
	Public  bool
}

// Routes lists every native endpoint in the order routes() registers it,
// so that tests outside the package (the access suite) can walk them all.
func Routes() []Route {
	r := &router{}
	(&Server{}).routes(r, nil)
	out := make([]Route, len(r.routes))
	for i, x := range r.routes {
		out[i] = Route(x)
	}
	return out
}

// route is one registered endpoint, as routes() declared it.
type route struct {
	Pattern string // "METHOD /path/{param}"
	Public  bool   // no token needed
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

// handle registers a route that needs a valid token.
func (r *router) handle(pattern string, h handlerFunc) {
	r.routes = append(r.routes, route{Pattern: pattern})
	if r.mux == nil {
		return
	}
	r.mux.Handle(pattern, handlerFunc(func(w http.ResponseWriter, req *http.Request) error {
		if _, err := principal(req); err != nil {
			return err
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
