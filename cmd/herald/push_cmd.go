package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/client"
)

// newPushCommand is `herald push create|list|show|submit|approve|execute|cancel`.
func newPushCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Broadcast pushes: create, submit, approve, send (on a running server)",
		Long: `A push is a text or card sent to everyone, given users and departments, or
chats. It is created as a draft, submitted, approved by another token holding
push:approve (the submitter may approve its own only where the tenant's push
policy allows self-approval: then its submission is approved at once), then
executed: sent now or at --send-at.`,
	}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var (
		name, content       string
		all                 bool
		users, depts, chats []int64
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a draft push; prints its id",
		Example: `  PUSH=$(herald push create --name maintenance --content "Deploys pause at 18:00" --all)
  herald push submit "$PUSH"
  herald push approve "$PUSH" --token "$APPROVER_TOKEN"
  herald push execute "$PUSH"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := client.PushInput{JobName: ptr(name), Content: &content}
			var scope client.PushInputPushScopeType
			switch {
			case all && (len(users) > 0 || len(depts) > 0):
				return errors.New("--all sends to everyone: leave out --user-id and --department-id")
			case all:
				scope = 0
			case len(users) > 0 || len(depts) > 0:
				scope = 2
			case len(chats) > 0:
				scope = 1
			default:
				return errors.New("say who receives it: --all, --user-id, --department-id or --chat-id")
			}
			in.PushScopeType = &scope
			if len(users) > 0 {
				in.UserIds = &users
			}
			if len(depts) > 0 {
				in.DepartmentIds = &depts
			}
			if len(chats) > 0 {
				in.ChatIds = &chats
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.CreatePushWithResponse(cmd.Context(), in)
			if err := answerErr(cmd, res, err, pushFlags); err != nil {
				return err
			}
			return created(cmd, res.JSON201.Id, "push %d %q created as a draft", name)
		},
	}
	f := create.Flags()
	f.StringVar(&name, "name", "", "the push's name, for the list (required)")
	f.StringVar(&content, "content", "", "plain text, or a Feishu/Lark card as JSON (required)")
	f.BoolVar(&all, "all", false, "send to every user")
	f.Int64SliceVar(&users, "user-id", nil, "a user's id, repeatable")
	f.Int64SliceVar(&depts, "department-id", nil, "a department's id (with its sub-departments), repeatable")
	f.Int64SliceVar(&chats, "chat-id", nil, "a chat's id, repeatable")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("content")

	list := &cobra.Command{
		Use:   "list",
		Short: "List pushes with their counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			w := table(cmd, "ID", "NAME", "STATUS", "TARGET", "SENT", "READ")
			if err := pages(func(cursor *string) (string, error) {
				res, err := c.ListPushesWithResponse(cmd.Context(), &client.ListPushesParams{Cursor: cursor})
				if err := answerErr(cmd, res, err, nil); err != nil {
					return "", err
				}
				if res.JSON200.Items == nil {
					return "", nil
				}
				for _, p := range *res.JSON200.Items {
					row(w, p.Id, p.JobName, derefAny(p.Status), derefAny(p.TargetUserCount), derefAny(p.SentUserCount), derefAny(p.ReadUserCount))
				}
				return deref(res.JSON200.NextCursor), nil
			}); err != nil {
				return err
			}
			return w.Flush()
		},
	}

	show := pushAction(&r, "show", "Print a push as JSON", func(cmd *cobra.Command, c *client.ClientWithResponses, id int64) (answer, *client.Push, error) {
		res, err := c.GetPushWithResponse(cmd.Context(), id)
		return res, pushOf(res, err, func() *client.Push { return res.JSON200 }), err
	})
	var reason string
	submit := pushAction(&r, "submit", "Submit a draft for approval (approved at once only where the push policy allows self-approval)", func(cmd *cobra.Command, c *client.ClientWithResponses, id int64) (answer, *client.Push, error) {
		res, err := c.SubmitPushWithResponse(cmd.Context(), id, client.PushReason{Reason: ptr(reason)})
		return res, pushOf(res, err, func() *client.Push { return res.JSON200 }), err
	})
	submit.Flags().StringVar(&reason, "reason", "", "why it should be sent, for the approver")
	approve := pushAction(&r, "approve", "Approve a push waiting for approval (needs push:approve; not your own submission)", func(cmd *cobra.Command, c *client.ClientWithResponses, id int64) (answer, *client.Push, error) {
		res, err := c.ApprovePushWithResponse(cmd.Context(), id)
		return res, pushOf(res, err, func() *client.Push { return res.JSON200 }), err
	})
	var sendAt string
	execute := pushAction(&r, "execute", "Send an approved push now, or at --send-at", func(cmd *cobra.Command, c *client.ClientWithResponses, id int64) (answer, *client.Push, error) {
		var body client.PushExecute
		if sendAt != "" {
			t, err := time.Parse(time.RFC3339, sendAt)
			if err != nil {
				return nil, nil, fmt.Errorf("--send-at %q: want a time like 2026-01-02T15:04:05+08:00", sendAt)
			}
			body.SendAt = &t
		}
		res, err := c.ExecutePushWithResponse(cmd.Context(), id, body)
		return res, pushOf(res, err, func() *client.Push { return res.JSON200 }), err
	})
	execute.Flags().StringVar(&sendAt, "send-at", "", "when to send it (RFC 3339); absent: now")
	var recall bool
	cancel := pushAction(&r, "cancel", "Cancel a scheduled or sending push, or --recall a sent one", func(cmd *cobra.Command, c *client.ClientWithResponses, id int64) (answer, *client.Push, error) {
		res, err := c.CancelPushWithResponse(cmd.Context(), id, client.PushCancel{Recall: ptr(recall)})
		return res, pushOf(res, err, func() *client.Push { return res.JSON200 }), err
	})
	cancel.Flags().BoolVar(&recall, "recall", false, "also remove every inbox message it delivered")

	cmd.AddCommand(create, list, show, submit, approve, execute, cancel)
	return cmd
}

// pushFlags names the flags of push create where they differ from the
// API's members.
var pushFlags = map[string]string{"job_name": "--name", "user_ids": "--user-id", "department_ids": "--department-id", "chat_ids": "--chat-id", "push_scope_type": "--all, --user-id, --department-id or --chat-id"}

// pushAction is a command on one push given by id; it prints the push
// (show) or its new status.
func pushAction(r *remote, use, short string, do func(*cobra.Command, *client.ClientWithResponses, int64) (answer, *client.Push, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := idArg("push", args[0])
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			a, p, err := do(cmd, c, id)
			if a == nil && err != nil {
				return err
			}
			if err := answerErr(cmd, a, err, pushFlags); err != nil {
				return err
			}
			if use == "show" {
				return printJSON(cmd.OutOrStdout(), p)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "push %d is %s\n", id, derefAny(p.Status))
			return err
		},
	}
}

// pushOf returns the push of a successful answer.
func pushOf(a answer, err error, get func() *client.Push) *client.Push {
	if err != nil || a.StatusCode() != 200 {
		return nil
	}
	return get()
}

// derefAny returns *p, or nil for a nil pointer (printed as -).
func derefAny[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
