package main

import (
	"context"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
)

func TestZZProf(t *testing.T) {
	in := os.Getenv("ZZ_IN")
	if in == "" {
		t.Skip()
	}
	f, _ := os.Create("/tmp/an.prof")
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.SetArgs([]string{"analyze", "-q", "--no-enrich", "--report-time", "2026-01-01T00:00:00Z", "--out", t.TempDir() + "/o", in})
	err := root.ExecuteContext(context.Background())
	t.Log(err)
}
