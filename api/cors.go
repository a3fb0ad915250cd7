package api

import (
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// CORS for the embedded inbox. A host application's page, on its own
// origin, loads /embed/inbox.js and calls the /api/v1/me routes with an
// end-user token in the Authorization header; the browser lets it read
// the answers only if Herald names the page's origin in
// Access-Control-Allow-Origin. Herald names an origin only where a
// project lists it (herald.Project.AllowedOrigins):
//
//   - a preflight (OPTIONS with Access-Control-Request-Method) carries no
//     token, so it is answered for an origin some project lists;
//   - the request itself is answered for an origin the end-user token's
//     own project lists; from any other origin it is refused (403) before
//     it does anything, so a token leaked to another site is of no use
//     from a browser there;
//   - the script and an answer without a valid token (401, so the widget
//     can say its token expired) carry the header for an origin some
//     project lists.
//
// No other route answers cross-origin requests: the API tokens are for
// servers, not for browsers.

// corsPaths are the path prefixes CORS applies to.
var corsPaths = []string{"/api/v1/me/", "/embed/"}

// Preflight answers allow these methods and request headers, for this
// long (seconds).
const (
	corsMethods = "GET, PUT, POST"
	corsHeaders = "Authorization, Content-Type, Last-Event-ID"
	corsMaxAge  = "600"
)

func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !corsPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		if origin == "" || sameOrigin(r, origin) {
			next.ServeHTTP(w, r)
			return
		}
		allow := func() {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if s.anyAllows(r, origin) {
				allow()
				h := w.Header()
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		p := herald.PrincipalFromContext(r.Context())
		switch {
		case p.EndUser():
			ok, err := s.Origins != nil, error(nil)
			if ok {
				ok, err = s.Origins.ProjectAllowsOrigin(r.Context(), p.ProjectID, origin)
			}
			if err != nil {
				Error(w, r, err)
				return
			}
			if !ok {
				Error(w, r, herald.Errorf(herald.EFORBIDDEN, "", "origin %s is not among the allowed origins of project %d", origin, p.ProjectID))
				return
			}
			allow()
		case p == nil:
			// The script, or an answer without a valid token (401).
			if s.anyAllows(r, origin) {
				allow()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// anyAllows reports whether some project lists origin; a failed look-up
// answers no (the browser then refuses, which is safe).
func (s *Server) anyAllows(r *http.Request, origin string) bool {
	if s.Origins == nil {
		return false
	}
	ok, err := s.Origins.AnyProjectAllowsOrigin(r.Context(), origin)
	if err != nil {
		s.logger().Warn("cors: look up an origin", "origin", origin, "err", err)
	}
	return ok && err == nil
}

func corsPath(path string) bool {
	for _, p := range corsPaths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether origin is the server's own (the request's
// host), which needs no CORS.
func sameOrigin(r *http.Request, origin string) bool {
	_, host, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(host, r.Host)
}

// embedScript serves the embedded inbox's script, or 404 without one.
func (s *Server) embedScript() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Embed == nil {
			Error(w, r, herald.Errorf(herald.ENOTFOUND, "", "this server serves no embedded inbox"))
			return
		}
		s.Embed.ServeHTTP(w, r)
	})
}
