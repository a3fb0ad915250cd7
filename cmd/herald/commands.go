package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/authz"
	"github.com/heraldhq/herald/channel/senders"
	"github.com/heraldhq/herald/compat/codeartsbuild"
	"github.com/heraldhq/herald/compat/codeartsdeploy"
	"github.com/heraldhq/herald/compat/feishu"
	"github.com/heraldhq/herald/compat/kintone"
	"github.com/heraldhq/herald/compat/settings"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/embed"
	"github.com/heraldhq/herald/metrics"
	"github.com/heraldhq/herald/otp"
	"github.com/heraldhq/herald/queue"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"
)

// NewRootCommand builds the herald command tree writing to out and errOut.
func NewRootCommand(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "herald",
		Short:         "Herald: self-hosted notification settings and delivery",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Settings left off the command line come from the environment
		// and the config file (settings.go).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applySettings(cmd, os.Environ())
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	bindConfigFlag(root.PersistentFlags())
	root.AddCommand(newServeCommand(), newMigrateCommand(), newTokenCommand(), newVersionCommand(), newBenchCommand(), newEventCommand(),
		newHealthcheckCommand(), newProjectCommand(), newSourceCommand(), newNotifierCommand(), newUserCommand(), newSettingsCommand(), newPushCommand())
	return root
}

func newServeCommand() *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (SQLite in the data dir unless HERALD_DATABASE_URL is set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), &c, cmd.OutOrStdout())
		},
	}
	c.bindDatabaseFlags(cmd.Flags())
	c.bindServeFlags(cmd.Flags())
	c.bindTracingFlags(cmd.Flags())
	return cmd
}

// serve runs the server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, c *Config, out io.Writer) error {
	logger, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	publicURL, err := c.publicURL()
	if err != nil {
		return err
	}
	proxies, err := c.trustedProxies()
	if err != nil {
		return err
	}
	// Bind first: a busy port fails before anything is created or shown
	// (it once printed a "shown once" token, then exited).
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", c.Addr, err)
	}
	defer ln.Close()
	tr, err := tracing.New(ctx, tracing.Config{Endpoint: c.OTelEndpoint, Version: herald.Version})
	if err != nil {
		return fmt.Errorf("--otel-endpoint: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(flushCtx); err != nil {
			logger.Warn("flush the last traces", "err", err)
		}
	}()
	c.riverMiddleware = tr.RiverMiddleware()
	db, err := c.openStore(ctx, logger, true)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := db.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	tokenPath := filepath.Join(c.DataDir, "admin.token")
	if secret != "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(tokenPath, []byte(secret+"\n"), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", tokenPath, err)
		}
	}

	key, err := c.secretKey()
	if err != nil {
		return err
	}
	if mode, exposed := c.keyFileExposed(); exposed {
		logger.Warn("the secret key file is readable by group or others: chmod 600 it", "path", filepath.Join(c.DataDir, "secret.key"), "mode", mode.String())
	}
	// One-click unsubscribe links are signed with a key of their own,
	// derived from the secret key every node shares.
	unsubscribeKey := herald.DeriveKey(key, "unsubscribe")
	if publicURL == "" {
		logger.Info("no --public-url: emails carry no one-click unsubscribe link")
	}

	allowPrivate := c.AllowPrivateTargets
	reg, stats := newMetrics(db, logger)
	// One sender factory for the engine, OTP and the console's test-send:
	// one outbound guard, one rate limiter shared through the database.
	factory := senders.New(senders.Options{AllowPrivateTargets: allowPrivate, Limiter: db, Logger: logger})
	engine, err := queue.New(db, queue.Config{AllowPrivateTargets: allowPrivate, Senders: factory, Logger: logger, Metrics: stats, Tracer: tr.Provider,
		PublicURL: publicURL, UnsubscribeKey: unsubscribeKey})
	if err != nil {
		return err
	}
	// The engine's jobs outlive a request: they stop on their own context.
	if err := engine.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the delivery engine: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := engine.Stop(stopCtx); err != nil {
			logger.Error("stop the delivery engine", "err", err)
		}
	}()

	codes, err := otp.New(otp.Config{Store: db, Settings: db, Notifiers: db, Projects: db, Key: key,
		AllowPrivateTargets: allowPrivate, Senders: factory, DefaultRegion: c.OTPDefaultRegion, Logger: logger, Metrics: stats})
	if err != nil {
		return err
	}

	srv := newServer(db, codes, surfaceOptions{
		SessionKey: key, PublicURL: publicURL, TrustedProxies: proxies, AllowPrivateTargets: allowPrivate, Senders: factory, Registry: reg, Tracer: tr.Provider,
		UnsubscribeKey: unsubscribeKey,
	}, logger)
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	// Shutdown waits for active requests, and an inbox stream never ends by
	// itself: end the streams as shutdown begins, and let the other
	// requests finish (a base context cancelled at the signal would abort
	// them too).
	hs.RegisterOnShutdown(srv.CloseStreams)
	base := baseURL(ln.Addr(), publicURL)
	fmt.Fprintf(out, "Herald %s listening on http://%s (database: %s)\n", readVersion().Version, ln.Addr(), db.Dialect())
	fmt.Fprintf(out, "Console:       %s/console\nAPI reference: %s/api/v1/docs\n", base, base)
	if secret != "" {
		fmt.Fprintf(out, "\nCreated tenant %q with an admin token (shown once, also in %s):\n\n    %s\n\n", store.DefaultTenant, tokenPath, secret)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "Herald stopped")
	return nil
}

