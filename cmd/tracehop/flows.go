package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/capture"
	"github.com/tracehop/tracehop/forensics/report"
)

type flowsOptions struct {
	g      *globalOptions
	Inputs []string

	CommunityIDSeed uint16
	MaxFlows        int
	IdleTimeout     time.Duration
	ActiveTimeout   time.Duration
	NoAppMeta       bool
	// Out is the directory of --format parquet.
	Out string
}

func newFlowsCmd(g *globalOptions, runF func(*flowsOptions) error) *cobra.Command {
	def := capture.DefaultOptions()
	opts := &flowsOptions{g: g}
	cmd := &cobra.Command{
		Use:   "flows INPUT...",
		Short: "Transport flows from captures and flow records (jsonl|csv to stdout, or parquet)",
		Long: `Reads pcap and pcapng captures (gzip/zstd too) and flow records (Zeek conn,
nfdump CSV) and writes one bidirectional flow per line, sorted by start time
then ID: Community ID, packets and bytes per direction, TCP state, HTTP/TLS/SSH/
DNS metadata with JA3/JA3S/JA4/HASSH fingerprints, enrichment of both ends
(unless --no-enrich) and the evidence reference (file, SHA-256, packet number).
Several inputs are read in parallel. A truncated or damaged capture gives the
flows read so far, a "truncated at byte N / packet N" note on stderr, and exit
code 3. --format parquet --out DIR writes a table partitioned by the UTC day of
each flow's start instead (manifest.json and SHA256SUMS beside it).`,
		Example: `  tracehop flows edge.pcapng.gz --format csv > flows.csv
  tracehop flows captures/ --no-enrich --community-id-seed 1
  tracehop flows captures/ --format parquet --out flows-table/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if runF != nil {
				return runF(opts)
			}
			return runFlows(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.Uint16Var(&opts.CommunityIDSeed, "community-id-seed", def.CommunityIDSeed, "Community ID v1 seed (Zeek, Suricata and Arkime default to 0)")
	f.IntVar(&opts.MaxFlows, "max-flows", def.MaxFlows, "live flows kept per capture; beyond it the least recently seen flow is emitted early (reported as a cap hit)")
	f.DurationVar(&opts.IdleTimeout, "idle-timeout", def.IdleTimeout, "end a flow after this long without packets (capture time)")
	f.DurationVar(&opts.ActiveTimeout, "active-timeout", def.ActiveTimeout, "split flows lasting longer than this")
	f.BoolVar(&opts.NoAppMeta, "no-app-meta", false, "skip HTTP/TLS/SSH/DNS metadata and fingerprints")
	bindParquetOut(f, &opts.Out)
	return cmd
}

func runFlows(ctx context.Context, opts *flowsOptions) error {
	g := opts.g
	format := g.Format
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" && format != "parquet" {
		return fmt.Errorf("--format %q: flows are written as jsonl, csv or parquet", format)
	}
	if err := checkParquetOut(format, opts.Out, opts.Inputs); err != nil {
		return err
	}
	if opts.MaxFlows <= 0 {
		return fmt.Errorf("--max-flows %d: must be positive", opts.MaxFlows)
	}
	aopts, enr, err := g.analyzeOptions(opts.Inputs, analyze.StageIngest)
	if err != nil {
		return err
	}
	if enr != nil {
		defer enr.Close()
	}
	aopts.Capture.CommunityIDSeed = opts.CommunityIDSeed
	aopts.Capture.MaxFlows = opts.MaxFlows
	aopts.Capture.IdleTimeout = opts.IdleTimeout
	aopts.Capture.ActiveTimeout = opts.ActiveTimeout
	aopts.Capture.NoAppMeta = opts.NoAppMeta

	c, sorter, runErr := analyze.StreamFlows(ctx, aopts)
	if sorter != nil {
		defer sorter.Cleanup()
	}
	if c != nil {
		c.Tool = toolInfo()
	}
	if c == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
		return outcome(c, runErr)
	}
	if format == "parquet" {
		m, err := analyze.FlowsParquet(ctx, opts.Out, c, sorter, aopts, c.Tool)
		if err != nil {
			return fmt.Errorf("write flows: %w", err)
		}
		if !g.Quiet {
			printParquetSummary(g.io.ErrOut, opts.Out, m)
		}
	} else if err := writeFlows(g.io.Out, format, sorter); err != nil {
		return fmt.Errorf("write flows: %w", err)
	}
	if !g.Quiet {
		printProblems(g.io.ErrOut, c)
	}
	return outcome(c, runErr)
}

// printProblems lists, on stderr, what was skipped and every cap hit, so a
// truncated capture or an eviction never goes unnoticed.
func printProblems(w io.Writer, c *forensics.Case) {
	const shown = 20
	for i, p := range c.Problems {
		if i == shown {
			fmt.Fprintf(w, "... and %d more problems\n", len(c.Problems)-shown)
			break
		}
		pos := ""
		switch {
		case p.Packet > 0:
			pos = fmt.Sprintf(" packet %d (byte %d)", p.Packet, p.Offset)
		case p.Line > 0:
			pos = fmt.Sprintf(" line %d", p.Line)
		}
		// An unreadable input's reason is its error, which names the file.
		reason := strings.TrimPrefix(p.Reason, p.File+": ")
		fmt.Fprintf(w, "%s%s: %s\n", report.TerminalSafe(p.File), pos, report.TerminalSafe(reason))
	}
	printCaps(w, c.Caps)
}

// printCaps lists the limits a run reached, one line each.
func printCaps(w io.Writer, caps []forensics.CapHit) {
	for _, h := range caps {
		if h.File == "" { // a limit of the whole run (hop chains)
			fmt.Fprintf(w, "cap hit: %s: %d\n", h.Cap, h.Count)
			continue
		}
		fmt.Fprintf(w, "cap hit: %s in %s: %d\n", h.Cap, report.TerminalSafe(h.File), h.Count)
	}
}

// writeFlows streams the merged flows as JSON Lines, or as CSV in two
// passes over the merged lines (the header is the sorted union of
// columns, as report.WriteRecords makes it, without holding the rows).
func writeFlows(w io.Writer, format string, s *analyze.FlowSorter) error {
	if format == "jsonl" {
		return s.WriteJSONL(w)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cols := report.NewCSVColumns()
	if err := s.EachLine(func(line []byte) error { return cols.Add(report.CompactJSON(line)) }); err != nil {
		return err
	}
	rows, err := report.NewCSVRows(bw, cols.Header())
	if err != nil {
		return err
	}
	if err := s.EachLine(func(line []byte) error { return rows.Write(report.CompactJSON(line)) }); err != nil {
		return err
	}
	if err := rows.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
