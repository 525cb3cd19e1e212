package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/casefile"
	"github.com/tracehop/tracehop/forensics/evidence"
)

type reportOptions struct {
	g    *globalOptions
	Case string
	bundleOptions
}

func newReportCmd(g *globalOptions, runF func(*reportOptions) error) *cobra.Command {
	opts := &reportOptions{g: g}
	cmd := &cobra.Command{
		Use:   "report CASEFILE",
		Short: "Render the evidence bundle from a case file",
		Long: `Renders the bundle (report.html, report.pdf, report.json, CSVs, stix.json,
custody.jsonl, manifest.json) from everything a case file holds, as analyze
would over the same inputs. The bundle's custody.jsonl carries the case's
custody log followed by this run's entry, and the case's log records the
report with the hash of every file written. The case is only read (a writer
may be adding evidence meanwhile: the report covers what was committed).`,
		Example: `  tracehop report 2025-0142.thcase --out report-2025-0142
  tracehop report 2025-0142.thcase --out r --formats html,json --sign examiner.key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Case = args[0]
			opts.Args = append([]string{"tracehop"}, osArgs(cmd)...)
			if runF != nil {
				return runF(opts)
			}
			return runReport(cmd.Context(), opts)
		},
	}
	addBundleFlags(cmd.Flags(), &opts.bundleOptions)
	return cmd
}

func runReport(ctx context.Context, opts *reportOptions) error {
	g := opts.g
	reportTime, err := opts.parseReportTime()
	if err != nil {
		return err
	}
	cf, err := casefile.Open(ctx, opts.Case, casefile.OpenOptions{})
	if err != nil {
		return caseError(err)
	}
	defer cf.Close()
	custody, err := cf.Custody(ctx)
	if err != nil {
		return err
	}
	cf.Close()
	c, err := analyze.LoadCase(ctx, opts.Case)
	if err != nil {
		return caseError(err)
	}
	defer analyze.Release(c)
	paths := []string{opts.Case}
	for _, in := range c.Inputs {
		paths = append(paths, in.Path)
	}
	if err := evidence.CheckOutput(opts.Out, paths); err != nil {
		return err
	}
	c.Tool = toolInfo()
	m, err := opts.writeBundle(ctx, c, reportTime, custody)
	if err != nil {
		return err
	}
	entry := forensics.CustodyEntry{Time: forensics.NewTime(time.Now()), Action: "report", Args: opts.Args,
		ToolVersion: toolString(c.Tool), User: osUser(), Outputs: m.Files}
	for _, in := range c.Inputs {
		entry.Inputs = append(entry.Inputs, forensics.FileHash{Path: in.Path, Size: in.Size, SHA256: in.SHA256})
	}
	if err := appendCaseCustody(ctx, opts.Case, entry); err != nil {
		return err
	}
	if !g.Quiet {
		printSummary(g.io.ErrOut, c, opts.Out, len(m.Files))
	}
	return nil
}

// appendCaseCustody adds one entry to a case's custody log.
func appendCaseCustody(ctx context.Context, path string, e forensics.CustodyEntry) error {
	cf, err := casefile.Open(ctx, path, casefile.OpenOptions{})
	if err != nil {
		return caseError(err)
	}
	defer cf.Close()
	if _, err := cf.AppendCustody(ctx, e); err != nil {
		return fmt.Errorf("record the report in the custody log of %s: %w", path, err)
	}
	return nil
}
