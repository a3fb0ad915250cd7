package main

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parseSettings parses args as `herald serve` would and applies the
// settings from environ and the config file, without serving.
func parseSettings(t *testing.T, environ []string, args ...string) (*Config, error) {
	t.Helper()
	var c Config
	root := &cobra.Command{Use: "herald", SilenceErrors: true, SilenceUsage: true}
	bindConfigFlag(root.PersistentFlags())
	serve := &cobra.Command{Use: "serve", RunE: func(cmd *cobra.Command, _ []string) error { return applySettings(cmd, environ) }}
	c.bindDatabaseFlags(serve.Flags())
	c.bindServeFlags(serve.Flags())
	root.AddCommand(serve)
	root.SetArgs(append([]string{"serve"}, args...))
	root.SetOut(io.Discard)
	return &c, root.Execute()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSettings_Precedence: flag > environment > file > default, for TOML
// and YAML files, named by --config or HERALD_CONFIG.
func TestSettings_Precedence(t *testing.T) {
	t.Parallel()
	toml := writeFile(t, "herald.toml", `
addr = "0.0.0.0:9000"
log-level = "warn"
data = "/srv/herald"
trusted-proxies = ["10.0.0.0/8", "192.0.2.7"]
allow-private-targets = true
`)
	yaml := writeFile(t, "herald.yaml", `
addr: 0.0.0.0:9000
log-level: warn
data: /srv/herald
trusted-proxies: [10.0.0.0/8, 192.0.2.7]
allow-private-targets: true
`)
	type want struct {
		addr, level, data, proxies, region string
		private                            bool
	}
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		want    want
	}{
		{name: "Defaults", want: want{"127.0.0.1:8080", "info", "herald-data", "", "CN", false}},
		{name: "TOMLFile", args: []string{"--config", toml}, want: want{"0.0.0.0:9000", "warn", "/srv/herald", "10.0.0.0/8,192.0.2.7", "CN", true}},
		{name: "YAMLFile", args: []string{"--config", yaml}, want: want{"0.0.0.0:9000", "warn", "/srv/herald", "10.0.0.0/8,192.0.2.7", "CN", true}},
		{name: "FileFromEnvironment", environ: []string{"HERALD_CONFIG=" + yaml}, want: want{"0.0.0.0:9000", "warn", "/srv/herald", "10.0.0.0/8,192.0.2.7", "CN", true}},
		{name: "EnvironmentOverFile", args: []string{"--config", toml},
			environ: []string{"HERALD_ADDR=:7000", "HERALD_DATA_DIR=/env/data", "HERALD_ALLOW_PRIVATE_TARGETS=false", "HERALD_OTP_DEFAULT_REGION=US"},
			want:    want{":7000", "warn", "/env/data", "10.0.0.0/8,192.0.2.7", "US", false}},
		{name: "EmptyEnvironmentIsUnset", args: []string{"--config", toml}, environ: []string{"HERALD_ADDR=", "HERALD_LOG_LEVEL="},
			want: want{"0.0.0.0:9000", "warn", "/srv/herald", "10.0.0.0/8,192.0.2.7", "CN", true}},
		{name: "FlagOverEnvironment", args: []string{"--config", toml, "--addr", ":6000", "--log-level", "debug", "--allow-private-targets=false"},
			environ: []string{"HERALD_ADDR=:7000", "HERALD_LOG_LEVEL=error"},
			want:    want{":6000", "debug", "/srv/herald", "10.0.0.0/8,192.0.2.7", "CN", false}},
		{name: "FlagEqualToDefaultStillWins", args: []string{"--addr", "127.0.0.1:8080"}, environ: []string{"HERALD_ADDR=:7000"},
			want: want{"127.0.0.1:8080", "info", "herald-data", "", "CN", false}},
		{name: "OtherHeraldVariablesIgnored", environ: []string{"HERALD_TEST_POSTGRES_URL=postgres://x", "HERALD_NOT_A_SETTING=1"},
			want: want{"127.0.0.1:8080", "info", "herald-data", "", "CN", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseSettings(t, tc.environ, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			got := want{c.Addr, c.LogLevel, c.DataDir, c.TrustedProxies, c.OTPDefaultRegion, c.AllowPrivateTargets}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestSettings_Refused: a config file that cannot be meant is refused,
// naming the file and the key; so is a bad value, naming where it came from.
func TestSettings_Refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, content string
		environ             []string
		want                []string
	}{
		{name: "UnknownKey", file: "h.toml", content: "addr = \":1\"\nlog_level = \"debug\"\n", want: []string{"h.toml", "unknown setting log_level"}},
		{name: "NestedKey", file: "h.yaml", content: "server:\n  addr: \":1\"\n", want: []string{"unknown setting server.addr"}},
		{name: "Syntax", file: "h.toml", content: "addr = \n", want: []string{"h.toml"}},
		{name: "Extension", file: "h.json", content: "{}", want: []string{"h.json", ".toml, .yaml or .yml"}},
		{name: "BadValueInFile", file: "h.toml", content: "allow-private-targets = \"maybe\"\n", want: []string{"h.toml", "allow-private-targets"}},
		{name: "BadValueInEnvironment", file: "h.toml", content: "", environ: []string{"HERALD_ALLOW_PRIVATE_TARGETS=maybe"},
			want: []string{"HERALD_ALLOW_PRIVATE_TARGETS", "allow-private-targets"}},
		{name: "Missing", want: []string{"does-not-exist.toml", "does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "does-not-exist.toml")
			if tc.file != "" {
				path = writeFile(t, tc.file, tc.content)
			}
			_, err := parseSettings(t, tc.environ, "--config", path)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestSettings_RootCommand: the real command tree applies the config file
// and the environment before a command runs (healthcheck asks the addr the
// file names, unless the environment names another).
func TestSettings_RootCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg := writeFile(t, "herald.yaml", "addr: "+addr+"\n")
	if out, err := run(t, "healthcheck", "--config", cfg); err != nil || !strings.Contains(out, addr+"/healthz: ok") {
		t.Fatalf("healthcheck with the file's addr: %v\n%s", err, out)
	}
	t.Setenv("HERALD_CONFIG", cfg)
	if out, err := run(t, "healthcheck"); err != nil || !strings.Contains(out, addr+"/healthz: ok") {
		t.Fatalf("healthcheck with HERALD_CONFIG: %v\n%s", err, out)
	}
	t.Setenv("HERALD_ADDR", freeAddr(t))
	if out, err := run(t, "healthcheck"); err == nil {
		t.Fatalf("healthcheck ignored HERALD_ADDR in favour of the file:\n%s", out)
	}
}

func TestHealthURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"10.1.2.3:80":    "http://10.1.2.3:80/healthz",
		"localhost:8080": "http://localhost:8080/healthz",
	} {
		if got, err := healthURL(addr); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := healthURL("8080"); err == nil {
		t.Error("healthURL accepted an address without a port")
	}
}

// TestConfigurationDoc: docs/CONFIGURATION.md has one row per setting of the
// command tree, with its environment name and default, and no other row.
func TestConfigurationDoc(t *testing.T) {
	t.Parallel()
	type row struct{ key, flag, env, def string }
	want := map[string]row{configFlag: {"—", "--" + configFlag, configEnv, "—"}}
	defs := map[string]*pflag.Flag{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, set := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			set.VisitAll(func(f *pflag.Flag) {
				if !isSetting(f) {
					return
				}
				// A setting bound by several commands is one setting.
				if d, ok := defs[f.Name]; ok && (d.DefValue != f.DefValue || d.Usage != f.Usage || d.Value.Type() != f.Value.Type()) {
					t.Errorf("--%s is defined twice, differently (%q, %q)", f.Name, d.DefValue, f.DefValue)
				}
				defs[f.Name] = f
				def := f.DefValue
				if def == "" {
					def = "—"
				}
				want[f.Name] = row{f.Name, "--" + f.Name, envName(f.Name), def}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard))
	if len(defs) < 5 {
		t.Fatalf("found only %d settings in the command tree", len(defs))
	}

	f, err := os.Open("../../docs/CONFIGURATION.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]row{}
	inTable := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "| file key |") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if len(got) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		if len(cells) != 5 {
			t.Errorf("row %q has %d cells, want 5", line, len(cells))
			continue
		}
		r := row{cells[0], cells[1], cells[2], cells[3]}
		name := strings.TrimPrefix(r.flag, "--")
		if _, dup := got[name]; dup {
			t.Errorf("two rows for %s", r.flag)
		}
		got[name] = r
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no row for --%s; add:\n| `%s` | `%s` | `%s` | `%s` | … |", name, w.key, w.flag, w.env, w.def)
		case g != w:
			t.Errorf("row for --%s is %+v; want %+v", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("row for %q names no setting", name)
		}
	}
}

// TestSettings_NoEnvironmentReadsElsewhere: the command reads the
// environment only through the settings, so every variable it heeds is a
// setting, and so has its row in docs/CONFIGURATION.md.
func TestSettings_NoEnvironmentReadsElsewhere(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && slices.Contains([]string{"Getenv", "LookupEnv", "Environ"}, sel.Sel.Name) {
				if !(name == "commands.go" && sel.Sel.Name == "Environ") {
					t.Errorf("%s: os.%s outside the settings: make it a setting (settings.go)", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
