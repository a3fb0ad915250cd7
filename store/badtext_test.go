package store_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestUnstorableText writes and looks up text neither database can hold
// alike (PostgreSQL refuses NUL and invalid UTF-8 in text, SQLite keeps
// them): every field that is stored or filtered on answers EINVALID naming
// the field, on both databases, and nothing is stored.
func TestUnstorableText(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		f := newFixture(t, ctx, db)
		user := &herald.User{Code: "alice", Name: "Alice"}
		must(t, db.CreateUser(ctx, user))
		push := &herald.Push{JobName: "hello", Content: "hi", ScopeType: herald.PushScopeGiven, UserIDs: []int64{user.ID}}
		must(t, db.CreatePush(ctx, push))
		scope := herald.SettingsScope{ProjectID: f.project.ID, SourceID: f.source.ID}

		tests := []struct {
			name, field string
			do          func(bad string) error
		}{
			{"project name", "name", func(bad string) error {
				return db.CreateProject(ctx, &herald.Project{Name: "a" + bad})
			}},
			{"project description", "description", func(bad string) error {
				return db.CreateProject(ctx, &herald.Project{Name: "p", Description: bad})
			}},
			{"project update", "name", func(bad string) error {
				p := *f.project
				p.Name = bad
				return db.UpdateProject(ctx, &p)
			}},
			{"source name", "name", func(bad string) error {
				return db.CreateSource(ctx, &herald.Source{ProjectID: f.project.ID, Kind: herald.SourceGeneric, ExternalID: "x", Name: bad})
			}},
			{"source update", "name", func(bad string) error {
				s := *f.source
				s.Name = "b" + bad
				return db.UpdateSource(ctx, &s)
			}},
			{"source filter external_id", "external_id", func(bad string) error {
				_, _, err := db.FindSources(ctx, herald.SourceFilter{ExternalID: bad}, herald.Page{})
				return err
			}},
			{"source filter kind", "kind", func(bad string) error {
				_, _, err := db.FindSources(ctx, herald.SourceFilter{Kind: bad}, herald.Page{})
				return err
			}},
			{"source by external id", "external_id", func(bad string) error {
				_, err := db.FindSourceByExternalID(ctx, herald.SourceBuildJob, bad)
				return err
			}},
			{"user name", "name", func(bad string) error {
				return db.CreateUser(ctx, &herald.User{Code: "bob", Name: bad})
			}},
			{"user avatar_url", "avatar_url", func(bad string) error {
				return db.CreateUser(ctx, &herald.User{Code: "bob", Name: "Bob", AvatarURL: "https://x/" + bad})
			}},
			{"user update open_id", "open_id", func(bad string) error {
				u := *user
				u.OpenID = "ou_" + bad
				return db.UpdateUser(ctx, &u)
			}},
			{"group name", "name", func(bad string) error {
				return db.CreateGroup(ctx, &herald.Group{Code: "g", Name: bad})
			}},
			{"department name", "name", func(bad string) error {
				return db.CreateDepartment(ctx, &herald.Department{Code: "d", Name: bad})
			}},
			{"chat name", "name", func(bad string) error {
				return db.CreateChat(ctx, &herald.Chat{Code: "c", Name: bad})
			}},
			{"notifier name", "name", func(bad string) error {
				return db.CreateNotifier(ctx, &herald.Notifier{ProjectID: f.project.ID, Type: herald.NotifierInbox, Name: bad})
			}},
			{"notifier header value", "config.http_headers.X-Token", func(bad string) error {
				n := *f.notifier
				n.Config.HTTPHeaders = map[string]string{"X-Token": "t" + bad}
				return db.UpdateNotifier(ctx, &n)
			}},
			{"notifier message_body", "config.message_body", func(bad string) error {
				n := *f.notifier
				n.Config.MessageBody = `{"text":"` + bad + `"}`
				return db.UpdateNotifier(ctx, &n)
			}},
			{"notifier at_mobiles", "config.at_mobiles[1]", func(bad string) error {
				n := *f.notifier
				n.Config.AtMobiles = []string{"13800000000", bad}
				return db.UpdateNotifier(ctx, &n)
			}},
			{"notifier secret", "secret", func(bad string) error {
				n := *f.notifier
				n.Secret = "s" + bad
				return db.UpdateNotifier(ctx, &n)
			}},
			{"notifier filter type", "type", func(bad string) error {
				_, _, err := db.FindNotifiers(ctx, herald.NotifierFilter{Type: bad}, herald.Page{})
				return err
			}},
			{"settings ext", "channels[0].ext.k", func(bad string) error {
				_, err := db.UpdateSettings(ctx, herald.SettingsRef{Scope: scope, Revision: herald.NoRevisionCheck}, &herald.Settings{
					Channels: []herald.ChannelSettings{{NotifierID: f.notifier.ID, Ext: map[string]string{"k": bad}}}})
				return err
			}},
			{"event idempotency_key", "idempotency_key", func(bad string) error {
				return db.CreateEvents(ctx, []*herald.Event{{SourceID: f.source.ID, Type: "build.failed", IdempotencyKey: "k" + bad}})
			}},
			{"event payload bytes", "payload", func(bad string) error {
				return db.CreateEvents(ctx, []*herald.Event{{SourceID: f.source.ID, Type: "build.failed", Payload: json.RawMessage(`{"note":"` + bad + `"}`)}})
			}},
			{"event payload escaped NUL", "payload.build.note", func(string) error {
				return db.CreateEvents(ctx, []*herald.Event{{SourceID: f.source.ID, Type: "build.failed", Payload: json.RawMessage(`{"build":{"note":"a\u0000b"}}`)}})
			}},
			{"delivery filter status", "status", func(bad string) error {
				_, _, err := db.FindDeliveries(ctx, herald.DeliveryFilter{Status: bad}, herald.Page{})
				return err
			}},
			{"push job_name", "job_name", func(bad string) error {
				return db.CreatePush(ctx, &herald.Push{JobName: bad, Content: "hi", ScopeType: herald.PushScopeGiven, UserIDs: []int64{user.ID}})
			}},
			{"push content", "content", func(bad string) error {
				p := *push
				p.Content = "hi " + bad
				return db.UpdatePush(ctx, &p)
			}},
			{"push ext", "ext", func(bad string) error {
				p := *push
				p.Ext = bad
				return db.UpdatePush(ctx, &p)
			}},
			{"push filter status", "status", func(bad string) error {
				_, _, err := db.FindPushes(ctx, herald.PushFilter{Status: herald.PushStatus(bad)}, herald.Page{})
				return err
			}},
			{"push submit reason", "reason", func(bad string) error {
				_, err := db.SubmitPush(ctx, push.ID, "because "+bad)
				return err
			}},
			{"token name", "name", func(bad string) error {
				_, _, err := db.CreateToken(ctx, herald.TokenCreate{Name: bad, Permissions: []herald.Permission{herald.PermAdmin}})
				return err
			}},
		}
		before := dumpAll(t, db)
		for _, tt := range tests {
			for _, bad := range []string{"\x00", "\xff"} {
				err := tt.do(bad)
				if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.field {
					t.Errorf("%s with %q: err = %v; want %s naming %q", tt.name, bad, err, herald.EINVALID, tt.field)
				}
			}
		}
		if after := dumpAll(t, db); after != before {
			t.Fatalf("refused input changed the database:\nbefore %s\nafter %s", before, after)
		}
	})
}

