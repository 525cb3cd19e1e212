package casefile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tracehop/tracehop/enrich"
)

// TestBlockCodecs: S2 blocks round-trip, damaged ones are errors (never
// wrong bytes), and blocks of the older zstd codec are still read.
func TestBlockCodecs(t *testing.T) {
	b := testBatch(3, 600, 0)
	c := encodeChunk(b.Events, 0, eventKey, eventKind(), &geoCache{}, false, make(bufPool, 1))
	if c.err != nil {
		t.Fatal(c.err)
	}
	js, keys := c.blocks[0].js, c.blocks[0].keys
	f := &File{}
	t.Run("s2 round trip", func(t *testing.T) {
		for _, src := range [][]byte{nil, []byte("x"), js, keys, []byte(strings.Repeat("ab", 100_000))} {
			got, err := f.blockJSON(codecS2, s2Pack(nil, src))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("round trip of %d bytes differs", len(src))
			}
			got, err = f.blockKeys(codecS2, s2Pack(make([]byte, 3), src))
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("keys round trip of %d bytes: %v", len(src), err)
			}
		}
	})
	t.Run("s2 damage", func(t *testing.T) {
		packed := s2Pack(nil, js)
		for _, c := range []struct {
			name string
			raw  []byte
		}{
			{"empty", nil},
			{"short", packed[:3]},
			{"truncated", packed[:len(packed)/2]},
			{"checksum", append(bytes.Clone(packed[:len(packed)-1]), packed[len(packed)-1]^1)},
			{"body byte", func() []byte { d := bytes.Clone(packed); d[len(d)/2] ^= 0x40; return d }()},
			{"huge length", append([]byte{0xff, 0xff, 0xff, 0xff, 0x7f}, make([]byte, 8)...)},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got, err := f.blockJSON(codecS2, c.raw); err == nil {
					t.Fatalf("no error, %d bytes", len(got))
				}
				if _, err := f.blockKeys(codecS2, c.raw); err == nil {
					t.Fatal("keys: no error")
				}
			})
		}
	})
	t.Run("zstd blocks still read", func(t *testing.T) {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		got, err := f.blockJSON(codecZstd, e.EncodeAll(js, nil))
		if err != nil || !bytes.Equal(got, js) {
			t.Fatalf("zstd block: %v", err)
		}
		if k, err := f.blockKeys(codecZstd, keys); err != nil || !bytes.Equal(k, keys) {
			t.Fatalf("zstd block keys: %v", err)
		}
	})
	t.Run("unknown codec", func(t *testing.T) {
		if _, err := f.blockJSON("lz77", js); err == nil || !strings.Contains(err.Error(), "unknown") {
			t.Fatalf("got %v", err)
		}
	})
}

// FuzzBlockCodec: a block read back from a case file is untrusted: any
// bytes decode or fail, never panic or allocate past maxBlockJSON.
func FuzzBlockCodec(f *testing.F) {
	f.Add(s2Pack(nil, []byte(`{"id":"ev-1"}`+"\n")))
	f.Add(s2Pack(nil, testBatchKeys()))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cf File
		if out, err := cf.blockJSON(codecS2, raw); err == nil {
			if len(out) > maxBlockJSON {
				t.Fatalf("%d bytes", len(out))
			}
			if again := s2Pack(nil, out); len(again) > 0 {
				if back, err := cf.blockKeys(codecS2, again); err != nil || !bytes.Equal(back, out) {
					t.Fatalf("re-pack does not round-trip: %v", err)
				}
			}
		}
	})
}

// TestGeoCacheBounded: records that each carry their own enrichment copy
// do not grow the shared cache past geoCacheMax.
func TestGeoCacheBounded(t *testing.T) {
	var c geoCache
	recs := make([]enrich.Record, geoCacheMax+10)
	for i := range recs {
		c.store(&recs[i], []byte("{}"))
	}
	c.store(&recs[0], []byte("{}"))
	if n := c.n.Load(); n != geoCacheMax {
		t.Fatalf("cache holds %d records, want %d", n, geoCacheMax)
	}
	if _, ok := c.load(&recs[len(recs)-1]); ok {
		t.Error("record past the bound was cached")
	}
	if js, ok := c.load(&recs[0]); !ok || string(js) != "{}" {
		t.Error("first record not cached")
	}
}
