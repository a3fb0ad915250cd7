package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// remoteCLI runs herald commands in process against the server at base.
type remoteCLI struct {
	t           *testing.T
	base, token string
}

func newRemoteCLI(t *testing.T) *remoteCLI {
	t.Helper()
	base, lines := serveLines(t)
	return &remoteCLI{t: t, base: base, token: reToken.FindString(strings.Join(lines, "\n"))}
}

// run runs one command with --server and --token after the others.
func (c *remoteCLI) run(args ...string) (string, error) {
	c.t.Helper()
	return run(c.t, append(args, "--server", c.base, "--token", c.token)...)
}

// id runs a create command and returns the id it printed.
func (c *remoteCLI) id(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("%v: %v\n%s", args, err, out)
	}
	id, _, _ := strings.Cut(out, "\n")
	return id
}

// newToken creates a token holding perms through the API and returns its
// secret.
func (c *remoteCLI) newToken(name string, perms ...string) string {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "permissions": perms})
	req, _ := http.NewRequest("POST", c.base+"/api/v1/tokens", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusCreated || tok.Secret == "" {
		c.t.Fatalf("create token: %d %v", res.StatusCode, err)
	}
	return tok.Secret
}

const extID = "0123456789abcdef0123456789abcdef"

// TestCLI_RemoteErrorsNameTheFlags: a refused command says which flag is
// wrong, in the words the user typed, not the API member.
func TestCLI_RemoteErrorsNameTheFlags(t *testing.T) {
	t.Parallel()
	c := newRemoteCLI(t)
	project := c.id("project", "create", "--name", "payments")
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"source", "create", "--project", project, "--kind", "build_job", "--external-id", "nope", "--name", "n"}, "--external-id", "external_id"},
		{[]string{"source", "create", "--project", "999", "--kind", "build_job", "--external-id", extID, "--name", "n"}, "project 999", "{id}"},
		{[]string{"notifier", "create", "--project", project, "--type", "webhook", "--name", "n"}, "--url", "config.url"},
		{[]string{"notifier", "create", "--project", project, "--type", "webhook", "--name", "n", "--url", "https://hooks.example.com/x", "--secret", "plain"}, "--secret: ", "config."},
		{[]string{"user", "create", "--code", "bob", "--name", "Bob", "--email", "not-an-address"}, "--email: ", "\x00"},
		{[]string{"event", "post", "--kind", "build_job", "--external-id", extID, "--type", "build.failed"}, "build_job", "source_id"},
		{[]string{"push", "create", "--name", "n", "--content", "hi", "--user-id", "999"}, "--user-id", "user_ids"},
	} {
		out, err := c.run(tc.args...)
		if err == nil {
			t.Errorf("%v succeeded:\n%s", tc.args, out)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.not) {
			t.Errorf("%v: error %q, want it to name %q and not %q", tc.args, msg, tc.want, tc.not)
		}
	}
	// Without a token, the command says where to find one.
	if out, err := run(t, "project", "list", "--server", c.base); err == nil || !strings.Contains(err.Error(), "HERALD_TOKEN") {
		t.Errorf("project list without a token: %v\n%s", err, out)
	}
}

// TestCLI_ProjectDeleteNeedsForce: deleting a project whose source has an
// event asks for --force, in the CLI's words.
func TestCLI_ProjectDeleteNeedsForce(t *testing.T) {
	t.Parallel()
	c := newRemoteCLI(t)
	project := c.id("project", "create", "--name", "payments")
	c.id("source", "create", "--project", project, "--kind", "build_job", "--external-id", extID, "--name", "nightly")
	if out, err := c.run("event", "post", "--kind", "build_job", "--external-id", extID, "--type", "build.failed"); err != nil {
		t.Fatalf("event post: %v\n%s", err, out)
	}
	out, err := c.run("project", "delete", project)
	if err == nil || !strings.Contains(err.Error(), "--force") || strings.Contains(err.Error(), "?force") {
		t.Fatalf("project delete with history: %v\n%s", err, out)
	}
	if out, err := c.run("project", "show", project); err != nil {
		t.Fatalf("the project went anyway: %v\n%s", err, out)
	}
	if out, err := c.run("project", "delete", project, "--force"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("project delete --force: %v\n%s", err, out)
	}
	if out, err := c.run("project", "list"); err != nil || strings.Contains(out, "payments") {
		t.Fatalf("project list after delete: %v\n%s", err, out)
	}
}

// TestCLI_Pushes: create, submit, approve (by a second token: the
// submitter may not), execute, list.
func TestCLI_Pushes(t *testing.T) {
	t.Parallel()
	c := newRemoteCLI(t)
	c.id("user", "create", "--code", "alice", "--name", "Alice")
	push := c.id("push", "create", "--name", "maintenance", "--content", "Deploys pause at 18:00", "--all")
	approver := &remoteCLI{t: t, base: c.base, token: c.newToken("approver", "push:approve")}
	for _, step := range []struct {
		c    *remoteCLI
		args []string
	}{{c, []string{"submit", push}}, {approver, []string{"approve", push}}, {c, []string{"execute", push}}} {
		if out, err := step.c.run(append([]string{"push"}, step.args...)...); err != nil || !strings.Contains(out, "push "+push+" is ") {
			t.Fatalf("push %v: %v\n%s", step.args, err, out)
		}
	}
	out, err := c.run("push", "list")
	if err != nil || !strings.Contains(out, "maintenance") {
		t.Fatalf("push list: %v\n%s", err, out)
	}
	out, err = c.run("push", "show", push)
	if err != nil || !strings.Contains(out, `"content": "Deploys pause at 18:00"`) {
		t.Fatalf("push show: %v\n%s", err, out)
	}
	if out, err := c.run("user", "list"); err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
}

// TestCLI_LocalCommandsCreateNoDataDir: in a folder without the data dir,
// token and event commands say so and leave nothing behind.
func TestCLI_LocalCommandsCreateNoDataDir(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "herald-data")
	for _, args := range [][]string{
		{"token", "list"},
		{"token", "create", "--name", "ci", "--permission", "admin"},
		{"event", "show", "1"},
		{"event", "post", "--source-id", "1", "--type", "build.failed"},
	} {
		out, err := run(t, append(args, "--data", data)...)
		if err == nil || !strings.Contains(err.Error(), "Herald database not found in "+data) || !strings.Contains(err.Error(), "--data") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, data)
		}
	}
}
