package herald

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// End-user tokens let a person act on their own preferences (and, later,
// their inbox) from the host application, without an API token: the host
// app's backend signs a short-lived token for one of its users with its
// project's end-user key, as Novu's subscriber hash and Knock's user
// tokens do, and hands it to the browser. Herald keeps no session: the
// signature, the expiry and the key's existence are the whole check, so
// the host mints tokens offline, at every page load, and rotating or
// deleting the key revokes every token at once.
//
// A token is
//
//	hlu_ + base64url(payload) + "." + base64url(HMAC-SHA256(key, payload))
//
// where payload is "v1:<project id>:<user code>:<expiry, Unix seconds>",
// key is the end-user key as given (hsk_…, its bytes as text), and
// base64url has no padding. The user code is the person's code in
// Herald's directory (the host's own id for the person). A token expiring
// more than MaxEndUserTokenLifetime ahead is refused.

// Prefixes of end-user tokens and of the keys that sign them.
const (
	EndUserTokenPrefix = "hlu_"
	EndUserKeyPrefix   = "hsk_"
)

// MaxEndUserTokenLifetime bounds how far ahead an end-user token may
// expire.
const MaxEndUserTokenLifetime = 24 * time.Hour

// EndUserClaims is what an end-user token says.
type EndUserClaims struct {
	ProjectID int64
	UserCode  string
	ExpiresAt time.Time
}

// NewEndUserKey returns a fresh project end-user key.
func NewEndUserKey() string {
	return EndUserKeyPrefix + strings.TrimPrefix(NewTokenSecret(), TokenPrefix)
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// SignEndUserToken returns the end-user token of c signed with key, as a
// host application's backend computes it.
func SignEndUserToken(key string, c EndUserClaims) string {
	payload := "v1:" + strconv.FormatInt(c.ProjectID, 10) + ":" + c.UserCode + ":" + strconv.FormatInt(c.ExpiresAt.Unix(), 10)
	return EndUserTokenPrefix + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(mac([]byte(key), payload))
}

func invalidEndUserToken() error { return Errorf(EUNAUTHORIZED, "", "invalid end-user token") }

// ParseEndUserToken reads a token's claims without checking its
// signature (the project it names holds the key): see
// VerifyEndUserToken.
func ParseEndUserToken(token string) (EndUserClaims, error) {
	var c EndUserClaims
	enc, _, ok := strings.Cut(strings.TrimPrefix(token, EndUserTokenPrefix), ".")
	if !strings.HasPrefix(token, EndUserTokenPrefix) || !ok || len(token) > 600 {
		return c, invalidEndUserToken()
	}
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return c, invalidEndUserToken()
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "v1" {
		return c, invalidEndUserToken()
	}
	pid, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 || !reCode.MatchString(parts[2]) {
		return c, invalidEndUserToken()
	}
	return EndUserClaims{ProjectID: pid, UserCode: parts[2], ExpiresAt: time.Unix(exp, 0)}, nil
}

// VerifyEndUserToken checks token's signature with key and its expiry at
// now, and returns its claims.
func VerifyEndUserToken(key, token string, now time.Time) (EndUserClaims, error) {
	c, err := ParseEndUserToken(token)
	if err != nil {
		return c, err
	}
	enc, sig, _ := strings.Cut(strings.TrimPrefix(token, EndUserTokenPrefix), ".")
	raw, _ := b64.DecodeString(enc)
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac([]byte(key), string(raw))) {
		return c, invalidEndUserToken()
	}
	if !now.Before(c.ExpiresAt) {
		return c, Errorf(EUNAUTHORIZED, "", "the end-user token has expired")
	}
	if c.ExpiresAt.After(now.Add(MaxEndUserTokenLifetime + time.Minute)) {
		return c, Errorf(EUNAUTHORIZED, "", "an end-user token may expire at most %s ahead", MaxEndUserTokenLifetime)
	}
	return c, nil
}

// EndUserKeyService manages the end-user key of a project.
type EndUserKeyService interface {
	// RotateEndUserKey gives the project a new end-user key and returns
	// it: shown once, never again. Tokens signed with the former key stop
	// working.
	RotateEndUserKey(ctx context.Context, projectID int64) (string, error)
	// DeleteEndUserKey removes the project's key: no end-user token of it
	// works any more.
	DeleteEndUserKey(ctx context.Context, projectID int64) error
}

// One-click unsubscribe links (RFC 8058). Each email carries, in its
// List-Unsubscribe header, a link that turns off, for its recipient, the
// email channel for the event's category (or its event type when it has
// none). The link is its own credential: an HMAC, with a key derived from
// the server's secret key, over
//
//	"u1:<tenant id>:<user id>:<channel>:<t|c>:<event type or category>"
//
// It does not expire (mail is read late); a changed secret key voids every
// link.

// UnsubscribeClaims is what an unsubscribe link turns off for whom.
type UnsubscribeClaims struct {
	TenantID int64
	UserID   int64
	Rule     PreferenceRule // Enabled false
}

// DeriveKey derives the key of one purpose from the server's secret key,
// so that no key serves two purposes.
func DeriveKey(secret []byte, purpose string) []byte {
	return mac(secret, "herald key: "+purpose)
}

// SignUnsubscribe returns the token of an unsubscribe link.
func SignUnsubscribe(key []byte, c UnsubscribeClaims) string {
	kind, subject := "t", c.Rule.EventType
	if c.Rule.Category != "" {
		kind, subject = "c", c.Rule.Category
	}
	payload := "u1:" + strconv.FormatInt(c.TenantID, 10) + ":" + strconv.FormatInt(c.UserID, 10) + ":" + c.Rule.Channel + ":" + kind + ":" + subject
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(mac(key, payload))
}

// VerifyUnsubscribe checks an unsubscribe link's token and returns what
// it turns off.
func VerifyUnsubscribe(key []byte, token string) (UnsubscribeClaims, error) {
	var c UnsubscribeClaims
	bad := Errorf(ENOTFOUND, "", "this unsubscribe link is not valid")
	enc, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 600 {
		return c, bad
	}
	raw, err1 := b64.DecodeString(enc)
	got, err2 := b64.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(got, mac(key, string(raw))) {
		return c, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 6 || parts[0] != "u1" {
		return c, bad
	}
	tenant, err1 := strconv.ParseInt(parts[1], 10, 64)
	user, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return c, bad
	}
	c = UnsubscribeClaims{TenantID: tenant, UserID: user, Rule: PreferenceRule{Channel: parts[3]}}
	switch parts[4] {
	case "t":
		c.Rule.EventType = parts[5]
	case "c":
		c.Rule.Category = parts[5]
	default:
		return c, bad
	}
	if err := c.Rule.Validate("rule"); err != nil {
		return c, bad
	}
	return c, nil
}

// UnsubscribeRule is the rule an unsubscribe link for event type t turns
// off on channel: its category's, when it has one, else its own.
func UnsubscribeRule(s PreferenceScope, channel, t string) PreferenceRule {
	if cat := s.CategoryOf(t); cat != "" {
		return PreferenceRule{Channel: channel, Category: cat}
	}
	return PreferenceRule{Channel: channel, EventType: t}
}
