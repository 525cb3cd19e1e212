package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics/analyze"
)

func TestProgressLine(t *testing.T) {
	p := &analyze.Progress{}
	p.BytesTotal.Store(100 << 20)
	p.BytesRead.Store(25 << 20)
	p.Records.Store(12345)
	got := progressLine(p, 5*time.Second)
	for _, want := range []string{"25.0 MiB / 100.0 MiB (25%)", "12345 records", "5.0 MiB/s", "ETA 15s"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress line %q lacks %q", got, want)
		}
	}
}

// TestNoProgressOffTerminal: with stderr not a terminal (as in CI, pipes,
// files) nothing but the summary reaches stderr, and --quiet drops that too.
func TestNoProgressOffTerminal(t *testing.T) {
	in := repoFile("testdata/demo/api.jsonl")
	_, errOut, code := runCLI(t, "analyze", in, "--no-enrich", "--out", filepath.Join(t.TempDir(), "b"), "--formats", "json")
	if code != 0 || strings.Contains(errOut, "\r") || !strings.Contains(errOut, "bundle") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, _ = runCLI(t, "analyze", in, "--no-enrich", "--quiet", "--out", filepath.Join(t.TempDir(), "b"), "--formats", "json")
	if errOut != "" {
		t.Errorf("--quiet printed %q", errOut)
	}
}

func TestProgressDrawsOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &analyze.Progress{}
	p.BytesTotal.Store(10)
	stop := startProgress(&buf, p)
	time.Sleep(300 * time.Millisecond)
	stop()
	if !strings.Contains(buf.String(), "\r") || !strings.Contains(buf.String(), "records") {
		t.Errorf("no progress drawn: %q", buf.String())
	}
}
