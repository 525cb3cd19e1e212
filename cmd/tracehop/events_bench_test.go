package main

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeEventsBenchLog writes n lines in the shapes of `make bench-data`
// (testdata/gen bench_logs.go): a combined log or ECS JSON lines.
func writeEventsBenchLog(tb testing.TB, path string, n int, ecs bool) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(20250624, 5))
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		`Mozilla/5.0 (compatible; \"scanner\"; +http://example.com/bot)`, "curl/8.5.0", "okhttp/4.12.0",
	}
	paths := []string{"/", "/static/app.js", "/.env", "/api/v1/items/", "/login", "/search?q="}
	t := time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	var b []byte
	for i := range n {
		t = t.Add(time.Duration(r.IntN(40)) * time.Millisecond)
		ip := netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		status := []int{200, 200, 200, 304, 404, 301, 500, 401}[r.IntN(8)]
		size := r.IntN(50000)
		ua := uas[r.IntN(len(uas))]
		path := paths[r.IntN(len(paths))]
		if strings.HasSuffix(path, "/") || strings.HasSuffix(path, "=") {
			path += strconv.Itoa(r.IntN(100000))
		}
		b = b[:0]
		if ecs {
			b = append(b, `{"@timestamp":"`...)
			b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
			b = append(b, `","source":{"ip":"`...)
			b = ip.AppendTo(b)
			b = append(b, `","port":`...)
			b = strconv.AppendInt(b, int64(1024+r.IntN(60000)), 10)
			b = append(b, `},"url":{"path":"`...)
			b = append(b, path...)
			b = append(b, `"},"http":{"request":{"method":"GET"},"response":{"status_code":`...)
			b = strconv.AppendInt(b, int64(status), 10)
			b = append(b, `,"body":{"bytes":`...)
			b = strconv.AppendInt(b, int64(size), 10)
			b = append(b, `}}},"user_agent":{"original":"`...)
			b = append(b, ua...)
			b = append(b, `"},"user":{"id":"u-`...)
			b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
			b = append(b, `"},"event":{"dataset":"api.access"}}`...)
		} else {
			b = ip.AppendTo(b)
			b = append(b, " - - ["...)
			b = t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
			b = append(b, `] "`...)
			if i%997 == 0 {
				b = append(b, `\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`...)
			} else {
				b = append(b, "GET "+path+" HTTP/1.1"...)
			}
			b = append(b, `" `...)
			b = strconv.AppendInt(b, int64(status), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(size), 10)
			b = append(b, ` "https://shop.example/" "`...)
			b = append(b, ua...)
			b = append(b, '"')
		}
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

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
	writeEventsBenchLog(b, path, lines, ecs)
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
