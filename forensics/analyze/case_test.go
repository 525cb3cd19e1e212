package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	if got.FlowStore == nil || got.EventStore == nil || got.SessionStore == nil || len(got.Flows) != 0 {
		t.Fatal("LoadCase holds the flows, events or sessions")
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

// TestCorrelateStoredMatchesCorrelate: grouping a case file's stored
// records from the file (items spilled in runs of 5 and in one chunk)
// gives the sessions, campaigns, chains and caps that Correlate gives
// over the records Load holds, on every case of matchCases added in two
// batches.
func TestCorrelateStoredMatchesCorrelate(t *testing.T) {
	enr := homeEnricher(t)
	ctx := context.Background()
	js := func(v any) string { return mustJSON(t, v) }
	for name, inputs := range matchCases(t) {
		t.Run(name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Enricher, opts.Home = enr, "KR"
			if strings.Contains(name, "offset") {
				opts.ClockOffsets = map[string]time.Duration{"victim.pcap": 30 * time.Millisecond}
			}
			path := filepath.Join(t.TempDir(), "c.thcase")
			cf, err := casefile.Create(ctx, path, casefile.Meta{Home: "KR"}, forensics.CustodyEntry{Action: "case new"})
			if err != nil {
				t.Fatal(err)
			}
			cf.Close()
			half := (len(inputs) + 1) / 2
			for _, batch := range [][]string{inputs[:half], inputs[half:]} {
				o := opts
				o.Inputs = batch
				if _, err := AddToCase(ctx, path, o, CaseOptions{}); err != nil && !errors.Is(err, ErrInput) {
					t.Fatal(err)
				}
			}
			cf, err = casefile.Open(ctx, path, casefile.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer cf.Close()
			want, err := cf.Load(ctx, casefile.LoadOptions{NoDerived: true})
			if err != nil {
				t.Fatal(err)
			}
			want.Home = "KR"
			if err := Correlate(ctx, want, opts); err != nil {
				t.Fatal(err)
			}
			if len(want.Sessions) == 0 {
				t.Fatal("no sessions: the case tests little")
			}
			for _, chunk := range []int{5, SessionItemChunk} {
				got, sessions, err := correlateStored(ctx, cf, opts, chunk)
				if err != nil {
					t.Fatal(err)
				}
				got.SessionStore = sessions
				holdRecords(t, got)
				for _, part := range []struct {
					name      string
					got, want any
				}{
					{"sessions", got.Sessions, want.Sessions}, {"campaigns", got.Campaigns, want.Campaigns},
					{"chains", got.Chains, want.Chains}, {"caps", got.Caps, want.Caps},
				} {
					if d := firstDiff(js(part.got), js(part.want)); d != "" {
						t.Errorf("chunk %d: %s differ (%d vs %d bytes): %s", chunk, part.name, len(js(part.got)), len(js(part.want)), d)
					}
				}
			}
		})
	}
}

// TestCaseFlowsStoredInOrder: a capture's flows are stored by start then
// ID (its flow-table shards end them in an order that varies from run to
// run), so two cases of the same input store the same bytes.
func TestCaseFlowsStoredInOrder(t *testing.T) {
	ctx := context.Background()
	var stored [2][]string
	for i := range stored {
		path := filepath.Join(t.TempDir(), "c.thcase")
		cf, err := casefile.Create(ctx, path, casefile.Meta{Home: "KR"}, forensics.CustodyEntry{Action: "case new"})
		if err != nil {
			t.Fatal(err)
		}
		cf.Close()
		opts := DefaultOptions()
		opts.Inputs = []string{filepath.Join("..", "..", "testdata", "relay")}
		if _, err := AddToCase(ctx, path, opts, CaseOptions{}); err != nil {
			t.Fatal(err)
		}
		if cf, err = casefile.Open(ctx, path, casefile.OpenOptions{}); err != nil {
			t.Fatal(err)
		}
		var prev forensics.Flow
		err = cf.Records(ctx, casefile.KindFlows, func(line []byte) error {
			var f forensics.Flow
			if err := json.Unmarshal(line, &f); err != nil {
				return err
			}
			if f.Evidence.SHA256 == prev.Evidence.SHA256 && (f.Start.Before(prev.Start.Time) || (f.Start.Equal(prev.Start.Time) && f.ID < prev.ID)) {
				t.Errorf("flow %s stored after %s", f.ID, prev.ID)
			}
			prev = f
			stored[i] = append(stored[i], string(line))
			return nil
		})
		cf.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(stored[0]) < 10 || strings.Join(stored[0], "\n") != strings.Join(stored[1], "\n") {
		t.Errorf("two cases of the same capture store %d and %d flows, or other bytes", len(stored[0]), len(stored[1]))
	}
}

// newRelayCase creates an empty case (home KR) for the relay captures.
func newRelayCase(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.thcase")
	cf, err := casefile.Create(context.Background(), path, casefile.Meta{Home: "KR"}, forensics.CustodyEntry{Action: "case new"})
	if err != nil {
		t.Fatal(err)
	}
	cf.Close()
	return path
}

// TestCaseKeepsWholeRunCaps: the limits the correlation of the whole case
// reached (here trace.max_relay_flows, which belongs to no one input) are
// stored with the derived records, read back first among the caps, and
// replaced by the next correlation's.
func TestCaseKeepsWholeRunCaps(t *testing.T) {
	ctx := context.Background()
	path := newRelayCase(t)
	opts := DefaultOptions()
	opts.Inputs = []string{filepath.Join("..", "..", "testdata", "relay")}
	opts.Trace.MaxRelayFlows = 1
	res, err := AddToCase(ctx, path, opts, CaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []forensics.CapHit{{Cap: "trace.max_relay_flows", Count: 37}}
	if !slices.Equal(res.Caps, want) {
		t.Errorf("caps %+v, want %+v", res.Caps, want)
	}
	c, err := LoadCase(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Caps) == 0 || c.Caps[0] != want[0] {
		t.Errorf("loaded caps %+v, want %+v first", c.Caps, want)
	}
	opts.Trace.MaxRelayFlows = 0 // the default: nothing cut
	if res, err = AddToCase(ctx, path, opts, CaseOptions{}); err != nil || len(res.Caps) != 0 {
		t.Fatalf("again: caps %+v, %v", res.Caps, err)
	}
	if c, err = LoadCase(ctx, path); err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Caps {
		if h.File == "" {
			t.Errorf("a whole-run cap left from the first correlation: %+v", h)
		}
	}
}

// TestRepeatedCaseAddKeepsDerived: a case add with nothing new and the
// same parameters, tool and databases leaves the derived records as they
// are (they would be the same bytes) and only logs the run; one with a
// changed parameter, or after a run killed before its correlation,
// recomputes them. A marker in the stored parameters, which a
// correlation rewrites, tells which happened.
func TestRepeatedCaseAddKeepsDerived(t *testing.T) {
	ctx := context.Background()
	path := newRelayCase(t)
	opts := DefaultOptions()
	opts.Inputs = []string{filepath.Join("..", "..", "testdata", "relay")}
	open := func(write bool) (*casefile.File, casefile.Meta) {
		t.Helper()
		cf, err := casefile.Open(ctx, path, casefile.OpenOptions{Write: write})
		if err != nil {
			t.Fatal(err)
		}
		m, err := cf.Meta(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cf, m
	}
	mark := func(derivedFrom func(string) string) {
		t.Helper()
		cf, m := open(true)
		defer cf.Close()
		m.Params, m.DerivedFrom = map[string]string{"marker": "x"}, derivedFrom(m.DerivedFrom)
		if err := cf.SetMeta(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (marked bool, custody int) {
		t.Helper()
		cf, m := open(false)
		defer cf.Close()
		entries, err := cf.Custody(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m.Params["marker"] == "x", len(entries)
	}
	add := func() {
		t.Helper()
		if _, err := AddToCase(ctx, path, opts, CaseOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	add()
	keep := func(k string) string { return k }
	mark(keep)
	_, n := state()
	add()
	if marked, n2 := state(); !marked || n2 != n+1 {
		t.Errorf("repeated add: recomputed %v, custody entries %d -> %d", !marked, n, n2)
	}
	opts.Session.Gap *= 2
	add()
	if marked, _ := state(); marked {
		t.Error("a changed parameter did not recompute")
	}
	mark(func(string) string { return "" }) // a run killed before its correlation
	add()
	if marked, _ := state(); marked {
		t.Error("after a killed run: not recomputed")
	}
}
