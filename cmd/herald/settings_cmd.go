package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/heraldhq/herald/client"
)

// settingsScope is the --source or --project a settings command acts on.
type settingsScope struct {
	source, project int64
}

func (s *settingsScope) bind(fs *pflag.FlagSet) {
	fs.Int64Var(&s.source, "source", 0, "the source whose settings these are")
	fs.Int64Var(&s.project, "project", 0, "the project whose default settings these are")
}

// id returns the scope's id, checking that exactly one was given.
func (s *settingsScope) id() (int64, error) {
	switch {
	case s.source != 0 && s.project != 0:
		return 0, errors.New("give --source or --project, not both")
	case s.source != 0:
		return s.source, nil
	case s.project != 0:
		return s.project, nil
	}
	return 0, errors.New("give --source ID (a source's settings) or --project ID (the project's default)")
}

// flags maps the path's id to the flag that gave it.
func (s *settingsScope) flags() map[string]string {
	if s.source != 0 {
		return map[string]string{"id": "--source"}
	}
	return map[string]string{"id": "--project"}
}

// newSettingsCommand is `herald settings show|set|deploy|revert`.
func newSettingsCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show, edit and deploy notification settings (on a running server)",
		Long: `A source's (or a project's default) settings have a draft and a live version.
"set" writes the draft, "deploy" copies it to live, where events read it.`,
	}
	r.bindRemoteFlags(cmd.PersistentFlags())

	var (
		showScope settingsScope
		live      bool
	)
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the draft (or --live) settings as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := showScope.id()
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			s, err := readSettings(cmd, c, &showScope, id, live)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), s)
		},
	}
	showScope.bind(show.Flags())
	show.Flags().BoolVar(&live, "live", false, "the live settings rather than the draft")

	var (
		setScope settingsScope
		file     string
	)
	set := &cobra.Command{
		Use:   "set",
		Short: "Replace the draft settings with a JSON document",
		Long: `Replaces the draft with the settings document in --file (- for standard input),
shaped as "settings show" prints it (see /api/v1/docs, Settings). A document
without "revision" is checked against the draft read just before.`,
		Example: `  herald settings set --source "$SOURCE" --file - <<EOF
  {"channels": [{"notifier_id": $INBOX, "enabled": true,
    "events": [{"type": "build.failed", "enabled": true,
                "recipients": [{"type": "FIELD_ENTITY", "code": "creator"}]}]}]}
  EOF`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := setScope.id()
			if err != nil {
				return err
			}
			var raw []byte
			switch file {
			case "":
				return errors.New("give --file FILE, or --file - to read standard input")
			case "-":
				raw, err = io.ReadAll(cmd.InOrStdin())
			default:
				raw, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("--file: %w", err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("--file %s is not a JSON object: %v", file, err)
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			if _, ok := doc["revision"]; !ok {
				draft, err := readSettings(cmd, c, &setScope, id, false)
				if err != nil {
					return err
				}
				doc["revision"] = draft.Revision
			}
			raw, _ = json.Marshal(doc)
			var saved *client.Settings
			if setScope.source != 0 {
				res, err := c.PutSourceSettingsWithBodyWithResponse(cmd.Context(), id, "application/json", bytes.NewReader(raw))
				if err := answerErr(cmd, res, err, setScope.flags()); err != nil {
					return err
				}
				saved = res.JSON200
			} else {
				res, err := c.PutProjectSettingsWithBodyWithResponse(cmd.Context(), id, "application/json", bytes.NewReader(raw))
				if err := answerErr(cmd, res, err, setScope.flags()); err != nil {
					return err
				}
				saved = res.JSON200
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "draft saved: revision %s (deploy it to make it live)\n", cell(saved.Revision))
			return err
		},
	}
	setScope.bind(set.Flags())
	set.Flags().StringVar(&file, "file", "", "the settings document, JSON; - reads standard input")

	deploy := revisionCommand(&r, "deploy", "Copy the draft settings to live", false)
	revert := revisionCommand(&r, "revert", "Discard the draft: copy live back to it", true)
	cmd.AddCommand(show, set, deploy, revert)
	return cmd
}

// revisionCommand is deploy or revert: a POST with the expected revision.
func revisionCommand(r *remote, use, short string, revert bool) *cobra.Command {
	var (
		scope    settingsScope
		revision int64
	)
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := scope.id()
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			body := client.RevisionRequest{Revision: &revision}
			var out *client.Settings
			var a answer
			switch {
			case scope.source != 0 && !revert:
				res, e := c.DeploySourceSettingsWithResponse(cmd.Context(), id, body)
				a, err, out = res, e, resSettings(res, e, func() *client.Settings { return res.JSON200 })
			case scope.source != 0:
				res, e := c.RevertSourceSettingsWithResponse(cmd.Context(), id, body)
				a, err, out = res, e, resSettings(res, e, func() *client.Settings { return res.JSON200 })
			case !revert:
				res, e := c.DeployProjectSettingsWithResponse(cmd.Context(), id, body)
				a, err, out = res, e, resSettings(res, e, func() *client.Settings { return res.JSON200 })
			default:
				res, e := c.RevertProjectSettingsWithResponse(cmd.Context(), id, body)
				a, err, out = res, e, resSettings(res, e, func() *client.Settings { return res.JSON200 })
			}
			if err := answerErr(cmd, a, err, scope.flags()); err != nil {
				return err
			}
			what := "deployed: live is revision"
			if revert {
				what = "draft discarded: it is live's revision"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", what, cell(out.Revision))
			return err
		},
	}
	scope.bind(cmd.Flags())
	cmd.Flags().Int64Var(&revision, "revision", -1, "the draft revision you expect (settings show prints it); -1 skips the check")
	return cmd
}

// resSettings returns the settings of a successful answer.
func resSettings(a answer, err error, get func() *client.Settings) *client.Settings {
	if err != nil || a.StatusCode() != 200 {
		return nil
	}
	return get()
}

// readSettings reads the draft or live settings of the scope.
func readSettings(cmd *cobra.Command, c *client.ClientWithResponses, scope *settingsScope, id int64, live bool) (*client.Settings, error) {
	version := "draft"
	if live {
		version = "live"
	}
	if scope.source != 0 {
		v := client.GetSourceSettingsParamsVersion(version)
		res, err := c.GetSourceSettingsWithResponse(cmd.Context(), id, &client.GetSourceSettingsParams{Version: &v})
		if err := answerErr(cmd, res, err, scope.flags()); err != nil {
			return nil, err
		}
		return res.JSON200, nil
	}
	v := client.GetProjectSettingsParamsVersion(version)
	res, err := c.GetProjectSettingsWithResponse(cmd.Context(), id, &client.GetProjectSettingsParams{Version: &v})
	if err := answerErr(cmd, res, err, scope.flags()); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}
