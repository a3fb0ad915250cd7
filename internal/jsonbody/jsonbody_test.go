package jsonbody_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/jsonbody"
)

type inner struct {
	B int `json:"b"`
}

type outer struct {
	A     string  `json:"a"`
	Inner inner   `json:"inner"`
	Items []inner `json:"items"`
}

func TestDecodeLenient_IgnoresUnknownMembersOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		strictErr  string // "" when Decode accepts the body
		lenientErr string // "" when DecodeLenient accepts it
		want       outer
	}{
		{"unknown top-level member", `{"a":"x","extra":1}`, "extra", "", outer{A: "x"}},
		{"unknown nested member", `{"inner":{"b":2,"c":3},"items":[{"b":1,"z":[]}]}`, "c", "", outer{Inner: inner{B: 2}, Items: []inner{{B: 1}}}},
		{"wrong type still refused", `{"a":1,"extra":1}`, "a", "a", outer{}},
		{"trailing data still refused", `{"a":"x"} {}`, "after it", "after it", outer{}},
		{"another kind still refused", `["a"]`, "JSON object", "JSON object", outer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []struct {
				name    string
				decode  func(*strings.Reader, any) error
				wantErr string
			}{
				{"strict", func(r *strings.Reader, v any) error { return jsonbody.Decode(r, v, jsonbody.Object, false) }, tc.strictErr},
				{"lenient", func(r *strings.Reader, v any) error { return jsonbody.DecodeLenient(r, v, jsonbody.Object, false) }, tc.lenientErr},
			} {
				var got outer
				err := mode.decode(strings.NewReader(tc.body), &got)
				switch {
				case mode.wantErr == "" && err != nil:
					t.Errorf("%s: %v, want it accepted", mode.name, err)
				case mode.wantErr != "" && (herald.ErrorCode(err) != herald.EINVALID || !strings.Contains(herald.ErrorMessage(err), mode.wantErr)):
					t.Errorf("%s: error %v, want EINVALID naming %q", mode.name, err, mode.wantErr)
				case mode.wantErr == "" && (got.A != tc.want.A || got.Inner != tc.want.Inner || len(got.Items) != len(tc.want.Items)):
					t.Errorf("%s: decoded %+v, want %+v", mode.name, got, tc.want)
				}
			}
		})
	}
}
