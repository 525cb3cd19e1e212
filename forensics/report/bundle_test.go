package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

var update = flag.Bool("update", false, "rewrite golden files")

var pinned = time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)

func writeTestBundle(t *testing.T, c *forensics.Case, opts Options) (string, *Manifest) {
	t.Helper()
	if opts.OutDir == "" {
		opts.OutDir = filepath.Join(t.TempDir(), "out")
	}
	if opts.ReportTime.IsZero() {
		opts.ReportTime = pinned
	}
	m, err := WriteBundle(context.Background(), c, opts)
	if err != nil {
		t.Fatalf("WriteBundle: %v", err)
	}
	return opts.OutDir, m
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func testKey(t *testing.T) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "key"), filepath.Join(dir, "key.pub")
	// A fixed seed so signatures (deterministic in Ed25519) are stable too.
	if _, err := GenerateKey(priv, pub, bytes.NewReader(bytes.Repeat([]byte{7}, 64))); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestBundleFiles(t *testing.T) {
	dir, m := writeTestBundle(t, testCase(false), Options{})
	got := slices.Sorted(func(yield func(string) bool) {
		for name := range readDir(t, dir) {
			if !yield(name) {
				return
			}
		}
	})
	want := []string{FileCampaigns, FileChains, FileCustody, FileEvents, FileFlows, FileIPs, FileLinks, FileManifest,
		FileReportHTML, FileReportJSON, FileReportPDF, FileSessions, FileSTIX}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bundle files\n got %v\nwant %v", got, want)
	}
	if len(m.Inputs) != 2 || m.Inputs[0].Reverified != "unavailable" {
		t.Errorf("manifest inputs %+v", m.Inputs)
	}
}

func TestBundleEmptyCase(t *testing.T) {
	c := &forensics.Case{Tool: forensics.ToolInfo{Name: "tracehop", Version: "t"}}
	dir, _ := writeTestBundle(t, c, Options{})
	res, err := Verify(dir, "")
	if err != nil || !res.OK() {
		t.Fatalf("verify empty bundle: %v %+v", err, res)
	}
}

// TestDeterminism: two runs with the same case and ReportTime give
// byte-identical files, signature included.
func TestDeterminism(t *testing.T) {
	priv, _ := testKey(t)
	for _, hostileText := range []bool{false, true} {
		a, _ := writeTestBundle(t, testCase(hostileText), Options{SignKey: priv, Command: []string{"analyze", "x"}})
		b, _ := writeTestBundle(t, testCase(hostileText), Options{SignKey: priv, Command: []string{"analyze", "x"}})
		fa, fb := readDir(t, a), readDir(t, b)
		if len(fa) != len(fb) || len(fa) < 10 {
			t.Fatalf("file counts %d and %d", len(fa), len(fb))
		}
		for name, da := range fa {
			if !bytes.Equal(da, fb[name]) {
				t.Errorf("hostile=%v: %s differs between runs", hostileText, name)
			}
		}
	}
}

// TestNoWallClock: everything but manifest.json and custody.jsonl is the
// same whatever the report time.
func TestNoWallClock(t *testing.T) {
	a, _ := writeTestBundle(t, testCase(false), Options{ReportTime: pinned})
	b, _ := writeTestBundle(t, testCase(false), Options{ReportTime: pinned.Add(1000 * time.Hour)})
	fa, fb := readDir(t, a), readDir(t, b)
	for name, da := range fa {
		same := bytes.Equal(da, fb[name])
		if volatile := name == FileManifest || name == FileCustody; same == volatile {
			t.Errorf("%s: same=%v across report times", name, same)
		}
	}
}

