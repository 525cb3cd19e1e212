package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/report"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

type sessionsOptions struct {
	g       *globalOptions
	Inputs  []string
	Session session.Options
	// Out is the directory of --format parquet.
	Out string
}

func newSessionsCmd(g *globalOptions, runF func(*sessionsOptions) error) *cobra.Command {
	opts := &sessionsOptions{g: g, Session: session.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "sessions INPUT...",
		Short: "Sessions from events and flows (jsonl|csv to stdout, or parquet)",
		Long: `Reads the inputs like events and flows do and groups them into sessions: log
events from one client address with the same user agent and credential, or
flows from one source with the same TLS/SSH fingerprint, until an idle gap
(--session-gap). Each session carries the indicators campaigns are built on:
credential and token key id, user agent, JA3/JA4/HASSH, path templates,
method/status mix, distinct objects, sequential reads, /24 or /48, ASN,
hosting/anonymizer flags, hour-of-week profile and beacon period.

--format parquet --out DIR writes a sessions table (Hive-partitioned by the
UTC day of each session's start) that tracehop campaigns takes as INPUT:
sessions of many months or machines grouped in one run.`,
		Example: `  tracehop sessions testdata/demo/access.log --home KR
  tracehop sessions api.jsonl --field credential=auth.key_id --session-gap 15m --format csv
  tracehop sessions logs-2025-06/ --format parquet --out sessions-2025-06/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if runF != nil {
				return runF(opts)
			}
			return runSessions(cmd.Context(), opts)
		},
	}
	bindSessionFlags(cmd.Flags(), &opts.Session)
	bindParquetOut(cmd.Flags(), &opts.Out)
	return cmd
}

// bindSessionFlags adds the sessionization flags shared by sessions,
// campaigns and trace.
func bindSessionFlags(f *pflag.FlagSet, o *session.Options) {
	f.DurationVar(&o.Gap, "session-gap", o.Gap, "idle time that ends a session")
	f.IntVar(&o.MaxObjects, "session-max-objects", o.MaxObjects, "distinct objects remembered per session (the count saturates there)")
	f.Int64Var(&o.SeqMaxStep, "seq-max-step", o.SeqMaxStep, "largest forward step between reads that still counts as a sequential read")
	f.IntVar(&o.BeaconMinEvents, "beacon-min-events", o.BeaconMinEvents, "fewest events a session's beacon score is computed on")
}

func recordFormat(g *globalOptions, allowed ...string) (string, error) {
	format := g.Format
	if format == "" {
		format = allowed[0]
	}
	for _, a := range allowed {
		if format == a {
			return format, nil
		}
	}
	return "", fmt.Errorf("--format %q: want one of %s", format, strings.Join(allowed, ", "))
}

func runSessions(ctx context.Context, opts *sessionsOptions) error {
	g := opts.g
	format, err := recordFormat(g, "jsonl", "csv", "parquet")
	if err != nil {
		return err
	}
	if err := checkParquetOut(format, opts.Out, opts.Inputs); err != nil {
		return err
	}
	aopts, enr, err := g.analyzeOptions(opts.Inputs, analyze.StageSessions)
	if err != nil {
		return err
	}
	if enr != nil {
		defer enr.Close()
	}
	aopts.Session = opts.Session
	var cols *report.CSVColumns
	if format == "csv" {
		cols = report.NewCSVColumns()
	}
	// Streamed: memory holds the sessions open at a time, not the records.
	sp, c, runErr := g.streamSessions(ctx, aopts, cols)
	if sp == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
		return outcome(c, runErr)
	}
	defer sp.Close()
	if err := writeSessions(ctx, g, format, opts.Out, sp, c, aopts); err != nil {
		return err
	}
	if !g.Quiet {
		printProblems(g.io.ErrOut, c)
	}
	return outcome(c, runErr)
}

// streamSessions runs analyze.StreamSessions with a progress bar on a
// terminal, as runPipeline does analyze.Run.
func (g *globalOptions) streamSessions(ctx context.Context, aopts analyze.Options, cols *report.CSVColumns) (*analyze.SessionSpool, *forensics.Case, error) {
	defer g.progress(&aopts)()
	sp, c, err := analyze.StreamSessions(ctx, aopts, cols)
	if c != nil {
		c.Tool = toolInfo()
		c.Home = aopts.Home
	}
	return sp, c, err
}

// writeSessions writes the spooled sessions in format: the bytes
// report.WriteRecords writes for jsonl and csv.
func writeSessions(ctx context.Context, g *globalOptions, format, out string, sp *analyze.SessionSpool, c *forensics.Case, aopts analyze.Options) error {
	if format == "parquet" {
		m, err := analyze.SessionsParquet(ctx, out, sp, c, aopts, toolInfo())
		if err != nil {
			return fmt.Errorf("write sessions: %w", err)
		}
		if !g.Quiet {
			printParquetSummary(g.io.ErrOut, out, m)
		}
		return nil
	}
	bw := bufio.NewWriterSize(g.io.Out, 1<<20)
	write := func(line []byte) error {
		_, err := bw.Write(line)
		return err
	}
	var rows *report.CSVRows
	if format == "csv" {
		var err error
		if rows, err = report.NewCSVRows(bw, sp.Columns().Header()); err != nil {
			return fmt.Errorf("write sessions: %w", err)
		}
		write = func(line []byte) error { return rows.Write(report.CompactJSON(line)) }
	}
	err := sp.Each(write)
	if rows != nil && err == nil {
		err = rows.Flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	return nil
}

// bindCampaignFlags adds every campaign weight and threshold (DESIGN §6).
func bindCampaignFlags(f *pflag.FlagSet, o *campaign.Options, weights *[]string) {
	f.Float64Var(&o.StrongWeight, "weight-strong", o.StrongWeight, "weight of strong links: same credential or token key id, work hand-over")
	f.Float64Var(&o.MediumWeight, "weight-medium", o.MediumWeight, "weight of medium links: same rare fingerprint tuple (JA4/JA3/HASSH + user agent)")
	f.Float64Var(&o.WeakWeight, "weight-weak", o.WeakWeight, "weight of weak links: same /24 or /48, same ASN, hour-of-week profile, beacon period")
	f.Float64Var(&o.Threshold, "merge-threshold", o.Threshold, "summed link weight at which two sessions join (at least one link must not be infrastructure)")
	f.Float64Var(&o.InfraCap, "infra-cap", o.InfraCap, "most that infrastructure links (network, ASN) add together")
	f.Float64Var(&o.HubShare, "hub-share", o.HubShare, "share of sessions above which an indicator value is a hub and drops one class")
	f.IntVar(&o.HubMinSessions, "hub-min-sessions", o.HubMinSessions, "floor under --hub-share, in sessions, so small inputs keep their rare values")
	f.IntVar(&o.HubCredentials, "hub-credentials", o.HubCredentials, "distinct credentials above which an indicator value is a hub")
	f.DurationVar(&o.HandoverWindow, "handover-window", o.HandoverWindow, "how soon another address must continue a sequential read (work hand-over)")
	f.Int64Var(&o.HandoverMaxStep, "handover-max-step", o.HandoverMaxStep, "largest step from the last object read to the next one in a hand-over")
	f.IntVar(&o.HandoverMinRun, "handover-min-run", o.HandoverMinRun, "fewest sequential reads each side of a hand-over must show")
	f.DurationVar(&o.InfraWindow, "infra-window", o.InfraWindow, "time window of the same-network and same-ASN links")
	f.Float64Var(&o.ProfileCosine, "profile-cosine", o.ProfileCosine, "hour-of-week cosine similarity that links")
	f.IntVar(&o.ProfileMinEvents, "profile-min-events", o.ProfileMinEvents, "fewest events an hour-of-week profile needs to be compared")
	f.Float64Var(&o.EnumObjects, "enum-objects", o.EnumObjects, "distinct objects per session that count as full enumeration in the score")
	f.DurationVar(&o.FullDuration, "full-duration", o.FullDuration, "campaign span that counts as fully long-running in the score")
	f.IntVar(&o.MaxBridgeWork, "max-bridge-work", o.MaxBridgeWork, "bound on the bridge search per campaign (links × edges)")
	f.Float64Var(&o.BeaconMinScore, "beacon-score", o.BeaconMinScore, "beacon score both sessions need for the beacon link")
	f.Float64Var(&o.BeaconTolerance, "beacon-tolerance", o.BeaconTolerance, "relative difference of beacon periods still counted the same")
	f.IntVar(&o.BlockSize, "block-size", o.BlockSize, "candidate sessions compared pairwise per indicator value before blocking")
	f.Float64Var(&o.AttackScore, "attack-score", o.AttackScore, "triage score from which a campaign is labelled attack")
	f.Float64Var(&o.SingletonScore, "singleton-score", o.SingletonScore, "triage score from which a single session is a campaign")
	f.IntVar(&o.MinSessions, "min-sessions", o.MinSessions, "smallest group of sessions that is a campaign")
	f.BoolVar(&o.IncludeOrdinary, "all-campaigns", o.IncludeOrdinary, "also list low-score groups of ordinary clients (label ordinary)")
	f.StringArrayVar(weights, "score-weight", nil, "weight of a triage component NAME=W (foreign, hosting, enumeration, failure, scanner, regularity, duration; repeatable)")
}

// applyScoreWeights parses --score-weight values into o.
func applyScoreWeights(o *campaign.Options, weights []string) error {
	if len(weights) == 0 {
		return nil
	}
	m := make(map[string]float64, len(o.ScoreWeights))
	for k, v := range o.ScoreWeights {
		m[k] = v
	}
	for _, w := range weights {
		name, val, ok := strings.Cut(w, "=")
		if _, known := m[name]; !ok || !known {
			return fmt.Errorf("--score-weight %q: want NAME=W with NAME one of foreign, hosting, enumeration, failure, scanner, regularity, duration", w)
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("--score-weight %q: weight must be a non-negative number", w)
		}
		m[name] = f
	}
	o.ScoreWeights = m
	return nil
}

// traceFlagNames are the names of the flags bindTraceFlags adds.
func traceFlagNames() []string {
	f := pflag.NewFlagSet("trace", pflag.ContinueOnError)
	var o trace.Options
	bindTraceFlags(f, &o)
	var names []string
	f.VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	return names
}

// bindTraceFlags adds the relay-pairing thresholds (Zhang–Paxson) and the
// chain cap.
func bindTraceFlags(f *pflag.FlagSet, o *trace.Options) {
	f.DurationVar(&o.Idle, "onoff-idle", o.Idle, "idle time that ends an ON period")
	f.DurationVar(&o.Delta, "onoff-delta", o.Delta, "how close two OFF→ON transitions must be to coincide")
	f.Float64Var(&o.MinRatio, "onoff-ratio", o.MinRatio, "coincidence ratio that pairs a relay's inbound and outbound traffic")
	f.IntVar(&o.MinCoincidences, "onoff-min", o.MinCoincidences, "fewest coincidences that verify a pairing")
	f.DurationVar(&o.TimingSlack, "timing-slack", o.TimingSlack, "start/end tolerance of timing-only pairing (unverified)")
	f.DurationVar(&o.TimingMinDuration, "timing-min-duration", o.TimingMinDuration, "shortest flows that may be paired on timing only")
	f.IntVar(&o.MaxRelayFlows, "max-relay-flows", o.MaxRelayFlows, "most flows through relays held for pairing (the first in time order); later ones are counted as trace.max_relay_flows")
	f.IntVar(&o.MaxChains, "max-chains", o.MaxChains, "most distinct forwarded-for paths traced (the first in time order); events of later paths are counted as trace.max_chains")
}
