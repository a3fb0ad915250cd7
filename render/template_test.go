package render_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/channel/card"
	"github.com/heraldhq/herald/render"
)

// TestMessage_ProjectTemplates renders a project template of every channel
// in both locales: each part the template sets is the message's, with the
// event's data, and the recipient's when the channel sends per person.
func TestMessage_ProjectTemplates(t *testing.T) {
	t.Parallel()
	ann := &herald.User{ID: 9, Code: "ann", Name: "Ann Lee", Locale: herald.LocaleZH}
	for _, tt := range []struct {
		channel string
		tmpl    herald.Template
		// want per locale: the message's parts
		check func(t *testing.T, locale string, m msg)
	}{
		{herald.NotifierEmail, herald.Template{
			Subject: `[{{ locale }}] {{ title }} #{{ payload.build }}`,
			Text:    `Hi {{ recipient.name }}, {{ source.name }} failed on {{ payload.branch }}.`,
			HTML:    `<p>Hi {{ recipient.name }}: {{ payload.note }}</p>{% for f in fields %}<i>{{ f.name }}</i>{% endfor %}`,
		}, func(t *testing.T, l string, m msg) {
			want := map[string]string{herald.LocaleEN: "[en] Build failed ##42", herald.LocaleZH: "[zh] 构建失败 ##42"}[l]
			m.eq(t, "subject", m.Subject, want)
			m.eq(t, "text", m.Text, "Hi Ann Lee, payments-build failed on main.")
			m.eq(t, "html", m.HTML, "<p>Hi Ann Lee: &lt;b&gt;bold&lt;/b&gt; &amp; co</p><i>branch</i><i>build</i><i>note</i>")
		}},
		{herald.NotifierSMS, herald.Template{Text: `{{ title }}: {{ source.name }} ({{ recipient.code }})`}, func(t *testing.T, l string, m msg) {
			m.eq(t, "text", m.Text, render.Title("build.failed", l)+": payments-build (ann)")
			m.eq(t, "subject", m.Subject, "")
		}},
		{herald.NotifierInbox, herald.Template{Subject: `{{ title }}`, Text: `{{ actor }} → {{ roles.followers | join: ", " }}`}, func(t *testing.T, l string, m msg) {
			m.eq(t, "subject", m.Subject, render.Title("build.failed", l))
			m.eq(t, "text", m.Text, "ann → bob, li")
		}},
		{herald.NotifierDingTalk, herald.Template{Subject: `{{ title }}`, Markdown: "## {{ title }}\n> {{ payload.branch }}"}, func(t *testing.T, l string, m msg) {
			m.eq(t, "markdown", m.Markdown, "## "+render.Title("build.failed", l)+"\n> main")
			m.eq(t, "text", m.Text, "")
		}},
		{herald.NotifierWeCom, herald.Template{
			Card: `{"header":{"title":{"tag":"plain_text","content":{{ title | json }}}},"elements":[{"tag":"markdown","content":{{ payload.note | json }}}]}`,
		}, func(t *testing.T, l string, m msg) {
			c, err := card.Parse(m.Card)
			if err != nil {
				t.Fatalf("card %s: %v", m.Card, err)
			}
			m.eq(t, "card title", c.Title, render.Title("build.failed", l))
			m.eq(t, "card body", c.Markdown, "<b>bold</b> & co")
		}},
		{herald.NotifierLark, herald.Template{Subject: `{{ title }}`, Text: "{{ source.kind }}/{{ source.external_id | slice: 0, 4 }}"}, func(t *testing.T, l string, m msg) {
			m.eq(t, "text", m.Text, "build_job/a1a1")
		}},
		{herald.NotifierWebhook, herald.Template{
			Text: `{{ title }}`,
			Body: `{"t":{{ message.text | json }},"id":{{ event_id }},"p":{{ payload | json }},"to":{{ recipient | json }}}`,
		}, func(t *testing.T, l string, m msg) {
			var b struct {
				T  string         `json:"t"`
				ID int64          `json:"id"`
				P  map[string]any `json:"p"`
				To any            `json:"to"`
			}
			if err := json.Unmarshal(m.Body, &b); err != nil {
				t.Fatalf("body %s: %v", m.Body, err)
			}
			if b.T != render.Title("build.failed", l) || b.ID != 42 || b.P["branch"] != "main" || b.To != nil {
				t.Errorf("body %s", m.Body)
			}
		}},
	} {
		for _, locale := range []string{herald.LocaleEN, herald.LocaleZH} {
			t.Run(tt.channel+"/"+locale, func(t *testing.T) {
				tmpl := tt.tmpl
				tmpl.EventType, tmpl.Channel, tmpl.Locale = "build.failed", tt.channel, locale
				set := &herald.TemplateSet{Templates: []herald.Template{tmpl}}
				if err := set.Validate(); err != nil {
					t.Fatalf("the test's template is not valid: %v", err)
				}
				if err := render.CheckTemplates(set.Templates); err != nil {
					t.Fatalf("check: %v", err)
				}
				in := render.Input{Event: noteEvent("build.failed"), Source: source, Notifier: notifier(tt.channel, herald.NotifierConfig{}),
					Locale: locale, Templates: render.NewSet(set.Templates)}
				if tt.channel == herald.NotifierEmail || tt.channel == herald.NotifierSMS || tt.channel == herald.NotifierInbox {
					in.Recipient = ann
				}
				m, err := render.Message(in)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, locale, msg{m.Subject, m.Text, m.HTML, m.Markdown, m.Card, m.Body})
				// Another event type, and the other locale, are not this
				// template's: they get the built-in message.
				in.Event = noteEvent("build.succeeded")
				m2, err := render.Message(in)
				if err != nil {
					t.Fatal(err)
				}
				if m2.Text == m.Text && m2.Body == nil && m2.Card == nil {
					t.Errorf("build.succeeded rendered with build.failed's template: %q", m2.Text)
				}
				if !strings.HasPrefix(m2.Subject, render.Title("build.succeeded", locale)) {
					t.Errorf("build.succeeded subject %q: not the built-in one", m2.Subject)
				}
			})
		}
	}
}

