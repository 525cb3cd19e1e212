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
	"github.com/tracehop/tracehop/forensics/report"
)

type reportOptions struct {
	g            *globalOptions
	Case         string
	Out          string
	CaseID       string
	Examiner     string
	Organisation string
	Sign         string
	Formats      []string
	ReportTime   string
	TLP          string
	Args         []string // the command line, for the custody logs
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
	f := cmd.Flags()
	f.StringVarP(&opts.Out, "out", "o", "tracehop-report", "bundle directory to write")
	f.StringVar(&opts.CaseID, "case-id", "", "case identifier on the cover (default: the case's)")
	f.StringVar(&opts.Examiner, "examiner", "", "examiner's name on the cover (default: the case's)")
	f.StringVar(&opts.Organisation, "organisation", "", "examiner's organisation printed on the cover")
	f.StringVar(&opts.Sign, "sign", "", "Ed25519 private key file (from `tracehop keygen`): writes manifest.sig")
	f.StringSliceVar(&opts.Formats, "formats", nil, "renderers to run: html,pdf,json,csv,stix (default all)")
	f.StringVar(&opts.ReportTime, "report-time", "", "pin the generation time in manifest.json and custody.jsonl (RFC 3339), for reproducible bundles")
	f.StringVar(&opts.TLP, "tlp", "", "Traffic Light Protocol marking: clear, green, amber, amber+strict, red (default amber)")
	return cmd
}

func runReport(ctx context.Context, opts *reportOptions) error {
	g := opts.g
	var reportTime time.Time
	if opts.ReportTime != "" {
		t, err := time.Parse(time.RFC3339Nano, opts.ReportTime)
		if err != nil {
			return fmt.Errorf("--report-time %q: %w", opts.ReportTime, err)
		}
		reportTime = t
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
	paths := []string{opts.Case}
	for _, in := range c.Inputs {
		paths = append(paths, in.Path)
	}
	if err := evidence.CheckOutput(opts.Out, paths); err != nil {
		return err
	}
	c.Tool = toolInfo()
	c.ID, c.Examiner = firstNonEmpty(opts.CaseID, c.ID), firstNonEmpty(opts.Examiner, c.Examiner)
	m, err := report.WriteBundle(ctx, c, report.Options{
		OutDir: opts.Out, Formats: opts.Formats, SignKey: opts.Sign, ReportTime: reportTime,
		CaseID: opts.CaseID, Examiner: opts.Examiner, Organisation: opts.Organisation,
		Command: opts.Args, TLP: opts.TLP, Custody: custody,
	})
	if err != nil {
		return fmt.Errorf("write bundle to %s: %w", opts.Out, err)
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
