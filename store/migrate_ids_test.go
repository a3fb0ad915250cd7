package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
	"github.com/pressly/goose/v3"
)

// v7Rows is what a database at migration 7 holds before the upgrade: a
// tenant with a project, a source, a notifier, a user, an event with two
// deliveries and an inbox message.
const v7Rows = `
INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', 1);
INSERT INTO projects (id, tenant_id, name, created_at, updated_at) VALUES (1, 1, 'Payments', 1, 1);
INSERT INTO sources (id, tenant_id, project_id, kind, external_id, name, created_at, updated_at, space_id) VALUES (1, 1, 1, 'app', '7', 'app', 1, 1, 'space');
INSERT INTO notifiers (id, tenant_id, project_id, type, name, config, created_at, updated_at) VALUES (1, 1, 1, 'inbox', 'inbox', '{}', 1, 1);
INSERT INTO users (id, tenant_id, code, name, created_at, updated_at) VALUES (1, 1, 'alice', 'Alice', 1, 1);
INSERT INTO events (id, tenant_id, project_id, source_id, type, roles, payload, created_at, fanned_out_at) VALUES (1, 1, 1, 1, 'record.added', '{}', '{}', 1, 1);
INSERT INTO deliveries (id, tenant_id, event_id, notifier_id, channel, user_id, target, status, message, created_at, updated_at) VALUES
	(1, 1, 1, 1, 'webhook', NULL, 'hooks.example.com', 'dead', '{}', 1, 1),
	(2, 1, 1, 1, 'inbox', 1, 'alice', 'delivered', '{}', 1, 1);
INSERT INTO inbox_messages (id, tenant_id, user_id, event_id, title, body, created_at) VALUES (1, 1, 1, 1, 'Record added', '', 1);
`

