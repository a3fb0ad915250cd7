package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A setting is a flag that may also come from the environment or the config
// file, under names derived from the flag's by one rule: flag --log-level,
// environment HERALD_LOG_LEVEL, file key log-level. A flag given on the
// command line wins over the environment, which wins over the file, which
// wins over the flag's default. Adding a setting is one flag definition in
// a bindSettings block and one row in docs/CONFIGURATION.md (a test checks
// that table against the flags).

const (
	// settingAnnotation marks a flag as a setting.
	settingAnnotation = "herald-setting"
	// configFlag names the config file; it is a flag and an environment
	// variable, not a key of the file itself.
	configFlag = "config"
	configEnv  = "HERALD_CONFIG"
	envPrefix  = "HERALD_"
)

// envNames holds the environment names that break the rule: one that
// predates it, kept so that existing deployments go on working, and
// OpenTelemetry's standard name for the collector.
var envNames = map[string]string{
	"data":          "HERALD_DATA_DIR",
	"otel-endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
	"server":        "HERALD_URL",
	"token":         "HERALD_TOKEN",
}

// envName is the environment variable of the setting named flag.
func envName(flag string) string {
	if n, ok := envNames[flag]; ok {
		return n
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindSettings defines flags with bind and adds them to dst as settings.
func bindSettings(dst *pflag.FlagSet, bind func(fs *pflag.FlagSet)) {
	fs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	bind(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Annotations == nil {
			f.Annotations = map[string][]string{}
		}
		f.Annotations[settingAnnotation] = []string{"true"}
		f.Usage += " (env " + envName(f.Name) + ")"
		dst.AddFlag(f)
	})
}

func isSetting(f *pflag.Flag) bool {
	_, ok := f.Annotations[settingAnnotation]
	return ok
}

// bindConfigFlag adds --config to the root command, for every subcommand.
func bindConfigFlag(fs *pflag.FlagSet) {
	fs.String(configFlag, "", "TOML (.toml) or YAML (.yaml, .yml) file of settings, keyed by flag name (env "+configEnv+")")
}

// settingFlags lists every setting of the command tree under root, by name.
func settingFlags(root *cobra.Command) map[string]*pflag.Flag {
	out := map[string]*pflag.Flag{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, set := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			set.VisitAll(func(f *pflag.Flag) {
				if isSetting(f) {
					out[f.Name] = f
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// applySettings fills the settings of cmd that its command line left unset
// from environ (KEY=value pairs) and from the config file that --config or
// HERALD_CONFIG in environ names. It runs after the flags are parsed.
func applySettings(cmd *cobra.Command, environ []string) error {
	known := settingFlags(cmd.Root())
	envKeys := make(map[string]string, len(known))
	for name := range known {
		envKeys[envName(name)] = name
	}

	k := koanf.New(".")
	path := ""
	if f := cmd.Flags().Lookup(configFlag); f != nil {
		path = f.Value.String()
	}
	if path == "" {
		path = lookupEnv(environ, configEnv)
	}
	if path != "" {
		if err := loadConfigFile(k, path, known); err != nil {
			return err
		}
	}
	// The environment overrides the file: an empty variable counts as
	// unset, and HERALD_ names that are no setting are left alone (the
	// tests' HERALD_TEST_POSTGRES_URL, say).
	// Every variable is looked at (not only HERALD_…: OpenTelemetry's
	// name is kept), and those that name no setting are dropped.
	err := k.Load(env.Provider(".", env.Opt{
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) {
			if v == "" {
				return "", nil
			}
			return envKeys[key], v
		},
	}), nil)
	if err != nil {
		return err
	}

	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !isSetting(f) || f.Changed || !k.Exists(f.Name) {
			return
		}
		if err := f.Value.Set(settingString(k.Get(f.Name))); err != nil {
			from := path
			if v := lookupEnv(environ, envName(f.Name)); v != "" {
				from = envName(f.Name)
			}
			errs = append(errs, fmt.Errorf("%s: %s: %w", from, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// loadConfigFile loads the config file at path into k, refusing keys that
// are no setting (a typo would otherwise be ignored silently).
func loadConfigFile(k *koanf.Koanf, path string, known map[string]*pflag.Flag) error {
	var parser koanf.Parser
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		parser = toml.Parser()
	case ".yaml", ".yml":
		parser = yaml.Parser()
	default:
		return fmt.Errorf("config file %s: name it .toml, .yaml or .yml", path)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config file %s does not exist", path)
	}
	if err := k.Load(file.Provider(path), parser); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var unknown []string
	for key := range k.All() {
		if _, ok := known[key]; !ok {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("config file %s: unknown setting %s (the keys are the flag names: see docs/CONFIGURATION.md)", path, strings.Join(unknown, ", "))
	}
	return nil
}

// settingString renders a value from the file as a flag would take it: a
// list (trusted-proxies) comma-separated.
func settingString(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}
