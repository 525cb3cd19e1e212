package forensics

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
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
	canon := `{"seq":1,"time":"2025-06-24T00:00:00.000000000Z","action":"case new","tool_version":"1.0","prev_hash":""}`
	if got, want := log[0].Hash, fmt.Sprintf("%x", sha256.Sum256([]byte(canon))); got != want {
		t.Errorf("first entry hash %s, want %s (sha256 of %s)", got, want, canon)
	}
	// A JSON round trip (as through custody.jsonl or the case file) keeps
	// every hash, even of arguments that are not UTF-8.
	log = append(log, ChainCustody(log, CustodyEntry{Action: "x", Args: []string{"\x96bad", "ok"}, User: "\xff"})...)
	for _, e := range log {
		b, _ := json.Marshal(e)
		var back CustodyEntry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.ComputeHash() != e.Hash {
			t.Errorf("entry %d: hash changes after a JSON round trip", e.Seq)
		}
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
