package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/hive"
	"github.com/tracehop/tracehop/forensics/report"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

type campaignsOptions struct {
	g            *globalOptions
	Inputs       []string
	Session      session.Options
	Campaign     campaign.Options
	Trace        trace.Options
	ScoreWeights []string
}

func newCampaignsCmd(g *globalOptions, runF func(*campaignsOptions) error) *cobra.Command {
	opts := &campaignsOptions{g: g, Session: session.DefaultOptions(), Campaign: campaign.DefaultOptions(), Trace: trace.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "campaigns INPUT...",
		Short: "Campaigns with members and the links that join them (jsonl|csv to stdout)",
		Long: `Builds sessions from the inputs and joins them into campaigns with typed links:
strong (same credential or token key id, work hand-over), medium (same rare
JA4/JA3/HASSH + user agent), weak (same /24 or /48 or ASN within 7 days, same
hour-of-week profile, same beacon period). Two sessions join when the weights
sum to --merge-threshold with at least one link that is not infrastructure;
values shared by more than --hub-share of sessions or --hub-credentials
credentials drop one class. Each campaign lists its links with the reason,
the spanning tree that admits each member, the bridges, its hop chains and a
triage score with its components (foreign share against --home, hosting,
enumeration, failures, scanner paths, regularity, duration). Benign crawlers
form their own campaigns (label crawler); groups of ordinary clients are
left out unless --all-campaigns.

INPUT may instead be sessions tables written by tracehop sessions --format
parquet --out DIR (several: months, machines): each is verified, then its
sessions stream into the grouping; campaigns built so have no hop chains.`,
		Example: `  tracehop campaigns testdata/demo --home KR
  tracehop campaigns api.jsonl --home KR --merge-threshold 4.5 --score-weight duration=0 --format csv
  tracehop campaigns sessions-2025-06/ sessions-2025-07/ --home KR`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if err := applyScoreWeights(&opts.Campaign, opts.ScoreWeights); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCampaigns(cmd.Context(), opts)
		},
	}
	bindSessionFlags(cmd.Flags(), &opts.Session)
	bindCampaignFlags(cmd.Flags(), &opts.Campaign, &opts.ScoreWeights)
	bindTraceFlags(cmd.Flags(), &opts.Trace)
	return cmd
}

// sessionTables reports whether the inputs are sessions tables (`tracehop
// sessions --format parquet --out DIR`) rather than evidence; a mix is
// refused.
func sessionTables(inputs []string) (bool, error) {
	n := 0
	for _, in := range inputs {
		if hive.IsTable(in) {
			n++
		}
	}
	if n > 0 && n < len(inputs) {
		return false, fmt.Errorf("give campaigns either sessions tables or evidence, not both (%d of %d inputs are tables)", n, len(inputs))
	}
	return n > 0, nil
}

// correlate runs the pipeline through campaigns and chains with the
// command's stage options.
func correlate(ctx context.Context, g *globalOptions, inputs []string, s session.Options, c campaign.Options, t trace.Options) (*analyze.Options, func(), error) {
	aopts, enr, err := g.analyzeOptions(inputs, analyze.StageAll)
	if err != nil {
		return nil, nil, err
	}
	aopts.Session, aopts.Campaign, aopts.Trace = s, c, t
	if aopts.Campaign.Home == "" {
		aopts.Campaign.Home = aopts.Home
	}
	closeFn := func() {}
	if enr != nil {
		closeFn = func() { enr.Close() }
	}
	return &aopts, closeFn, nil
}

func runCampaigns(ctx context.Context, opts *campaignsOptions) error {
	g := opts.g
	format, err := recordFormat(g, "jsonl", "csv")
	if err != nil {
		return err
	}
	tables, err := sessionTables(opts.Inputs)
	if err != nil {
		return err
	}
	aopts, closeFn, err := correlate(ctx, g, opts.Inputs, opts.Session, opts.Campaign, opts.Trace)
	if err != nil {
		return err
	}
	defer closeFn()
	var c *forensics.Case
	var runErr error
	if tables {
		if ctx == nil {
			ctx = context.Background()
		}
		c, runErr = analyze.CampaignsFromTables(ctx, opts.Inputs, *aopts)
		if runErr == nil && !g.Quiet {
			fmt.Fprintf(g.io.ErrOut, "campaigns from %d sessions table(s) citing %d evidence input(s); no hop chains (they need events and flows)\n", len(opts.Inputs), len(c.Inputs))
		}
	} else {
		// Streamed: memory holds the sessions open at a time and the
		// records hop chains need, not every record.
		c, runErr = g.runStage(ctx, *aopts, analyze.StreamCampaigns)
	}
	if c == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
		return outcome(c, runErr)
	}
	if err := report.WriteRecords(g.io.Out, format, c.Campaigns); err != nil {
		return fmt.Errorf("write campaigns: %w", err)
	}
	if !g.Quiet {
		printProblems(g.io.ErrOut, c)
	}
	return outcome(c, runErr)
}
