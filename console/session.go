package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Cookie names.
const (
	sessionCookie = "herald_console"
	langCookie    = "herald_lang"
)

// DefaultSessionTTL is how long a sign-in lasts unless SessionTTL says.
const DefaultSessionTTL = 12 * time.Hour

// session is what the sealed cookie holds. The token is needed to act as
// its principal on every request; sealing (AES-256-GCM) keeps it secret
// from anyone who reads the cookie jar and makes the whole value tamper-
// proof, so the expiry and CSRF token inside can be trusted.
type session struct {
	Token   string    `json:"tok"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"exp"`
	// Name is the token's name, shown in the header.
	Name string `json:"name"`
}

// checkCSRF compares a form's token with the session's in constant time.
func (s *session) checkCSRF(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// errNoSession is any reason a request has no usable session.
var errNoSession = herald.Errorf(herald.EUNAUTHORIZED, "", "no session")

// aead derives the cookie cipher from SessionKey: HMAC-SHA-256 with a
// fixed label gives a key of its own, so the server's secret key is never
// used directly for two purposes.
func (c *Console) aead() (cipher.AEAD, error) {
	if len(c.SessionKey) < 16 {
		return nil, errors.New("console: SessionKey must be at least 16 bytes")
	}
	m := hmac.New(sha256.New, c.SessionKey)
	m.Write([]byte("herald console session v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encodes and encrypts a session for the cookie.
func (c *Console) seal(s *session) (string, error) {
	a, err := c.aead()
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, plain, []byte(sessionCookie))), nil
}

// open decrypts a cookie value; any tampering fails.
func (c *Console) open(v string) (*session, error) {
	a, err := c.aead()
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < a.NonceSize() {
		return nil, errNoSession
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(sessionCookie))
	if err != nil {
		return nil, errNoSession
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, errNoSession
	}
	return &s, nil
}

// readSession returns the request's session and its principal: the cookie
// must open, must not have expired by the console's clock, and its token
// must still authenticate.
func (c *Console) readSession(r *http.Request) (*session, *herald.Principal, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil, errNoSession
	}
	s, err := c.open(ck.Value)
	if err != nil {
		return nil, nil, err
	}
	if !c.now().Before(s.Expires) {
		return nil, nil, errNoSession
	}
	p, err := c.Tokens.Authenticate(r.Context(), s.Token)
	if err != nil {
		return nil, nil, err
	}
	return s, p, nil
}

func (c *Console) ttl() time.Duration {
	if c.SessionTTL > 0 {
		return c.SessionTTL
	}
	return DefaultSessionTTL
}

// setSessionCookie starts a session for token.
func (c *Console) setSessionCookie(w http.ResponseWriter, r *http.Request, token, name string) error {
	s := &session{Token: token, CSRF: rand.Text(), Expires: c.now().Add(c.ttl()), Name: name}
	v, err := c.seal(s)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: v, Path: "/console",
		// The cookie lives as long as the session; the server checks the
		// sealed expiry, which a client cannot extend.
		MaxAge:   int(c.ttl() / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	return nil
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
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
	if err := c.setSessionCookie(w, r, token, p.TokenName); err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request, v *view) error {
	clearSessionCookie(w, r)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}
