package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/render"
)

// HERALD_UPDATE_GOLDEN=1 rewrites testdata/golden_messages.json from the current code.

// goldenInputs are a build.failed event (and a payload-less one) rendered
// with every built-in template: every channel, both locales, a zone with
// an offset and UTC, with and without a recipient.
func goldenInputs() map[string]render.Input {
	out := map[string]render.Input{}
	bare := event("build.failed")
	bare.Payload, bare.Actor = nil, ""
	for _, ch := range herald.NotifierTypes {
		for _, locale := range []string{herald.LocaleEN, herald.LocaleZH} {
			for _, zone := range []string{"", "Asia/Shanghai"} {
				for name, ev := range map[string]*herald.Event{"full": event("build.failed"), "bare": bare} {
					in := render.Input{Event: ev, Source: source, Notifier: notifier(ch, herald.NotifierConfig{}), Locale: locale, TimeZone: zone,
						BodyFields: []herald.BodyField{{Name: "secret_note", Shown: false}}}
					if ch == herald.NotifierEmail || ch == herald.NotifierInbox || ch == herald.NotifierSMS {
						in.Recipient = &herald.User{ID: 7, Code: "ann", Name: "Ann <a&b>", Locale: locale}
					}
					out[ch+"/"+locale+"/"+zone+"/"+name] = in
				}
			}
		}
	}
	return out
}

// TestMessage_Golden: every built-in template renders byte for byte what
// it rendered before rendering was made faster (the golden file was
// captured from that code with HERALD_UPDATE_GOLDEN=1).
func TestMessage_Golden(t *testing.T) {
	t.Parallel()
	got := map[string]any{}
	for key, in := range goldenInputs() {
		m, err := render.Message(in)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got[key] = m
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden_messages.json")
	if os.Getenv("HERALD_UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(b) {
		var w map[string]json.RawMessage
		_ = json.Unmarshal(want, &w)
		var g map[string]json.RawMessage
		_ = json.Unmarshal(b, &g)
		for k := range w {
			if string(w[k]) != string(g[k]) {
				t.Errorf("%s:\n got %s\nwant %s", k, g[k], w[k])
			}
		}
		if len(w) != len(g) {
			t.Errorf("%d messages, want %d", len(g), len(w))
		}
	}
}
