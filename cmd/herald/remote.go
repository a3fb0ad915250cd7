package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/heraldhq/herald/client"
)

// The commands that manage what a running server holds (projects,
// sources, notifiers, users, settings, pushes) talk to it over the native
// API with the client generated from its OpenAPI document, rather than
// opening the database: they go through the same access policy, checks
// and audit as every other entry point, work against a remote server or
// PostgreSQL cluster alike, never race a running server's SQLite writer,
// and exercise the document with real code. The local commands (serve,
// migrate, token, event without --server) open the database.

// defaultServer is the address serve listens on by default.
const defaultServer = "http://127.0.0.1:8080"

// remote is where a command finds the server and how it signs in.
type remote struct {
	server string // --server, HERALD_URL
	token  string // --token, HERALD_TOKEN
}

// bindRemoteFlags adds --server and --token.
func (r *remote) bindRemoteFlags(fs *pflag.FlagSet) {
	bindSettings(fs, func(fs *pflag.FlagSet) {
		fs.StringVar(&r.server, "server", "", "the Herald server's URL (empty: "+defaultServer+")")
		fs.StringVar(&r.token, "token", "", "API token (the first admin token is in herald-data/admin.token)")
	})
}

// url is the server's URL, the default when none was given.
func (r *remote) url() string {
	if r.server == "" {
		return defaultServer
	}
	return r.server
}

// client returns a client of the server, or says how to give the token.
func (r *remote) client() (*client.ClientWithResponses, error) {
	if r.token == "" {
		return nil, errors.New("no token: pass --token or set HERALD_TOKEN (herald serve wrote the first admin token to herald-data/admin.token)")
	}
	server := r.url()
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, fmt.Errorf("--server %q must start with http:// or https://", server)
	}
	return client.New(server, r.token)
}

// answer is what every generated response has.
type answer interface {
	StatusCode() int
	GetBody() []byte
}

// answerErr turns an unsuccessful answer into an error that names the flags
// the user typed (flags maps an API member to its flag where the names
// differ; a member whose name is a flag's with - for _ is found by
// itself). err is the transport's error.
func answerErr(cmd *cobra.Command, a answer, err error, flags map[string]string) error {
	if err != nil {
		return fmt.Errorf("cannot reach the server: %w", err)
	}
	err = client.Check(a.StatusCode(), a.GetBody())
	var p *client.ProblemError
	if !errors.As(err, &p) {
		return err
	}
	detail := p.Detail
	if p.Field != nil && *p.Field != "" {
		if flag := flagOf(cmd, *p.Field, flags); flag != "" {
			msg := renameMembers(cmd, detail, flags)
			if strings.Contains(msg, flag) {
				return errors.New(msg)
			}
			return fmt.Errorf("%s: %s", flag, msg)
		}
		if !strings.Contains(detail, *p.Field) {
			// A member of a document the user wrote (settings set --file).
			return fmt.Errorf("%s: %s", *p.Field, detail)
		}
	}
	return errors.New(renameMembers(cmd, detail, flags))
}

// flagOf names the flag that carries an API member, or "".
func flagOf(cmd *cobra.Command, member string, flags map[string]string) string {
	if f, ok := flags[member]; ok {
		return f
	}
	// config.url -> --url; channels[0].type stays as it is (a file's member).
	name := member
	if i := strings.LastIndex(name, "."); i >= 0 && !strings.ContainsAny(name, "[]") {
		name = name[i+1:]
	}
	name = strings.ReplaceAll(name, "_", "-")
	if cmd.Flags().Lookup(name) != nil {
		return "--" + name
	}
	return ""
}

var (
	reMember = regexp.MustCompile(`\b[a-z][a-z0-9]*(?:[._][a-z0-9]+)+\b`)
	reQuery  = regexp.MustCompile(`\?([a-z_]+)=true\b`)
)

// renameMembers rewrites the API members a message names (and a query
// parameter it suggests, ?force=true) into the flags the user typed.
func renameMembers(cmd *cobra.Command, msg string, flags map[string]string) string {
	msg = reQuery.ReplaceAllStringFunc(msg, func(m string) string {
		if f := flagOf(cmd, reQuery.FindStringSubmatch(m)[1], flags); f != "" {
			return f
		}
		return m
	})
	return reMember.ReplaceAllStringFunc(msg, func(m string) string {
		if f := flagOf(cmd, m, flags); f != "" && (strings.Contains(m, "_") || flags[m] != "" || strings.Contains(m, ".")) {
			return f
		}
		return m
	})
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// created prints a new object's id on stdout, so that scripts can say
// ID=$(herald project create …), and a sentence for people on stderr.
func created(cmd *cobra.Command, id *int64, format string, args ...any) error {
	if id == nil {
		return errors.New("the server answered without an id")
	}
	fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", append([]any{*id}, args...)...)
	_, err := fmt.Fprintln(cmd.OutOrStdout(), *id)
	return err
}

// table starts a tab-aligned table with its header.
func table(cmd *cobra.Command, header ...string) *tabwriter.Writer {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	return w
}

// row writes one table row.
func row(w io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

func cell(c any) string {
	switch v := c.(type) {
	case nil:
		return "-"
	case *string:
		if v == nil || *v == "" {
			return "-"
		}
		return *v
	case *int64:
		if v == nil {
			return "-"
		}
		return strconv.FormatInt(*v, 10)
	case *bool:
		if v == nil {
			return "-"
		}
		return strconv.FormatBool(*v)
	case string:
		if v == "" {
			return "-"
		}
		return v
	default:
		return fmt.Sprint(v)
	}
}

// idArg parses a positional id argument.
func idArg(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s id %q is not a positive integer", what, s)
	}
	return id, nil
}

// ptr returns a pointer to v, or nil for the zero value (an unset flag).
func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// pages walks a list's pages: next fetches one page after cursor and
// returns the cursor of the next, "" at the end.
func pages(next func(cursor *string) (string, error)) error {
	var cursor *string
	for {
		c, err := next(cursor)
		if err != nil || c == "" {
			return err
		}
		cursor = &c
	}
}

// deref returns *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
