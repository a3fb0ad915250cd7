package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/client"
)

// newProjectCommand is `herald project create|list|show|delete`.
func newProjectCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{Use: "project", Short: "Create, list and delete projects (on a running server)"}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var name, description string
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a project; prints its id",
		Example: `  PROJECT=$(herald project create --name payments)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.CreateProjectWithResponse(cmd.Context(), client.Project{Name: name, Description: ptr(description)})
			if err := answerErr(cmd, res, err, nil); err != nil {
				return err
			}
			return created(cmd, res.JSON201.Id, "project %d %q created", name)
		},
	}
	create.Flags().StringVar(&name, "name", "", "project name (required)")
	create.Flags().StringVar(&description, "description", "", "what the project is")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			w := table(cmd, "ID", "NAME", "DESCRIPTION")
			if err := pages(func(cursor *string) (string, error) {
				res, err := c.ListProjectsWithResponse(cmd.Context(), &client.ListProjectsParams{Cursor: cursor})
				if err := answerErr(cmd, res, err, nil); err != nil {
					return "", err
				}
				for _, p := range res.JSON200.Items {
					row(w, p.Id, p.Name, p.Description)
				}
				return deref(res.JSON200.NextCursor), nil
			}); err != nil {
				return err
			}
			return w.Flush()
		},
	}

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a project as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := idArg("project", args[0])
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.GetProjectWithResponse(cmd.Context(), id)
			if err := answerErr(cmd, res, err, nil); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), res.JSON200)
		},
	}

	var force bool
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a project with its sources, notifiers and settings",
		Long: `Deletes a project with its sources, notifiers and settings. A project whose
sources have events needs --force: their events and deliveries go too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := idArg("project", args[0])
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.DeleteProjectWithResponse(cmd.Context(), id, &client.DeleteProjectParams{Force: ptr(force)})
			if err := answerErr(cmd, res, err, nil); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "project %d deleted\n", id)
			return err
		},
	}
	del.Flags().BoolVar(&force, "force", false, "delete the project's events and deliveries too")

	cmd.AddCommand(create, list, show, del)
	return cmd
}

