package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tracehop/tracehop/testdata/gen/benchlog"
)

// writeBenchLogs writes the logs of the events benchmark (`make bench-data`)
// into dir: combined.log and ecs.jsonl, lines records each (see
// benchlog.Write).
func writeBenchLogs(dir string, lines int) error {
	if lines <= 0 {
		return fmt.Errorf("bench-lines %d: must be positive", lines)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := benchlog.Write(filepath.Join(dir, "combined.log"), lines, false); err != nil {
		return err
	}
	return benchlog.Write(filepath.Join(dir, "ecs.jsonl"), lines, true)
}