// baseURL is where people reach the server: the public URL when set, else
// the bound address (127.0.0.1 for an address bound on every interface).
func baseURL(addr net.Addr, publicURL string) string {
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/")
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port())
	}
	return "http://" + ap.String()
}

func newMigrateCommand() *cobra.Command {
	var c Config
	cmd := &cobra.Command{Use: "migrate", Short: "Apply or list database migrations"}
	c.bindDatabaseFlags(cmd.PersistentFlags())
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.openStore(cmd.Context(), nil, true)
			if err != nil {
				return err
			}
			defer db.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "migrations applied (%s)\n", db.Dialect())
			return nil
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.openStore(cmd.Context(), nil, false)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := db.MigrationStatuses(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tNAME\tSTATE")
			for _, s := range st {
				state := "pending"
				if s.Applied {
					state = "applied"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.Name, state)
			}
			return w.Flush()
		},
	})
	return cmd
}

func newTokenCommand() *cobra.Command {
	var (
		c      Config
		tenant string
	)
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens"}
	c.bindDatabaseFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant the tokens belong to")

	withTenant := func(cmd *cobra.Command, fn func(ctx context.Context, db *store.DB) error) error {
		return c.withTenant(cmd, tenant, fn)
	}

	var (
		name    string
		perms   []string
		project int64
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc := herald.TokenCreate{Name: name, ProjectID: project}
			for _, p := range perms {
				for _, one := range strings.Split(p, ",") {
					tc.Permissions = append(tc.Permissions, herald.Permission(strings.TrimSpace(one)))
				}
			}
			return withTenant(cmd, func(ctx context.Context, db *store.DB) error {
				t, secret, err := db.CreateToken(ctx, tc)
				if err != nil {
					return errors.New(herald.ErrorMessage(err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token %d %q created; it is shown once:\n%s\n", t.ID, t.Name, secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "token name (required)")
	create.Flags().StringSliceVar(&perms, "permission", nil, "permission, repeatable: "+permissionList())
	create.Flags().Int64Var(&project, "project", 0, "scope the token to one project id")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("permission")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, func(ctx context.Context, db *store.DB) error {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tPREFIX\tPERMISSIONS\tPROJECT\tCREATED\tSTATE")
				for cursor := ""; ; {
					items, next, err := db.FindTokens(ctx, herald.Page{Limit: herald.MaxPageLimit, Cursor: cursor})
					if err != nil {
						return err
					}
					for _, t := range items {
						state := "active"
						if t.RevokedAt != nil {
							state = "revoked"
						}
						ps := make([]string, len(t.Permissions))
						for i, p := range t.Permissions {
							ps[i] = string(p)
						}
						proj := "-"
						if t.ProjectID != 0 {
							proj = strconv.FormatInt(t.ProjectID, 10)
						}
						fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, strings.Join(ps, ","), proj, t.CreatedAt.Format(time.RFC3339), state)
					}
					if next == "" {
						break
					}
					cursor = next
				}
				return w.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("token id %q is not a positive integer", args[0])
			}
			return withTenant(cmd, func(ctx context.Context, db *store.DB) error {
				if err := db.RevokeToken(ctx, id); err != nil {
					return errors.New(herald.ErrorMessage(err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token %d revoked\n", id)
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// withTenant opens the store and runs fn acting as an admin of the
// tenant. The database must exist: these commands never create one (a
// typo in --data, or the wrong folder, would otherwise leave a new empty
// data dir behind and answer "not found").
func (c *Config) withTenant(cmd *cobra.Command, tenant string, fn func(ctx context.Context, db *store.DB) error) error {
	if err := c.requireDatabase(); err != nil {
		return err
	}
	db, err := c.openStore(cmd.Context(), nil, true)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.FindTenantByName(cmd.Context(), tenant)
	if err != nil {
		return fmt.Errorf("tenant %q not found (run herald serve once to create %q)", tenant, store.DefaultTenant)
	}
	ctx := herald.NewContextWithPrincipal(cmd.Context(), &herald.Principal{TenantID: t.ID, TokenName: "cli", Permissions: []herald.Permission{herald.PermAdmin}})
	return fn(ctx, db)
}

func permissionList() string {
	names := make([]string, 0, len(herald.PermissionCodes))
	for p := range herald.PermissionCodes {
		names = append(names, string(p))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// surfaceOptions are the settings newServer passes to the console, the
// registry /metrics serves (nil: the server's own) and the tracer of
// requests.
type surfaceOptions struct {
	SessionKey          []byte
	PublicURL           string
	TrustedProxies      []netip.Prefix
	AllowPrivateTargets bool
	Senders             *senders.Factory
	Registry            *prometheus.Registry
	Tracer              trace.TracerProvider // nil: no spans
	// UnsubscribeKey verifies one-click unsubscribe links (the engine's).
	UnsubscribeKey []byte
}

// newMetrics returns the registry /metrics serves — the Go runtime's and
// the process's series, the engine's and OTP's (recorded through stats),
// the queue's depth read from db at each scrape, and the HTTP series the
// server adds — and the set the engine and OTP record through.
func newMetrics(db *store.DB, logger *slog.Logger) (*prometheus.Registry, *metrics.Set) {
	reg := metrics.NewRegistry()
	stats := metrics.New(reg)
	reg.MustRegister(metrics.NewQueueCollector(db.QueueStats, logger))
	return reg, stats
}

// newServer wires every entry point — the native API, each vendor surface
// and the console — to the services behind the one access policy
// (authz.Guard); only the delivery engine and OTP's internals use the
// store itself. It is the one place that knows every surface.
func newServer(db *store.DB, codes herald.OTPService, o surfaceOptions, logger *slog.Logger) *api.Server {
	g := authz.Guard(authz.Services{
		Projects: db, Sources: db, Notifiers: db, Settings: db, NotificationSettings: db, RecordNotifications: db, Templates: templates.New(db), Directory: db,
		Events: db, Deliveries: db, Inbox: db, Pushes: db, PushDirectory: db, Tokens: db, OTP: codes, Log: db,
		Preferences: db, EndUserKeys: db,
	})
	return &api.Server{
		Tokens: g.Tokens, Tenants: db, Projects: g.Projects, Sources: g.Sources, Directory: g.Directory, Notifiers: g.Notifiers,
		Settings: g.Settings, Templates: g.Templates, Events: g.Events, Deliveries: g.Deliveries, Inbox: g.Inbox, OTP: g.OTP, Pushes: g.Pushes, InboxSignals: db,
		Preferences: g.Preferences, EndUserKeys: g.EndUserKeys, UnsubscribeKey: o.UnsubscribeKey,
		Origins: db, Embed: embed.Handler(),
		Ready:    db.Ping,
		Logger:   logger,
		Registry: o.Registry,
		Tracer:   o.Tracer,
		Surfaces: []api.Surface{
			&codeartsbuild.Surface{Sources: g.Sources, Notifiers: g.Notifiers, Settings: g.Settings, Logger: logger},
			&codeartsdeploy.Surface{Projects: g.Projects, Sources: g.Sources, Notifiers: g.Notifiers, Settings: g.Settings, Logger: logger},
			&feishu.Surface{Pushes: g.Pushes, Directory: g.PushDirectory, Logger: logger},
			&kintone.Surface{Sources: g.Sources, Notifiers: g.Notifiers, Settings: g.Settings, Records: g.RecordNotifications, Logger: logger},
			&settings.Surface{Projects: g.Projects, Notifiers: g.Notifiers, NotificationSettings: g.NotificationSettings, OTP: g.OTP, Logger: logger},
			&console.Console{
				Tokens: g.Tokens, Projects: g.Projects, Sources: g.Sources, Directory: g.Directory, Notifiers: g.Notifiers,
				NotifierSender: g.NotifierSender, Settings: g.Settings, Records: g.RecordNotifications,
				Events: g.Events, Deliveries: g.Deliveries, Log: g.Log, Pushes: g.Pushes, Preferences: g.Preferences, Sessions: db,
				SessionKey: o.SessionKey, PublicURL: o.PublicURL, TrustedProxies: o.TrustedProxies,
				AllowPrivateTargets: o.AllowPrivateTargets, Senders: o.Senders, Logger: logger,
			},
		},
	}
}
