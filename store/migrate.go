package store

import (
	"context"
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