func TestReportJSONGolden(t *testing.T) {
	dir, _ := writeTestBundle(t, testCase(false), Options{Organisation: "Korean National Police Agency"})
	got, err := os.ReadFile(filepath.Join(dir, FileReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report.json differs from %s (run go test ./forensics/report -run Golden -update and review the diff)", golden)
	}
}

func TestVerifyTamper(t *testing.T) {
	priv, pub := testKey(t)
	dir, _ := writeTestBundle(t, testCase(false), Options{SignKey: priv})
	for _, key := range []string{"", pub} {
		res, err := Verify(dir, key)
		if err != nil || !res.OK() {
			t.Fatalf("fresh bundle (key %q): %v %+v", key, err, res.Failures())
		}
		if !res.Signed {
			t.Errorf("signed bundle not reported as signed")
		}
	}
	orig := readDir(t, dir)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range orig {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		data := orig[name]
		// First, middle and last byte of every file.
		for _, pos := range []int{0, len(data) / 2, len(data) - 1} {
			t.Run(name, func(t *testing.T) {
				mod := bytes.Clone(data)
				mod[pos] ^= 0x01
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, mod, 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(path, data, 0o644)
				res, err := Verify(dir, pub)
				if err != nil {
					t.Fatal(err)
				}
				if res.OK() {
					t.Fatalf("byte %d of %s changed, verify passed", pos, name)
				}
				if !slices.ContainsFunc(res.Failures(), func(c Check) bool { return c.File == name }) {
					t.Errorf("byte %d of %s changed, failures name %+v", pos, name, res.Failures())
				}
			})
		}
	}
	t.Run("custody line removed", func(t *testing.T) {
		// Prior log of two entries plus this run's: drop the middle line.
		prior := forensics.ChainCustody(nil,
			forensics.CustodyEntry{Time: forensics.NewTime(pinned), Action: "case new", ToolVersion: "t"},
			forensics.CustodyEntry{Time: forensics.NewTime(pinned), Action: "case add", ToolVersion: "t"})
		dir, _ := writeTestBundle(t, testCase(false), Options{Custody: prior})
		path := filepath.Join(dir, FileCustody)
		b, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(b), "\n")
		if len(lines) < 4 {
			t.Fatalf("custody has %d lines", len(lines))
		}
		for i := range 3 {
			cut := slices.Delete(slices.Clone(lines), i, i+1)
			os.WriteFile(path, []byte(strings.Join(cut, "")), 0o644)
			res, _ := Verify(dir, "")
			if res.OK() || !slices.ContainsFunc(res.Failures(), func(c Check) bool { return c.File == FileCustody }) {
				t.Errorf("line %d removed: failures %+v", i+1, res.Failures())
			}
		}
	})
	t.Run("file added", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
		defer os.Remove(filepath.Join(dir, "extra.txt"))
		res, _ := Verify(dir, pub)
		if res.OK() {
			t.Errorf("extra file not noticed")
		}
	})
	t.Run("signature removed", func(t *testing.T) {
		sig := filepath.Join(dir, FileSignature)
		data, _ := os.ReadFile(sig)
		os.Remove(sig)
		defer os.WriteFile(sig, data, 0o644)
		res, _ := Verify(dir, "")
		if res.OK() {
			t.Errorf("missing signature not noticed")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		kd := t.TempDir()
		if _, err := GenerateKey(filepath.Join(kd, "k"), filepath.Join(kd, "k.pub"), nil); err != nil {
			t.Fatal(err)
		}
		res, _ := Verify(dir, filepath.Join(kd, "k.pub"))
		if res.OK() {
			t.Errorf("other key accepted")
		}
	})
}

// TestPathEscape: hostile case fields never become paths, and the output
// stays inside OutDir even when a bundle file name is a symlink out.
func TestPathEscape(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "out")
	outside := filepath.Join(base, "outside")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(outside, 0o755)
	// A symlink planted where the bundle writes report.json.
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(out, FileReportJSON)); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	c := testCase(true)
	c.ID = "../../outside/pwn"
	_, err := WriteBundle(context.Background(), c, Options{OutDir: out, ReportTime: pinned, CaseID: "../../../etc/passwd", Examiner: "/tmp/x"})
	if err == nil {
		t.Errorf("write through a symlink leaving the output directory succeeded")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files written outside --out: %v", ents)
	}
	os.Remove(filepath.Join(out, FileReportJSON))
	if _, err := WriteBundle(context.Background(), c, Options{OutDir: out, ReportTime: pinned, CaseID: "../../x"}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 2 {
		t.Errorf("unexpected entries beside out: %v", ents)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files written outside --out: %v", ents)
	}
}

