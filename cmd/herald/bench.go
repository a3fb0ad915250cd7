package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/store"
	"github.com/spf13/cobra"
)

func newBenchCommand() *cobra.Command {
	var (
		databaseURL string
		scenario    string
		fanoutN     int
		webhookN    int
		apiN        int
		ingestN     int
		cpuProfile  string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure fan-out and delivery throughput against a baseline run alongside",
		Long: `Runs Herald's performance scenarios on a scratch database (a fresh SQLite
file in a temporary directory, or --database-url postgres://…, where it
creates its own tenants) and prints each figure with a baseline measured in
the same run and the ratio between them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			url := databaseURL
			if url == "" {
				dir, err := os.MkdirTemp("", "herald-bench")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				url = "sqlite://" + filepath.Join(dir, "bench.db")
			}
			key := make([]byte, 32)
			db, err := store.Open(ctx, store.Config{URL: url, SecretKey: key})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				return err
			}
			progress := func(format string, args ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "… "+format+"\n", args...)
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			// The HTTP scenarios drive the handler `herald serve` runs.
			serve := func(db *store.DB) http.Handler {
				return newServer(db, nil, surfaceOptions{}, slog.New(slog.DiscardHandler)).Handler()
			}
			scenarios := []struct {
				name string
				run  func() (bench.Result, error)
			}{
				{"fanout", func() (bench.Result, error) { return bench.FanoutInbox(ctx, db, fanoutN, progress) }},
				{"webhooks", func() (bench.Result, error) { return bench.Webhooks(ctx, db, webhookN, progress) }},
				{"api", func() (bench.Result, error) { return bench.APISettings(ctx, db, serve, apiN, progress) }},
				{"ingest", func() (bench.Result, error) { return bench.Ingest(ctx, db, serve, ingestN, progress) }},
			}
			var results []bench.Result
			for _, sc := range scenarios {
				if scenario != "all" && scenario != sc.name {
					continue
				}
				resetPeakRSS()
				r, err := sc.run()
				if err != nil {
					return err
				}
				r.PeakRSS = peakRSS()
				results = append(results, r)
			}
			if len(results) == 0 {
				return fmt.Errorf("--scenario must be fanout, webhooks, api, ingest or all")
			}
			for _, r := range results {
				fmt.Fprintln(cmd.OutOrStdout(), r)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "postgres://… to measure PostgreSQL (default: a scratch SQLite file)")
	cmd.Flags().StringVar(&scenario, "scenario", "all", "fanout, webhooks, api, ingest or all")
	cmd.Flags().IntVar(&apiN, "requests", 20000, "GETs of the API scenario")
	cmd.Flags().IntVar(&ingestN, "events", 20000, "single-event POSTs of the ingest scenario")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	cmd.Flags().IntVar(&fanoutN, "fanout-users", 10000, "recipients of the fan-out event")
	cmd.Flags().IntVar(&webhookN, "webhooks", 20000, "webhook deliveries to send")
	return cmd
}

// resetPeakRSS starts a new peak-RSS measurement (Linux: writing 5 to
// /proc/self/clear_refs resets VmHWM); elsewhere it does nothing.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set since the last reset, in
// bytes (Linux's VmHWM); 0 where it cannot be read.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
