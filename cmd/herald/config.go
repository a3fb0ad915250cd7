package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/logging"
	"github.com/heraldhq/herald/store"
	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/pflag"
)

// Config is what every subcommand needs to reach the database and serve.
// Each field is a setting: a flag, an environment variable and a key of the
// config file by the one rule in settings.go, documented in
// docs/CONFIGURATION.md.
type Config struct {
	DataDir     string // --data: the SQLite file, the secret key, the admin token
	DatabaseURL string // --database-url; empty: SQLite in DataDir
	LogLevel    string // --log-level
	LogFormat   string // --log-format: text or json
	// SecretKey seals notifier secrets: 32 bytes as hex or base64; empty:
	// secret.key in DataDir, generated on first use.
	SecretKey string // --secret-key

	Addr string // --addr (serve only)
	// PublicURL is the URL people reach Herald at (serve only): https://…
	// makes the console's session cookie Secure.
	PublicURL string // --public-url
	// TrustedProxies lists, comma-separated, the CIDRs or addresses of the
	// proxies whose X-Forwarded-Proto is believed (serve only).
	TrustedProxies string // --trusted-proxies
	// AllowPrivateTargets lets webhooks and robots reach loopback and
	// private addresses (serve only).
	AllowPrivateTargets bool // --allow-private-targets
	// OTPDefaultRegion is the region a mobile number without its country
	// code is read in (serve only).
	OTPDefaultRegion string // --otp-default-region
	// OTelEndpoint is the OTLP/HTTP collector spans go to (serve only);
	// empty: no tracing.
	OTelEndpoint string // --otel-endpoint

	// riverMiddleware wraps every River client openStore's database makes
	// (the tracing's, set by serve).
	riverMiddleware []rivertype.Middleware
}

// bindDatabaseFlags adds the settings that say where the data is.
func (c *Config) bindDatabaseFlags(fs *pflag.FlagSet) {
	bindSettings(fs, func(fs *pflag.FlagSet) {
		fs.StringVar(&c.DataDir, "data", "herald-data", "data directory: the SQLite database, the secret key, the admin token")
		fs.StringVar(&c.DatabaseURL, "database-url", "", "postgres://… to use PostgreSQL instead of SQLite")
		fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
		fs.StringVar(&c.LogFormat, "log-format", "text", "text or json lines")
		fs.StringVar(&c.SecretKey, "secret-key", "", "32-byte key sealing notifier secrets, as 64 hex digits or base64 (default: secret.key in the data directory); prefer the environment or the config file, a command line is visible to other users")
	})
}

// bindAddrFlag adds the address the server listens on, which the
// healthcheck command asks too.
func (c *Config) bindAddrFlag(fs *pflag.FlagSet) {
	bindSettings(fs, func(fs *pflag.FlagSet) {
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	})
}

// bindServeFlags adds the settings only the server reads.
func (c *Config) bindServeFlags(fs *pflag.FlagSet) {
	c.bindAddrFlag(fs)
	bindSettings(fs, func(fs *pflag.FlagSet) {
		fs.StringVar(&c.PublicURL, "public-url", "", "URL people reach Herald at; https://… makes console cookies Secure")
		fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-Proto is believed")
		fs.BoolVar(&c.AllowPrivateTargets, "allow-private-targets", false, "let webhooks and robots reach loopback and private addresses")
		fs.StringVar(&c.OTPDefaultRegion, "otp-default-region", herald.DefaultOTPRegion, "region (ISO 3166 code) a one-time code's mobile number without country code is read in")
	})
}

// bindTracingFlags adds the flag that turns tracing on.
func (c *Config) bindTracingFlags(fs *pflag.FlagSet) {
	bindSettings(fs, func(fs *pflag.FlagSet) {
		fs.StringVar(&c.OTelEndpoint, "otel-endpoint", "", "OTLP/HTTP collector URL (http://collector:4318) to send traces to; empty: no tracing")
	})
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

// logger is the server's logger: --log-format lines at --log-level, each
// with the request id of its context.
func (c *Config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if c.LogFormat != "" && c.LogFormat != logging.FormatText && c.LogFormat != logging.FormatJSON {
		return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	return logging.New(w, c.LogFormat, c.LogLevel)
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
// the secret-key setting (64 hex digits or base64), else from secret.key in the
// data dir, generated on first use with mode 0600.
func (c *Config) secretKey() ([]byte, error) {
	if v := c.SecretKey; v != "" {
		if k, err := hex.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		return nil, errors.New("--secret-key (HERALD_SECRET_KEY) must be 32 bytes as 64 hex digits or base64")
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
// the secret-key setting is empty) is readable by group or others, with its
// mode.
func (c *Config) keyFileExposed() (fs.FileMode, bool) {
	if c.SecretKey != "" {
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
	db, err := store.Open(ctx, store.Config{URL: url, SecretKey: key, Logger: logger, RiverMiddleware: c.riverMiddleware})
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
