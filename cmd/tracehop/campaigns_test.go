package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// TestCorrelationFlags: every weight, threshold and gap is a flag that
// reaches the stage options.
func TestCorrelationFlags(t *testing.T) {
	var got *campaignsOptions
	g := &globalOptions{io: &ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
	cmd := newCampaignsCmd(g, func(o *campaignsOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"x.log", "--session-gap", "15m", "--weight-strong", "4", "--merge-threshold", "4.5",
		"--hub-share", "0.02", "--hub-credentials", "50", "--handover-window", "90s", "--profile-cosine", "0.95",
		"--beacon-score", "0.8", "--onoff-delta", "100ms", "--onoff-ratio", "0.4", "--score-weight", "duration=0", "--all-campaigns"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Session.Gap != 15*time.Minute || got.Campaign.StrongWeight != 4 || got.Campaign.Threshold != 4.5 ||
		got.Campaign.HubShare != 0.02 || got.Campaign.HubCredentials != 50 || got.Campaign.HandoverWindow != 90*time.Second ||
		got.Campaign.ProfileCosine != 0.95 || got.Campaign.BeaconMinScore != 0.8 || got.Trace.Delta != 100*time.Millisecond ||
		got.Trace.MinRatio != 0.4 || got.Campaign.ScoreWeights["duration"] != 0 || got.Campaign.ScoreWeights["foreign"] != 1 ||
		!got.Campaign.IncludeOrdinary {
		t.Errorf("options not bound: %+v %+v %+v", got.Session, got.Campaign, got.Trace)
	}
	cmd = newCampaignsCmd(g, func(o *campaignsOptions) error { return nil })
	cmd.SetArgs([]string{"x.log", "--score-weight", "bogus=1"})
	if err := cmd.Execute(); err == nil {
		t.Error("unknown score component accepted")
	}
}

func TestTraceRelayCLI(t *testing.T) {
	dir := repoFile("testdata/relay")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("relay captures not generated")
	}
	out, errOut, code := runCLI(t, "trace", dir, "--no-enrich", "--format", "text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "origin 203.0.113.10 --flow--> relay 198.51.100.20 --onoff(1, 14 coincidences, 13 idle)--> target 192.0.2.80"
	if !strings.Contains(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("output:\n%s\nwant one chain %q", out, want)
	}
	out, _, code = runCLI(t, "trace", dir, "--no-enrich", "--ip", "203.0.113.77")
	if code != 0 || out != "" {
		t.Errorf("unrelated user: exit %d, output %q", code, out)
	}
	// The same bytes every run: the chain's evidence is that of its first
	// flows in time order, whatever order the capture's flow-table shards
	// end them in (before the records were sorted, about one run in six
	// cited other packets).
	first, _, _ := runCLI(t, "trace", dir, "--no-enrich")
	for range 12 {
		if again, _, _ := runCLI(t, "trace", dir, "--no-enrich"); again != first {
			t.Fatalf("trace output changed between runs:\n%s\n%s", first, again)
		}
	}
}

func TestCampaignsCLI(t *testing.T) {
	log := repoFile("testdata/demo/api.jsonl")
	if _, err := os.Stat(log); err != nil {
		t.Skip("demo not generated")
	}
	out, errOut, code := runCLI(t, "campaigns", log, "--home", "KR", "--geoip", repoFile("testdata/mmdb"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var c forensics.Campaign
	if err := json.Unmarshal([]byte(lines[0]), &c); err != nil {
		t.Fatal(err)
	}
	if c.Label != "attack" || len(c.IPs) < 50 || c.Links[0].Reason != "shared credential k2019-legacy" {
		t.Errorf("first campaign %s %s with %d IPs, first link %q", c.ID, c.Label, len(c.IPs), c.Links[0].Reason)
	}
	again, _, _ := runCLI(t, "campaigns", log, "--home", "KR", "--geoip", repoFile("testdata/mmdb"))
	if again != out {
		t.Error("two runs gave different bytes")
	}
}