// TestRewriteRemovesStale: writing a smaller bundle over a larger one
// leaves a bundle that verifies, and files that are not ours alone.
func TestRewriteRemovesStale(t *testing.T) {
	priv, _ := testKey(t)
	dir, _ := writeTestBundle(t, testCase(false), Options{SignKey: priv})
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("examiner's notes"), 0o644)
	c := testCase(false)
	c.Events, c.Flows = nil, nil
	writeTestBundle(t, c, Options{OutDir: dir, Formats: []string{"json", "csv"}})
	for _, gone := range []string{FileSignature, FileReportHTML, FileReportPDF, FileSTIX, FileEvents, FileFlows} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("stale %s left behind", gone)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not ours was removed: %v", err)
	}
	os.Remove(other)
	if res, err := Verify(dir, ""); err != nil || !res.OK() {
		t.Errorf("rewritten bundle: %v %+v", err, res.Failures())
	}
}

// sliceOf serves a case's records as a spool would (a copy per call, in
// order), for TestBundleFromStores.
type sliceOf[T any] []T

func (s sliceOf[T]) Len() int { return len(s) }
func (s sliceOf[T]) Each(fn func(*T) error) error {
	for _, v := range s {
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}

// TestBundleFromStores: a case whose flows, events and sessions are
// served by stores (Case.FlowStore, Case.EventStore, Case.SessionStore,
// as analyze's spools serve them) renders the bundle a case holding them renders, every file byte
// for byte; and sessions held out of order render as sorted ones.
func TestBundleFromStores(t *testing.T) {
	for name, c := range map[string]*forensics.Case{"test": testCase(false), "hostile": testCase(true), "big": bigCase(300)} {
		// Sessions in no campaign: the timeline's last lane.
		for i := range 3 {
			x := c.Sessions[0]
			x.ID = fmt.Sprintf("se-other-%d", i)
			x.Start = forensics.NewTime(x.Start.Add(time.Duration(i) * 7 * time.Minute))
			x.End = forensics.NewTime(x.Start.Add(time.Minute))
			c.Sessions = append(c.Sessions, x)
		}
		want := readDir(t, must(writeTestBundle(t, c, Options{CaseID: "c-1"})))
		if len(c.Flows) == 0 {
			t.Fatalf("%s: no flows: the case tests little", name)
		}
		sc := *c
		sc.Flows, sc.Events, sc.Sessions = nil, nil, nil
		sc.FlowStore, sc.EventStore, sc.SessionStore = sliceOf[forensics.Flow](c.Flows), sliceOf[forensics.Event](c.Events), sliceOf[forensics.Session](c.Sessions)
		got := readDir(t, must(writeTestBundle(t, &sc, Options{CaseID: "c-1"})))
		shuffled := *c
		shuffled.Sessions = slices.Clone(c.Sessions)
		slices.Reverse(shuffled.Sessions)
		unsorted := readDir(t, must(writeTestBundle(t, &shuffled, Options{CaseID: "c-1"})))
		if v, err := newView(&shuffled, Options{}, nil, nil); err != nil || (v.sessions.others < 3 || v.sessions.othersSorted) {
			t.Fatalf("%s: %d sessions in no campaign, sorted %v (%v): the case tests little", name, v.sessions.others, v.sessions.othersSorted, err)
		}
		for f, w := range want {
			if !bytes.Equal(got[f], w) {
				t.Errorf("%s: %s from stores differs (%d and %d bytes)", name, f, len(got[f]), len(w))
			}
			if f != FileReportJSON && f != FileSessions && f != FileManifest && f != FileSTIX && f != FileReportPDF && f != FileCustody && !bytes.Equal(unsorted[f], w) {
				t.Errorf("%s: %s from unsorted sessions differs", name, f)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d files from stores, want %d", name, len(got), len(want))
		}
	}
}

func must[T, U any](v T, _ U) T { return v }