type msg struct {
	Subject, Text, HTML, Markdown string
	Card                          json.RawMessage
	Body                          []byte
}

func (msg) eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func noteEvent(typ string) *herald.Event {
	ev := event(typ)
	ev.Payload = json.RawMessage(`{"build":"#42","branch":"main","note":"<b>bold</b> & co"}`)
	return ev
}

// TestMessage_AnyEventType: a "*" template serves every type that has
// none of its own, custom ones included; the type's own wins.
func TestMessage_AnyEventType(t *testing.T) {
	t.Parallel()
	set := render.NewSet([]herald.Template{
		{EventType: "*", Channel: herald.NotifierInbox, Locale: herald.LocaleEN, Subject: "any {{ type }}", Text: "x"},
		{EventType: "custom.nightly", Channel: herald.NotifierInbox, Locale: herald.LocaleEN, Subject: "own {{ type }}", Text: "x"},
	})
	for typ, want := range map[string]string{"build.failed": "any build.failed", "custom.other": "any custom.other", "custom.nightly": "own custom.nightly"} {
		m, err := render.Message(render.Input{Event: event(typ), Notifier: notifier(herald.NotifierInbox, herald.NotifierConfig{}), Templates: set})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != want {
			t.Errorf("%s: subject %q, want %q", typ, m.Subject, want)
		}
	}
}

