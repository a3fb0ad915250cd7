package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/spf13/cobra"
)

func newEventCommand() *cobra.Command {
	var (
		c      Config
		tenant string
	)
	cmd := &cobra.Command{Use: "event", Short: "Post and inspect events"}
	c.bindDatabaseFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant the events belong to")

	var (
		sourceID   int64
		kind, ext  string
		typ, actor string
		roles      []string
		payload    string
		key        string
	)
	post := &cobra.Command{
		Use:   "post",
		Short: "Post an event; a running herald serve delivers it",
		Long: `Stores an event and its fan-out job in one transaction, as POST /api/v1/events
does; any herald serve on the same database then delivers it. Name the source
by --source-id, or by --kind and --external-id.`,
		Example: `  herald event post --kind build_job --external-id 0123456789abcdef0123456789abcdef \
    --type build.failed --actor alice --role creator=alice --role followers=bob,carol \
    --payload '{"branch": "main"}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ev := &herald.Event{SourceID: sourceID, Type: typ, Actor: actor, IdempotencyKey: key, Roles: map[string][]string{}}
			for _, r := range roles {
				name, codes, ok := strings.Cut(r, "=")
				if !ok || name == "" || codes == "" {
					return fmt.Errorf("--role %q: want name=code[,code…]", r)
				}
				ev.Roles[name] = append(ev.Roles[name], strings.Split(codes, ",")...)
			}
			if payload != "" {
				if !json.Valid([]byte(payload)) {
					return errors.New("--payload is not valid JSON")
				}
				ev.Payload = json.RawMessage(payload)
			}
			return c.withTenant(cmd, tenant, func(ctx context.Context, db *store.DB) error {
				if kind != "" || ext != "" {
					if sourceID != 0 {
						return errors.New("give --source-id or --kind with --external-id, not both")
					}
					src, err := db.FindSourceByExternalID(ctx, kind, ext)
					if err != nil {
						return errors.New(herald.ErrorMessage(err))
					}
					ev.SourceID = src.ID
				}
				if err := db.CreateEvents(ctx, []*herald.Event{ev}); err != nil {
					if f := herald.ErrorField(err); f != "" {
						return fmt.Errorf("%s: %s", f, herald.ErrorMessage(err))
					}
					return errors.New(herald.ErrorMessage(err))
				}
				note := ""
				if ev.Duplicate {
					note = " (the idempotency key was used before: this is the first event)"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "event %d accepted%s\n", ev.ID, note)
				return nil
			})
		},
	}
	f := post.Flags()
	f.Int64Var(&sourceID, "source-id", 0, "the source's id")
	f.StringVar(&kind, "kind", "", "the source's kind (build_job, application, app, generic)")
	f.StringVar(&ext, "external-id", "", "the source's external id")
	f.StringVar(&typ, "type", "", "event type, e.g. build.failed (required)")
	f.StringVar(&actor, "actor", "", "user code of who caused it")
	f.StringArrayVar(&roles, "role", nil, "role=code[,code…], repeatable (creator, executor, followers, commenters, any field)")
	f.StringVar(&payload, "payload", "", "a JSON object")
	f.StringVar(&key, "idempotency-key", "", "the same key twice posts one event")
	_ = post.MarkFlagRequired("type")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an event and every delivery it caused, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil || id <= 0 {
				return fmt.Errorf("event id %q is not a positive integer", args[0])
			}
			return c.withTenant(cmd, tenant, func(ctx context.Context, db *store.DB) error {
				ev, err := db.FindEventByID(ctx, id)
				if err != nil {
					return errors.New(herald.ErrorMessage(err))
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(ev)
			})
		},
	}
	cmd.AddCommand(post, show)
	return cmd
}
