package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// cacheNodes opens two handles on one fresh database, each with its own
// clock, as two nodes (or a node and a CLI process) would be.
func cacheNodes(t *testing.T, dialect string) (a, b *store.DB, clkA *clock) {
	t.Helper()
	url := storetest.NewURL(t, dialect)
	clkA = &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	open := func(now func() time.Time) *store.DB {
		db, err := store.Open(context.Background(), store.Config{URL: url, SecretKey: storetest.Key(), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		must(t, db.Migrate(context.Background()))
		return db
	}
	return open(clkA.now), open(nil), clkA
}

// A token revoked on the node that serves it fails on its next use; revoked
// on another node (or by another process), it fails on every node within a
// second.
func TestReadCache_Revocation(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a, b, clk := cacheNodes(t, dialect)
			ctx := storetest.NewTenant(t, a, "acme")
			mint := func() (*herald.Token, string) {
				tok, secret, err := a.CreateToken(ctx, herald.TokenCreate{Name: "ci", Permissions: []herald.Permission{herald.PermSettingsRead}})
				must(t, err)
				return tok, secret
			}
			use := func(db *store.DB, secret string) error {
				_, err := db.Authenticate(context.Background(), secret)
				return err
			}

			// Here: revoked at once.
			tok, secret := mint()
			must(t, use(a, secret))
			must(t, use(a, secret)) // from memory
			must(t, a.RevokeToken(ctx, tok.ID))
			if err := use(a, secret); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Fatalf("a token revoked on this node: %v, want %s at once", err, herald.EUNAUTHORIZED)
			}

			// Elsewhere: within a second.
			tok, secret = mint()
			must(t, use(a, secret))
			must(t, b.RevokeToken(ctx, tok.ID))
			// Within the second, a answers from memory: the cache is in
			// use, so what follows tests its bound.
			if err := use(a, secret); err != nil {
				t.Fatalf("a cached token, before a's next look at the epoch: %v", err)
			}
			clk.add(time.Second)
			if err := use(a, secret); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Fatalf("a token revoked on another node, a second later: %v, want %s", err, herald.EUNAUTHORIZED)
			}
		})
	}
}

// A deploy, a source change and a project's deletion are read back at once
// on the node that made them and within a second on another.
func TestReadCache_SettingsAndSources(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a, b, clk := cacheNodes(t, dialect)
			ctx := storetest.NewTenant(t, a, "acme")
			p := &herald.Project{Name: "p"}
			must(t, a.CreateProject(ctx, p))
			src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("a1", 16), Name: "s"}
			must(t, a.CreateSource(ctx, src))
			scope := herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}
			live := func(db *store.DB) *herald.Settings {
				t.Helper()
				s, err := db.FindSettings(ctx, scope, herald.VersionLive)
				must(t, err)
				return s
			}
			deploy := func(db *store.DB, commenters bool) {
				t.Helper()
				_, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, &herald.Settings{NotifyCommenters: commenters})
				must(t, err)
				_, err = db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: herald.NoRevisionCheck}}, false)
				must(t, err)
			}

			if live(a).NotifyCommenters {
				t.Fatal("fresh settings notify commenters")
			}
			deploy(a, true)
			if !live(a).NotifyCommenters {
				t.Fatal("a deploy on this node is not read back at once")
			}
			deploy(b, false)
			clk.add(time.Second)
			if live(a).NotifyCommenters {
				t.Fatal("a deploy on another node is not seen a second later")
			}

			_, err := a.FindSourceByID(ctx, src.ID)
			must(t, err)
			src.Name = "renamed"
			must(t, a.UpdateSource(ctx, src))
			if got, err := a.FindSourceByID(ctx, src.ID); err != nil || got.Name != "renamed" {
				t.Fatalf("a source renamed on this node reads back as %+v (%v)", got, err)
			}
			src.Name = "again"
			must(t, b.UpdateSource(ctx, src))
			clk.add(time.Second)
			if got, err := a.FindSourceByID(ctx, src.ID); err != nil || got.Name != "again" {
				t.Fatalf("a source renamed on another node reads, a second later, as %+v (%v)", got, err)
			}

			// A project deleted elsewhere takes its source and settings with
			// it (a cascade, which no code of ours runs).
			must(t, b.DeleteProject(ctx, p.ID, true))
			clk.add(time.Second)
			if _, err := a.FindSourceByID(ctx, src.ID); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("the source of a project deleted on another node: %v, want %s", err, herald.ENOTFOUND)
			}
			if _, err := a.FindSettings(ctx, scope, herald.VersionLive); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("the settings of a project deleted on another node: %v, want %s", err, herald.ENOTFOUND)
			}
		})
	}
}