// TestDefaults: the built-in templates are served for every channel and
// locale, pass their own check, and rendered as a project's give exactly
// the built-in message.
func TestDefaults(t *testing.T) {
	t.Parallel()
	ds := render.Defaults()
	if len(ds) != 2*len(herald.NotifierTypes) {
		t.Fatalf("%d defaults, want %d", len(ds), 2*len(herald.NotifierTypes))
	}
	set := &herald.TemplateSet{Templates: ds}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := render.CheckTemplates(ds); err != nil {
		t.Fatal(err)
	}
	copied := render.NewSet(ds)
	for _, d := range ds {
		in := render.Input{Event: event("deploy.failed"), Source: source, Notifier: notifier(d.Channel, herald.NotifierConfig{}), Locale: d.Locale}
		want, err := render.Message(in)
		if err != nil {
			t.Fatal(err)
		}
		in.Templates = copied
		got, err := render.Message(in)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		if string(a) != string(b) || want.Text == "" || want.Subject == "" {
			t.Errorf("%s/%s: copied default renders\n%s\nbuilt-in\n%s", d.Channel, d.Locale, b, a)
		}
	}
}

// TestMessage_WebhookDefaultBody: the built-in webhook body, now a Liquid
// template, posts exactly the bytes the code that made it before did
// (members in name order, fields as {"Name","Value"}).
func TestMessage_WebhookDefaultBody(t *testing.T) {
	t.Parallel()
	ev := event("build.failed")
	ev.Payload = json.RawMessage(`{"q":"a \"quoted\" <tag> & line\nbreak","n":1.5}`)
	in := render.Input{Event: ev, Source: source, Notifier: notifier(herald.NotifierWebhook, herald.NotifierConfig{})}
	m, err := render.Message(in)
	if err != nil {
		t.Fatal(err)
	}
	d, err := render.NewData(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(map[string]any{
		"event_id": d.EventID, "type": d.Type, "title": d.Title, "text": m.Text, "actor": d.Actor,
		"source": map[string]any{"name": d.Source, "kind": d.SourceKind, "external_id": d.ExternalID},
		"roles":  d.Roles, "fields": d.Fields, "time": ev.CreatedAt.UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Body) != string(want) {
		t.Errorf("default body\n%s\nwant\n%s", m.Body, want)
	}
}

// TestCheckTemplates_Refused: a template that cannot parse or render is
// refused on the part's field, with the line and column of the fault.
func TestCheckTemplates_Refused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, part, src string
		want            string // the message
	}{
		{"unterminated block", "text", "Hello\n  {% if actor %}\nno end", "line 2, column 3: "},
		{"unknown filter", "text", "a\nb {{ title | upcase }} {{ actor | shout }}", `line 2, column 35: unknown filter "shout"`},
		{"bad expression", "subject", "x {{ 'a' | append: }}", "line 1, column 3: "},
		{"render error inside blocks", "text", "a\n{% if true %}\n{% for f in fields %}\n   {{ 1 | divided_by: 0 }}{% endfor %}{% endif %}", "line 4, column 4: "},
		{"include", "html", "<p>\n {% include 'secret.txt' %}", "line 2, column 2: include is not available"},
		{"capture", "text", "{% capture x %}y{% endcapture %}", "line 1, column 1: capture is not available"},
		{"invalid JSON body", "body", `{"title": {{ title }}}`, "does not render valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := herald.Template{EventType: "build.failed", Channel: herald.NotifierEmail, Locale: herald.LocaleZH, Subject: "s", Text: "t"}
			if tt.part == "body" {
				tmpl = herald.Template{EventType: "build.failed", Channel: herald.NotifierWebhook, Locale: herald.LocaleZH}
			}
			switch tt.part {
			case "text":
				tmpl.Text = tt.src
			case "subject":
				tmpl.Subject = tt.src
			case "html":
				tmpl.HTML = tt.src
			case "body":
				tmpl.Body = tt.src
			}
			good := herald.Template{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "{{ title }}"}
			err := render.CheckTemplates([]herald.Template{good, tmpl})
			fields := herald.ErrorFields(err)
			if len(fields) != 1 {
				t.Fatalf("errors %v, want one", err)
			}
			e := fields[0]
			if e.Code != herald.EINVALID || e.Field != "templates[1]."+tt.part || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %s %s %q, want invalid templates[1].%s containing %q", e.Code, e.Field, e.Message, tt.part, tt.want)
			}
		})
	}
	t.Run("CommentsAndRawAreNotLiquid", func(t *testing.T) {
		t.Parallel()
		err := render.CheckTemplates([]herald.Template{{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN,
			Text: "{% comment %}{{ x | old_filter }}{% include 'x' %}{% endcomment %}{% raw %}{{ y | z }}{% endraw %}{{ title }}"}})
		if err != nil {
			t.Errorf("a comment or raw block was checked as Liquid: %v", err)
		}
	})
	t.Run("EveryFaultAtOnce", func(t *testing.T) {
		t.Parallel()
		err := render.CheckTemplates([]herald.Template{
			{EventType: "*", Channel: herald.NotifierEmail, Locale: herald.LocaleEN, Subject: "{{ x | nope }}", Text: "{% for %}"},
			{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "{{ title }}"},
			{EventType: "*", Channel: herald.NotifierLark, Locale: herald.LocaleEN, Card: `[{{ title | json }}]`},
		})
		var got []string
		for _, e := range herald.ErrorFields(err) {
			got = append(got, e.Field)
		}
		if strings.Join(got, " ") != "templates[0].subject templates[0].text templates[2].card" {
			t.Errorf("fields %v (%v)", got, err)
		}
	})
}

