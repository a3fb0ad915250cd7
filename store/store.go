// Package store implements Herald's services over database/sql, one code
// path for SQLite (modernc.org/sqlite) and PostgreSQL (pgx). Queries are
// written once with ? placeholders and rebound for PostgreSQL at the edge;
// migrations are embedded per dialect and run with goose.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL is sqlite:///abs/path.db (or a bare file path) or postgres://….
	URL string
	// SecretKey is the 32-byte AES-256 key notifier secrets are sealed with.
	SecretKey []byte
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RiverMiddleware wraps the inserting and working of every job (the
	// tracing's, when it is on); see DB.RiverMiddleware.
	RiverMiddleware []rivertype.Middleware
}

// DB is Herald's database. It implements every storage-backed service of
// the root package.
type DB struct {
	// write is the pool every write goes through; on SQLite it holds one
	// connection, so writers queue instead of failing with SQLITE_BUSY.
	write *sql.DB
	// read serves queries outside a write transaction; on SQLite it is a
	// separate pool of read-only connections, on PostgreSQL the same pool.
	read    *sql.DB
	dialect string
	dsn     string
	box     *secretBox
	logger  *slog.Logger
	now     func() time.Time

	riverMiddleware []rivertype.Middleware

	jobsOnce  sync.Once
	jobClient *river.Client[*sql.Tx]
	jobErr    error

	// inbox wakes the inbox streams of this process (inbox_notify.go).
	inbox inboxHub
	// cache holds tokens, sources and settings rows (cache.go).
	cache readCache
	// ingest shares write transactions among CreateEvents calls (ingest.go).
	ingest ingester
	// wake tells this process's River workers and dispatchers of new work
	// (wake.go); river is the River driver every client over db uses, and
	// listenPool, on PostgreSQL, the pool its listener connects through.
	wake       wakeHub
	river      riverdriver.Driver[*sql.Tx]
	listenPool *pgxpool.Pool
}

