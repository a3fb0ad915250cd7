// Package authn finds the API token of an HTTP request, in any of the header
// forms Herald's surfaces accept, and resolves it to a principal. It renders
// nothing: every surface (the native API, the vendor compat packages) turns
// its errors into its own envelope.
package authn

import (
	"context"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// Header names the vendor pages send tokens in.
const (
	HeaderAuthorization = "Authorization"
	HeaderAuthToken     = "X-Auth-Token"
	HeaderCybozuToken   = "X-Cybozu-API-Token"
	HeaderLarkHelpdesk  = "X-Lark-Helpdesk-Authorization"
)

// maxCandidates bounds the tokens tried for one request, so a header listing
// many tokens cannot cost many lookups. Kintone allows 9 API tokens at once.
const maxCandidates = 10

// Tokens returns the token secrets r carries, in the order they are tried:
// Authorization (Bearer or Token scheme), X-Auth-Token, each of the
// comma-separated X-Cybozu-API-Token values, then
// X-Lark-Helpdesk-Authorization (Bearer scheme). An Authorization header of
// another scheme (Basic …) carries no token for Herald.
func Tokens(r *http.Request) []string {
	var out []string
	add := func(t string) {
		if t = strings.TrimSpace(t); t != "" && len(out) < maxCandidates {
			out = append(out, t)
		}
	}
	for _, v := range r.Header.Values(HeaderAuthorization) {
		if t, ok := schemeToken(v, "Bearer"); ok {
			add(t)
		} else if t, ok := schemeToken(v, "Token"); ok {
			add(t)
		}
	}
	for _, v := range r.Header.Values(HeaderAuthToken) {
		add(v)
	}
	for _, v := range r.Header.Values(HeaderCybozuToken) {
		for _, t := range strings.Split(v, ",") {
			add(t)
		}
	}
	for _, v := range r.Header.Values(HeaderLarkHelpdesk) {
		if t, ok := schemeToken(v, "Bearer"); ok {
			add(t)
		}
	}
	return out
}

// schemeToken returns the credentials of an "<scheme> <token>" header value;
// the scheme is case-insensitive (RFC 9110, section 11.1).
func schemeToken(v, scheme string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) || (v[len(scheme)] != ' ' && v[len(scheme)] != '\t') {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}

// FromRequest authenticates r: the first of its tokens (see Tokens) that
// tokens accepts wins. No token at all is EUNAUTHORIZED "authentication
// required"; when none is accepted, the error of the first one is returned
// (EUNAUTHORIZED for an unknown or revoked token, or whatever else
// Authenticate failed with, such as an unreachable database).
func FromRequest(ctx context.Context, tokens herald.TokenService, r *http.Request) (*herald.Principal, error) {
	candidates := Tokens(r)
	if len(candidates) == 0 {
		return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "authentication required")
	}
	var first error
	for _, t := range candidates {
		p, err := tokens.Authenticate(ctx, t)
		if err == nil && p != nil {
			return p, nil
		}
		if err == nil {
			err = herald.Errorf(herald.EUNAUTHORIZED, "", "invalid token")
		}
		if herald.ErrorCode(err) != herald.EUNAUTHORIZED {
			// Not a verdict on the token (the database is down …): trying
			// the others would only hide it.
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
