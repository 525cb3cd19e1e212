package casefile

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/tracehop/tracehop/enrich"
)

// BenchmarkAddEvents measures `case add` storage throughput: one input of
// 50,000 enriched events per iteration, stored in one transaction. It
// reports rows/s (wall clock), cpu-rows/s (rows per second of process CPU
// time, all threads: what an idle machine of one core would do) and bytes
// of case file per row.
func BenchmarkAddEvents(b *testing.B) { benchAdd(b, 50_000, 0) }

// BenchmarkAddFlows is the same for flows (both ends enriched).
func BenchmarkAddFlows(b *testing.B) { benchAdd(b, 0, 50_000) }

func benchAdd(b *testing.B, nEvents, nFlows int) {
	ctx := context.Background()
	path, f := newTestCase(b)
	defer f.Close()
	batch := testBatch(1, nEvents, nFlows)
	// Every record gets its own copy of its enrichment, as the pipeline
	// hands them over (one lookup result per record).
	clone := func(r *enrich.Record) *enrich.Record {
		if r == nil {
			return nil
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
	f.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if st, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(st.Size())/rows, "B/row")
	}
}