// TestMessage_Limits: a runaway template is stopped by the render limits
// (a deadline and an output cap), and a filter refuses to build a value
// past its bounds before doing the work; the error names the place.
func TestMessage_Limits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		limits    render.Limits
		want      string
	}{
		{"silent loop", "ok\n  {% for i in (1..2000000000) %}{% endfor %}", render.Limits{Timeout: 50 * time.Millisecond},
			"line 2, column 3: the template took too long"},
		{"nested silent loops", "{% for i in (1..100000) %}{% for j in (1..100000) %}{% assign k = j %}{% endfor %}{% endfor %}", render.Limits{Timeout: 50 * time.Millisecond},
			"took too long"},
		{"output", "{% for i in (1..100000000) %}xxxxxxxxxx{% endfor %}", render.Limits{Timeout: time.Minute, MaxBytes: 1000},
			"writes more than 1000 bytes"},
		{"range into a filter", "{{ (1..100000000) | join: ',' | size }}", render.Limits{Timeout: time.Minute},
			"line 1, column 1: a range of 100000000 numbers is longer than 1000"},
		{"doubling", "{% assign s = 'ab' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}", render.Limits{Timeout: time.Minute},
			"larger than 1048576"},
		{"join amplifies", "{% assign s = 'abcdefghij' %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}{% assign a = 'a,b,c,d,e,f,g,h,i' | split: ',' %}{{ a | join: s | size }}",
			render.Limits{Timeout: time.Minute}, "join would make a value larger than"},
		{"replace amplifies", "{% assign s = 'abcdefghij' %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}{{ s | replace: '', s | size }}",
			render.Limits{Timeout: time.Minute}, "replace would make a value larger than"},
		{"spoofed forloop", "{% assign forloop = 1 %}{% cycle 'a', 'b' %}", render.Limits{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := render.NewSet([]herald.Template{{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: tt.src}})
			start := time.Now()
			_, err := render.Message(render.Input{Event: event("build.failed"), Notifier: notifier(herald.NotifierSMS, herald.NotifierConfig{}), Templates: set, Limits: tt.limits})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("stopped after %s", d)
			}
			var se *render.SyntaxError
			if tt.want != "" && (!errors.As(err, &se) || !se.Limit) {
				t.Errorf("err %v is not a limit error", err)
			}
		})
	}
	t.Run("CheckRefusesARunaway", func(t *testing.T) {
		t.Parallel()
		err := render.CheckTemplates([]herald.Template{{EventType: "*", Channel: herald.NotifierInbox, Locale: herald.LocaleEN,
			Subject: "s", Text: "{% for i in (1..2000000000) %}{% if i == 0 %}x{% endif %}{% endfor %}"}})
		if e := herald.ErrorFields(err); len(e) != 1 || e[0].Field != "templates[0].text" || !strings.Contains(e[0].Message, "line 1, column 1: the template took too long") {
			t.Errorf("check of a runaway: %v", err)
		}
	})
}
