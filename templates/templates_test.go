package templates_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/heraldhq/herald/templates"
)

// TestService_DeployChecksTheDraft: deploy checks the draft again, so a
// draft that does not render (here written past the service, as a draft
// saved before a rule it breaks) is refused with its line and column and
// live stays as it was; a stale revision is a conflict before any check.
func TestService_DeployChecksTheDraft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p := &herald.Project{Name: "p"}
		if err := db.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		svc := templates.New(db)
		ok := []herald.Template{{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "{{ title }}"}}
		if _, err := svc.UpdateTemplates(ctx, p.ID, 0, ok); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeployTemplates(ctx, p.ID, -1, false); err != nil {
			t.Fatal(err)
		}
		bad := []herald.Template{{EventType: "*", Channel: herald.NotifierSMS, Locale: herald.LocaleEN, Text: "ok\n{% for i in (1..3) %}{% include 'x' %}{% endfor %}"}}
		if _, err := svc.UpdateTemplates(ctx, p.ID, -1, bad); herald.ErrorField(err) != "templates[0].text" {
			t.Fatalf("the service saved a template with include: %v", err)
		}
		draft, err := db.UpdateTemplates(ctx, p.ID, -1, bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DeployTemplates(ctx, p.ID, draft.Revision-1, false); herald.ErrorCode(err) != herald.ECONFLICT {
			t.Fatalf("deploy of a stale revision: %v", err)
		}
		_, err = svc.DeployTemplates(ctx, p.ID, draft.Revision, false)
		if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != "templates[0].text" ||
			!strings.HasPrefix(herald.ErrorMessage(err), "line 2, column 22: include is not available") {
			t.Fatalf("deploy of a draft that does not parse: %v", err)
		}
		live, err := svc.FindTemplates(ctx, p.ID, herald.VersionLive)
		if err != nil || live.Revision != 1 || live.Templates[0].Text != "{{ title }}" {
			t.Fatalf("live after the refused deploy: %+v %v", live, err)
		}
	})
}
