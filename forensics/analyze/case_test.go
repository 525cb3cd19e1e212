package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/casefile"
)

// TestAddToCaseMatchesRun: the demo inputs added in three batches (one
// input twice) give the records, sessions and campaigns of one Run.
func TestAddToCaseMatchesRun(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	names := []string{"access.log", "access.log.1.gz", "api.jsonl", "edge.pcap"}
	var inputs []string
	for _, n := range names {
		p := filepath.Join(demo, n)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("sample case not available: %v", err)
		}
		inputs = append(inputs, p)
	}
	ctx := context.Background()
	opts := DefaultOptions()
	opts.Home = "KR"

	path := filepath.Join(t.TempDir(), "demo.thcase")
	pinned := func() time.Time { return time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC) }
	e := forensics.CustodyEntry{Time: forensics.NewTime(pinned()), Action: "case new"}
	cf, err := casefile.Create(ctx, path, casefile.Meta{Home: "KR"}, e)
	if err != nil {
		t.Fatal(err)
	}
	cf.Close()
	co := CaseOptions{User: "tester", Tool: forensics.ToolInfo{Name: "tracehop", Version: "test"}, Now: pinned}
	for i, batch := range [][]string{inputs[:1], inputs[1:3], {inputs[3], inputs[0]}} {
		o := opts
		o.Inputs = batch
		res, err := AddToCase(ctx, path, o, co)
		if err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
		if i == 2 && (len(res.Added) != 1 || len(res.Present) != 1) {
			t.Errorf("batch 3: added %d, present %d; want 1 and 1", len(res.Added), len(res.Present))
		}
	}
	got, err := LoadCase(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventStore == nil || got.SessionStore == nil {
		t.Fatal("LoadCase holds the events or sessions")
	}
	holdRecords(t, got)
	o := opts
	o.Inputs = []string{demo}
	want, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"inputs", got.Inputs, want.Inputs},
		{"flows", got.Flows, want.Flows},
		{"events", got.Events, want.Events},
		{"sessions", got.Sessions, want.Sessions},
		{"campaigns", got.Campaigns, want.Campaigns},
		{"chains", got.Chains, want.Chains},
	} {
		g, _ := json.Marshal(part.got)
		w, _ := json.Marshal(part.want)
		empty := func(b []byte) bool { return string(b) == "null" || string(b) == "[]" }
		if string(g) != string(w) && !(empty(g) && empty(w)) {
			t.Errorf("%s differ between the case and one run\n got %.600s\nwant %.600s", part.name, g, w)
		}
	}
	if len(got.Campaigns) == 0 {
		t.Error("no campaigns: the comparison tests little")
	}

	// A second writer is refused while the first holds the case.
	w, err := casefile.Open(ctx, path, casefile.OpenOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	o = opts
	o.Inputs = inputs[:1]
	_, err = AddToCase(ctx, path, o, co)
	var le *casefile.LockedError
	if !errors.As(err, &le) {
		t.Errorf("AddToCase while another writer holds the case: %v", err)
	}
	w.Close()
}
