//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe among the inputs ends the run with exit 2 naming it, not a
// wait for a writer that never comes (analyze also re-hashes inputs
// before writing the bundle).
func TestNamedPipeInputRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{
		{"analyze", "--no-enrich", "--out", filepath.Join(t.TempDir(), "out"), fifo},
		{"events", "--no-enrich", fifo},
		{"flows", "--no-enrich", fifo},
	} {
		done := make(chan struct{})
		var errOut string
		var code int
		go func() {
			defer close(done)
			_, errOut, code = runCLI(t, args...)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: still waiting on the pipe", args[0])
		}
		if code != exitInput || !strings.Contains(errOut, "not a regular file") {
			t.Errorf("%s: exit %d, stderr %q", args[0], code, errOut)
		}
	}
}
