package casefile

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkAddEvents measures `case add` storage throughput: one input of
// 50,000 enriched events per iteration, in one transaction, reported as
// rows/s and bytes of case file per event.
func BenchmarkAddEvents(b *testing.B) { benchAdd(b, 50_000, 0) }

// BenchmarkAddFlows is the same for flows.
func BenchmarkAddFlows(b *testing.B) { benchAdd(b, 0, 50_000) }

func benchAdd(b *testing.B, nEvents, nFlows int) {
	ctx := context.Background()
	path, f := newTestCase(b)
	defer f.Close()
	batch := testBatch(1, nEvents, nFlows)
	b.ReportAllocs()
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
	f.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if st, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(st.Size())/rows, "B/row")
	}
}