// newSourceCommand is `herald source create|list`.
func newSourceCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{Use: "source", Short: "Create and list a project's sources (on a running server)"}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var (
		project         int64
		kind, ext, name string
	)
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a source (a build job, an application, an app…); prints its id",
		Example: `  SOURCE=$(herald source create --project "$PROJECT" --kind build_job --external-id 0123456789abcdef0123456789abcdef --name nightly)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.CreateSourceWithResponse(cmd.Context(), project, client.Source{Kind: client.SourceKind(kind), ExternalId: ext, Name: name})
			if err := answerErr(cmd, res, err, map[string]string{"id": "--project"}); err != nil {
				return err
			}
			return created(cmd, res.JSON201.Id, "source %d %q created", name)
		},
	}
	f := create.Flags()
	f.Int64Var(&project, "project", 0, "the project's id (required)")
	f.StringVar(&kind, "kind", "", "build_job, application, app or generic (required)")
	f.StringVar(&ext, "external-id", "", "the id the emitter knows it by: 32 letters and digits for build_job and application (required)")
	f.StringVar(&name, "name", "", "display name (required)")
	for _, n := range []string{"project", "kind", "external-id", "name"} {
		_ = create.MarkFlagRequired(n)
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List a project's sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			w := table(cmd, "ID", "KIND", "EXTERNAL ID", "NAME")
			if err := pages(func(cursor *string) (string, error) {
				res, err := c.ListSourcesWithResponse(cmd.Context(), project, &client.ListSourcesParams{Cursor: cursor})
				if err := answerErr(cmd, res, err, map[string]string{"id": "--project"}); err != nil {
					return "", err
				}
				for _, s := range res.JSON200.Items {
					row(w, s.Id, string(s.Kind), s.ExternalId, s.Name)
				}
				return deref(res.JSON200.NextCursor), nil
			}); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	list.Flags().Int64Var(&project, "project", 0, "the project's id (required)")
	_ = list.MarkFlagRequired("project")

	cmd.AddCommand(create, list)
	return cmd
}

// newNotifierCommand is `herald notifier create|list`.
func newNotifierCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{Use: "notifier", Short: "Create and list a project's notifiers (on a running server)"}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var (
		project                int64
		typ, name, url, secret string
		config                 string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a notifier (email, sms, dingtalk, lark, wecom, webhook, inbox); prints its id",
		Example: `  herald notifier create --project "$PROJECT" --type inbox --name inbox
  herald notifier create --project "$PROJECT" --type webhook --name ops --url https://hooks.example.com/herald
  herald notifier create --project "$PROJECT" --type email --name mail --config '{"host": "smtp.example.com", "port": 587, "from": "herald@example.com"}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := client.Notifier{Type: client.NotifierType(typ), Name: name, Secret: ptr(secret)}
			if config != "" {
				n.Config = &client.NotifierConfig{}
				if err := json.Unmarshal([]byte(config), n.Config); err != nil {
					return fmt.Errorf("--config: %v", err)
				}
			}
			if url != "" {
				if n.Config == nil {
					n.Config = &client.NotifierConfig{}
				}
				n.Config.Url = &url
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.CreateNotifierWithResponse(cmd.Context(), project, n)
			if err := answerErr(cmd, res, err, map[string]string{"id": "--project"}); err != nil {
				return err
			}
			return created(cmd, res.JSON201.Id, "notifier %d %q created", name)
		},
	}
	f := create.Flags()
	f.Int64Var(&project, "project", 0, "the project's id (required)")
	f.StringVar(&typ, "type", "", "email, sms, dingtalk, lark, wecom, webhook or inbox (required)")
	f.StringVar(&name, "name", "", "display name (required)")
	f.StringVar(&url, "url", "", "the endpoint of a webhook, sms gateway or robot")
	f.StringVar(&secret, "secret", "", "a webhook's whsec_ signing secret, an SMTP password, a robot's signing secret")
	f.StringVar(&config, "config", "", "the rest of the configuration as a JSON object (see /api/v1/docs, NotifierConfig)")
	for _, n := range []string{"project", "type", "name"} {
		_ = create.MarkFlagRequired(n)
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List a project's notifiers (secrets masked)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			w := table(cmd, "ID", "TYPE", "NAME", "URL")
			if err := pages(func(cursor *string) (string, error) {
				res, err := c.ListNotifiersWithResponse(cmd.Context(), project, &client.ListNotifiersParams{Cursor: cursor})
				if err := answerErr(cmd, res, err, map[string]string{"id": "--project"}); err != nil {
					return "", err
				}
				for _, n := range res.JSON200.Items {
					var url *string
					if n.Config != nil {
						url = n.Config.Url
					}
					row(w, n.Id, string(n.Type), n.Name, url)
				}
				return deref(res.JSON200.NextCursor), nil
			}); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	list.Flags().Int64Var(&project, "project", 0, "the project's id (required)")
	_ = list.MarkFlagRequired("project")

	cmd.AddCommand(create, list)
	return cmd
}

// newUserCommand is `herald user create|list`.
func newUserCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{Use: "user", Short: "Create and list the directory's users (on a running server)"}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var code, name, email, mobile, locale string
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a user; prints its id",
		Example: `  herald user create --code alice --name Alice --email alice@example.com`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			u := client.User{Code: code, Name: name, Email: ptr(email), Mobile: ptr(mobile)}
			if locale != "" {
				l := client.UserLocale(locale)
				u.Locale = &l
			}
			res, err := c.CreateUserWithResponse(cmd.Context(), u)
			if err := answerErr(cmd, res, err, nil); err != nil {
				return err
			}
			return created(cmd, res.JSON201.Id, "user %d %q created", code)
		},
	}
	f := create.Flags()
	f.StringVar(&code, "code", "", "the code events and settings name the user by (required)")
	f.StringVar(&name, "name", "", "display name (required)")
	f.StringVar(&email, "email", "", "email address")
	f.StringVar(&mobile, "mobile", "", "mobile number")
	f.StringVar(&locale, "locale", "", "en or zh")
	_ = create.MarkFlagRequired("code")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			w := table(cmd, "ID", "CODE", "NAME", "EMAIL", "MOBILE")
			if err := pages(func(cursor *string) (string, error) {
				res, err := c.ListUsersWithResponse(cmd.Context(), &client.ListUsersParams{Cursor: cursor})
				if err := answerErr(cmd, res, err, nil); err != nil {
					return "", err
				}
				for _, u := range res.JSON200.Items {
					row(w, u.Id, u.Code, u.Name, u.Email, u.Mobile)
				}
				return deref(res.JSON200.NextCursor), nil
			}); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}
