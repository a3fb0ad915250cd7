package store

import (
	"context"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

func (db *DB) provider() (*goose.Provider, error) {
	dir, gd := "migrations/sqlite", goose.DialectSQLite3
	if db.dialect == DialectPostgres {
		dir, gd = "migrations/postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db.write, sub)
}

// Migrate applies every pending migration, then seals the credentials of
// notifier rows written before they were all sealed (resealNotifiers).
func (db *DB) Migrate(ctx context.Context) error {
	unlock, err := db.migrationLock(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer unlock()
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		db.abandonMigration(ctx)
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := db.resealNotifiers(ctx); err != nil {
		return fmt.Errorf("store: migrate: seal notifier credentials: %w", err)
	}
	return db.migrateRiver(ctx)
}

// migrationLock makes processes that migrate one database at once take
// turns for the whole Migrate (goose's migrations, the credentials'
// resealing and River's), so the second finds the work done. On
// PostgreSQL it is a session advisory lock named after the schema, held on
// a connection of its own; on SQLite an exclusive flock of a file beside
// the database (goose checks what is applied outside the transaction that
// applies it, so two processes could both run one migration).
func (db *DB) migrationLock(ctx context.Context) (unlock func(), err error) {
	if db.dialect == DialectSQLite {
		return lockFile(db.dsn + ".migrate.lock")
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const key = `hashtextextended('herald_migrate:' || current_schema(), 0)`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
		// The connection is not pooled again: closing its session
		// releases the lock even if the unlock above failed.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}, nil
}

// abandonMigration cleans up after a failed SQLite migration that runs
// outside goose's transaction with foreign keys off (00008): it rolls back
// the migration's own transaction, if one is still open, and enforces
// foreign keys again on the write connection.
func (db *DB) abandonMigration(ctx context.Context) {
	if db.dialect != DialectSQLite {
		return
	}
	ctx = context.WithoutCancel(ctx)
	_, _ = db.write.ExecContext(ctx, `ROLLBACK`) // fails when none is open
	if _, err := db.write.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
		db.logger.Error("store: cannot enforce foreign keys again after a failed migration", "err", err)
	}
}

// MigrationStatuses lists every migration and whether it is applied.
func (db *DB) MigrationStatuses(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}
