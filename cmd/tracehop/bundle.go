package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/report"
)

// bundleOptions are the flags of every command that writes an evidence
// bundle (analyze, report).
type bundleOptions struct {
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

func addBundleFlags(f *pflag.FlagSet, b *bundleOptions) {
	f.StringVarP(&b.Out, "out", "o", "tracehop-report", "bundle directory to write")
	f.StringVar(&b.CaseID, "case-id", "", "case identifier printed on the cover")
	f.StringVar(&b.Examiner, "examiner", "", "examiner's name printed on the cover and in the custody log")
	f.StringVar(&b.Organisation, "organisation", "", "examiner's organisation printed on the cover")
	f.StringVar(&b.Sign, "sign", "", "Ed25519 private key file (from `tracehop keygen`): writes manifest.sig")
	f.StringSliceVar(&b.Formats, "formats", nil, "renderers to run: html,pdf,json,csv,stix (default all)")
	f.StringVar(&b.ReportTime, "report-time", "", "pin the generation time in manifest.json and custody.jsonl (RFC 3339), for reproducible bundles")
	f.StringVar(&b.TLP, "tlp", "", "Traffic Light Protocol marking: clear, green, amber, amber+strict, red (default amber)")
}

// parseReportTime checks --report-time before any work starts.
func (b *bundleOptions) parseReportTime() (time.Time, error) {
	if b.ReportTime == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, b.ReportTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("--report-time %q: %w", b.ReportTime, err)
	}
	return t, nil
}

// writeBundle renders c into b.Out; custody is the log carried in (from a
// case file), nil for a one-shot run.
func (b *bundleOptions) writeBundle(ctx context.Context, c *forensics.Case, reportTime time.Time, custody []forensics.CustodyEntry) (*report.Manifest, error) {
	c.ID, c.Examiner = firstNonEmpty(b.CaseID, c.ID), firstNonEmpty(b.Examiner, c.Examiner)
	m, err := report.WriteBundle(ctx, c, report.Options{
		OutDir: b.Out, Formats: b.Formats, SignKey: b.Sign, ReportTime: reportTime,
		CaseID: b.CaseID, Examiner: b.Examiner, Organisation: b.Organisation,
		Command: b.Args, TLP: b.TLP, Custody: custody,
	})
	if err != nil {
		return nil, fmt.Errorf("write bundle to %s: %w", b.Out, err)
	}
	return m, nil
}
