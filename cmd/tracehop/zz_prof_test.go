package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

func TestZZProf(t *testing.T) {
	in := os.Getenv("ZZ_IN")
	if in == "" {
		t.Skip()
	}
	done := make(chan struct{})
	go func() {
		var max uint64
		for {
			select {
			case <-done:
				return
			case <-time.After(500 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max {
				max = ms.HeapInuse
				f, _ := os.Create("/tmp/heap.prof")
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
				println("heap", max>>20, "MB", time.Now().Format("15:04:05"))
			}
		}
	}()
	root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.SetArgs([]string{"analyze", "-q", "--no-enrich", "--report-time", "2026-01-01T00:00:00Z", "--out", t.TempDir() + "/o", in})
	err := root.ExecuteContext(context.Background())
	close(done)
	t.Log(err)
}
