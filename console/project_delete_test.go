package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestDeleteProject_TypedConfirmation: the console deletes a project, with
// its events, only once its name is typed.
func TestDeleteProject_TypedConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, s, _ := b.fixture(t)
	ev := &herald.Event{SourceID: s.ID, Type: "build.failed"}
	if err := b.db.CreateEvents(b.ctx, []*herald.Event{ev}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.signIn()
	page := "/console/projects/" + itoa(p.ID)
	st, body := br.get(page)
	if st != 200 || !strings.Contains(body, `action="/console/projects/`+itoa(p.ID)+`/delete"`) || !strings.Contains(body, `name="confirm"`) {
		t.Fatalf("project page %d lacks the delete form:\n%s", st, body)
	}
	for _, typed := range []string{"", "shop", "Sho"} {
		st, _, body := br.post(page, page+"/delete", url.Values{"confirm": {typed}})
		if st != http.StatusBadRequest || !strings.Contains(body, "type its name") {
			t.Fatalf("confirm %q: %d\n%s", typed, st, body)
		}
		if _, err := b.db.FindProjectByID(b.ctx, p.ID); err != nil {
			t.Fatalf("confirm %q deleted the project: %v", typed, err)
		}
	}
	st, loc, body := br.post(page, page+"/delete", url.Values{"confirm": {p.Name}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/?flash=Project+deleted") {
		t.Fatalf("delete with the name typed: %d %q\n%s", st, loc, body)
	}
	if _, err := b.db.FindProjectByID(b.ctx, p.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("project after delete: %v", err)
	}
	if _, err := b.db.FindEventByID(b.ctx, ev.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
		t.Fatalf("event after delete: %v", err)
	}
}
