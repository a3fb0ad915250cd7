package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestRetry_StaysInScope: the console's retry skipped the project-scope
// check, so a token scoped to project A re-queued project B's deliveries.
func TestRetry_StaysInScope(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == store.DialectPostgres {
				storetest.PostgresURL(t)
			}
			b := setupOn(t, dialect)
			a, _, _ := b.fixture(t)
			pb := &herald.Project{Name: "Other"}
			if err := b.db.CreateProject(b.ctx, pb); err != nil {
				t.Fatal(err)
			}
			srcB := &herald.Source{ProjectID: pb.ID, Kind: herald.SourceGeneric, ExternalID: "billing", Name: "Billing"}
			if err := b.db.CreateSource(b.ctx, srcB); err != nil {
				t.Fatal(err)
			}
			nb := &herald.Notifier{ProjectID: pb.ID, Type: herald.NotifierInbox, Name: "In-app"}
			if err := b.db.CreateNotifier(b.ctx, nb); err != nil {
				t.Fatal(err)
			}
			// A dead delivery of project B.
			ev := &herald.Event{SourceID: srcB.ID, Type: "build.failed"}
			if err := b.db.CreateEvents(b.ctx, []*herald.Event{ev}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.db.RecordFanouts(b.ctx, []store.Fanout{{EventID: ev.ID, Deliveries: []store.NewDelivery{
				{NotifierID: nb.ID, Channel: nb.Type, UserID: 0, Target: "x", Status: herald.StatusPending, Message: []byte(`{}`)},
			}}}); err != nil {
				t.Fatal(err)
			}
			ds, _, err := b.db.FindDeliveries(b.ctx, herald.DeliveryFilter{EventID: ev.ID}, herald.Page{})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries %v %v", ds, err)
			}
			d := ds[0]
			if err := b.db.FinishDeliveries(b.ctx, []store.DeliveryResult{{ID: d.ID, Status: herald.StatusDead, Error: "gone"}}); err != nil {
				t.Fatal(err)
			}

			// Sign in with a token of project A that may retry.
			_, secret, err := b.db.CreateToken(b.ctx, herald.TokenCreate{Name: "a-ops", ProjectID: a.ID,
				Permissions: []herald.Permission{herald.PermEventsWrite, herald.PermSettingsRead}})
			if err != nil {
				t.Fatal(err)
			}
			br := b.browser(t)
			if st, loc, body := br.do("POST", "/console/signin", url.Values{"token": {secret}, "next": {"/console/"}}); st != http.StatusSeeOther {
				t.Fatalf("sign in: %d %q\n%s", st, loc, body)
			}
			st, _, _ := br.post("/console/log", "/console/deliveries/"+itoa(d.ID)+"/retry", url.Values{"back": {"/console/log"}})
			if st != http.StatusNotFound {
				t.Errorf("retrying project %d's delivery with a token of project %d = %d, want 404", pb.ID, a.ID, st)
			}
			got, err := b.db.FindDeliveryByID(b.ctx, d.ID)
			if err != nil || got.Status != herald.StatusDead {
				t.Fatalf("the foreign delivery after the refused retry: %+v %v", got, err)
			}
		})
	}
}

// TestRestore_StaysInScope: a restore names a history entry by id; an
// entry of another source (here another project's) is not found under
// this source's path, and nothing changes.
func TestRestore_StaysInScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, srcA, _ := b.fixture(t)
	pb := &herald.Project{Name: "Other"}
	if err := b.db.CreateProject(b.ctx, pb); err != nil {
		t.Fatal(err)
	}
	srcB := &herald.Source{ProjectID: pb.ID, Kind: herald.SourceGeneric, ExternalID: "billing", Name: "Billing"}
	if err := b.db.CreateSource(b.ctx, srcB); err != nil {
		t.Fatal(err)
	}
	nb := &herald.Notifier{ProjectID: pb.ID, Type: herald.NotifierInbox, Name: "In-app"}
	if err := b.db.CreateNotifier(b.ctx, nb); err != nil {
		t.Fatal(err)
	}
	scopeB := herald.SettingsScope{ProjectID: pb.ID, SourceID: srcB.ID}
	if _, err := b.db.UpdateSettings(b.ctx, herald.SettingsRef{Scope: scopeB, Revision: 1}, &herald.Settings{Channels: []herald.ChannelSettings{
		{NotifierID: nb.ID, Enabled: true, Events: []herald.EventSettings{{Type: "custom.secret", Enabled: true}}}}}); err != nil {
		t.Fatal(err)
	}
	hist, _, err := b.db.FindSettingsHistory(b.ctx, scopeB, herald.Page{Limit: 1})
	if err != nil || len(hist) != 1 {
		t.Fatalf("history of B: %v %v", hist, err)
	}
	br := b.browser(t)
	br.signIn()
	mp := matrixPath(a, srcA)
	st, _, _ := br.post(mp, mp+"/restore", url.Values{"revision": {"1"}, "change": {itoa(hist[0].ID)}})
	if st != http.StatusNotFound {
		t.Errorf("restoring project %d's history entry into project %d's draft = %d, want 404", pb.ID, a.ID, st)
	}
	draft, err := b.db.FindSettings(b.ctx, herald.SettingsScope{ProjectID: a.ID, SourceID: srcA.ID}, herald.VersionDraft)
	if err != nil || draft.Revision != 1 || len(draft.Channels) != 0 {
		t.Fatalf("A's draft after the refused restore: %+v %v", draft, err)
	}
}
