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
