package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
)

// analyzeOptions turns the shared input flags into pipeline options, and
// opens the enrichment databases unless --no-enrich. The caller closes the
// returned enricher (it may be nil).
func (g *globalOptions) analyzeOptions(inputs []string, until analyze.Stage) (analyze.Options, *enrich.Enricher, error) {
	opts := analyze.DefaultOptions()
	opts.Inputs, opts.Until = inputs, until
	opts.InputFormat, opts.LogFormat, opts.Home = g.InputFormat, g.LogFormat, strings.ToUpper(g.Home)
	if len(inputs) == 0 {
		return opts, nil, errors.New("no INPUT given (a file, a directory, or - for stdin)")
	}
	loc, err := time.LoadLocation(g.TZ)
	if err != nil {
		return opts, nil, fmt.Errorf("--tz %q: %w", g.TZ, err)
	}
	opts.TZ = loc
	if g.Year < 0 || g.Year > 9999 {
		return opts, nil, fmt.Errorf("--year %d: out of range", g.Year)
	}
	opts.Logs.Year = g.Year
	for _, c := range g.TrustProxy {
		p, err := parsePrefix(c)
		if err != nil {
			return opts, nil, fmt.Errorf("--trust-proxy %q: %w", c, err)
		}
		opts.TrustProxy = append(opts.TrustProxy, p)
	}
	opts.Fields = map[string]string{}
	for _, f := range g.Fields {
		name, path, ok := strings.Cut(f, "=")
		if !ok || name == "" || path == "" {
			return opts, nil, fmt.Errorf("--field %q: want NAME=PATH", f)
		}
		opts.Fields[name] = path
	}
	opts.ClockOffsets = map[string]time.Duration{}
	for _, c := range g.ClockOffset {
		file, d, ok := strings.Cut(c, "=")
		if !ok {
			return opts, nil, fmt.Errorf("--clock-offset %q: want FILE=DURATION", c)
		}
		dur, err := time.ParseDuration(d)
		if err != nil {
			return opts, nil, fmt.Errorf("--clock-offset %q: %w", c, err)
		}
		opts.ClockOffsets[file] = dur
	}
	if g.NoEnrich {
		return opts, nil, nil
	}
	e, err := enrich.New(enrich.Options{Paths: g.GeoIP, Home: opts.Home, UseEnv: true})
	if err != nil {
		return opts, nil, inputError(fmt.Errorf("open GeoIP databases: %w", err))
	}
	opts.Enricher = e
	return opts, e, nil
}

// parsePrefix accepts a CIDR or a bare address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// runPipeline runs analyze.Run with a progress bar on a terminal.
func (g *globalOptions) runPipeline(ctx context.Context, opts analyze.Options) (*forensics.Case, error) {
	return g.runStage(ctx, opts, analyze.Run)
}

// runStage runs a pipeline stage (analyze.Run, StreamCampaigns,
// TraceRecords) with a progress bar on a terminal, and names the tool
// and home country in its Case.
func (g *globalOptions) runStage(ctx context.Context, opts analyze.Options, run func(context.Context, analyze.Options) (*forensics.Case, error)) (*forensics.Case, error) {
	defer g.progress(&opts)()
	c, err := run(ctx, opts)
	if c != nil {
		c.Tool = toolInfo()
		c.Home = opts.Home
	}
	return c, err
}

// progress starts the progress bar of opts on a terminal (unless -q) and
// returns the function that stops it.
func (g *globalOptions) progress(opts *analyze.Options) (stop func()) {
	if !g.io.ErrTTY || g.Quiet {
		return func() {}
	}
	opts.Progress = &analyze.Progress{}
	return startProgress(g.io.ErrOut, opts.Progress)
}

// outcome maps a finished run to the exit-code contract: unusable inputs
// are exit 2 (after everything else was processed), skipped malformed
// records exit 3.
func outcome(c *forensics.Case, err error) error {
	if err != nil {
		if errors.Is(err, analyze.ErrInput) {
			return inputError(err)
		}
		return err
	}
	var malformed int64
	var files int
	for _, in := range c.Inputs {
		if in.Malformed > 0 {
			malformed += in.Malformed
			files++
		}
	}
	if malformed > 0 {
		return skippedError(fmt.Errorf("completed with %d malformed records skipped in %d input(s); details in the output", malformed, files))
	}
	return nil
}
