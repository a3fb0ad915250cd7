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
	"net/netip"
	"net/url"
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
	// PublicURL is the URL people reach Herald at (serve only): https://…
	// makes the console's session cookie Secure.
	PublicURL string // --public-url, HERALD_PUBLIC_URL
	// TrustedProxies lists, comma-separated, the CIDRs or addresses of the
	// proxies whose X-Forwarded-Proto is believed (serve only).
	TrustedProxies string // --trusted-proxies, HERALD_TRUSTED_PROXIES
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

// bindProxyFlags adds the flags that say how people reach the server.
func (c *Config) bindProxyFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.PublicURL, "public-url", os.Getenv("HERALD_PUBLIC_URL"), "URL people reach Herald at; https://… makes console cookies Secure (env HERALD_PUBLIC_URL)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", os.Getenv("HERALD_TRUSTED_PROXIES"), "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-Proto is believed (env HERALD_TRUSTED_PROXIES)")
}

// publicURL returns PublicURL checked: empty, or an absolute http(s) URL.
func (c *Config) publicURL() (string, error) {
	if c.PublicURL == "" {
		return "", nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--public-url %q must be an absolute http:// or https:// URL", c.PublicURL)
	}
	return c.PublicURL, nil
}

// trustedProxies parses TrustedProxies: CIDRs, or addresses standing for
// themselves alone.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
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

// requireDatabase fails, creating nothing, when the SQLite database of the
// data dir does not exist (with PostgreSQL there is nothing to check here).
func (c *Config) requireDatabase() error {
	if c.DatabaseURL != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, "herald.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(c.DataDir)
		return fmt.Errorf("Herald database not found in %s: run the command where herald serve runs, or give its data dir with --data (env HERALD_DATA_DIR)", abs)
	} else if err != nil {
		return err
	}
	return nil
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
