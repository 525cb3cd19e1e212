package analyze

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlowLogStreams: the flow records of a log (here Zeek JSON) go
// through the external sort in runs, as a capture's flows do, instead of
// being held whole; the merged output is what analyze.Run gives.
func TestFlowLogStreams(t *testing.T) {
	var b strings.Builder
	const n = 100
	for i := range n {
		fmt.Fprintf(&b, `{"ts":%d.5,"uid":"C%d","id.orig_h":"198.51.100.%d","id.orig_p":%d,"id.resp_h":"192.0.2.1","id.resp_p":443,"proto":"tcp","conn_state":"SF","orig_pkts":3,"resp_pkts":2}`+"\n",
			1750000000+(i*7919)%n, i, i%250, 1024+i)
	}
	path := filepath.Join(t.TempDir(), "conn.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Inputs, opts.Until = []string{path}, StageIngest
	s := NewFlowSorter(10, 1, nil)
	defer s.Cleanup()
	res := readCaptureInput(t.Context(), path, 0, opts, s)
	s.wait()
	if res.other || res.err != nil || res.input.Records != n || res.input.Kind != "zeek-json" {
		t.Fatalf("read: %+v", res)
	}
	if s.Spilled() == 0 {
		t.Fatal("no run spilled: the flows were held whole")
	}
	s.SetSHA256(0, res.input.SHA256)
	var got bytes.Buffer
	if err := s.WriteJSONL(&got); err != nil {
		t.Fatal(err)
	}

	c, err := Run(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ref := NewFlowSorter(1<<20, 1, nil)
	defer ref.Cleanup()
	if err := ref.Add(c.Flows, 0); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := ref.WriteJSONL(&want); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() || strings.Count(got.String(), "\n") != n {
		t.Errorf("streamed flows differ from analyze.Run's:\n%s\nwant:\n%s", got.String(), want.String())
	}
}
