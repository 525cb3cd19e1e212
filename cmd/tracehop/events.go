package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/hive"
	"github.com/tracehop/tracehop/forensics/logs"
	"github.com/tracehop/tracehop/forensics/report"
)

type eventsOptions struct {
	g      *globalOptions
	Inputs []string
	// MaxLine and MaxField are the parser caps in bytes.
	MaxLine  int
	MaxField int
	// Out is the directory of --format parquet.
	Out string
}

func newEventsCmd(g *globalOptions, runF func(*eventsOptions) error) *cobra.Command {
	opts := &eventsOptions{g: g}
	def := logs.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "events INPUT...",
		Short: "One normalized event per log record (jsonl|csv to stdout, or parquet)",
		Long: `Reads server logs (Common/Combined/vhost access logs, nginx and Apache custom
formats with --log-format, W3C/IIS, AWS ALB/ELB, CloudFront, JSON lines with ECS
or common names, sshd via syslog) and writes one event per record: time (UTC)
beside the raw timestamp, source and client address with the proxy chain
walked through --trust-proxy, request fields, user and credential, enrichment
of the client (unless --no-enrich) and the evidence reference (file, SHA-256,
line, byte offset). Formats are detected per file; --input-format overrides.

jsonl is streamed in input order (inputs as walked, sorted), then line order:
memory stays flat whatever the file size, and each file is hashed first so
that every event carries the SHA-256 of its input. csv needs every record for
its header and is sorted by time then ID; parquet (with --out DIR) is a
Hive-partitioned table by UTC day, sorted the same way. Malformed lines are counted and
reported on stderr; the run ends with exit code 3 when any were skipped.`,
		Example: `  tracehop events access.log.gz --trust-proxy 10.0.0.0/8 > events.jsonl
  tracehop events api/ --field credential=auth.key_id --format csv > events.csv
  tracehop events auth.log --tz Europe/Berlin --year 2025 --no-enrich
  tracehop events logs/ --format parquet --out events-table/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if runF != nil {
				return runF(opts)
			}
			return runEvents(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.MaxLine, "max-line", def.MaxLine, "longest line parsed in bytes; longer lines are cut and flagged line_truncated")
	f.IntVar(&opts.MaxField, "max-field", def.MaxField, "longest field value kept in bytes; longer values are cut and flagged field_truncated")
	bindParquetOut(f, &opts.Out)
	return cmd
}

func runEvents(ctx context.Context, opts *eventsOptions) error {
	g := opts.g
	format := g.Format
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" && format != "parquet" {
		return fmt.Errorf("--format %q: events are written as jsonl, csv or parquet", format)
	}
	if err := checkParquetOut(format, opts.Out, opts.Inputs); err != nil {
		return err
	}
	aopts, enr, err := g.analyzeOptions(opts.Inputs, analyze.StageIngest)
	if err != nil {
		return err
	}
	if enr != nil {
		defer enr.Close()
	}
	aopts.Logs.MaxLine, aopts.Logs.MaxField = opts.MaxLine, opts.MaxField
	if ctx == nil {
		ctx = context.Background()
	}
	stdin := slices.Contains(opts.Inputs, "-")
	if stdin {
		// stdin cannot be read twice for its hash: the in-memory path.
		c, runErr := g.runPipeline(ctx, aopts)
		if c == nil || (runErr != nil && !errors.Is(runErr, analyze.ErrInput)) {
			return outcome(c, runErr)
		}
		slices.SortStableFunc(c.Events, func(a, b forensics.Event) int {
			return cmp.Or(a.Time.Compare(b.Time.Time), cmp.Compare(a.ID, b.ID))
		})
		if format == "parquet" {
			m, err := analyze.EventsParquetFromCase(opts.Out, c, aopts, toolInfo())
			if err != nil {
				return fmt.Errorf("write events: %w", err)
			}
			if !g.Quiet {
				printParquetSummary(g.io.ErrOut, opts.Out, m)
			}
		} else if err := report.WriteRecords(g.io.Out, format, c.Events); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		if !g.Quiet {
			printProblems(g.io.ErrOut, c)
		}
		return outcome(c, runErr)
	}
	if os.Getenv("GOGC") == "" && aopts.Enricher == nil && format != "parquet" {
		// Without enrichment the live heap is a few MiB of batches:
		// collecting at 4x instead of 2x costs ~25 MiB and saves ~15% of
		// the CPU time. (With it, the lookup cache is the live heap and
		// 4x would multiply it; Parquet's row-group buffers are tens of
		// MiB, so 4x would too.)
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	var c *forensics.Case
	var runErr error
	switch format {
	case "csv":
		c, runErr = analyze.StreamEventsCSV(ctx, g.io.Out, aopts)
	case "parquet":
		var m *hive.Manifest
		c, m, runErr = analyze.EventsParquet(ctx, opts.Out, aopts, toolInfo())
		if m != nil && !g.Quiet {
			printParquetSummary(g.io.ErrOut, opts.Out, m)
		}
	default:
		c, runErr = analyze.StreamEvents(ctx, g.io.Out, aopts)
	}
	if c == nil {
		return outcome(nil, runErr)
	}
	c.Tool = toolInfo()
	if !g.Quiet {
		printProblems(g.io.ErrOut, c)
	}
	return outcome(c, runErr)
}
