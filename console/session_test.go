package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/store/storetest"
)

// copyCookies gives to a second browser the cookies br holds for the
// console, as someone who copied them out of the cookie jar would.
func (br *browser) copyCookies(t *testing.T) *browser {
	t.Helper()
	u, _ := url.Parse(br.b.srv.URL + "/console/")
	other := br.b.browser(t)
	other.c.Jar.SetCookies(u, br.c.Jar.Cookies(u))
	return other
}

func TestSession_SignOutEndsCopiedCookie(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			b := setupOn(t, d)
			br := b.browser(t)
			br.signIn()
			copied := br.copyCookies(t)
			csrf := copied.csrf("/console/") // the copy works before sign-out
			// Another sign-in of the same token is a session of its own.
			other := b.browser(t)
			other.signIn()

			if st, loc, _ := br.post("/console/", "/console/signout", url.Values{}); st != http.StatusSeeOther || loc != "/console/signin" {
				t.Fatalf("sign out: %d %q", st, loc)
			}
			st, loc, _ := copied.do("GET", "/console/", nil)
			if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
				t.Fatalf("copied cookie after sign-out: %d %q, want a redirect to sign in", st, loc)
			}
			if st, _, _ := copied.do("POST", "/console/projects", url.Values{"csrf": {csrf}, "name": {"After sign-out"}}); st != http.StatusForbidden {
				t.Fatalf("POST with the copied cookie after sign-out: %d, want 403", st)
			}
			if ps, _, err := b.db.FindProjects(b.ctx, herald.Page{}); err != nil || len(ps) != 0 {
				t.Fatalf("a signed-out cookie created a project: %d projects, %v", len(ps), err)
			}
			if st, _ := other.get("/console/"); st != http.StatusOK {
				t.Fatalf("the other session after this one signed out: %d, want 200", st)
			}
			// Signing in again starts a new session.
			br.signIn()
			if st, _ := br.get("/console/"); st != http.StatusOK {
				t.Fatalf("signed in again: %d, want 200", st)
			}
		})
	}
}

func TestSession_RevokedTokenEndsSessions(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			b := setupOn(t, d)
			br := b.browser(t)
			br.signIn()
			csrf := br.csrf("/console/")
			p, err := b.db.Authenticate(b.ctx, b.token)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.db.RevokeToken(b.ctx, p.TokenID); err != nil {
				t.Fatal(err)
			}
			st, loc, _ := br.do("GET", "/console/", nil)
			if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
				t.Fatalf("session of a revoked token: %d %q, want a redirect to sign in", st, loc)
			}
			if st, _, _ := br.do("POST", "/console/projects", url.Values{"csrf": {csrf}, "name": {"Revoked"}}); st != http.StatusForbidden {
				t.Fatalf("POST with a revoked token's session: %d, want 403", st)
			}
		})
	}
}

func TestSession_SecureCookie(t *testing.T) {
	t.Parallel()
	b := setup(t)
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		name      string
		publicURL string
		trusted   []netip.Prefix
		remote    string
		proto     string // X-Forwarded-Proto
		secure    bool
	}{
		{name: "Plain", remote: "192.0.2.1:5000"},
		{name: "PublicURLHTTPS", publicURL: "https://herald.example.com", remote: "192.0.2.1:5000", secure: true},
		{name: "PublicURLHTTP", publicURL: "http://herald.example.com", remote: "192.0.2.1:5000"},
		{name: "TrustedProxyHTTPS", trusted: proxies, remote: "10.1.2.3:5000", proto: "https", secure: true},
		{name: "TrustedProxyIPv6", trusted: proxies, remote: "[2001:db8::7]:5000", proto: "HTTPS", secure: true},
		{name: "TrustedProxyHTTP", trusted: proxies, remote: "10.1.2.3:5000", proto: "http"},
		{name: "UntrustedAddress", trusted: proxies, remote: "192.0.2.1:5000", proto: "https"},
		{name: "NoTrustedProxies", remote: "10.1.2.3:5000", proto: "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			con := &console.Console{Tokens: b.db, Projects: b.db, Sessions: b.db, SessionKey: storetest.Key(),
				PublicURL: tc.publicURL, TrustedProxies: tc.trusted}
			mux := http.NewServeMux()
			con.Register(mux)
			send := func(r *http.Request) *http.Response {
				r.RemoteAddr = tc.remote
				if tc.proto != "" {
					r.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				return w.Result()
			}
			r := httptest.NewRequest("POST", "/console/signin", strings.NewReader(url.Values{"token": {b.token}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp := send(r)
			cs := resp.Cookies()
			if resp.StatusCode != http.StatusSeeOther || len(cs) != 1 {
				t.Fatalf("sign in: %d, cookies %v", resp.StatusCode, resp.Header["Set-Cookie"])
			}
			ck := cs[0]
			wantName, wantPath := "herald_console", "/console"
			if tc.secure {
				wantName, wantPath = "__Host-herald_console", "/"
			}
			if ck.Secure != tc.secure || ck.Name != wantName || ck.Path != wantPath || ck.Domain != "" {
				t.Fatalf("Set-Cookie %q: want Secure=%v, name %s, path %s, no domain", resp.Header.Get("Set-Cookie"), tc.secure, wantName, wantPath)
			}
			// The console reads the cookie by the name it set.
			r = httptest.NewRequest("GET", "/console/", nil)
			r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
			if resp := send(r); resp.StatusCode != http.StatusOK {
				t.Fatalf("GET with the cookie: %d, want 200", resp.StatusCode)
			}
			if tc.secure {
				// A secure console ignores the unprefixed name, which a
				// plain-http page or a sibling subdomain could have set.
				r = httptest.NewRequest("GET", "/console/", nil)
				r.AddCookie(&http.Cookie{Name: "herald_console", Value: ck.Value})
				if resp := send(r); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("GET with the unprefixed cookie: %d, want a redirect to sign in", resp.StatusCode)
				}
			}
		})
	}
}
