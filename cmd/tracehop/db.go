package main

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/enrich"
)

type dbOptions struct {
	g     *globalOptions
	Files []string
	// DataDir is where `db import` copies databases (default: the user
	// data dir, $XDG_DATA_HOME/tracehop/geoip).
	DataDir string
	// Getenv reads the environment; nil means the process environment.
	Getenv func(string) string
}

func newDBCmd(g *globalOptions) *cobra.Command {
	opts := &dbOptions{g: g}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Databases known, add a snapshot, check a file",
		Long: `Manage the GeoIP/ASN databases tracehop reads. Lookup order: --geoip paths, then
$TRACEHOP_GEOIP, then the user data dir ($XDG_DATA_HOME/tracehop/geoip), then
the embedded default data.`,
	}
	cmd.AddCommand(newDBListCmd(opts, nil), newDBImportCmd(opts, nil), newDBVerifyCmd(opts, nil))
	return cmd
}

func newDBListCmd(opts *dbOptions, runF func(*dbOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Every database found, in lookup order, with type, build date, size and SHA-256",
		Example: `  tracehop db list
  tracehop db list --geoip ./snapshots --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDBList(opts)
		},
	}
}

func newDBImportCmd(opts *dbOptions, runF func(*dbOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Verify a database and copy it into the user data dir under its content hash",
		Long: `Verify each database and copy it into the user data dir as SHA256.mmdb, with its
metadata beside it as SHA256.json. An existing copy is never overwritten: a
database imported twice is reported and left as it is. Several builds of the
same database form a snapshot set: each lookup uses the build in force at the
event's time.`,
		Example: `  tracehop db import GeoLite2-City_20250701/GeoLite2-City.mmdb
  tracehop db import --data-dir ./case-geoip *.mmdb`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runDBImport(opts)
		},
	}
	cmd.Flags().StringVar(&opts.DataDir, "data-dir", "", "directory to import into (default $XDG_DATA_HOME/tracehop/geoip)")
	return cmd
}

func newDBVerifyCmd(opts *dbOptions, runF func(*dbOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE...",
		Short: "Open a database, check its metadata and walk its whole tree and data",
		Example: `  tracehop db verify GeoLite2-ASN.mmdb
  tracehop db verify --format json snapshots/*.mmdb`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runDBVerify(opts)
		},
	}
}

func dbFormat(g *globalOptions) (string, error) {
	switch g.Format {
	case "", "text":
		return "text", nil
	case "json", "jsonl":
		return "json", nil
	}
	return "", fmt.Errorf("--format %q: want text or json", g.Format)
}

func runDBList(opts *dbOptions) error {
	g := opts.g
	format, err := dbFormat(g)
	if err != nil {
		return err
	}
	e, err := enrich.New(enrich.Options{Paths: g.GeoIP, UseEnv: true, Getenv: opts.Getenv, CacheSize: -1})
	if err != nil {
		return inputError(fmt.Errorf("open GeoIP databases: %w", err))
	}
	defer e.Close()
	infos := e.Databases()
	if format == "json" {
		return writeJSONLines(g, infos)
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tTYPE\tBUILD\tIP\tNODES\tSHA256\tWHERE")
	for i, d := range infos {
		where := d.Path
		if d.Embedded {
			where = "embedded"
		}
		if d.Snapshot != "" {
			where += " (snapshot set)"
		}
		ipv, nodes := "-", "-"
		if d.IPVersion != 0 {
			ipv, nodes = "v"+strconv.Itoa(d.IPVersion), strconv.FormatUint(uint64(d.NodeCount), 10)
		}
		// Names, types and paths come from database files and their
		// metadata: made terminal-safe, as every text from outside is.
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, safeText(d.Name), safeText(d.Type), safeText(d.Build), ipv, nodes, d.SHA256, safeText(where))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range infos {
		if d.Attribution != "" || d.Licence != "" {
			fmt.Fprintln(g.io.Out, safeText(fmt.Sprintf("%s: %s (licence %s)", d.Name, d.Attribution, d.Licence)))
		}
	}
	return nil
}

func runDBImport(opts *dbOptions) error {
	g := opts.g
	dir := opts.DataDir
	if dir == "" {
		dir = enrich.UserDataDir(opts.Getenv)
	}
	if dir == "" {
		return errors.New("no user data dir: set XDG_DATA_HOME or HOME, or give --data-dir")
	}
	var failed []error
	for _, f := range opts.Files {
		info, dest, err := enrich.Import(f, dir)
		switch {
		case errors.Is(err, enrich.ErrExists):
			fmt.Fprintln(g.io.Out, safeText(fmt.Sprintf("exists   %s = %s (%s, build %s), left as it is", f, dest, info.Type, info.Build)))
		case err != nil:
			fmt.Fprintf(g.io.ErrOut, "tracehop: %s\n", safeText(err.Error()))
			failed = append(failed, err)
		default:
			fmt.Fprintln(g.io.Out, safeText(fmt.Sprintf("imported %s -> %s (%s, build %s)", f, dest, info.Type, info.Build)))
		}
	}
	if len(failed) > 0 {
		return inputError(fmt.Errorf("%d of %d databases not imported", len(failed), len(opts.Files)))
	}
	return nil
}

func runDBVerify(opts *dbOptions) error {
	g := opts.g
	format, err := dbFormat(g)
	if err != nil {
		return err
	}
	type result struct {
		File  string               `json:"file"`
		OK    bool                 `json:"ok"`
		Error string               `json:"error,omitempty"`
		Info  *enrich.DatabaseInfo `json:"database,omitempty"`
	}
	var results []result
	bad := 0
	for _, f := range opts.Files {
		info, err := enrich.Verify(f)
		r := result{File: f, OK: err == nil}
		if info.SHA256 != "" {
			r.Info = &info
		}
		if err != nil {
			r.Error = err.Error()
			bad++
		}
		results = append(results, r)
		if format == "text" {
			if err != nil {
				fmt.Fprintln(g.io.Out, safeText(fmt.Sprintf("BROKEN %s: %v", f, err)))
			} else {
				fmt.Fprintln(g.io.Out, safeText(fmt.Sprintf("ok     %s: %s, build %s, IPv%d, %d nodes, sha256 %s", f, info.Type, info.Build, info.IPVersion, info.NodeCount, info.SHA256)))
			}
		}
	}
	if format == "json" {
		if err := writeJSONLines(g, results); err != nil {
			return err
		}
	}
	if bad > 0 {
		return inputError(fmt.Errorf("%d of %d databases failed verification", bad, len(opts.Files)))
	}
	return nil
}

func writeJSONLines[T any](g *globalOptions, v []T) error {
	for i := range v {
		if err := writeJSON(g.io.Out, &v[i], ""); err != nil {
			return err
		}
	}
	return nil
}
