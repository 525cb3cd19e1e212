package analyze

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tracehop/tracehop/enrich"
)

// TestGeoTable: one record per distinct stored JSON, found again by its
// content (also in a reused buffer), decoded as json.Unmarshal decodes it
// though its provenance strings are shared.
func TestGeoTable(t *testing.T) {
	jsons := []string{
		`{"ip":"192.0.2.1","class":"public","country":"DE","sources":[{"db":"a.mmdb","type":"country","build":"2026-06-01","sha256":"aa","network":"192.0.2.0/24","fields":["country"]}]}`,
		`{"ip":"192.0.2.2","class":"public","country":"DE","sources":[{"db":"a.mmdb","type":"country","build":"2026-06-01","sha256":"aa","network":"192.0.2.0/24","fields":["country"]}]}`,
		`{"ip":"192.0.2.3","class":"public","country":"FR","sources":[{"db":"a.mmdb","type":"country","build":"2026-06-01","sha256":"aa","network":"192.0.2.0/25","fields":["country","city"],"snapshot_distance_days":3}]}`,
	}
	var g geoTable
	buf := make([]byte, 0, 512) // one buffer for every line, as the decoders read
	var ids []uint32
	for round := range 2 {
		for k, js := range jsons {
			buf = append(buf[:0], js...)
			if known := g.known(buf); known != (round > 0) {
				t.Fatalf("round %d, %d: known %v", round, k, known)
			}
			i, err := g.intern(buf)
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				ids = append(ids, i)
			} else if i != ids[k] {
				t.Fatalf("%d: index %d, first time %d", k, i, ids[k])
			}
			var want enrich.Record
			if err := json.Unmarshal([]byte(js), &want); err != nil {
				t.Fatal(err)
			}
			if got := g.record(i); !reflect.DeepEqual(*got, want) || g.indexOf(got) != i {
				t.Fatalf("%d: %+v, want %+v", k, *got, want)
			}
		}
	}
	if ids[0] == ids[1] || ids[1] == ids[2] || len(g.recs) != 3 {
		t.Fatalf("indexes %v, %d records", ids, len(g.recs))
	}
	if g.record(ids[0]).Sources.At(0).SHA256 != g.record(ids[1]).Sources.At(0).SHA256 {
		t.Fatal("provenance differs")
	}
	if i, err := g.intern([]byte("null")); i != 0 || err != nil {
		t.Fatalf("null: %d %v", i, err)
	}
}
