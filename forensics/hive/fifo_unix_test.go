//go:build unix

package hive

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNamedPipes: a named pipe planted where a table file, the manifest or
// the output directory should be is reported at once; nothing blocks on
// opening it (the test would time out).
func TestNamedPipes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "table")
	w, err := NewEvents(dir, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	// An empty table: plant a pipe as an unlisted file, then as the manifest.
	if err := syscall.Mkfifo(filepath.Join(dir, "part.parquet"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	checks, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if last := checks[len(checks)-1]; last.OK || !strings.Contains(last.Detail, "part.parquet") {
		t.Errorf("planted pipe not reported: %+v", last)
	}
	os.Remove(filepath.Join(dir, FileManifest))
	if err := syscall.Mkfifo(filepath.Join(dir, FileManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if IsTable(dir) {
		t.Error("a pipe as manifest.json made a table")
	}
	if checks, err := Verify(dir); err != nil || checks[0].OK || !strings.Contains(checks[0].Detail, "not a regular file") {
		t.Errorf("Verify: %v %+v", err, checks)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := syscall.Mkfifo(out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(out); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("CheckDir on a pipe: %v", err)
	}
	if IsTable(out) {
		t.Error("a pipe is a table")
	}
}
