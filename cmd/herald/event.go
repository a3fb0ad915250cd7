package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/store"
	"github.com/spf13/cobra"
)

func newEventCommand() *cobra.Command {
	var (
		c      Config
		r      remote
		tenant string
	)
	cmd := &cobra.Command{
		Use:   "event",
		Short: "Post and inspect events",
		Long: `With --server (or HERALD_URL) the commands go to that server's API with
--token (or HERALD_TOKEN); without, straight to the database in --data.`,
	}
	c.bindDatabaseFlags(cmd.PersistentFlags())
	r.bindRemoteFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant the events belong to (without --server)")
	// isRemote says whether the command goes to a server's API.
	isRemote := func(cmd *cobra.Command) bool {
		return r.server != "" // a flag, HERALD_URL or the config file
	}

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
		Long: `Posts an event: to the server's POST /api/v1/events with --server (or
HERALD_URL), else straight into the database in --data, where any herald serve
on the same database delivers it. Either way the event and its fan-out job are
stored in one transaction. Name the source by --source-id, or by --kind and
--external-id.`,
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
			if (kind != "" || ext != "") && sourceID != 0 {
				return errors.New("give --source-id or --kind with --external-id, not both")
			}
			if isRemote(cmd) {
				return postRemote(cmd, &r, ev, kind, ext)
			}
			return c.withTenant(cmd, tenant, func(ctx context.Context, db *store.DB) error {
				if kind != "" || ext != "" {
					src, err := db.FindSourceByExternalID(ctx, kind, ext)
					if err != nil {
						return errors.New(herald.ErrorMessage(err))
					}
					ev.SourceID = src.ID
				}
				if err := db.CreateEvents(ctx, []*herald.Event{ev}); err != nil {
					msg := renameMembers(cmd, herald.ErrorMessage(err), eventFlags)
					if f := flagOf(cmd, herald.ErrorField(err), eventFlags); f != "" && !strings.Contains(msg, f) {
						return fmt.Errorf("%s: %s", f, msg)
					}
					return errors.New(msg)
				}
				return accepted(cmd, ev.ID, ev.Duplicate)
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

	var wait time.Duration
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show an event and every delivery it caused, as JSON",
		Long: `Shows an event and every delivery it caused, as JSON. With --wait, first waits
(up to that long) until none of its deliveries is pending or sending.`,
		Example: `  herald event show 1 --wait 30s`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil || id <= 0 {
				return fmt.Errorf("event id %q is not a positive integer", args[0])
			}
			if isRemote(cmd) {
				return showRemote(cmd, &r, id, wait)
			}
			return c.withTenant(cmd, tenant, func(ctx context.Context, db *store.DB) error {
				var ev *herald.Event
				err := settle(ctx, wait, func() (bool, error) {
					var err error
					if ev, err = db.FindEventByID(ctx, id); err != nil {
						return false, errors.New(herald.ErrorMessage(err))
					}
					return settled(ev), nil
				})
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), ev)
			})
		},
	}
	show.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for its deliveries to settle (delivered, failed, dead or skipped)")
	cmd.AddCommand(post, show)
	return cmd
}

// eventFlags names the flags of event post where they differ from the
// API's members.
var eventFlags = map[string]string{"source": "--kind and --external-id", "source.kind": "--kind", "source.external_id": "--external-id", "roles": "--role"}

// accepted reports a posted event.
func accepted(cmd *cobra.Command, id int64, duplicate bool) error {
	note := ""
	if duplicate {
		note = " (the idempotency key was used before: this is the first event)"
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "event %d accepted%s\n", id, note)
	return err
}

// postRemote posts ev to the server's API.
func postRemote(cmd *cobra.Command, r *remote, ev *herald.Event, kind, ext string) error {
	in := client.EventInput{Type: ev.Type, Actor: ptr(ev.Actor), IdempotencyKey: ptr(ev.IdempotencyKey), SourceId: ptr(ev.SourceID)}
	if kind != "" || ext != "" {
		in.Source = &struct {
			ExternalId *string `json:"external_id,omitempty"`
			Kind       *string `json:"kind,omitempty"`
		}{ExternalId: ptr(ext), Kind: ptr(kind)}
	}
	if len(ev.Roles) > 0 {
		in.Roles = &ev.Roles
	}
	if len(ev.Payload) > 0 {
		var p map[string]any
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return errors.New("--payload is not a JSON object")
		}
		in.Payload = &p
	}
	// The body is one event (the document's oneOf also allows a batch).
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	res, err := c.CreateEventsWithBodyWithResponse(cmd.Context(), nil, "application/json", bytes.NewReader(raw))
	if err := answerErr(cmd, res, err, eventFlags); err != nil {
		return err
	}
	one, err := res.JSON202.AsEvent()
	if err != nil {
		return err
	}
	return accepted(cmd, one.Id, one.Duplicate != nil && *one.Duplicate)
}

// showRemote prints an event from the server's API.
func showRemote(cmd *cobra.Command, r *remote, id int64, wait time.Duration) error {
	c, err := r.client()
	if err != nil {
		return err
	}
	var ev *client.Event
	err = settle(cmd.Context(), wait, func() (bool, error) {
		res, err := c.GetEventWithResponse(cmd.Context(), id)
		if err := answerErr(cmd, res, err, nil); err != nil {
			return false, err
		}
		ev = res.JSON200
		if ev.Deliveries == nil || len(*ev.Deliveries) == 0 {
			return false, nil // not fanned out yet
		}
		for _, d := range *ev.Deliveries {
			if s := derefAny(d.Status); s == client.DeliveryStatusPending || s == client.DeliveryStatusSending {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), ev)
}

// settled says whether none of ev's deliveries waits to be sent; an event
// not fanned out yet has none, so it is settled once it has some.
func settled(ev *herald.Event) bool {
	if len(ev.Deliveries) == 0 {
		return false
	}
	for _, d := range ev.Deliveries {
		if d.Status == herald.StatusPending || d.Status == herald.StatusSending {
			return false
		}
	}
	return true
}

// settle calls done every 200 ms until it reports true or wait has passed;
// a zero wait calls it once. Passing wait is not an error: the caller
// shows what there is.
func settle(ctx context.Context, wait time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := done()
		if err != nil || ok || wait <= 0 || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
