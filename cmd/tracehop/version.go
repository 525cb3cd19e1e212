package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
)

// Set at link time by the Makefile (-X main.version=... -X main.commit=...);
// otherwise read from the module and VCS build info.
var (
	version = ""
	commit  = ""
)

// toolInfo names this build in every output.
func toolInfo() forensics.ToolInfo {
	ti := forensics.ToolInfo{Name: "tracehop", Version: version, Commit: commit}
	if bi, ok := debug.ReadBuildInfo(); ok {
		ti.GoVersion = bi.GoVersion
		if ti.Version == "" {
			ti.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if ti.Commit == "" {
					ti.Commit = s.Value
				}
			case "vcs.modified":
				if s.Value == "true" && ti.Commit != "" {
					ti.Commit += "-dirty"
				}
			}
		}
	}
	if ti.Version == "" || ti.Version == "(devel)" {
		ti.Version = "0.1.0-dev"
	}
	return ti
}

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Version, commit, Go version and embedded data builds",
		Example: "  tracehop version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ti := toolInfo()
			w := g.io.Out
			fmt.Fprintf(w, "tracehop %s\n", ti.Version)
			if ti.Commit != "" {
				fmt.Fprintf(w, "commit   %s\n", ti.Commit)
			}
			fmt.Fprintf(w, "go       %s\n", ti.GoVersion)
			for _, db := range embeddedDatabases() {
				fmt.Fprintf(w, "data     %s %s build %s sha256 %s\n", db.Name, db.Type, db.Build, db.SHA256)
				if db.Attribution != "" {
					fmt.Fprintf(w, "         %s\n", db.Attribution)
				}
			}
			return nil
		},
	}
}