// Open connects to the database; call Migrate before use.
func Open(ctx context.Context, c Config) (*DB, error) {
	db := &DB{logger: c.Logger, now: c.Now, riverMiddleware: c.RiverMiddleware}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	if db.now == nil {
		db.now = time.Now
	}
	box, err := newSecretBox(c.SecretKey)
	if err != nil {
		return nil, err
	}
	db.box = box
	switch {
	case strings.HasPrefix(c.URL, "postgres://"), strings.HasPrefix(c.URL, "postgresql://"):
		db.dialect, db.dsn = DialectPostgres, c.URL
		if db.write, err = sql.Open("pgx", c.URL); err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(20)
		db.write.SetMaxIdleConns(20)
		db.read = db.write
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(c.URL, "sqlite://"), "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("store: empty database path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db.dialect, db.dsn = DialectSQLite, path
		pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		wdsn := "file:" + url.PathEscape(path) + "?" + pragmas + "&_pragma=journal_mode(WAL)&_txlock=immediate"
		if db.write, err = sql.Open(sqliteDriverName, wdsn); err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetConnMaxIdleTime(0)
		db.write.SetConnMaxLifetime(0)
		// Create the file and switch it to WAL before readers open it.
		if err := db.write.PingContext(ctx); err != nil {
			db.write.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		if db.read, err = sql.Open(sqliteDriverName, "file:"+url.PathEscape(path)+"?mode=ro&"+pragmas); err != nil {
			db.write.Close()
			return nil, err
		}
		db.read.SetMaxOpenConns(4)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach the database: %w", err)
	}
	if db.river, err = db.riverDriver(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Now is the database's clock (Config.Now): the engine reads the time
// of quiet hours from it, so that tests move one clock.
func (db *DB) Now() time.Time { return db.now() }

// Dialect names the database behind db.
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the pool writes go through (River and tests share it).
func (db *DB) SQL() *sql.DB { return db.write }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	if db.listenPool != nil {
		db.listenPool.Close()
	}
	if db.read != nil && db.read != db.write {
		err = db.read.Close()
	}
	if db.write != nil {
		err = errors.Join(err, db.write.Close())
	}
	return err
}

// rebind turns ? placeholders into PostgreSQL's $n. Queries in this package
// never hold a literal question mark.
func (db *DB) rebind(q string) string {
	if db.dialect != DialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is what both a pool and a transaction offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction scoped to one tenant.
type Tx struct {
	tx       *sql.Tx
	db       *DB
	ctx      context.Context
	tenantID int64
	now      time.Time
	// committed run after the transaction commits (signals to wake
	// readers of what it wrote).
	committed []func()
	// touched: the transaction changes what the read cache holds.
	touched bool
	// jobsNow: the transaction enqueued jobs to run now; dueAt is the
	// earliest time it makes work due (wake.go).
	jobsNow bool
	dueAt   time.Time
}

// conn is a query surface with rebinding: a Tx, or the read pool.
type conn struct {
	q        querier
	db       *DB
	ctx      context.Context
	tenantID int64
}

func (c conn) exec(query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(c.ctx, c.db.rebind(query), args...)
}

// Statements are not prepared here: both drivers keep each connection's
// statements prepared by their text (pgx's statement cache; on SQLite,
// sqlitestmts.go).

func (c conn) query(query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(c.ctx, c.db.rebind(query), args...)
}

func (c conn) queryRow(query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(c.ctx, c.db.rebind(query), args...)
}

func (tx *Tx) conn() conn { return conn{q: tx.tx, db: tx.db, ctx: tx.ctx, tenantID: tx.tenantID} }

// reader returns a read-only query surface for ctx's tenant.
func (db *DB) reader(ctx context.Context) (conn, error) {
	tenantID, err := herald.TenantFromContext(ctx)
	if err != nil {
		return conn{}, err
	}
	return conn{q: db.read, db: db, ctx: ctx, tenantID: tenantID}, nil
}

// update runs fn in a write transaction for ctx's tenant and commits it
// when fn returns nil.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	tenantID, err := herald.TenantFromContext(ctx)
	if err != nil {
		return err
	}
	return db.updateTenant(ctx, tenantID, fn)
}

func (db *DB) updateTenant(ctx context.Context, tenantID int64, fn func(tx *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	tx := &Tx{tx: sqlTx, db: db, ctx: ctx, tenantID: tenantID, now: db.now().UTC()}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return interpretError(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return interpretError(err)
	}
	for _, f := range tx.committed {
		f()
	}
	return nil
}

// insert runs an INSERT … RETURNING id and returns the id.
func (c conn) insert(query string, args ...any) (int64, error) {
	var id int64
	err := c.queryRow(query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// interpretError turns driver errors into herald errors at the edge.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var (
		fe herald.FieldErrors
		he *herald.Error
	)
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &he):
		return he
	case errors.Is(err, sql.ErrNoRows):
		return herald.Errorf(herald.ENOTFOUND, "", "not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return err
}

// isUniqueViolation reports whether err is a unique-constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// uniqueErr turns a unique violation into a conflict about field.
func uniqueErr(err error, field, what string) error {
	if isUniqueViolation(err) {
		return herald.Errorf(herald.ECONFLICT, field, "%s already exists", what)
	}
	return err
}

func notFound(what string, id int64) error {
	return herald.Errorf(herald.ENOTFOUND, "", "%s %d not found", what, id)
}

// ms and fromMS store times as Unix milliseconds in both dialects.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// byIDs is the WHERE clause of a statement on a batch of n rows named by id
// in one tenant; its arguments are the ids, then the tenant's id. The ids
// must drive it through the primary key: during a burst the planner's
// statistics lag (they say few deliveries are pending, few events
// unfanned), and PostgreSQL then prefers an index on (tenant_id, …) or a
// partial index, whose entries for rows updated since are not yet cleaned
// up: 20–100 ms a statement where the primary key takes 1 ms. "tenant_id +
// 0" keeps the tenant check where no index can serve it (an idiom of both
// PostgreSQL's and SQLite's planners). Conditions on an indexed column that
// go with it (status, fanned_out_at) are written so that no index matches
// them either.
func byIDs(n int) string {
	return `id IN (` + placeholders(n) + `) AND tenant_id + 0 = ?`
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// page runs a keyset-paged query oldest first: q selects rows of the
// tenant and must end in a WHERE clause; page appends the cursor and limit.
func page[T any](c conn, p herald.Page, q string, args []any, scan func(*sql.Rows) (*T, int64, error)) ([]*T, string, error) {
	return keyset(c, p, q, args, false, scan)
}

// newestPage is page newest first: the cursor is the id the next page
// starts before.
func newestPage[T any](c conn, p herald.Page, q string, args []any, scan func(*sql.Rows) (*T, int64, error)) ([]*T, string, error) {
	return keyset(c, p, q, args, true, scan)
}

func keyset[T any](c conn, p herald.Page, q string, args []any, desc bool, scan func(*sql.Rows) (*T, int64, error)) ([]*T, string, error) {
	p = p.Normalize()
	from, err := p.After()
	if err != nil {
		return nil, "", err
	}
	if desc {
		args = append(args, from, from, p.Limit+1)
		q += " AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?"
	} else {
		args = append(args, from, p.Limit+1)
		q += " AND id > ? ORDER BY id LIMIT ?"
	}
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	items := make([]*T, 0, p.Limit)
	var last int64
	next := ""
	for rows.Next() {
		if len(items) == p.Limit {
			next = herald.CursorAfter(last)
			break
		}
		item, id, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, item)
		last = id
	}
	return items, next, rows.Err()
}

func itoa(i int) string { return strconv.Itoa(i) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// insertedIDs runs a multi-row INSERT … RETURNING id and returns the ids in
// the order of the VALUES rows. Neither database promises RETURNING's row
// order, but both assign identity values in row order within a statement,
// so sorting restores it.
func (c conn) insertedIDs(q string, args ...any) ([]int64, error) {
	ids, err := c.ids(q, args...)
	slices.Sort(ids)
	return ids, err
}
