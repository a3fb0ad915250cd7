package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/spf13/cobra"
)

// buildVersion describes the running binary from what the go command
// recorded in it: the module version (from the VCS tag, or a pseudo-version
// of the commit), the commit, whether the work tree had changes, and the
// commit's time. A reproducible build records no build time: the commit
// time is the closest there is.
type buildVersion struct {
	Version   string // v0.1.0, a pseudo-version, or (devel)
	Revision  string // the full commit hash; empty when not built from a VCS checkout
	Time      string // the commit's time, RFC 3339
	Modified  bool   // built from a work tree with uncommitted changes
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// readVersion is the running binary's buildVersion.
func readVersion() buildVersion {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi, herald.Version)
}

// versionFrom reads bi; override (herald.Version, set with -ldflags -X at
// release time) wins over the recorded module version unless it is "dev".
func versionFrom(bi *debug.BuildInfo, override string) buildVersion {
	v := buildVersion{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		var goos, goarch string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
		if goos != "" && goarch != "" {
			v.Platform = goos + "/" + goarch
		}
	}
	if override != "" && override != "dev" {
		v.Version = override
	}
	return v
}

// String is what `herald version` prints: the version on the first line,
// then one line per fact that is known.
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "herald %s\n", v.Version)
	if v.Revision != "" {
		fmt.Fprintf(&b, "revision  %s", v.Revision)
		if v.Modified {
			b.WriteString(" (modified)")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("revision  unknown (built outside a VCS checkout, or with -buildvcs=false)\n")
	}
	if v.Time != "" {
		fmt.Fprintf(&b, "committed %s\n", v.Time)
	}
	fmt.Fprintf(&b, "go        %s %s\n", v.GoVersion, v.Platform)
	return b.String()
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from and the Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), readVersion())
			return err
		},
	}
}
