package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/testdata/gen/benchlog"
)

// BenchmarkEventsCommand is `tracehop events --no-enrich -q FILE` run
// in-process end to end (hash pass, open, parse, encode, write) on a
// generated file, output discarded as the command-level measurement's
// `> /dev/null` does. Run it with GOMAXPROCS=1 for the per-core figure.
func BenchmarkEventsCommand(b *testing.B) {
	for _, c := range []struct {
		name string
		ecs  bool
	}{{"combined", false}, {"ecs", true}} {
		b.Run(c.name, func(b *testing.B) {
			benchEvents(b, c.name, c.ecs, func(int) []string { return nil })
		})
	}
}

// BenchmarkSessionsCommand is `tracehop sessions --no-enrich -q FILE`
// in-process on the generated combined log: the events read into session
// items, their external sort, the grouping and the sessions spool.
func BenchmarkSessionsCommand(b *testing.B) {
	benchCommand(b, "sessions", "combined", false, func(int) []string { return nil })
}

// BenchmarkEventsParquet is `tracehop events --no-enrich -q --format
// parquet --out DIR FILE` in-process on the generated combined log: the
// spool, the decoding on every core and the Parquet encoding.
func BenchmarkEventsParquet(b *testing.B) {
	benchEvents(b, "combined", false, func(run int) []string {
		return []string{"--format", "parquet", "--out", "table" + strconv.Itoa(run)}
	})
}

// benchEvents runs `tracehop events --no-enrich -q [flags(run)...] FILE`
// in a loop on a generated log of 100k lines named name, reporting
// lines per second and per CPU-second.
func benchEvents(b *testing.B, name string, ecs bool, flags func(run int) []string) {
	benchCommand(b, "events", name, ecs, flags)
}

// benchCommand runs `tracehop CMD --no-enrich -q [flags(run)...] FILE`
// as benchEvents does.
func benchCommand(b *testing.B, cmd, name string, ecs bool, flags func(run int) []string) {
	const lines = 100_000
	// A short relative name, as in `make logs-bench-peers`: the name is
	// hashed into every event ID.
	b.Chdir(b.TempDir())
	path := filepath.Join("logs", name+".log")
	if err := os.Mkdir("logs", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := benchlog.Write(path, lines, ecs); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var n, run int
	c0 := benchCPUTime()
	for b.Loop() {
		run++
		root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
		root.SetArgs(append(append([]string{cmd, "--no-enrich", "-q"}, flags(run)...), path))
		if err := root.ExecuteContext(context.Background()); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	if d := benchCPUTime() - c0; d > 0 {
		b.ReportMetric(float64(n)/d.Seconds(), "lines/cpu-s")
	}
}
