package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	for in, want := range map[string]int64{
		"MemTotal:       24731708 kB\nMemFree: 1 kB\n": 24731708 << 10,
		"MemFree: 1 kB\nMemTotal: 8 kB\n":              8 << 10,
		"MemTotal: 12 MB\n":                            0,
		"MemTotal: -5 kB\n":                            0,
		"MemTotal: x kB\n":                             0,
		"":                                             0,
	} {
		if got := parseMemTotal(strings.NewReader(in)); got != want {
			t.Errorf("%q: got %d, want %d", in, got, want)
		}
	}
}

func TestReadCgroupMax(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]int64{"max\n": 0, "1073741824\n": 1 << 30, "garbage": 0} {
		p := filepath.Join(dir, "memory.max")
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := readCgroupMax(p); got != want {
			t.Errorf("%q: got %d, want %d", in, got, want)
		}
	}
	if got := readCgroupMax(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("absent file: %d", got)
	}
}
