package render_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/render"
)

var (
	created = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	source  = &herald.Source{ID: 3, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("a1", 16), Name: "payments-build"}
)

func event(typ string) *herald.Event {
	return &herald.Event{ID: 42, SourceID: 3, Type: typ, Actor: "ann", CreatedAt: created,
		Roles:   map[string][]string{"creator": {"ann"}, "followers": {"bob", "li"}},
		Payload: json.RawMessage(`{"build":"#42","branch":"main","duration_s":93,"secret_note":"do not show"}`)}
}

func notifier(typ string, cfg herald.NotifierConfig) *herald.Notifier {
	return &herald.Notifier{ID: 1, Type: typ, Name: "n", Config: cfg}
}

func TestTitle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ typ, locale, want string }{
		{"build.succeeded", herald.LocaleEN, "Build succeeded"},
		{"build.succeeded", herald.LocaleZH, "构建成功"},
		{"build.failed", herald.LocaleZH, "构建失败"},
		{"deploy.failed", "", "Deployment failed"},
		{"comment.added", herald.LocaleZH, "新评论"},
		{"record.added", "fr", "Record added"}, // unknown locale: English
		{"custom.nightly", herald.LocaleZH, "custom.nightly"},
	} {
		if got := render.Title(tt.typ, tt.locale); got != tt.want {
			t.Errorf("Title(%q, %q) = %q, want %q", tt.typ, tt.locale, got, tt.want)
		}
	}
	// Every native event type has both titles.
	for _, typ := range herald.EventTypes {
		if en, zh := render.Title(typ, herald.LocaleEN), render.Title(typ, herald.LocaleZH); en == typ || zh == typ || en == zh {
			t.Errorf("%s: titles %q / %q", typ, en, zh)
		}
	}
}

func TestMessage_Locales(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		locale        string
		subject, text string
		html          string
	}{
		{
			locale:  herald.LocaleEN,
			subject: "Build failed: payments-build",
			text:    "Build failed: payments-build\nBy: ann\nbranch: main\nbuild: #42\nduration_s: 93\nsecret_note: do not show\nTime: 2026-03-04 05:06:07 UTC\n",
			html:    "<h3>Build failed</h3><p><b>payments-build</b></p><ul><li>By: ann</li><li>branch: main</li><li>build: #42</li><li>duration_s: 93</li><li>secret_note: do not show</li><li>Time: 2026-03-04 05:06:07 UTC</li></ul>",
		},
		{
			locale:  herald.LocaleZH,
			subject: "构建失败: payments-build",
			text:    "构建失败：payments-build\n操作人：ann\nbranch：main\nbuild：#42\nduration_s：93\nsecret_note：do not show\n时间：2026年03月04日 05:06:07 UTC\n",
			html:    "<h3>构建失败</h3><p><b>payments-build</b></p><ul><li>操作人：ann</li><li>branch：main</li><li>build：#42</li><li>duration_s：93</li><li>secret_note：do not show</li><li>时间：2026年03月04日 05:06:07 UTC</li></ul>",
		},
	} {
		m, err := render.Message(render.Input{Event: event("build.failed"), Source: source, Notifier: notifier(herald.NotifierEmail, herald.NotifierConfig{}), Locale: tt.locale})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tt.subject || m.Text != tt.text || m.HTML != tt.html || m.Markdown != "" || m.Body != nil {
			t.Errorf("%s:\nsubject %q\ntext %q\nhtml %q\nwant\n%q\n%q\n%q", tt.locale, m.Subject, m.Text, m.HTML, tt.subject, tt.text, tt.html)
		}
	}
}

func TestMessage_Markdown(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{herald.NotifierDingTalk, herald.NotifierWeCom} {
		m, err := render.Message(render.Input{Event: event("deploy.succeeded"), Source: source, Notifier: notifier(typ, herald.NotifierConfig{}), Locale: herald.LocaleZH,
			BodyFields: []herald.BodyField{{Name: "secret_note"}, {Name: "duration_s"}, {Name: "build", Shown: true}}})
		if err != nil {
			t.Fatal(err)
		}
		want := "### 部署成功\n**payments-build**\n\n- 操作人：ann\n- branch：main\n- build：#42\n- 时间：2026年03月04日 05:06:07 UTC\n"
		if m.Markdown != want || m.HTML != "" {
			t.Errorf("%s markdown\n%q\nwant\n%q", typ, m.Markdown, want)
		}
	}
}

