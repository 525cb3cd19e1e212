package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/trace"
)

type analyzeOptions struct {
	g      *globalOptions
	Inputs []string
	Case   string
	// Trace: the hop-chain thresholds, as campaigns and trace take them.
	Trace trace.Options
	bundleOptions
}

func newAnalyzeCmd(g *globalOptions, runF func(*analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{g: g, Trace: trace.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "analyze INPUT...",
		Short: "One shot: ingest, enrich, correlate and write the report bundle to --out",
		Long: `Reads every INPUT (files, directories walked in sorted order, or - for stdin),
enriches every address, builds sessions, campaigns and hop chains, and writes the
evidence bundle (report.html, report.pdf, report.json, CSVs, stix.json,
custody.jsonl, manifest.json) to --out. Inputs are opened read-only; --out may
not lie inside an input directory.`,
		Example: `  tracehop analyze testdata/demo --home KR --out case-report
  tracehop analyze /evidence/web /evidence/edge.pcap --home KR --tz Asia/Seoul \
      --trust-proxy 10.0.0.0/8 --case-id 2025-0142 --examiner "J. Kim" --sign examiner.key`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			opts.Args = append([]string{"tracehop"}, osArgs(cmd)...)
			if opts.Case != "" {
				// case add rebuilds the chains of the whole case with the
				// defaults: a case must not hold chains built otherwise.
				for _, name := range traceFlagNames() {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s cannot be used with --case: case add rebuilds the case's hop chains with the default thresholds", name)
					}
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runAnalyze(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addBundleFlags(f, &opts.bundleOptions)
	f.StringVar(&opts.Case, "case", "", "also store everything in this case file (*.thcase)")
	bindTraceFlags(f, &opts.Trace)
	return cmd
}

func runAnalyze(ctx context.Context, opts *analyzeOptions) error {
	g := opts.g
	reportTime, err := opts.parseReportTime()
	if err != nil {
		return err
	}
	if err := evidence.CheckOutput(opts.Out, opts.Inputs); err != nil {
		return err
	}
	aopts, enr, err := g.analyzeOptions(opts.Inputs, analyze.StageAll)
	if err != nil {
		return err
	}
	if enr != nil {
		defer enr.Close()
	}
	aopts.Trace = opts.Trace
	var c *forensics.Case
	var runErr error
	if opts.Case != "" {
		c, runErr = analyzeIntoCase(ctx, opts, aopts)
	} else {
		c, runErr = g.runStage(ctx, aopts, analyze.RunSpooled)
	}
	if c != nil {
		// The events and sessions stay on disk until the bundle is written.
		defer analyze.Release(c)
	}
	if c == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
		return outcome(c, runErr)
	}
	c.Params = mergeParams(c.Params, analyze.Params(aopts))
	m, err := opts.writeBundle(ctx, c, reportTime, nil)
	if err != nil {
		return err
	}
	if !g.Quiet {
		printSummary(g.io.ErrOut, c, opts.Out, len(m.Files))
	}
	return outcome(c, runErr)
}

// printSummary is the short table at the end of analyze.
func printSummary(w io.Writer, c *forensics.Case, out string, files int) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	var records, malformed int64
	failed := 0
	for _, in := range c.Inputs {
		records += in.Records
		malformed += in.Malformed
		if in.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(tw, "inputs\t%d\t(%d unusable)\n", len(c.Inputs), failed)
	fmt.Fprintf(tw, "records\t%d\t(%d flows, %d events)\n", records, c.NumFlows(), c.NumEvents())
	fmt.Fprintf(tw, "skipped\t%d\tmalformed records\n", malformed)
	fmt.Fprintf(tw, "sessions\t%d\t\n", c.NumSessions())
	fmt.Fprintf(tw, "campaigns\t%d\t\n", len(c.Campaigns))
	fmt.Fprintf(tw, "bundle\t%s\t(%d files)\n", out, files)
	tw.Flush()
	// Where: the unusable inputs, the first malformed records, the caps.
	printProblems(w, c)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func mergeParams(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// osArgs rebuilds the command line from what cobra parsed (command path,
// the flags that were set, the arguments), for the custody log.
func osArgs(cmd *cobra.Command) []string {
	out := strings.Fields(cmd.CommandPath())[1:]
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return append(out, cmd.Flags().Args()...)
}
