package enrich

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/enrich")

// TestGoldenRecords pins the exact bytes of ip records from the embedded
// data plus the snapshot builds, as `tracehop ip --format json` prints
// them. After `make geodata` or a deliberate change of the record, run
// `go test ./enrich -run TestGoldenRecords -update` and review the diff.
func TestGoldenRecords(t *testing.T) {
	e, err := New(Options{Home: "KR", Paths: []string{filepath.Join(repoTestdata(t), "enrich", "snapshots")}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var buf bytes.Buffer
	for _, s := range []string{
		"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:1.1.1.1", "2002:c000:0204::1",
		"100.64.1.1", "10.0.0.1", "1.2.3.4", "47.246.1.1", "64:ff9b::808:808",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", "fe80::1%eth0", "203.0.113.7",
	} {
		b, err := json.Marshal(e.Lookup(netip.MustParseAddr(s), day("2025-07-14")))
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	golden := filepath.Join(repoTestdata(t), "enrich", "records.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("records differ from %s (run with -update after review):\n%s", golden, buf.Bytes())
	}
}
