package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestFixturesReproduce regenerates every fixture into a temporary
// directory and requires the committed files to match byte for byte, so a
// fixture can always be traced to the program that wrote it.
func TestFixturesReproduce(t *testing.T) {
	tmp := t.TempDir()
	if err := writeFixtures(tmp, 20250701); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		want, err := os.ReadFile(filepath.Join("..", rel))
		if err != nil {
			t.Errorf("%s: generated but not committed: %v", rel, err)
			return nil
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: committed file differs from the generator's output (run `go run ./testdata/gen`)", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 7 {
		t.Errorf("only %d fixtures generated", n)
	}
}
