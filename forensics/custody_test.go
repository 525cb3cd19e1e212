package forensics

import (
	"errors"
	"testing"
	"time"
)

func testCustody() []CustodyEntry {
	t0 := NewTime(time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC))
	log := ChainCustody(nil,
		CustodyEntry{Time: t0, Action: "case new", ToolVersion: "1.0"},
		CustodyEntry{Time: t0, Action: "case add", Args: []string{"a.pcap"}, ToolVersion: "1.0",
			Inputs: []FileHash{{Path: "a.pcap", Size: 10, SHA256: "aa"}}},
	)
	return append(log, ChainCustody(log, CustodyEntry{Time: t0, Action: "report", ToolVersion: "1.0",
		Outputs: []FileHash{{Path: "report.json", Size: 5, SHA256: "bb"}}})...)
}

func TestCustodyChain(t *testing.T) {
	log := testCustody()
	if err := VerifyCustody(log); err != nil {
		t.Fatalf("fresh log: %v", err)
	}
	if log[2].Seq != 3 || log[2].PrevHash != log[1].Hash || log[0].PrevHash != "" {
		t.Fatalf("bad chaining: %+v", log)
	}
	// The hash is pinned so a change of the canonical form is noticed:
	// existing case files and bundles would stop verifying.
	if got, want := log[0].Hash, "138e9fa4cb5629f4f80cb83f11570d8b2447ef602e35ba6163c0cf143107d51c"; got != want {
		t.Errorf("first entry hash %s, want %s", got, want)
	}
	tests := []struct {
		name   string
		mutate func([]CustodyEntry) []CustodyEntry
		index  int
	}{
		{"remove middle", func(l []CustodyEntry) []CustodyEntry { return append(l[:1:1], l[2:]...) }, 1},
		{"remove first", func(l []CustodyEntry) []CustodyEntry { return l[1:] }, 0},
		{"edit args", func(l []CustodyEntry) []CustodyEntry { l[1].Args = []string{"b.pcap"}; return l }, 1},
		{"edit input hash", func(l []CustodyEntry) []CustodyEntry { l[1].Inputs[0].SHA256 = "ab"; return l }, 1},
		{"swap", func(l []CustodyEntry) []CustodyEntry { l[1], l[2] = l[2], l[1]; return l }, 1},
		{"rehash edited", func(l []CustodyEntry) []CustodyEntry {
			l[1].Action = "x"
			l[1].Hash = l[1].ComputeHash()
			return l
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyCustody(tc.mutate(testCustody()))
			var ce *CustodyError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want CustodyError", err)
			}
			if ce.Index != tc.index {
				t.Errorf("failing index %d, want %d (%v)", ce.Index, tc.index, err)
			}
		})
	}
}
