package authn_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/authn"
)

// fakeTokens accepts the secrets in valid; "boom" fails as the database
// would. It records every secret it was asked about.
type fakeTokens struct {
	herald.TokenService // the other methods are never called
	valid               map[string]*herald.Principal
	asked               []string
}

func (f *fakeTokens) Authenticate(_ context.Context, secret string) (*herald.Principal, error) {
	f.asked = append(f.asked, secret)
	if secret == "boom" {
		return nil, errors.New("database is down")
	}
	if p, ok := f.valid[secret]; ok {
		return p, nil
	}
	return nil, herald.Errorf(herald.EUNAUTHORIZED, "", "invalid token")
}

func newFake() *fakeTokens {
	return &fakeTokens{valid: map[string]*herald.Principal{
		"good":  {TenantID: 1, TokenID: 10},
		"other": {TenantID: 1, TokenID: 11},
	}}
}

func TestFromRequest_HeaderForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		tokenID int64
	}{
		{"bearer", map[string]string{"Authorization": "Bearer good"}, 10},
		{"bearer lower case scheme", map[string]string{"Authorization": "bearer good"}, 10},
		{"token scheme", map[string]string{"Authorization": "Token good"}, 10},
		{"x-auth-token", map[string]string{"X-Auth-Token": "good"}, 10},
		{"cybozu single", map[string]string{"X-Cybozu-API-Token": "good"}, 10},
		{"cybozu first valid wins", map[string]string{"X-Cybozu-API-Token": "bad, other,good"}, 11},
		{"lark helpdesk", map[string]string{"X-Lark-Helpdesk-Authorization": "Bearer good"}, 10},
		{"basic is ignored, x-auth-token used", map[string]string{"Authorization": "Basic Zm9vOmJhcg==", "X-Auth-Token": "other"}, 11},
		{"invalid authorization, valid x-auth-token", map[string]string{"Authorization": "Bearer bad", "X-Auth-Token": "good"}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			p, err := authn.FromRequest(context.Background(), newFake(), r)
			if err != nil {
				t.Fatalf("FromRequest: %v", err)
			}
			if p.TokenID != tt.tokenID {
				t.Fatalf("token id = %d, want %d", p.TokenID, tt.tokenID)
			}
		})
	}
}

func TestFromRequest_NoToken(t *testing.T) {
	t.Parallel()
	for name, headers := range map[string]map[string]string{
		"none":                   {},
		"empty bearer":           {"Authorization": "Bearer "},
		"basic only":             {"Authorization": "Basic Zm9vOmJhcg=="},
		"scheme without space":   {"Authorization": "Bearergood"},
		"lark without bearer":    {"X-Lark-Helpdesk-Authorization": "good"},
		"cybozu only separators": {"X-Cybozu-API-Token": " , ,"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range headers {
				r.Header.Set(k, v)
			}
			f := newFake()
			_, err := authn.FromRequest(context.Background(), f, r)
			if herald.ErrorCode(err) != herald.EUNAUTHORIZED || herald.ErrorMessage(err) != "authentication required" {
				t.Fatalf("err = %v, want unauthorized \"authentication required\"", err)
			}
			if len(f.asked) != 0 {
				t.Fatalf("asked the token service about %q", f.asked)
			}
		})
	}
}

func TestFromRequest_BadToken(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Cybozu-API-Token", "bad1,bad2")
	f := newFake()
	_, err := authn.FromRequest(context.Background(), f, r)
	if herald.ErrorCode(err) != herald.EUNAUTHORIZED || herald.ErrorMessage(err) != "invalid token" {
		t.Fatalf("err = %v, want unauthorized from Authenticate", err)
	}
	if !slices.Equal(f.asked, []string{"bad1", "bad2"}) {
		t.Fatalf("asked %q, want both tokens in order", f.asked)
	}
}

func TestFromRequest_ServiceFailureIsNotUnauthorized(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Cybozu-API-Token", "boom,good")
	f := newFake()
	_, err := authn.FromRequest(context.Background(), f, r)
	if herald.ErrorCode(err) != herald.EINTERNAL {
		t.Fatalf("err = %v, want the internal error of Authenticate", err)
	}
}

func TestTokens_Bounded(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Cybozu-API-Token", "a,b,c,d,e,f,g,h,i,j,k,l,m")
	if got := authn.Tokens(r); len(got) != 10 || got[0] != "a" {
		t.Fatalf("Tokens = %q, want the first 10", got)
	}
}
