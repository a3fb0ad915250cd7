package console_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestNotifier_FormHidesCredentials: the edit form shows a webhook's URL
// token and header values masked; saving the form as shown keeps them,
// and pointing the URL elsewhere without them is refused, the form shown
// again without them.
func TestNotifier_FormHidesCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "Hook", Secret: "whsec_d2hzM2NyZXQ=",
		Config: herald.NotifierConfig{URL: "https://hooks.example.com/in?token=t0kenvalue", HTTPHeaders: map[string]string{"X-Api-Key": "k3yvalue"}}}
	if err := b.db.CreateNotifier(b.ctx, n); err != nil {
		t.Fatal(err)
	}
	want, err := b.db.FindNotifierByID(b.ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	path := "/console/notifiers/" + itoa(n.ID)
	hidden := []string{"t0kenvalue", "k3yvalue", "whsec_d2hzM2NyZXQ="}
	_, page := br(b, t).get(path)
	for _, h := range hidden {
		if strings.Contains(page, h) {
			t.Fatalf("the edit form shows %q", h)
		}
	}
	shownURL, shownHeaders := "https://hooks.example.com/in?token="+herald.SecretMask, "X-Api-Key: "+herald.SecretMask
	if !strings.Contains(page, `value="`+shownURL+`"`) || !strings.Contains(page, shownHeaders) {
		t.Fatalf("the edit form does not show the masked URL and headers:\n%s", page)
	}

	// Saved as shown (a new name), the credentials stay.
	c := br(b, t)
	if st, _, body := c.post(path, path, url.Values{"name": {"Hook 2"}, "url": {shownURL}, "headers": {shownHeaders}, "secret": {""}}); st != http.StatusSeeOther {
		t.Fatalf("save as shown: %d\n%s", st, body)
	}
	got, err := b.db.FindNotifierByID(b.ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Hook 2" || got.Config.URL != want.Config.URL || got.Secret != want.Secret || !reflect.DeepEqual(got.Config.HTTPHeaders, want.Config.HTTPHeaders) {
		t.Fatalf("after saving the form as shown: %+v, want the credentials of %+v", got, want)
	}

	// Elsewhere without them: refused, nothing changed, nothing shown.
	st, _, body := c.post(path, path, url.Values{"name": {"Hook 3"}, "url": {"https://evil.example/in?token=" + herald.SecretMask}, "headers": {shownHeaders}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "credential") {
		t.Fatalf("moving without the credentials: %d\n%s", st, body)
	}
	for _, h := range hidden {
		if strings.Contains(body, h) {
			t.Fatalf("the refused form shows %q", h)
		}
	}
	if after, _ := b.db.FindNotifierByID(b.ctx, n.ID); !reflect.DeepEqual(after, got) {
		t.Fatalf("a refused save changed the notifier: %+v", after)
	}
}

func br(b *testBundle, t *testing.T) *browser {
	c := b.browser(t)
	c.signIn()
	return c
}