// FindSettingsJSON answers, byte for byte, what encoding FindSettings'
// answer gives (as the API's writeJSON encodes it), for both versions, from
// the cache as from the database; and a deploy here is read back at once,
// one elsewhere within a second, as the decoded form is.
func TestReadCache_SettingsJSON(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a, b, clk := cacheNodes(t, dialect)
			ctx := storetest.NewTenant(t, a, "acme")
			p := &herald.Project{Name: "p"}
			must(t, a.CreateProject(ctx, p))
			src := &herald.Source{ProjectID: p.ID, Kind: herald.SourceBuildJob, ExternalID: strings.Repeat("b2", 16), Name: "s"}
			must(t, a.CreateSource(ctx, src))
			n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "inbox"}
			must(t, a.CreateNotifier(ctx, n))
			scope := herald.SettingsScope{ProjectID: p.ID, SourceID: src.ID}
			same := func(db *store.DB, what string) {
				t.Helper()
				for _, version := range []string{herald.VersionDraft, herald.VersionLive} {
					for range 2 { // the first fills the cache, the second reads it
						s, err := db.FindSettings(ctx, scope, version)
						must(t, err)
						var want bytes.Buffer
						must(t, json.NewEncoder(&want).Encode(s))
						got, err := db.FindSettingsJSON(ctx, scope, version)
						must(t, err)
						if got != want.String() {
							t.Fatalf("%s, %s: FindSettingsJSON = %s, want %s", what, version, got, want.String())
						}
					}
				}
			}
			deploy := func(db *store.DB, name string) {
				t.Helper()
				doc := &herald.Settings{NotifyCommenters: true, Channels: []herald.ChannelSettings{{NotifierID: n.ID, Enabled: true,
					Events: []herald.EventSettings{}, BodyFields: []herald.BodyField{{Name: name, Shown: true}}, Ext: map[string]string{"k": "<" + name + ">"}}}}
				_, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, doc)
				must(t, err)
				_, err = db.DeploySettings(ctx, []herald.SettingsRef{{Scope: scope, Revision: herald.NoRevisionCheck}}, false)
				must(t, err)
			}
			live := func(db *store.DB) string {
				t.Helper()
				got, err := db.FindSettingsJSON(ctx, scope, herald.VersionLive)
				must(t, err)
				return got
			}

			same(a, "fresh")
			deploy(a, "here")
			if !strings.Contains(live(a), `"name":"here"`) {
				t.Fatalf("a deploy on this node is not read back at once: %s", live(a))
			}
			same(a, "deployed here")
			deploy(b, "there")
			clk.add(time.Second)
			if !strings.Contains(live(a), `"name":"there"`) {
				t.Fatalf("a deploy on another node is not seen a second later: %s", live(a))
			}
			same(a, "deployed there")

			if _, err := a.FindSettingsJSON(ctx, scope, "staging"); herald.ErrorCode(err) != herald.EINVALID {
				t.Fatalf("an unknown version: %v, want %s", err, herald.EINVALID)
			}
			must(t, b.DeleteProject(ctx, p.ID, true))
			clk.add(time.Second)
			if _, err := a.FindSettingsJSON(ctx, scope, herald.VersionLive); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("the settings of a project deleted on another node: %v, want %s", err, herald.ENOTFOUND)
			}
		})
	}
}

// A busy node reads the epoch a little before the second is over: one
// request reads it while the others answer from memory, so they do not
// all queue on the database at once when the second ends. What it reads
// counts from when it started: a change made elsewhere is still seen
// within a second.
func TestReadCache_OneEpochReadAhead(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a, b, clk := cacheNodes(t, dialect)
			ctx := storetest.NewTenant(t, a, "acme")
			tok, secret, err := a.CreateToken(ctx, herald.TokenCreate{Name: "ci", Permissions: []herald.Permission{herald.PermSettingsRead}})
			must(t, err)
			use := func() error {
				_, err := a.Authenticate(context.Background(), secret)
				return err
			}
			must(t, use()) // cached; the epoch read now

			var (
				mu      sync.Mutex
				reads   int
				reading = make(chan struct{})
				release = make(chan struct{})
			)
			store.OnEpochRead(a, func() {
				mu.Lock()
				reads++
				first := reads == 1
				mu.Unlock()
				if first {
					close(reading)
					<-release
				}
			})
			count := func() int { mu.Lock(); defer mu.Unlock(); return reads }

			must(t, b.RevokeToken(ctx, tok.ID))
			clk.add(800 * time.Millisecond)
			first := make(chan error, 1)
			go func() { first <- use() }()
			select {
			case <-reading:
			case <-time.After(10 * time.Second):
				t.Fatal("no request read the epoch 0.8 s after the last read")
			}
			// While it reads, the others answer from memory (the token is
			// still there: the second is not over) without reading.
			for range 5 {
				if err := use(); err != nil {
					t.Fatalf("a request while another reads the epoch: %v, want an answer from memory", err)
				}
			}
			if n := count(); n != 1 {
				t.Fatalf("%d epoch reads at once, want 1", n)
			}
			close(release)
			if err := <-first; herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Fatalf("the request that read the epoch: %v, want %s", err, herald.EUNAUTHORIZED)
			}
			if err := use(); herald.ErrorCode(err) != herald.EUNAUTHORIZED {
				t.Fatalf("after the epoch moved: %v, want %s", err, herald.EUNAUTHORIZED)
			}
		})
	}
}
