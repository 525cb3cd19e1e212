package casefile

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

func testEntry(action string) forensics.CustodyEntry {
	return forensics.CustodyEntry{Time: forensics.NewTime(testBase), Action: action, ToolVersion: "test", User: "tester"}
}

func newTestCase(t testing.TB) (string, *File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c"+Ext)
	f, err := Create(context.Background(), path, Meta{CaseID: "CASE-1", Examiner: "Kim", Home: "KR", TZ: "Asia/Seoul"}, testEntry(""))
	if err != nil {
		t.Fatal(err)
	}
	return path, f
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	path, f := newTestCase(t)
	b1, b2 := testBatch(1, 300, 100), testBatch(2, 200, 0)
	for _, b := range []*Batch{b1, b2} {
		added, err := f.AddEvidence(ctx, b)
		if err != nil || !added {
			t.Fatalf("add %s: added=%v err=%v", b.Input.Path, added, err)
		}
	}
	c, err := f.Load(ctx, LoadOptions{NoDerived: true})
	if err != nil {
		t.Fatal(err)
	}
	d := testDerived(c)
	if err := f.ReplaceDerived(ctx, d); err != nil {
		t.Fatal(err)
	}
	// Replacing twice leaves one copy.
	if err := f.ReplaceDerived(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Load(ctx, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &forensics.Case{ID: "CASE-1", Examiner: "Kim", Home: "KR",
		Inputs:    []forensics.Input{b1.Input, b2.Input},
		Databases: d.Databases,
		Flows:     append(append([]forensics.Flow{}, b1.Flows...), b2.Flows...),
		Events:    append(append([]forensics.Event{}, b1.Events...), b2.Events...),
		Problems:  append(append([]forensics.Problem{}, b1.Problems...), b2.Problems...),
		Caps:      append(append([]forensics.CapHit{}, b1.Caps...), b2.Caps...),
		Sessions:  d.Sessions, Campaigns: d.Campaigns, Chains: d.Chains,
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("loaded case differs from what was stored\n got %.400s\nwant %.400s", g, w)
	}
	sum, err := r.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 500 || sum.Flows != 100 || sum.Sessions != int64(len(d.Sessions)) || len(sum.Campaigns) != 1 || len(sum.Evidence) != 2 || sum.Custody != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if sum.Evidence[0].AddedBy != "tester" || !sum.Evidence[0].AddedAt.Equal(b1.AddedAt) || sum.Evidence[0].Events != 300 {
		t.Errorf("evidence item = %+v", sum.Evidence[0])
	}
	geo, err := r.Enrichment(ctx)
	if err != nil || len(geo) == 0 || geo[0].Sources.Len() == 0 {
		t.Errorf("enrichment = %d records, err %v", len(geo), err)
	}
	if err := r.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestAddIdempotent(t *testing.T) {
	ctx := context.Background()
	_, f := newTestCase(t)
	defer f.Close()
	b := testBatch(7, 50, 5)
	e := testEntry("ingest")
	b.Custody = &e
	for i, want := range []bool{true, false, false} {
		added, err := f.AddEvidence(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if added != want {
			t.Errorf("add #%d: added = %v, want %v", i+1, added, want)
		}
	}
	sum, err := f.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 50 || sum.Flows != 5 || len(sum.Evidence) != 1 || sum.Custody != 2 {
		t.Errorf("after three adds: events %d flows %d evidence %d custody %d", sum.Events, sum.Flows, len(sum.Evidence), sum.Custody)
	}
	if sum.Evidence[0].CustodySeq != 2 {
		t.Errorf("evidence custody seq = %d, want 2", sum.Evidence[0].CustodySeq)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	path, f := newTestCase(t)
	f.Close()
	before, _ := os.ReadFile(path)
	_, err := Create(context.Background(), path, Meta{}, testEntry(""))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Create over an existing case: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(path)
	if !reflect.DeepEqual(before, after) {
		t.Error("existing case was modified")
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	ctx := context.Background()
	path, f := newTestCase(t)
	f.Close()
	r, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.AddEvidence(ctx, testBatch(1, 1, 0)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AddEvidence on a reader: %v", err)
	}
	// A reader still logs what it did.
	if _, err := r.AppendCustody(ctx, testEntry("case show")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.VerifyCustody(ctx); err != nil {
		t.Error(err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    recKey
	}{
		{"empty", recKey{}},
		{"v4 and v6", recKey{ipA: mustAddr("192.0.2.1"), ipB: mustAddr("2001:db8::1"), tStart: 5, tEnd: 9, asnA: 37963, ccA: "CN", credA: "k2019-legacy", ua: "curl/8", pos: 12, off: 4096, jsonLen: 300}},
		{"clamped times", recKey{tStart: math.MinInt64, tEnd: math.MaxInt64, campaign: "ca-1", credB: "kid"}},
		{"only ipB", recKey{ipB: mustAddr("10.0.0.1"), asnB: math.MaxUint32, ccB: "KR", pos: -1, off: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.k.append(nil)
			b = tc.k.append(b)
			r := keyReader{b: b}
			for i := range 2 {
				var got recKey
				if !r.next(&got) {
					t.Fatalf("record %d: %v", i, r.err)
				}
				if got != tc.k {
					t.Errorf("record %d = %+v, want %+v", i, got, tc.k)
				}
			}
			if r.more() {
				t.Error("bytes left over")
			}
			// Every truncation is an error, never a panic.
			for n := range len(b) / 2 {
				r := keyReader{b: b[:n]}
				var k recKey
				if r.next(&k) && n < len(b)/2 {
					t.Errorf("truncated to %d bytes: decoded", n)
				}
			}
		})
	}
}

func TestUnixNanoClamps(t *testing.T) {
	far := forensics.NewTime(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	early := forensics.NewTime(time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC))
	if unixNano(far) <= unixNano(forensics.NewTime(testBase)) || unixNano(early) >= 0 {
		t.Errorf("clamped times out of order: %d %d", unixNano(early), unixNano(far))
	}
}

// TestAddEvidenceStream: an input stored as it is read (records handed
// over one by one, stored in chunks) loads back as AddEvidence stores
// it; a read that fails or names another SHA-256 stores nothing; an
// input the case holds is not read again.
func TestAddEvidenceStream(t *testing.T) {
	ctx := context.Background()
	stream := func(f *File, b *Batch, sha string, fail error) (bool, error) {
		return f.AddEvidenceStream(ctx, sha, func(rw *RecordWriter) (*Batch, error) {
			for _, fl := range b.Flows {
				rw.Flow(fl)
			}
			for _, e := range b.Events {
				rw.Event(e)
			}
			nb := *b
			nb.Flows, nb.Events = nil, nil
			return &nb, fail
		})
	}
	b1, b2 := testBatch(1, 300, 100), testBatch(2, 200, 7)
	_, want := newTestCase(t)
	for _, b := range []*Batch{b1, b2} {
		if _, err := want.AddEvidence(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	_, got := newTestCase(t)
	got.chunk = 64 // several chunks, and one cut short
	for _, b := range []*Batch{b1, b2} {
		if added, err := stream(got, b, b.Input.SHA256, nil); err != nil || !added {
			t.Fatalf("%s: added %v, %v", b.Input.Path, added, err)
		}
	}
	lw, err := want.Load(ctx, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := got.Load(ctx, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, lg), mustJSON(t, lw); g != w {
		t.Errorf("streamed case differs\n got %.400s\nwant %.400s", g, w)
	}
	sw, _ := want.Summary(ctx)
	sg, _ := got.Summary(ctx)
	if g, w := mustJSON(t, sg.Evidence), mustJSON(t, sw.Evidence); g != w {
		t.Errorf("evidence items differ\n got %s\nwant %s", g, w)
	}
	// Already there: not read.
	added, err := got.AddEvidenceStream(ctx, b1.Input.SHA256, func(*RecordWriter) (*Batch, error) {
		t.Error("read an input the case holds")
		return nil, nil
	})
	if added || err != nil {
		t.Errorf("present input: added %v, %v", added, err)
	}
	b3 := testBatch(3, 700, 0)
	for _, c := range []struct {
		name string
		sha  string
		fail error
	}{{"read error", b3.Input.SHA256, errors.New("disk gone")}, {"changed while read", "00" + b3.Input.SHA256[2:], nil}} {
		if added, err := stream(got, b3, c.sha, c.fail); err == nil || added {
			t.Errorf("%s: added %v, error %v", c.name, added, err)
		}
	}
	s, err := got.Summary(ctx)
	if err != nil || s.Events != 500 || len(s.Evidence) != 2 {
		t.Errorf("after failed adds: %d events, %d inputs, %v", s.Events, len(s.Evidence), err)
	}
	if err := got.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}
