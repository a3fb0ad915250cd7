package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

func openCaching(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // one connection: every statement meets the same cache
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		if _, err := db.Exec(`INSERT INTO t (n) VALUES (?)`, i*10); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func idsAbove(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}, n int) []int64 {
	t.Helper()
	rows, err := q.Query(`SELECT id FROM t WHERE n > ? ORDER BY id`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A statement kept prepared is not shared while its rows are open: the
// same text run again meanwhile (in a transaction, on the one connection)
// gets a statement of its own, and both answer in full.
func TestStmtCache_SameTextWhileRowsOpen(t *testing.T) {
	db := openCaching(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.Query(`SELECT id FROM t WHERE n > ? ORDER BY id`, 70)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for outer.Next() {
		var id int64
		if err := outer.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
		if inner := idsAbove(t, tx, 50); !slices.Equal(inner, []int64{6, 7, 8, 9, 10}) {
			t.Fatalf("the same query while the first's rows are open: %v", inner)
		}
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{8, 9, 10}) {
		t.Fatalf("the first query's rows: %v, want [8 9 10]", got)
	}
	// Both statements given back: the text runs again.
	if again := idsAbove(t, tx, 90); !slices.Equal(again, []int64{10}) {
		t.Fatalf("afterwards: %v", again)
	}
}

// More texts than a connection keeps: the oldest are finalized, every
// query still answers; a statement kept across a schema change answers
// for the new schema.
func TestStmtCache_EvictionAndSchemaChange(t *testing.T) {
	db := openCaching(t)
	for i := range stmtsPerConn + 50 {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT n + %d FROM t WHERE id = ?`, i), 1).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 10+i {
			t.Fatalf("query %d: %d", i, n)
		}
	}
	if got := idsAbove(t, db, 85); !slices.Equal(got, []int64{9, 10}) {
		t.Fatalf("before: %v", got)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN extra INTEGER NOT NULL DEFAULT 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE t SET n = n + 1000 WHERE id = ?`, 1); err != nil {
		t.Fatal(err)
	}
	if got := idsAbove(t, db, 85); !slices.Equal(got, []int64{1, 9, 10}) {
		t.Fatalf("after the schema changed: %v", got)
	}
}