func TestMessage_BodyFields(t *testing.T) {
	t.Parallel()
	in := render.Input{Event: event("build.failed"), Source: source, Notifier: notifier(herald.NotifierInbox, herald.NotifierConfig{}),
		BodyFields: []herald.BodyField{{Name: "secret_note", Shown: false}, {Name: "build", Shown: true}, {Name: "absent", Shown: false}}}
	m, err := render.Message(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "secret_note") || strings.Contains(m.Text, "do not show") {
		t.Errorf("a field switched off shows: %q", m.Text)
	}
	for _, shown := range []string{"build: #42\n", "branch: main\n", "duration_s: 93\n"} {
		if !strings.Contains(m.Text, shown) {
			t.Errorf("text %q lacks %q", m.Text, shown)
		}
	}
	d, err := render.NewData(in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range d.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "branch,build,duration_s" {
		t.Errorf("fields %s, want branch,build,duration_s in name order", got)
	}
}

func TestMessage_WebhookBody(t *testing.T) {
	t.Parallel()
	t.Run("Template", func(t *testing.T) {
		t.Parallel()
		n := notifier(herald.NotifierWebhook, herald.NotifierConfig{
			HTTPHeaders: map[string]string{"X-Team": "payments"},
			MessageBody: `{"msg":{{json .Title}},"who":{{json .Actor}},"build":{{json (index .Payload "build")}},"followers":{{json .Roles.followers}},"fields":{{len .Fields}},"id":{{.EventID}},"kind":{{json .SourceKind}}}`,
		})
		m, err := render.Message(render.Input{Event: event("build.failed"), Source: source, Notifier: n, Locale: herald.LocaleZH,
			BodyFields: []herald.BodyField{{Name: "secret_note"}}})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"msg":"构建失败","who":"ann","build":"#42","followers":["bob","li"],"fields":3,"id":42,"kind":"build_job"}`
		if string(m.Body) != want || m.Headers != nil {
			t.Errorf("body %s, headers %v\nwant %s and no headers (the sender adds the notifier's)", m.Body, m.Headers, want)
		}
	})
	t.Run("Default", func(t *testing.T) {
		t.Parallel()
		m, err := render.Message(render.Input{Event: event("build.succeeded"), Source: source, Notifier: notifier(herald.NotifierWebhook, herald.NotifierConfig{})})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			EventID int64               `json:"event_id"`
			Type    string              `json:"type"`
			Title   string              `json:"title"`
			Text    string              `json:"text"`
			Actor   string              `json:"actor"`
			Roles   map[string][]string `json:"roles"`
			Fields  []render.Field      `json:"fields"`
			Time    string              `json:"time"`
			Source  map[string]string   `json:"source"`
		}
		if err := json.Unmarshal(m.Body, &got); err != nil {
			t.Fatalf("body %s: %v", m.Body, err)
		}
		if got.EventID != 42 || got.Type != "build.succeeded" || got.Title != "Build succeeded" || got.Text != m.Text || got.Actor != "ann" ||
			len(got.Roles["followers"]) != 2 || len(got.Fields) != 4 || got.Time != "2026-03-04T05:06:07Z" ||
			got.Source["name"] != "payments-build" || got.Source["external_id"] != source.ExternalID {
			t.Errorf("default body %s", m.Body)
		}
	})
	t.Run("BrokenTemplate", func(t *testing.T) {
		t.Parallel()
		n := notifier(herald.NotifierWebhook, herald.NotifierConfig{MessageBody: `{"x":{{index .Payload "build" "deeper"}}}`})
		if _, err := render.Message(render.Input{Event: event("build.failed"), Source: source, Notifier: n}); err == nil {
			t.Error("a template that fails to execute rendered")
		}
	})
}

func TestMessage_NoSource(t *testing.T) {
	t.Parallel()
	ev := event("custom.nightly")
	ev.Payload, ev.Actor = nil, ""
	m, err := render.Message(render.Input{Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "custom.nightly" || m.Text != "custom.nightly\nTime: 2026-03-04 05:06:07 UTC\n" {
		t.Errorf("subject %q text %q", m.Subject, m.Text)
	}
	m, err = render.Message(render.Input{Event: ev, Notifier: notifier(herald.NotifierDingTalk, herald.NotifierConfig{}), Locale: herald.LocaleZH})
	if err != nil {
		t.Fatal(err)
	}
	if want := "### custom.nightly\n\n- 时间：2026年03月04日 05:06:07 UTC\n"; m.Markdown != want {
		t.Errorf("markdown %q, want %q", m.Markdown, want)
	}
}

// Times are written in the reader's zone and language.
func TestFormatTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ zone, locale, want string }{
		{"", herald.LocaleEN, "2026-03-04 05:06:07 UTC"},
		{"", herald.LocaleZH, "2026年03月04日 05:06:07 UTC"},
		{"Asia/Shanghai", herald.LocaleZH, "2026年03月04日 13:06:07 (UTC+08:00)"},
		{"Asia/Shanghai", herald.LocaleEN, "2026-03-04 13:06:07 UTC+08:00"},
		{"America/St_Johns", herald.LocaleEN, "2026-03-04 01:36:07 UTC-03:30"},
		{"Europe/London", herald.LocaleEN, "2026-03-04 05:06:07 UTC"},
	} {
		if got := render.FormatTime(created, tc.zone, tc.locale); got != tc.want {
			t.Errorf("FormatTime(%s, %s) = %q, want %q", tc.zone, tc.locale, got, tc.want)
		}
	}
	m, err := render.Message(render.Input{Event: &herald.Event{Type: "build.failed", CreatedAt: created, Payload: []byte(`{}`)},
		Locale: herald.LocaleZH, TimeZone: "Asia/Shanghai"})
	if err != nil || !strings.Contains(m.Text, "时间：2026年03月04日 13:06:07 (UTC+08:00)") {
		t.Fatalf("a message in the reader's zone: %q %v", m.Text, err)
	}
}
