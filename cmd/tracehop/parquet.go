package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/hive"
	"github.com/tracehop/tracehop/forensics/report"
)

// --format parquet (flows, events, sessions) writes a directory, not
// stdout: a Hive-partitioned table (DESIGN §9).

func bindParquetOut(f *pflag.FlagSet, out *string) {
	f.StringVar(out, "out", "", "directory for --format parquet: a new or empty directory that receives date=YYYY-MM-DD/part-NNNNN.parquet, SHA256SUMS and manifest.json")
}

// checkParquetOut pairs --format parquet with --out, a directory that is
// new or empty and outside every input (evidence folders are never
// written to).
func checkParquetOut(format, out string, inputs []string) error {
	switch {
	case format == "parquet" && out == "":
		return fmt.Errorf("--format parquet writes a directory: give it with --out DIR")
	case format != "parquet" && out != "":
		return fmt.Errorf("--out is for --format parquet; %s goes to stdout", format)
	case format == "parquet":
		if err := evidence.CheckOutput(out, inputs); err != nil {
			return err
		}
		return hive.CheckDir(out)
	}
	return nil
}

// printParquetSummary says on stderr what was written where.
func printParquetSummary(w io.Writer, dir string, m *hive.Manifest) {
	fmt.Fprintf(w, "%s: %d rows in %d files under %s (manifest.json, SHA256SUMS)\n",
		m.Table, m.Rows, len(m.Files), report.TerminalSafe(dir))
}
