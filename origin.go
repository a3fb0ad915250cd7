package herald

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// A project lists the web origins its end-user tokens may be used from
// (the host application's pages that embed <herald-inbox>): the browser
// lets such a page read Herald's answers only when Herald names its
// origin in Access-Control-Allow-Origin (CORS), and Herald does so for
// the listed origins alone. An origin is "scheme://host[:port]", as
// browsers send it in the Origin header.

// maxAllowedOrigins bounds a project's list.
const maxAllowedOrigins = 50

// NormalizeOrigin returns origin as a browser sends it (lower-case
// scheme and host, no default port, no path), or an error when it is not
// an http(s) origin.
func NormalizeOrigin(origin string) (string, error) {
	bad := func() (string, error) {
		return "", Errorf(EINVALID, "", "an origin is scheme://host[:port] with scheme http or https, not %q", origin)
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(origin, " %*\\") {
		return bad()
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return bad()
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := u.Scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// validateOrigins normalizes, sorts and deduplicates a list of origins.
func validateOrigins(field string, origins []string) ([]string, error) {
	if len(origins) > maxAllowedOrigins {
		return nil, Errorf(EINVALID, field, "at most %d origins", maxAllowedOrigins)
	}
	out := make([]string, 0, len(origins))
	for i, o := range origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return nil, Errorf(EINVALID, indexField(field, i), "%s", ErrorMessage(err))
		}
		out = append(out, n)
	}
	if out = slices.Compact(slices.Sorted(slices.Values(out))); out == nil {
		out = []string{} // an empty list, never null, in JSON
	}
	return out, nil
}

// AllowsOrigin reports whether the project lists origin (as a browser
// sends it).
func (p *Project) AllowsOrigin(origin string) bool {
	n, err := NormalizeOrigin(origin)
	return err == nil && slices.Contains(p.AllowedOrigins, n)
}

// OriginService answers, for the HTTP layer's CORS decisions, which
// origins projects list. It acts for the system (a preflight carries no
// credentials) and tells nothing but yes or no.
type OriginService interface {
	// ProjectAllowsOrigin reports whether project projectID lists origin.
	ProjectAllowsOrigin(ctx context.Context, projectID int64, origin string) (bool, error)
	// AnyProjectAllowsOrigin reports whether some project lists origin:
	// the answer to a preflight, which names no project.
	AnyProjectAllowsOrigin(ctx context.Context, origin string) (bool, error)
}