// TestMigrate_IDsUpgrade: migration 8 keeps every row, id and reference of
// a database written before it, gives its deliveries the message ids they
// were sent with (dlv_<id>), and on SQLite rebuilds each table exactly as
// it was (columns, foreign keys, indexes) but AUTOINCREMENT, with foreign
// keys enforced again afterwards.
func TestMigrate_IDsUpgrade(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{URL: storetest.NewURL(t, dialect), SecretKey: storetest.Key()})
			must(t, err)
			t.Cleanup(func() { db.Close() })
			dir, gd := "migrations/sqlite", goose.DialectSQLite3
			if dialect == store.DialectPostgres {
				dir, gd = "migrations/postgres", goose.DialectPostgres
			}
			p, err := goose.NewProvider(gd, db.SQL(), os.DirFS(dir))
			must(t, err)
			_, err = p.UpTo(ctx, 7)
			must(t, err)
			for _, stmt := range strings.Split(v7Rows, ";") {
				if strings.TrimSpace(stmt) != "" {
					_, err := db.SQL().ExecContext(ctx, stmt)
					must(t, err)
				}
			}
			if dialect == store.DialectPostgres {
				// Rows inserted with their ids leave the identities behind.
				for _, table := range []string{"tenants", "projects", "sources", "notifiers", "users", "events", "deliveries", "inbox_messages"} {
					_, err := db.SQL().ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), (SELECT MAX(id) FROM `+table+`))`)
					must(t, err)
				}
			}
			var before map[string]string
			if dialect == store.DialectSQLite {
				before = sqliteSchema(t, db.SQL())
			}

			// Up to migration 8 only: later ones change the schema on their own.
			_, err = p.UpTo(ctx, 8)
			must(t, err)

			if dialect == store.DialectSQLite {
				after := sqliteSchema(t, db.SQL())
				// The one change besides AUTOINCREMENT: the message ids.
				column := "\ncolumn message_id TEXT notnull=1 default=<nil> pk=0"
				if !strings.Contains(after["table deliveries"], column) {
					t.Errorf("deliveries has no message_id column: %s", after["table deliveries"])
				}
				after["table deliveries"] = strings.Replace(after["table deliveries"], column, "", 1)
				want := maps.Clone(before)
				want["index deliveries_message"] = "CREATE UNIQUE INDEX deliveries_message ON deliveries (message_id)"
				for _, k := range sortedKeys(want, after) {
					if want[k] != after[k] {
						t.Errorf("%s\nbefore the upgrade: %s\nafter: %s", k, want[k], after[k])
					}
				}
				var fk int
				must(t, db.SQL().QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
				if fk != 1 {
					t.Fatal("foreign keys are off after the upgrade")
				}
			}

			// The store reads with today's columns: the later migrations,
			// which change the schema on their own, come first.
			_, err = p.Up(ctx)
			must(t, err)

			tenant := herald.NewContextWithPrincipal(ctx, &herald.Principal{TenantID: 1, Permissions: []herald.Permission{herald.PermAdmin}})
			ev, err := db.FindEventByID(tenant, 1)
			must(t, err)
			if len(ev.Deliveries) != 2 || ev.Deliveries[0].MessageID != "dlv_1" || ev.Deliveries[1].MessageID != "dlv_2" {
				t.Fatalf("deliveries after the upgrade: %+v", ev.Deliveries)
			}
			src, err := db.FindSourceByID(tenant, 1)
			must(t, err)
			if src.SpaceID != "space" || src.ExternalID != "7" {
				t.Fatalf("source after the upgrade: %+v", src)
			}
			msgs, _, err := db.FindInbox(tenant, 1, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 1 || msgs[0].ID != 1 || msgs[0].EventID != 1 {
				t.Fatalf("inbox after the upgrade: %+v", msgs)
			}

			// New rows continue after the copied ones, and references hold:
			// deleting the tenant's source takes its event, deliveries and
			// inbox message with it.
			other, err := db.CreateTenant(ctx, "globex")
			must(t, err)
			if other.ID != 2 {
				t.Fatalf("new tenant id %d, want 2", other.ID)
			}
			must(t, db.DeleteSource(tenant, 1))
			if _, err := db.FindDeliveryByID(tenant, 2); herald.ErrorCode(err) != herald.ENOTFOUND {
				t.Fatalf("delivery of a deleted source: %v", err)
			}
			msgs, _, err = db.FindInbox(tenant, 1, herald.InboxFilter{}, herald.Page{})
			must(t, err)
			if len(msgs) != 0 {
				t.Fatalf("inbox messages of a deleted source remain: %+v", msgs)
			}
		})
	}
}

// sqliteSchema describes Herald's tables on SQLite: each table's columns
// and foreign keys, each index's definition and uniqueness.
func sqliteSchema(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	query := func(q string, args ...any) [][]any {
		rows, err := db.Query(q, args...)
		must(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		must(t, err)
		var all [][]any
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			all = append(all, vals)
		}
		must(t, rows.Err())
		return all
	}
	for _, r := range query(`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'river%' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite_sequence' AND tbl_name NOT LIKE 'river%'`) {
		typ, name, table, text := fmt.Sprint(r[0]), fmt.Sprint(r[1]), fmt.Sprint(r[2]), fmt.Sprint(r[3])
		switch typ {
		case "table":
			var b strings.Builder
			for _, c := range query(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY name`, name) {
				fmt.Fprintf(&b, "\ncolumn %s %s notnull=%v default=%v pk=%v", c[0], c[1], c[2], c[3], c[4])
			}
			for _, f := range query(`SELECT "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY "from"`, name) {
				fmt.Fprintf(&b, "\nforeign key %v -> %v(%v) on update %v on delete %v", f[1], f[0], f[2], f[3], f[4])
			}
			out["table "+name] = b.String()
		case "index":
			if text == "" { // a UNIQUE constraint's index
				for _, i := range query(`SELECT name, "unique", partial FROM pragma_index_list(?) WHERE name = ?`, table, name) {
					var cols []string
					for _, c := range query(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, name) {
						cols = append(cols, fmt.Sprint(c[0]))
					}
					text = fmt.Sprintf("unique=%v partial=%v on %s (%s)", i[1], i[2], table, strings.Join(cols, ", "))
				}
			}
			out["index "+name] = text
		default:
			out[typ+" "+name] = text
		}
	}
	return out
}

func sortedKeys(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// TestMigrate_IDsFailedUpgrade: when the SQLite rebuild fails half way, its
// transaction is rolled back and foreign keys are enforced again on the
// connection every write goes through; once the cause is gone the upgrade
// runs.
func TestMigrate_IDsFailedUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: storetest.NewURL(t, store.DialectSQLite), SecretKey: storetest.Key()})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectSQLite3, db.SQL(), os.DirFS("migrations/sqlite"))
	must(t, err)
	_, err = p.UpTo(ctx, 7)
	must(t, err)
	_, err = db.SQL().ExecContext(ctx, strings.Split(v7Rows, ";")[0])
	must(t, err)
	// The rebuild of users cannot create its new table.
	_, err = db.SQL().ExecContext(ctx, `CREATE TABLE new_users (id INTEGER)`)
	must(t, err)

	if err := db.Migrate(ctx); err == nil {
		t.Fatal("the upgrade succeeded over a table in its way")
	}
	var fk int
	must(t, db.SQL().QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
	if fk != 1 {
		t.Fatal("foreign keys are off after a failed upgrade")
	}
	var autoincrement int
	must(t, db.SQL().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%' AND name NOT LIKE 'goose%'`).Scan(&autoincrement))
	if autoincrement != 0 {
		t.Fatalf("%d tables were rebuilt by an upgrade that failed", autoincrement)
	}

	_, err = db.SQL().ExecContext(ctx, `DROP TABLE new_users`)
	must(t, err)
	must(t, db.Migrate(ctx))
	if _, err := db.FindTenantByName(ctx, "acme"); err != nil {
		t.Fatalf("the tenant written before the upgrade: %v", err)
	}
}
