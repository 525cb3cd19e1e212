package casefile

import (
	"bytes"
	"math"
	"testing"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// stdJSON is r's line from encoding/json (SetEscapeHTML(false)): the
// chunk encoder's fallback, what the commands print.
func stdJSON[T any](kind recordKind[T], r *T) ([]byte, error) {
	return newChunkEncoder(kind, nil).whole(r)
}

// handJSON is a record's line from the hand-written encoder.
func handJSON[T any](kind recordKind[T], r *T) ([]byte, error) {
	ce := newChunkEncoder(kind, nil)
	return ce.hand(r)
}

func checkExact[T any](t *testing.T, kind recordKind[T], r *T) {
	t.Helper()
	want, werr := stdJSON(kind, r)
	got, gerr := handJSON(kind, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors differ: hand %v, encoding/json %v", gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("hand-written JSON differs:\n got %s\nwant %s", got, want)
	}
}

// TestChunkJSONExact: a chunk's lines, written by the model's hand-written
// encoder with this package's enrichment cache, are byte for byte what
// encoding/json writes, for generated records. (forensics.TestRecordJSONExact
// and forensics.FuzzRecordJSON cover hostile, empty and partial records.)
func TestChunkJSONExact(t *testing.T) {
	b := testBatch(5, 300, 300)
	t.Run("generated events", func(t *testing.T) {
		for i := range b.Events {
			checkExact(t, eventKind(), &b.Events[i])
		}
	})
	t.Run("generated flows", func(t *testing.T) {
		for i := range b.Flows {
			checkExact(t, flowKind(), &b.Flows[i])
		}
	})
	t.Run("unencodable enrichment fails like encoding/json", func(t *testing.T) {
		nan := math.NaN()
		e := forensics.Event{SrcGeo: &enrich.Record{Lat: &nan}}
		if _, err := handJSON(eventKind(), &e); err == nil {
			t.Error("NaN latitude encoded")
		}
	})
	t.Run("hand encoder in use", func(t *testing.T) {
		for _, c := range []struct {
			name string
			fast bool
		}{
			{"events", func() bool { ce := newChunkEncoder(eventKind(), nil); ce.line(&b.Events[0]); return ce.fast }()},
			{"flows", func() bool { ce := newChunkEncoder(flowKind(), nil); ce.line(&b.Flows[0]); return ce.fast }()},
		} {
			if !c.fast {
				t.Errorf("%s: the hand-written encoder disagreed with encoding/json on the first record and was turned off", c.name)
			}
		}
	})
	t.Run("chunk lines", func(t *testing.T) {
		c := encodeChunk(b.Events, 0, eventKey, eventKind(), &geoCache{}, false, make(bufPool, 1))
		if c.err != nil {
			t.Fatal(c.err)
		}
		var lines [][]byte
		for _, blk := range c.blocks {
			lines = append(lines, bytes.SplitAfter(blk.js, []byte{'\n'})...)
		}
		for i := range b.Events {
			want, _ := stdJSON(eventKind(), &b.Events[i])
			if !bytes.Equal(lines[i], want) {
				t.Fatalf("line %d:\n got %s\nwant %s", i, lines[i], want)
			}
		}
		if len(c.geo) == 0 {
			t.Error("no enrichment results collected")
		}
	})
}
