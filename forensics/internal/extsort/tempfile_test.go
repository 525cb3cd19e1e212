package extsort

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"testing"
)

// TestCreateTempLeavesNoName: a spill file has no name in TMPDIR while it
// is used (so a killed run leaves nothing behind), reads back what was
// written, and RemoveTemp ends it without an error.
func TestCreateTempLeavesNoName(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	f, err := CreateTemp("tracehop-test-*.run")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); runtime.GOOS != "windows" && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("spill file %s has a name while open (%v)", f.Name(), err)
	}
	if _, err := f.WriteString("run"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(f); err != nil || string(b) != "run" {
		t.Errorf("read back %q, %v", b, err)
	}
	if err := RemoveTemp(f); err != nil {
		t.Errorf("RemoveTemp: %v", err)
	}
	if ents, _ := os.ReadDir(os.TempDir()); len(ents) != 0 {
		t.Errorf("TMPDIR holds %d entries after RemoveTemp", len(ents))
	}
}
