package casefile

import (
	"context"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tracehop/tracehop/enrich"
)

// BenchmarkAddEvents measures `case add` storage throughput: one input of
// 50,000 enriched events per iteration, stored in one transaction. It
// reports rows/s (wall clock), cpu-rows/s (rows per second of process CPU
// time, all threads: what an idle machine of one core would do) and bytes
// of case file per row.
// Records share their enrichment records, as the pipeline hands them over
// (analyze attaches the enricher's cached *enrich.Record).
func BenchmarkAddEvents(b *testing.B) { benchAdd(b, 50_000, 0, false) }

// BenchmarkAddFlows is the same for flows (both ends enriched).
func BenchmarkAddFlows(b *testing.B) { benchAdd(b, 0, 50_000, false) }

// BenchmarkAddEventsCloned gives every event its own copy of its
// enrichment record (one lookup result per record, as an enricher without
// a shared cache would): the worst case of the enrichment cache.
func BenchmarkAddEventsCloned(b *testing.B) { benchAdd(b, 50_000, 0, true) }

// BenchmarkAddFlowsCloned is the same for flows.
func BenchmarkAddFlowsCloned(b *testing.B) { benchAdd(b, 0, 50_000, true) }

func benchAdd(b *testing.B, nEvents, nFlows int, cloned bool) {
	ctx := context.Background()
	_, f := newTestCase(b)
	defer f.Close()
	batch := testBatch(1, nEvents, nFlows)
	clone := func(r *enrich.Record) *enrich.Record {
		if r == nil || !cloned {
			return r
		}
		c := *r
		return &c
	}
	for i := range batch.Events {
		batch.Events[i].SrcGeo = clone(batch.Events[i].SrcGeo)
	}
	for i := range batch.Flows {
		batch.Flows[i].SrcGeo, batch.Flows[i].DstGeo = clone(batch.Flows[i].SrcGeo), clone(batch.Flows[i].DstGeo)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		i++
		batch.Input.SHA256 = fmt.Sprintf("%064x", i)
		if _, err := f.AddEvidence(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	rows := float64(i * (nEvents + nFlows))
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(rows/cpu.Seconds(), "cpu-rows/s")
	}
	// The size the case file has once checkpointed: its pages, wherever
	// they are now (the file itself lags while the WAL holds pages).
	var pages, pageSize int64
	if err := f.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		b.Fatal(err)
	}
	if err := f.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(pages*pageSize)/rows, "B/row")
}

// BenchmarkBlockCodec justifies codecS2: compressing one block of 512
// flows' JSON with S2 (and its CRC-32C) against zstd's fastest level, the
// codec before; ratio is uncompressed/compressed size.
func BenchmarkBlockCodec(b *testing.B) {
	bt := testBatch(1, 0, 512)
	c := encodeChunk(bt.Flows, 0, flowKey, flowKind(), &geoCache{}, false, make(bufPool, 1))
	if c.err != nil {
		b.Fatal(c.err)
	}
	for _, part := range []struct {
		name string
		src  []byte
	}{{"json", c.blocks[0].js}, {"keys", c.blocks[0].keys}} {
		b.Run(part.name+"/s2", func(b *testing.B) {
			b.SetBytes(int64(len(part.src)))
			var out []byte
			for b.Loop() {
				out = s2Pack(out, part.src)
			}
			b.ReportMetric(float64(len(part.src))/float64(len(out)), "ratio")
		})
		b.Run(part.name+"/zstd_fastest", func(b *testing.B) {
			e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			b.SetBytes(int64(len(part.src)))
			var out []byte
			for b.Loop() {
				out = e.EncodeAll(part.src, out[:0])
			}
			b.ReportMetric(float64(len(part.src))/float64(len(out)), "ratio")
		})
	}
}
