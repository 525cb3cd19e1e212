package trace_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/trace"
)

// TestRelayCaptures reads the two vantage-point captures written by
// testdata/gen (origin → relay at the relay's provider, relay → target at
// the victim, with an unrelated user of the same relay and an ordinary
// client of the victim) and expects exactly the chain origin → relay →
// target, paired by ON/OFF correlation.
func TestRelayCaptures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "relay")
	if _, err := os.Stat(filepath.Join(dir, "victim.pcap")); err != nil {
		t.Skipf("relay captures not generated: %v", err)
	}
	o := analyze.DefaultOptions()
	o.Inputs = []string{dir}
	o.Until = analyze.StageIngest
	c, err := analyze.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Flows) < 30 {
		t.Fatalf("only %d flows read from the captures", len(c.Flows))
	}
	chains := trace.Build(nil, c.Flows, nil, o.Trace)
	if len(chains) != 1 {
		for _, ch := range chains {
			t.Log(trace.String(ch))
		}
		t.Fatalf("chains %d, want 1", len(chains))
	}
	ch := chains[0]
	t.Log(trace.String(ch))
	want := []string{"origin 203.0.113.10", "relay 198.51.100.20", "target 192.0.2.80"}
	for i, h := range ch.Hops {
		if got := h.Role + " " + h.IP.String(); got != want[i] {
			t.Errorf("hop %d = %s, want %s", i, got, want[i])
		}
	}
	l := ch.Links[1]
	if l.Method != trace.MethodOnOff || !l.Verified || l.Coincidences != 14 || l.Score < 0.99 {
		t.Errorf("relay link %+v, want onoff verified with 14 coincidences", l)
	}
	if len(ch.Evidence) == 0 {
		t.Error("chain has no evidence")
	}
}
