package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Cookie names. Over https the session cookie takes the __Host- prefix:
// browsers then accept it only with Secure, Path=/ and no Domain, so no
// plain-http page of the host nor a sibling subdomain can set it (and
// plant a session of its own choosing) or widen it.
const (
	sessionCookie       = "herald_console"
	secureSessionCookie = "__Host-herald_console"
	langCookie          = "herald_lang"
)

// DefaultSessionTTL is how long a sign-in lasts unless SessionTTL says.
const DefaultSessionTTL = 12 * time.Hour

// SessionStore keeps the console's sessions on the server, so that a
// session ends for every copy of its cookie. A session is known by the
// random secret its cookie carries (the store keeps only a hash) and acts
// as the token it was opened with. *store.DB implements it.
type SessionStore interface {
	// CreateConsoleSession records a session of ctx's principal (its token,
	// in its tenant), known by secret, lasting until expires.
	CreateConsoleSession(ctx context.Context, secret string, expires time.Time) error
	// AuthenticateConsoleSession resolves a session secret to its token's
	// principal and the session's expiry; a session unknown, revoked,
	// expired, or of a revoked token is EUNAUTHORIZED.
	AuthenticateConsoleSession(ctx context.Context, secret string) (*herald.Principal, time.Time, error)
	// RevokeConsoleSession ends the session of ctx's tenant known by
	// secret, for whoever holds its cookie.
	RevokeConsoleSession(ctx context.Context, secret string) error
}

// session is a request's sign-in, as the pages see it.
type session struct {
	// secret is the cookie's value: it names the session in the store.
	secret string
	// CSRF is the token every form of the session carries.
	CSRF    string
	Expires time.Time
	// Name is the token's name, shown in the header.
	Name string
}

// checkCSRF compares a form's token with the session's in constant time.
func (s *session) checkCSRF(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// errNoSession is any reason a request has no usable session.
var errNoSession = herald.Errorf(herald.EUNAUTHORIZED, "", "no session")

// csrfToken derives a session's CSRF token from its secret: an HMAC under
// a key of its own, taken from SessionKey with a fixed label, so the page
// that shows the token gives away nothing of the cookie, and the server's
// secret key is never used directly for two purposes.
func (c *Console) csrfToken(secret string) (string, error) {
	if len(c.SessionKey) < 16 {
		return "", errors.New("console: SessionKey must be at least 16 bytes")
	}
	k := hmac.New(sha256.New, c.SessionKey)
	k.Write([]byte("herald console csrf v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// secure reports whether the request came over https: over TLS to Herald
// itself, because PublicURL says so, or from a trusted proxy whose
// X-Forwarded-Proto (its first value) is https.
func (c *Console) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && err == nil && strings.EqualFold(u.Scheme, "https") {
		return true
	}
	if len(c.TrustedProxies) == 0 {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if !strings.EqualFold(strings.TrimSpace(proto), "https") {
		return false
	}
	addr, err := netip.ParseAddr(r.RemoteAddr)
	if ap, perr := netip.ParseAddrPort(r.RemoteAddr); perr == nil {
		addr, err = ap.Addr(), nil
	}
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range c.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// cookie returns the session cookie's attributes for the request, with
// the value and max age to set.
func (c *Console) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{Name: sessionCookie, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if c.secure(r) {
		// __Host- demands Path=/: the cookie then goes to the API too,
		// which reads no cookie.
		ck.Name, ck.Path, ck.Secure = secureSessionCookie, "/", true
	}
	return ck
}

// readSession returns the request's session and its principal: the
// cookie's secret must name a session the store still holds, not revoked
// and not expired by the console's clock, whose token is not revoked.
func (c *Console) readSession(r *http.Request) (*session, *herald.Principal, error) {
	ck, err := r.Cookie(c.cookie(r, "", 0).Name)
	if err != nil || ck.Value == "" {
		return nil, nil, errNoSession
	}
	p, expires, err := c.Sessions.AuthenticateConsoleSession(r.Context(), ck.Value)
	if err != nil {
		return nil, nil, err
	}
	if !c.now().Before(expires) {
		return nil, nil, errNoSession
	}
	csrf, err := c.csrfToken(ck.Value)
	if err != nil {
		return nil, nil, err
	}
	return &session{secret: ck.Value, CSRF: csrf, Expires: expires, Name: p.TokenName}, p, nil
}

func (c *Console) ttl() time.Duration {
	if c.SessionTTL > 0 {
		return c.SessionTTL
	}
	return DefaultSessionTTL
}

// startSession opens a session for the principal p signed in as and sets
// its cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, p *herald.Principal) error {
	secret := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	if _, err := c.csrfToken(secret); err != nil {
		return err
	}
	ctx := herald.NewContextWithPrincipal(r.Context(), p)
	if err := c.Sessions.CreateConsoleSession(ctx, secret, c.now().Add(c.ttl())); err != nil {
		return err
	}
	// The cookie lives as long as the session; the server checks the
	// stored expiry, which a client cannot extend.
	http.SetCookie(w, c.cookie(r, secret, int(c.ttl()/time.Second)))
	return nil
}

func (c *Console) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, c.cookie(r, "", -1))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return b
}

// sameOrigin reports whether a request's Origin (or, lacking one, its
// Referer) names this host: the sign-in form has no session to carry a CSRF
// token yet, so it is guarded by where it was posted from. A request with
// neither header (not a browser) passes.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

type signInData struct {
	Next string
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/"
	}
	return next
}

func (c *Console) handleSignInForm(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.page(w, "signin", "Sign in", v, signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) handleSignIn(w http.ResponseWriter, r *http.Request, v *view) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, translate(v.Lang, "This form did not come from the console."), http.StatusForbidden)
		return nil
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	next := safeNext(r.PostForm.Get("next"))
	p, err := c.Tokens.Authenticate(r.Context(), token)
	if token == "" || err != nil {
		if err != nil && herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			return err
		}
		v.Error = translate(v.Lang, "That token is not valid.")
		v.Title, v.Data = "Sign in", signInData{Next: next}
		c.render(w, http.StatusUnauthorized, "signin", v)
		return nil
	}
	if err := c.startSession(w, r, p); err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// handleSignOut ends the session in the store, so that a copy of its
// cookie is no session either, and clears the cookie.
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.Sessions.RevokeConsoleSession(r.Context(), v.Session.secret); err != nil {
		return err
	}
	c.clearSessionCookie(w, r)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}
