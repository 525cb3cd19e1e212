package casefile

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

func BenchmarkExp(b *testing.B) {
	for _, tc := range []struct {
		name    string
		indexes bool
		cache   bool
		multi   int
		json    bool
	}{
		{"base", true, false, 1, true},
		{"cache", true, true, 1, true},
		{"noidx", false, true, 1, true},
		{"nojson", true, true, 1, false},
		{"multi32", true, true, 32, true},
		{"multi32-nojson", true, true, 32, false},
		{"multi32-noidx-nojson", false, true, 32, false},
		{"multi32-nofk", true, true, 32, true},
		{"tiny-multi32-noidx", false, true, 32, false},
		{"tiny-multi32-idx", true, true, 32, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			_, f := newTestCase(b)
			defer f.Close()
			if tc.cache {
				f.db.Exec("PRAGMA cache_size = -262144")
			}
			if tc.name == "multi32-nofk" {
				f.db.Exec("PRAGMA foreign_keys = 0")
			}
			if !tc.indexes {
				f.db.Exec("DROP INDEX events_ip_a; DROP INDEX events_t; DROP INDEX events_cred")
			}
			f.db.Exec("INSERT INTO evidence(id, sha256, path, size, added_at, json) VALUES(1, 'x', 'x', 0, 0, '{}')")
			batch := testBatch(1, 20000, 0)
			w := newRowWriter(ctx, nil)
			js := make([]string, len(batch.Events))
			for i := range batch.Events {
				js[i], _ = w.marshal(&batch.Events[i])
			}
			q := "INSERT INTO events(evidence_id, rec_id, pos, off, ip_a, ip_b, t_start, asn_a, cc_a, cred_a, user_agent, json) VALUES" +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", tc.multi), ",")
			n := 0
			for b.Loop() {
				tx, _ := f.db.Begin()
				st, err := tx.Prepare(q)
				if err != nil {
					b.Fatal(err)
				}
				args := make([]any, 0, 12*tc.multi)
				w := newRowWriter(ctx, tx)
				for i := range batch.Events {
					e := &batch.Events[i]
					j := js[i]
					if strings.HasPrefix(tc.name, "tiny") {
						j = "{}"
					}
					if tc.json {
						j, _ = w.marshal(e)
					}
					asn, cc := geoCols(e.SrcGeo)
					args = append(args, 1, e.ID, refPos(e.Evidence), e.Evidence.Offset, ipCol(e.Actor()), nil, unixNano(e.Time), asn, cc, nullStr(e.Credential), nullStr(e.UserAgent), j)
					if len(args) == cap(args) {
						if _, err := st.Exec(args...); err != nil {
							b.Fatal(err)
						}
						args = args[:0]
					}
					n++
				}
				st.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			_ = fmt.Sprint
			_ = sql.ErrNoRows
		})
	}
}
