package casefile

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestSpliceIsExact: records built with their enrichment spliced in are
// byte for byte what encoding/json writes, and the splice is in use (if a
// model change broke it, this says so instead of silently encoding twice).
func TestSpliceIsExact(t *testing.T) {
	b := testBatch(5, 300, 300)
	check := func(t *testing.T, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Fatalf("spliced line differs:\n got %s\nwant %s", got, want)
		}
	}
	want := func(v any) []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return buf.Bytes()
	}
	t.Run("events", func(t *testing.T) {
		c := encodeChunk(b.Events, 0, eventKey, eventGeo(), nil, make(bufPool, 1))
		if c.err != nil {
			t.Fatal(c.err)
		}
		var lines [][]byte
		for _, blk := range c.blocks {
			lines = append(lines, bytes.SplitAfter(blk.js, []byte{'\n'})...)
		}
		for i := range b.Events {
			check(t, lines[i], want(&b.Events[i]))
		}
		if len(c.geo) == 0 {
			t.Error("no enrichment results collected")
		}
	})
	t.Run("flows", func(t *testing.T) {
		c := encodeChunk(b.Flows, 0, flowKey, flowGeo(), nil, make(bufPool, 1))
		if c.err != nil {
			t.Fatal(c.err)
		}
		lines := bytes.SplitAfter(c.blocks[0].js, []byte{'\n'})
		for i := range b.Flows {
			check(t, lines[i], want(&b.Flows[i]))
		}
	})
	t.Run("splice in use", func(t *testing.T) {
		gf := eventGeo()
		ce := newChunkEncoder(gf)
		for i := range 3 {
			if _, err := ce.line(&b.Events[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !ce.splice {
			t.Error("splice disabled for events: the *_geo fields no longer come right before evidence")
		}
		ce2 := newChunkEncoder(flowGeo())
		for i := range 3 {
			if _, err := ce2.line(&b.Flows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !ce2.splice {
			t.Error("splice disabled for flows")
		}
	})
}
