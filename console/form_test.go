package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// fieldError returns the inline error shown inside the element marked
// data-field="name", or "" when there is none.
func fieldError(page, name string) string {
	re := regexp.MustCompile(`(?s)data-field="` + regexp.QuoteMeta(name) + `"[^>]*>.*?<span class="field-error"[^>]*>([^<]*)</span>`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	// The match must not run into the next field.
	if strings.Contains(m[0][1:], `data-field="`) {
		return ""
	}
	return m[1]
}

// TestForms_InvalidNotifierKeepsInput: a notifier refused by validation
// comes back as the form (422, not the error page), with the message
// inside the field it is about, naming it by its label, and every other
// typed value kept; the secret is asked again, and the form says so.
func TestForms_InvalidNotifierKeepsInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	br := br(b, t)
	newPage := "/console/projects/" + itoa(p.ID) + "/notifiers/new"
	st, _, body := br.post(newPage, "/console/projects/"+itoa(p.ID)+"/notifiers", url.Values{"type": {"email"}, "name": {"Mail"},
		"host": {""}, "port": {"2525"}, "from": {"alerts@example.com"}, "username": {"mailer"}, "secret": {"pa55word"}, "tls": {"tls"}})
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", st, body)
	}
	if msg := fieldError(body, "host"); !strings.Contains(msg, "SMTP host") || strings.Contains(msg, "config.host") {
		t.Fatalf("the host field's error is %q\n%s", msg, body)
	}
	for _, want := range []string{`value="Mail"`, `value="2525"`, `value="alerts@example.com"`, `value="mailer"`, `<option value="tls" selected>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lost %s", want)
		}
	}
	if strings.Contains(body, "pa55word") || !strings.Contains(body, "type it again") {
		t.Errorf("the secret is shown, or the form does not ask for it again")
	}
	if strings.Contains(body, "config.") {
		t.Errorf("the page names an API member")
	}

	// In Chinese, the label and the message are Chinese.
	br.do("GET", "/console/lang/zh?next=/console/", nil)
	st, _, body = br.post(newPage, "/console/projects/"+itoa(p.ID)+"/notifiers", url.Values{"type": {"email"}, "name": {"Mail"},
		"host": {""}, "from": {"alerts@example.com"}})
	if msg := fieldError(body, "host"); st != http.StatusUnprocessableEntity || !strings.Contains(msg, "SMTP 服务器") || strings.ContainsAny(msg, "abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("zh: %d, host error %q", st, msg)
	}
}

// TestForms_InvalidProjectAndSourceKeepInput: the new project and new
// source forms show their errors inline too, keeping what was typed.
func TestForms_InvalidProjectAndSourceKeepInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	br := br(b, t)

	st, _, body := br.post("/console/", "/console/projects", url.Values{"name": {""}, "description": {"Our shop's alerts"}})
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("project: status %d, want 422\n%s", st, body)
	}
	if msg := fieldError(body, "name"); !strings.Contains(msg, "Name") {
		t.Fatalf("project: the name field's error is %q\n%s", msg, body)
	}
	if !strings.Contains(body, `value="Our shop&#39;s alerts"`) || !strings.Contains(body, `id="projects"`) {
		t.Fatalf("project: the form lost the description or the page its list\n%s", body)
	}

	pp := "/console/projects/" + itoa(p.ID)
	st, _, body = br.post(pp, pp+"/sources", url.Values{"name": {"Builds"}, "kind": {herald.SourceBuildJob}, "external_id": {"short"}, "space_id": {"7"}})
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("source: status %d, want 422\n%s", st, body)
	}
	if msg := fieldError(body, "external_id"); !strings.Contains(msg, "External ID") || strings.Contains(msg, "external_id") {
		t.Fatalf("source: the external ID field's error is %q\n%s", msg, body)
	}
	for _, want := range []string{`value="Builds"`, `value="short"`, `value="7"`, `<option selected>` + herald.SourceBuildJob, `id="new-source" open`} {
		if !strings.Contains(body, want) {
			t.Errorf("source: the form lost %s", want)
		}
	}
	if !strings.Contains(body, `id="sources"`) {
		t.Errorf("source: the page lost its list")
	}
}

// TestProjectSettings: the project page edits the project's name,
// description and the origins that may embed its inbox; a bad origin
// comes back beside its field with what was typed, and changes nothing.
func TestProjectSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	br := br(b, t)
	pp := "/console/projects/" + itoa(p.ID)

	st, _, body := br.post(pp, pp, url.Values{"name": {"Shop"}, "description": {"alerts"}, "allowed_origins": {"https://App.Example.com:443\nnot an origin"}})
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("bad origin: status %d, want 422\n%s", st, body)
	}
	if msg := fieldError(body, "allowed_origins"); !strings.Contains(msg, "Allowed origins") {
		t.Fatalf("bad origin: the field's error is %q\n%s", msg, body)
	}
	if !strings.Contains(body, "not an origin") || !strings.Contains(body, `id="edit-project" open`) {
		t.Fatalf("bad origin: the form lost what was typed\n%s", body)
	}
	got, err := b.db.FindProjectByID(b.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AllowedOrigins) != 0 || got.Name != p.Name {
		t.Fatalf("a refused form changed the project: %+v", got)
	}

	st, loc, body := br.post(pp, pp, url.Values{"name": {"Shop"}, "description": {"alerts"}, "allowed_origins": {"https://App.Example.com:443\n\nhttp://127.0.0.1:8081\n"}})
	if st != http.StatusSeeOther {
		t.Fatalf("save: status %d\n%s", st, body)
	}
	if _, body = br.get(loc); !strings.Contains(body, "Project saved.") {
		t.Fatalf("save: the page after it does not say so\n%s", body)
	}
	if got, err = b.db.FindProjectByID(b.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:8081", "https://app.example.com"}; !slices.Equal(got.AllowedOrigins, want) || got.Name != "Shop" || got.Description != "alerts" {
		t.Fatalf("saved %q %q %q, want Shop, alerts, %q", got.Name, got.Description, got.AllowedOrigins, want)
	}
	if !strings.Contains(body, "https://app.example.com\nhttp://127.0.0.1:8081") && !strings.Contains(body, "http://127.0.0.1:8081\nhttps://app.example.com") {
		t.Errorf("the form does not show the saved origins\n%s", body)
	}
}
