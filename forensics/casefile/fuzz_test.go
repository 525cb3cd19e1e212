package casefile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzKeyReader: a keys blob read back from a case file is untrusted: any
// bytes must decode to records or errBadKeys, never panic or loop, and
// what decodes must re-encode to the same bytes.
func FuzzKeyReader(f *testing.F) {
	for _, k := range []recKey{
		{},
		{ipA: mustAddr("192.0.2.1"), ipB: mustAddr("2001:db8::1"), tStart: 5, tEnd: 9, asnA: 37963, ccA: "CN", credA: "k2019-legacy", ua: "curl/8", pos: 12, off: 4096, jsonLen: 300},
		{tStart: math.MinInt64, tEnd: math.MaxInt64, campaign: "ca-1"},
	} {
		f.Add(k.append(nil))
	}
	f.Add(testBatchKeys())
	f.Fuzz(func(t *testing.T, b []byte) {
		r := keyReader{b: b}
		var out []byte
		var k recKey
		for r.more() {
			if !r.next(&k) {
				break
			}
			out = k.append(out)
		}
		if r.err == nil && !bytes.Equal(out, b) {
			// Varints have more than one encoding; only canonical input
			// must round-trip, so re-decode instead of comparing blindly.
			r2 := keyReader{b: out}
			var k2 recKey
			for r2.more() {
				if !r2.next(&k2) {
					t.Fatalf("re-encoded keys do not decode: %v", r2.err)
				}
			}
		}
	})
}

// testBatchKeys is the keys blob of a few generated events.
func testBatchKeys() []byte {
	b := testBatch(9, 20, 5)
	var out []byte
	for i := range b.Events {
		k := eventKey(&b.Events[i])
		out = k.append(out)
	}
	for i := range b.Flows {
		k := flowKey(&b.Flows[i])
		out = k.append(out)
	}
	return out
}

// FuzzCheckFile: CheckFile reads the header of any file without panicking
// and accepts only what looks like a case.
func FuzzCheckFile(f *testing.F) {
	path, cf := newTestCase(f)
	cf.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:200])
	f.Add(good)
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f"+Ext)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := CheckFile(p)
		if err == nil && (v < 1 || v > SchemaVersion) {
			t.Fatalf("accepted schema %d", v)
		}
	})
}
