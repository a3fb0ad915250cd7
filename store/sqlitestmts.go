package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"

	"modernc.org/sqlite"
)

// SQLite's connections keep their statements prepared.
//
// modernc's driver parses every statement it is given anew: a query with
// arguments through database/sql is prepared, run and finalized each time.
// Parsing was 16 % of the CPU of a run of single-event POSTs (River's job
// completion, one UPDATE per job, was half of that) and a fifth of a
// fan-out. The store's connections therefore go through this driver, which
// wraps modernc's and keeps the statements of each connection prepared, by
// their text, for queries and execs with arguments (a script without
// arguments, such as a migration, runs as it is). database/sql uses a
// connection from one goroutine at a time; a statement whose rows are still
// open when its text comes again is not shared: the second use gets a
// statement of its own. SQLite re-prepares a statement itself when the
// schema changed under it.

// sqliteDriverName is the driver the store opens SQLite files with.
const sqliteDriverName = "herald-sqlite"

// stmtsPerConn bounds each connection's prepared statements (the least
// recently used go first); statements with IN lists of many lengths would
// otherwise grow it without end.
const stmtsPerConn = 256

func init() {
	sql.Register(sqliteDriverName, stmtCachingDriver{&sqlite.Driver{}})
}

type stmtCachingDriver struct{ inner driver.Driver }

func (d stmtCachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: c, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

// cachingConn is a modernc connection with its statements kept prepared.
type cachingConn struct {
	driver.Conn
	stmts map[string]*list.Element // of *cachedStmt, by query text
	lru   *list.List               // most recently used first
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // its rows are open
}

// The interfaces database/sql looks for on a connection, passed through.
var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close finalizes the connection's statements, then closes it.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.stmts, c.lru = nil, list.New()
	return errors.Join(append(errs, c.Conn.Close())...)
}

// statement returns the prepared statement of query, and whether it is
// the connection's own (kept) rather than one to close after use.
func (c *cachingConn) statement(ctx context.Context, query string) (*cachedStmt, bool, error) {
	if e, ok := c.stmts[query]; ok {
		cs := e.Value.(*cachedStmt)
		if !cs.busy {
			c.lru.MoveToFront(e)
			return cs, true, nil
		}
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	cs := &cachedStmt{query: query, stmt: st}
	if _, ok := c.stmts[query]; ok {
		return cs, false, nil // the kept one is busy: this one is for one use
	}
	c.stmts[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtsPerConn {
		old := c.lru.Back()
		o := old.Value.(*cachedStmt)
		if o.busy {
			break // closed when its rows close (see cachedRows.Close)
		}
		c.lru.Remove(old)
		delete(c.stmts, o.query)
		_ = o.stmt.Close()
	}
	return cs, true, nil
}

// evicted reports whether cs is no longer the connection's.
func (c *cachingConn) evicted(cs *cachedStmt) bool {
	e, ok := c.stmts[cs.query]
	return !ok || e.Value.(*cachedStmt) != cs
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	cs, kept, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if !kept {
		defer cs.stmt.Close()
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	cs, kept, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if !kept {
			cs.stmt.Close()
		}
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, c: c, cs: cs, kept: kept}, nil
}

// cachedRows gives its statement back when closed.
type cachedRows struct {
	driver.Rows
	c    *cachingConn
	cs   *cachedStmt
	kept bool
	done bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.done {
		return err
	}
	r.done = true
	r.cs.busy = false
	if !r.kept || r.c.evicted(r.cs) {
		err = errors.Join(err, r.cs.stmt.Close())
	}
	return err
}

// The column type methods of modernc's rows, passed through.
type sqliteColumnTypes interface {
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(sqliteColumnTypes).ColumnTypeDatabaseTypeName(i)
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(sqliteColumnTypes).ColumnTypeLength(i)
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	return r.Rows.(sqliteColumnTypes).ColumnTypeNullable(i)
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(sqliteColumnTypes).ColumnTypePrecisionScale(i)
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(sqliteColumnTypes).ColumnTypeScanType(i)
}
