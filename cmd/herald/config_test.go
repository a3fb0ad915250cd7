package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestConfig_ProxySettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, publicURL, proxies string
		want                     []netip.Prefix
		wantErr                  bool
	}{
		{name: "Unset"},
		{name: "HTTPS", publicURL: "https://herald.example.com/"},
		{name: "HTTP", publicURL: "http://herald.example.com"},
		{name: "NoScheme", publicURL: "herald.example.com", wantErr: true},
		{name: "OtherScheme", publicURL: "ftp://herald.example.com", wantErr: true},
		{name: "CIDRsAndAddresses", proxies: " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::ffff:198.51.100.1, 172.16.1.9/12",
			want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
				netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.1/32"), netip.MustParsePrefix("172.16.0.0/12")}},
		{name: "BadProxy", proxies: "10.0.0.0/8,proxy.local", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{PublicURL: tc.publicURL, TrustedProxies: tc.proxies}
			u, err1 := c.publicURL()
			got, err2 := c.trustedProxies()
			if gotErr := err1 != nil || err2 != nil; gotErr != tc.wantErr {
				t.Fatalf("errors %v, %v; want an error: %v", err1, err2, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if u != tc.publicURL || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q, %v", u, got, tc.publicURL, tc.want)
			}
		})
	}
}

// --log-format json writes one JSON object a line; text stays the
// default; anything else is refused before the server starts.
func TestConfig_LogFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := (&Config{LogLevel: "info", LogFormat: "json"}).logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Warn("delivery failed", "delivery", 7)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "delivery failed" || line["delivery"] != float64(7) {
		t.Fatalf("json line %q: %v", buf.String(), err)
	}
	buf.Reset()
	l, err = (&Config{LogLevel: "info", LogFormat: "text"}).logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hello")
	if !strings.HasPrefix(buf.String(), "time=") || !strings.Contains(buf.String(), "msg=hello") {
		t.Fatalf("text line %q", buf.String())
	}
	if _, err := (&Config{LogLevel: "info", LogFormat: "xml"}).logger(&buf); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Fatalf("--log-format xml: %v", err)
	}
	if _, err := (&Config{LogLevel: "loud", LogFormat: "json"}).logger(&buf); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Fatalf("--log-level loud: %v", err)
	}
}
