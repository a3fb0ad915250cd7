package render

import (
	"slices"

	"github.com/heraldhq/herald"
)

// The built-in templates: what every channel sends when the project has
// no template of its own, in English and Chinese. They are Liquid like a
// project's, served (GET …/templates/defaults) as templates of event type
// "*" for a user to copy and change; a message renders them natively
// (native.go), byte for byte as Liquid does (TestNative_MatchesLiquid).

const (
	subjectAll = `{{ title }}{% if source.name != "" %}: {{ source.name }}{% endif %}`

	textEN = `{{ title }}{% if source.name != "" %}: {{ source.name }}{% endif %}
{% if actor != "" %}By: {{ actor }}
{% endif %}{% for f in fields %}{{ f.name }}: {{ f.value }}
{% endfor %}Time: {{ time }}
`
	textZH = `{{ title }}{% if source.name != "" %}：{{ source.name }}{% endif %}
{% if actor != "" %}操作人：{{ actor }}
{% endif %}{% for f in fields %}{{ f.name }}：{{ f.value }}
{% endfor %}时间：{{ time }}
`
	markdownEN = `### {{ title }}
{% if source.name != "" %}**{{ source.name }}**
{% endif %}
{% if actor != "" %}- By: {{ actor }}
{% endif %}{% for f in fields %}- {{ f.name }}: {{ f.value }}
{% endfor %}- Time: {{ time }}
`
	markdownZH = `### {{ title }}
{% if source.name != "" %}**{{ source.name }}**
{% endif %}
{% if actor != "" %}- 操作人：{{ actor }}
{% endif %}{% for f in fields %}- {{ f.name }}：{{ f.value }}
{% endfor %}- 时间：{{ time }}
`
	// In the html part every value arrives HTML-escaped.
	htmlEN = `<h3>{{ title }}</h3>{% if source.name != "" %}<p><b>{{ source.name }}</b></p>{% endif %}<ul>` +
		`{% if actor != "" %}<li>By: {{ actor }}</li>{% endif %}{% for f in fields %}<li>{{ f.name }}: {{ f.value }}</li>{% endfor %}` +
		`<li>Time: {{ time }}</li></ul>`
	htmlZH = `<h3>{{ title }}</h3>{% if source.name != "" %}<p><b>{{ source.name }}</b></p>{% endif %}<ul>` +
		`{% if actor != "" %}<li>操作人：{{ actor }}</li>{% endif %}{% for f in fields %}<li>{{ f.name }}：{{ f.value }}</li>{% endfor %}` +
		`<li>时间：{{ time }}</li></ul>`
	// webhookBody is the JSON a webhook without a body of its own posts,
	// members in name order.
	webhookBody = `{"actor":{{ actor | json }},"event_id":{{ event_id }},"fields":[` +
		`{% for f in fields %}{"Name":{{ f.name | json }},"Value":{{ f.value | json }}}{% unless forloop.last %},{% endunless %}{% endfor %}],` +
		`"roles":{{ roles | json }},"source":{"external_id":{{ source.external_id | json }},"kind":{{ source.kind | json }},"name":{{ source.name | json }}},` +
		`"text":{{ message.text | json }},"time":{{ timestamp | json }},"title":{{ title | json }},"type":{{ type | json }}}`
)

// builtinTemplates are the defaults, channel by channel.
func builtinTemplates() []herald.Template {
	var out []herald.Template
	for _, ch := range herald.NotifierTypes {
		for _, l := range []struct{ locale, text, markdown, html string }{
			{herald.LocaleEN, textEN, markdownEN, htmlEN},
			{herald.LocaleZH, textZH, markdownZH, htmlZH},
		} {
			t := herald.Template{EventType: herald.AnyEventType, Channel: ch, Locale: l.locale, Subject: subjectAll, Text: l.text}
			switch ch {
			case herald.NotifierEmail:
				t.HTML = l.html
			case herald.NotifierDingTalk, herald.NotifierWeCom:
				t.Markdown = l.markdown
			case herald.NotifierWebhook:
				t.Body = webhookBody
			}
			out = append(out, t)
		}
	}
	return out
}

var (
	defaults = builtinTemplates()
	// builtin is the defaults compiled, with the template of a message
	// without a notifier (subject and text) under channel "".
	builtin = func() *Set {
		ts := slices.Clone(defaults)
		for _, l := range []string{herald.LocaleEN, herald.LocaleZH} {
			inbox := *newSetOf(defaults).find(herald.AnyEventType, herald.NotifierInbox, l).t
			inbox.Channel = ""
			ts = append(ts, inbox)
		}
		s := newSetOf(ts)
		for _, ct := range s.byKey {
			for p, err := range ct.errs {
				panic("render: the built-in " + ct.t.Channel + " template's " + p + " does not parse: " + err.Error())
			}
		}
		for _, ct := range s.byKey {
			ct.native = true
		}
		return s
	}()
)

// Defaults returns the built-in templates: event type "*", every channel,
// English and Chinese.
func Defaults() []herald.Template { return slices.Clone(defaults) }
