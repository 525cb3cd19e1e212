package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/report"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

type traceOptions struct {
	g            *globalOptions
	Inputs       []string
	CampaignID   string
	IP           string
	Session      session.Options
	Campaign     campaign.Options
	Trace        trace.Options
	ScoreWeights []string
}

func newTraceCmd(g *globalOptions, runF func(*traceOptions) error) *cobra.Command {
	opts := &traceOptions{g: g, Session: session.DefaultOptions(), Campaign: campaign.DefaultOptions(), Trace: trace.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "trace INPUT... [--campaign ID | --ip ADDR]",
		Short: "Hop chains per campaign or per --ip (jsonl|text to stdout)",
		Long: `Prints hop chains origin → proxies or relays → target: the X-Forwarded-For
chain of log events (walked from the socket peer through --trust-proxy ranges;
entries left of the first untrusted one are unverified claims), and relays seen
across vantage points, where a relay's inbound and outbound traffic is paired by
time overlap and ON/OFF correlation (Zhang–Paxson: --onoff-idle, --onoff-delta,
--onoff-ratio; the coincidences are printed). Each hop carries its enrichment.
--campaign keeps the chains of one campaign (as printed by campaigns), --ip
those with a hop on that address.`,
		Example: `  tracehop trace testdata/relay
  tracehop trace testdata/demo --home KR --campaign cmp-1b44273b6920403b --format text
  tracehop trace web.log --trust-proxy 10.0.0.0/8 --ip 203.0.113.10`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if opts.CampaignID != "" && opts.IP != "" {
				return errors.New("--campaign and --ip exclude each other")
			}
			if err := applyScoreWeights(&opts.Campaign, opts.ScoreWeights); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrace(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.CampaignID, "campaign", "", "only the chains of this campaign ID")
	f.StringVar(&opts.IP, "ip", "", "only the chains with a hop on this address")
	bindSessionFlags(f, &opts.Session)
	bindCampaignFlags(f, &opts.Campaign, &opts.ScoreWeights)
	bindTraceFlags(f, &opts.Trace)
	return cmd
}

func runTrace(ctx context.Context, opts *traceOptions) error {
	g := opts.g
	format, err := recordFormat(g, "jsonl", "text")
	if err != nil {
		return err
	}
	var ip netip.Addr
	if opts.IP != "" {
		if ip, err = netip.ParseAddr(opts.IP); err != nil {
			return fmt.Errorf("--ip %q: %w", opts.IP, err)
		}
		ip = ip.Unmap()
	}
	aopts, closeFn, err := correlate(ctx, g, opts.Inputs, opts.Session, opts.Campaign, opts.Trace)
	if err != nil {
		return err
	}
	defer closeFn()
	// Streamed: chains need only events with a forwarded-for path and
	// flows, and campaigns only when one is asked for.
	stage := analyze.StreamCampaigns
	if opts.CampaignID == "" {
		aopts.Until, stage = analyze.StageIngest, analyze.TraceRecords
	}
	c, runErr := g.runStage(ctx, *aopts, stage)
	if c == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
		return outcome(c, runErr)
	}
	chains := c.Chains // TraceRecords' without --campaign
	switch {
	case opts.CampaignID != "":
		found := false
		for _, cp := range c.Campaigns {
			if cp.ID == opts.CampaignID {
				chains, found = cp.Hops, true
			}
		}
		if !found {
			return fmt.Errorf("--campaign %s: no such campaign in these inputs (%d campaigns)", opts.CampaignID, len(c.Campaigns))
		}
	case ip.IsValid():
		chains = trace.Filter(chains, ip)
	}
	if chains == nil {
		chains = []forensics.Chain{}
	}
	if format == "text" {
		for _, ch := range chains {
			if _, err := fmt.Fprintln(g.io.Out, report.TerminalSafe(trace.String(ch))); err != nil {
				return fmt.Errorf("write chains: %w", err)
			}
		}
	} else if err := report.WriteRecords(g.io.Out, "jsonl", chains); err != nil {
		return fmt.Errorf("write chains: %w", err)
	}
	if !g.Quiet {
		printProblems(g.io.ErrOut, c)
	}
	return outcome(c, runErr)
}
