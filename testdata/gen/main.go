// Command gen writes tracehop's test fixtures and sample case
// deterministically from a seed: `go run ./testdata/gen` (from the repo
// root) rewrites testdata/demo, testdata/truth.json, testdata/mmdb and the
// fixtures of other packages; a test checks the committed files match.
//
// Benchmark inputs are large and never committed: see the -bench-* flags
// and `make bench-data`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "testdata", "testdata directory to write into")
	seed := flag.Uint64("seed", 20250701, "random seed of the sample case")
	benchPCAP := flag.String("bench-pcap", "", "write a benchmark capture to this path instead of the fixtures")
	benchPCAPSize := flag.Int64("bench-pcap-size", 1<<30, "size of the benchmark capture in bytes")
	benchPCAPClients := flag.Int("bench-pcap-clients", 120000, "distinct client addresses in the benchmark capture")
	benchLogs := flag.String("bench-logs", "", "write benchmark logs into this directory instead of the fixtures")
	benchLines := flag.Int("bench-lines", 5_000_000, "lines per benchmark log")
	flag.Parse()

	var err error
	switch {
	case *benchPCAP != "":
		err = writeBenchPCAP(*benchPCAP, *benchPCAPSize, *benchPCAPClients)
	case *benchLogs != "":
		err = writeBenchLogs(*benchLogs, *benchLines)
	default:
		err = writeFixtures(*root, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// writeFixtures writes every committed fixture under root.
func writeFixtures(root string, seed uint64) error {
	dirs := map[string]string{}
	for _, d := range []string{"demo", "mmdb", "enrich/snapshots", "relay"} {
		p := filepath.Join(root, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		dirs[d] = p
	}
	s := newScenario(seed)
	steps := []struct {
		name string
		run  func() error
	}{
		{"access logs", func() error { return s.writeAccessLogs(dirs["demo"]) }},
		{"gateway log", func() error { return s.writeGatewayLog(filepath.Join(dirs["demo"], "api.jsonl")) }},
		{"edge capture", func() error { return s.writeCapture(filepath.Join(dirs["demo"], "edge.pcap")) }},
		{"demo databases", func() error { return s.writeMMDB(dirs["mmdb"]) }},
		{"truth", func() error { return writeJSON(filepath.Join(root, "truth.json"), s.truth) }},
		{"snapshots", func() error { return writeSnapshots(dirs["enrich/snapshots"]) }},
		{"relay captures", func() error { return writeRelay(dirs["relay"]) }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
