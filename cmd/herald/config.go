package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/store"
	"github.com/spf13/pflag"
)

// Config is what every subcommand needs to reach the database. Flags win
// over the environment, which wins over the defaults.
type Config struct {
	DataDir     string // --data, HERALD_DATA_DIR
	DatabaseURL string // --database-url, HERALD_DATABASE_URL; empty: SQLite in DataDir
	Addr        string // --addr, HERALD_ADDR (serve only)
	LogLevel    string // --log-level, HERALD_LOG_LEVEL
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// bindDatabaseFlags adds the flags that say where the data is.
func (c *Config) bindDatabaseFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", envOr("HERALD_DATA_DIR", "herald-data"), "data directory: the SQLite database, the secret key, the admin token (env HERALD_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", os.Getenv("HERALD_DATABASE_URL"), "postgres://… to use PostgreSQL instead of SQLite (env HERALD_DATABASE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("HERALD_LOG_LEVEL", "info"), "debug, info, warn or error (env HERALD_LOG_LEVEL)")
}

func (c *Config) logger(w *os.File) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// databaseURL is the PostgreSQL URL, or the SQLite file in the data dir.
func (c *Config) databaseURL() (string, error) {
	if c.DatabaseURL != "" {
		if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
			return "", errors.New("--database-url must start with postgres:// (leave it empty for SQLite)")
		}
		return c.DatabaseURL, nil
	}
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "herald.db"))
	if err != nil {
		return "", err
	}
	return "sqlite://" + abs, nil
}

// secretKey returns the 32-byte key notifier secrets are sealed with: from
// HERALD_SECRET_KEY (64 hex digits or base64), else from secret.key in the
// data dir, generated on first use with mode 0600.
func (c *Config) secretKey() ([]byte, error) {
	if v := os.Getenv("HERALD_SECRET_KEY"); v != "" {
		if k, err := hex.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		return nil, errors.New("HERALD_SECRET_KEY must be 32 bytes as 64 hex digits or base64")
	}
	path := filepath.Join(c.DataDir, "secret.key")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s does not hold a 32-byte hex key", path)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, f.Sync()
}

// keyFileExposed reports whether the data dir's secret.key (in use when
// HERALD_SECRET_KEY is unset) is readable by group or others, with its mode.
func (c *Config) keyFileExposed() (fs.FileMode, bool) {
	if os.Getenv("HERALD_SECRET_KEY") != "" {
		return 0, false
	}
	fi, err := os.Stat(filepath.Join(c.DataDir, "secret.key"))
	if err != nil {
		return 0, false
	}
	return fi.Mode().Perm(), fi.Mode().Perm()&0o077 != 0
}

// openStore opens the database and, with migrate, applies pending migrations.
func (c *Config) openStore(ctx context.Context, logger *slog.Logger, migrate bool) (*store.DB, error) {
	url, err := c.databaseURL()
	if err != nil {
		return nil, err
	}
	key, err := c.secretKey()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{URL: url, SecretKey: key, Logger: logger})
	if err != nil {
		return nil, err
	}
	if !migrate {
		return db, nil
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