// dumpAll returns every row of every table of db as text, River's tables
// aside.
func dumpAll(t *testing.T, db *store.DB) string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if db.Dialect() == store.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := db.SQL().Query(q)
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		if !strings.HasPrefix(name, "river_") {
			tables = append(tables, name)
		}
	}
	must(t, rows.Err())
	rows.Close()
	var out strings.Builder
	for _, table := range tables {
		dumpRows(t, db.SQL(), table, &out)
	}
	return out.String()
}

func dumpRows(t *testing.T, db *sql.DB, table string, out *strings.Builder) {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + table)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	fmt.Fprintf(out, "%s:\n", table)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		var line strings.Builder
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&line, "%v|", v)
		}
		lines = append(lines, line.String())
	}
	must(t, rows.Err())
	for _, l := range lines {
		out.WriteString(l + "\n")
	}
}

// TestUnstorableText_Lookups looks up users, departments and chats by lists
// of vendor ids holding text no row can hold: nothing matches, on both
// databases, and the surface names the entry it cannot find.
func TestUnstorableText_Lookups(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		must(t, db.CreateUser(ctx, &herald.User{Code: "alice", Name: "Alice", OpenID: "ou_1"}))
		for _, bad := range []string{"\x00", "\xff"} {
			users, err := db.FindUsersByIMIDs(ctx, store.IDOpenID, []string{"ou_1", bad})
			if err != nil || len(users) != 1 {
				t.Errorf("FindUsersByIMIDs with %q = %v, %v; want alice", bad, users, err)
			}
			if d, err := db.FindDepartmentsByCodes(ctx, []string{bad}); err != nil || len(d) != 0 {
				t.Errorf("FindDepartmentsByCodes with %q = %v, %v; want none", bad, d, err)
			}
			if c, err := db.FindChatsByCodes(ctx, []string{bad}); err != nil || len(c) != 0 {
				t.Errorf("FindChatsByCodes with %q = %v, %v; want none", bad, c, err)
			}
		}
	})
}
