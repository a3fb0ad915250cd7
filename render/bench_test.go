package render_test

import (
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/render"
)

func BenchmarkMessage_Email(b *testing.B) {
	in := render.Input{Event: event("build.failed"), Source: source, Notifier: notifier(herald.NotifierEmail, herald.NotifierConfig{}), Locale: herald.LocaleZH}
	for b.Loop() {
		if _, err := render.Message(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessage renders a build.failed event with the built-in
// webhook, inbox and email templates in English and Chinese.
func BenchmarkMessage(b *testing.B) {
	for _, ch := range []string{herald.NotifierWebhook, herald.NotifierInbox, herald.NotifierEmail} {
		for _, locale := range []string{herald.LocaleEN, herald.LocaleZH} {
			in := render.Input{Event: event("build.failed"), Source: source, Notifier: notifier(ch, herald.NotifierConfig{}), Locale: locale, TimeZone: "Asia/Shanghai"}
			if ch != herald.NotifierWebhook {
				in.Recipient = &herald.User{ID: 7, Code: "ann", Name: "Ann", Locale: locale}
			}
			b.Run(ch+"/"+locale, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := render.Message(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
