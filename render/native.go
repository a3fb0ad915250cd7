package render

import (
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel"
)

// The built-in templates are written once more here in Go: most messages
// use them, and the Liquid engine spends most of a render on its own
// machinery (a copy of the bindings, reflective filter calls, a map per
// loop step). TestNative_MatchesLiquid renders every built-in template
// both ways over many inputs and requires the same bytes; the Liquid
// text stays what is served and copied (Defaults), and what renders a
// message the native code does not take on (nativeMax).

// nativeMax is the largest message the native code renders: a larger one
// (or one with more roles than a filter takes) renders through Liquid,
// under its limits, so that a render past them fails exactly as before.
const nativeMax = 32 << 10

// nativeText is the words of the text, markdown and html parts in one
// locale.
type nativeText struct {
	sep, by, time string
}

var nativeWords = map[string]nativeText{
	herald.LocaleEN: {sep: ": ", by: "By: ", time: "Time: "},
	herald.LocaleZH: {sep: "：", by: "操作人：", time: "时间："},
}

// nativeRender renders a built-in template (channel ch, in locale) as
// Liquid would; ok is false when the input is one it leaves to Liquid.
func nativeRender(ch, locale string, d *Data, in Input, skipBody bool) (m channel.Message, ok bool) {
	if len(d.Roles) > maxItems || len(d.Fields) > maxItems {
		return m, false
	}
	lim := min(in.Limits.orDefault().MaxBytes, nativeMax)
	w := nativeWords[locale]
	// subject: {{ title }}{% if source.name != "" %}: {{ source.name }}{% endif %}
	m.Subject = d.Title
	if d.Source != "" {
		m.Subject += ": " + d.Source
	}
	// text: the subject (with the locale's separator), the actor, the
	// fields, the time, a line each.
	var b strings.Builder
	b.WriteString(d.Title)
	if d.Source != "" {
		b.WriteString(w.sep)
		b.WriteString(d.Source)
	}
	b.WriteByte('\n')
	if d.Actor != "" {
		b.WriteString(w.by + d.Actor + "\n")
	}
	for _, f := range d.Fields {
		b.WriteString(f.Name + w.sep + f.Value + "\n")
		if b.Len() > lim {
			return m, false
		}
	}
	b.WriteString(w.time + d.Time + "\n")
	m.Text = b.String()
	if len(m.Subject) > lim || len(m.Text) > lim {
		return m, false
	}
	switch ch {
	case herald.NotifierEmail:
		// In the html part every value arrives HTML-escaped.
		esc := html.EscapeString
		b.Reset()
		b.WriteString("<h3>" + esc(d.Title) + "</h3>")
		if d.Source != "" {
			b.WriteString("<p><b>" + esc(d.Source) + "</b></p>")
		}
		b.WriteString("<ul>")
		if d.Actor != "" {
			b.WriteString("<li>" + w.by + esc(d.Actor) + "</li>")
		}
		for _, f := range d.Fields {
			b.WriteString("<li>" + esc(f.Name) + w.sep + esc(f.Value) + "</li>")
			if b.Len() > lim {
				return m, false
			}
		}
		b.WriteString("<li>" + w.time + esc(d.Time) + "</li></ul>")
		m.HTML = b.String()
		if len(m.HTML) > lim {
			return m, false
		}
	case herald.NotifierDingTalk, herald.NotifierWeCom:
		b.Reset()
		b.WriteString("### " + d.Title + "\n")
		if d.Source != "" {
			b.WriteString("**" + d.Source + "**\n")
		}
		b.WriteByte('\n')
		if d.Actor != "" {
			b.WriteString("- " + w.by + d.Actor + "\n")
		}
		for _, f := range d.Fields {
			b.WriteString("- " + f.Name + w.sep + f.Value + "\n")
			if b.Len() > lim {
				return m, false
			}
		}
		b.WriteString("- " + w.time + d.Time + "\n")
		m.Markdown = b.String()
		if len(m.Markdown) > lim {
			return m, false
		}
	case herald.NotifierWebhook:
		if skipBody {
			break
		}
		js := func(v any) string {
			out, _ := json.Marshal(v)
			return string(out)
		}
		b.Reset()
		b.WriteString(`{"actor":` + js(d.Actor) + `,"event_id":` + strconv.FormatInt(d.EventID, 10) + `,"fields":[`)
		for i, f := range d.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"Name":` + js(f.Name) + `,"Value":` + js(f.Value) + `}`)
			if b.Len() > lim {
				return m, false
			}
		}
		b.WriteString(`],"roles":` + js(d.Roles) + `,"source":{"external_id":` + js(d.ExternalID) + `,"kind":` + js(d.SourceKind) +
			`,"name":` + js(d.Source) + `},"text":` + js(m.Text) + `,"time":` + js(in.Event.CreatedAt.UTC().Format(time.RFC3339)) +
			`,"title":` + js(d.Title) + `,"type":` + js(d.Type) + `}`)
		if b.Len() > lim {
			return m, false
		}
		m.Body = []byte(b.String())
	}
	return m, true
}
