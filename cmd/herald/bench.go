package main

import (
	"fmt"
	"os"
	"path/filepath"

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
			var results []bench.Result
			if scenario == "all" || scenario == "fanout" {
				r, err := bench.FanoutInbox(ctx, db, fanoutN, progress)
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			if scenario == "all" || scenario == "webhooks" {
				r, err := bench.Webhooks(ctx, db, webhookN, progress)
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			if scenario == "all" || scenario == "api" {
				r, err := bench.APISettings(ctx, db, apiN, progress)
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			if len(results) == 0 {
				return fmt.Errorf("--scenario must be fanout, webhooks, api or all")
			}
			for _, r := range results {
				fmt.Fprintln(cmd.OutOrStdout(), r)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "postgres://… to measure PostgreSQL (default: a scratch SQLite file)")
	cmd.Flags().StringVar(&scenario, "scenario", "all", "fanout, webhooks, api or all")
	cmd.Flags().IntVar(&apiN, "requests", 20000, "GETs of the API scenario")
	cmd.Flags().IntVar(&fanoutN, "fanout-users", 10000, "recipients of the fan-out event")
	cmd.Flags().IntVar(&webhookN, "webhooks", 20000, "webhook deliveries to send")
	return cmd
}
