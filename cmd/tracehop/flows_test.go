package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/capture"
	"github.com/tracehop/tracehop/forensics/report"
)

func TestFlowsFlags(t *testing.T) {
	var got *flowsOptions
	g := &globalOptions{io: &ioStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
	cmd := newFlowsCmd(g, func(o *flowsOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.pcap", "b.pcapng", "--community-id-seed", "7", "--max-flows", "10", "--idle-timeout", "1m", "--no-app-meta"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got.Inputs) != 2 || got.CommunityIDSeed != 7 || got.MaxFlows != 10 || got.IdleTimeout.Minutes() != 1 || !got.NoAppMeta {
		t.Errorf("options %+v", got)
	}
}

func corpusPcap(t *testing.T, rel string) string {
	p := repoFile(filepath.Join("..", "shared", "corpus", "pcap", rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	return p
}

// flows writes sorted JSON Lines with the evidence hash filled in, the
// same bytes on every run.
func TestFlowsRun(t *testing.T) {
	p := corpusPcap(t, "zeek/wikipedia.pcap")
	out1, errOut, code := runCLI(t, "flows", "--no-enrich", p)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	out2, _, _ := runCLI(t, "flows", "--no-enrich", p)
	if out1 != out2 {
		t.Error("output differs between runs")
	}
	lines := strings.Split(strings.TrimSpace(out1), "\n")
	prev := ""
	for _, l := range lines {
		var f struct {
			Start    string `json:"start"`
			Evidence struct {
				SHA256 string `json:"sha256"`
				Packet uint64 `json:"packet"`
			} `json:"evidence"`
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		if len(f.Evidence.SHA256) != 64 || f.Evidence.Packet == 0 {
			t.Errorf("evidence not filled: %s", l)
		}
		if f.Start < prev {
			t.Errorf("not sorted by start: %s after %s", f.Start, prev)
		}
		prev = f.Start
	}
	csv, _, code := runCLI(t, "flows", "--no-enrich", "--format", "csv", p)
	if code != 0 || !strings.HasPrefix(csv, "bytes_in,") || strings.Count(csv, "\n") != len(lines)+1 {
		t.Errorf("csv: code %d, %d lines for %d flows", code, strings.Count(csv, "\n"), len(lines))
	}
}

// A truncated capture gives the flows read so far, the position where it
// ends, and exit code 3.
func TestFlowsTruncatedExit3(t *testing.T) {
	data, err := os.ReadFile(corpusPcap(t, "zeek/get.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(p, data[:3000], 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "flows", "--no-enrich", p)
	if code != exitSkipped {
		t.Errorf("code %d, want %d", code, exitSkipped)
	}
	if strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "truncated at byte 2120 / packet 7") {
		t.Errorf("stdout %q stderr %q", out, errOut)
	}
}

func TestFlowsBadFormat(t *testing.T) {
	_, errOut, code := runCLI(t, "flows", "--format", "pdf", "x.pcap")
	if code == 0 || !strings.Contains(errOut, "jsonl, csv or parquet") {
		t.Errorf("code %d stderr %q", code, errOut)
	}
}

// The external sort (runs spilled to disk and merged) writes exactly what
// sorting everything in memory and report.WriteRecords would.
func TestFlowSorterSpillMatchesInMemory(t *testing.T) {
	p := corpusPcap(t, "zeek/wikipedia.pcap")
	out, _, code := runCLI(t, "flows", "--no-enrich", p)
	if code != 0 {
		t.Fatal(code)
	}
	var flows []forensics.Flow
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var f forensics.Flow
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		flows = append(flows, f)
	}
	// Runs are encoded when added, spilled as binary records, and the
	// hash spliced in at output; csv flattens the merged lines.
	for _, c := range []struct{ format string }{{"jsonl"}, {"csv"}} {
		shas := []string{strings.Repeat("ab", 32), ""}
		s := analyze.NewFlowSorter(4, 2, nil)
		s.SetSHA256(0, shas[0])
		defer s.Cleanup()
		// Two "inputs", in reverse and shuffled order, several runs each;
		// input 0's hash is filled in by the sorter.
		input := func(i int) int { return i % 2 }
		for i := len(flows) - 1; i >= 0; i -= 3 {
			run := slices.Clone(flows[max(0, i-2) : i+1]) // the sorter takes runs over
			for j := range run {
				if input(i) == 0 {
					run[j].Evidence.SHA256 = ""
				}
			}
			if err := s.Add(run, input(i)); err != nil {
				t.Fatal(err)
			}
		}
		if s.Spilled() == 0 {
			t.Fatal("nothing spilled")
		}
		var got, want bytes.Buffer
		if err := writeFlows(&got, c.format, s); err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(flows)
		for i := len(flows) - 1; i >= 0; i -= 3 {
			for j := max(0, i-2); j <= i; j++ {
				if input(i) == 0 {
					sorted[j].Evidence.SHA256 = shas[0]
				}
			}
		}
		capture.SortFlows(sorted)
		if err := report.WriteRecords(&want, c.format, sorted); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: merged output differs:\n%s\nwant:\n%s", c.format, got.String(), want.String())
		}
	}
}

// BenchmarkFlowSorter is the sort, spill and merge of `tracehop flows`:
// runs encoded by capture.FlowEncoder when added, spilled as binary
// records, merged by copying bytes.
func BenchmarkFlowSorter(b *testing.B) {
	p := repoFile(filepath.Join("..", "shared", "corpus", "pcap", "zeek", "wikipedia.pcap"))
	if _, err := os.Stat(p); err != nil {
		b.Skipf("corpus not present: %v", err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	var flows []forensics.Flow
	if _, err := capture.Read(b.Context(), bytes.NewReader(data), "wikipedia.pcap", capture.DefaultOptions(), func(f forensics.Flow) {
		flows = append(flows, f)
	}); err != nil {
		b.Fatal(err)
	}
	const n = 20000
	b.ReportAllocs()
	for b.Loop() {
		s := analyze.NewFlowSorter(2000, 2, nil)
		s.SetSHA256(0, strings.Repeat("ab", 32))
		for i := 0; i < n; i += 1000 {
			run := make([]forensics.Flow, 1000)
			for j := range run {
				run[j] = flows[(i+j)%len(flows)]
				run[j].ID = fmt.Sprintf("flow-%08d", i+j)
			}
			if err := s.Add(run, 0); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.WriteJSONL(io.Discard); err != nil {
			b.Fatal(err)
		}
		s.Cleanup()
	}
}

// A problem whose reason is the input's own error names the file once.
func TestPrintProblemsNamesFileOnce(t *testing.T) {
	var b bytes.Buffer
	printProblems(&b, &forensics.Case{Problems: []forensics.Problem{
		{File: "a.log", Reason: "a.log: unknown input kind"},
		{File: "b.log", Line: 7, Reason: "bad request line"},
	}})
	want := "a.log: unknown input kind\nb.log line 7: bad request line\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
