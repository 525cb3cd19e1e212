package enrich

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// FuzzOpenBytes feeds arbitrary bytes to the database reader: opening,
// every kind of lookup and a full verification must return errors, never
// panic or hang. Seeds are the generated snapshot builds and the small
// MaxMind test databases of the corpus (when present).
func FuzzOpenBytes(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(repoTestdata(f), "enrich", "snapshots", "*.mmdb"))
	for _, name := range []string{"GeoIP2-Anonymous-IP-Test", "GeoIP2-Connection-Type-Test", "MaxMind-DB-test-ipv4-24", "MaxMind-DB-test-decoder"} {
		p := filepath.Join(repoTestdata(f), "..", "..", "shared", "corpus", "mmdb", name+".mmdb")
		if _, err := os.Stat(p); err == nil {
			seeds = append(seeds, p)
		}
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A vendor layout (read through a Mapping), built in memory.
	for _, typ := range []string{"city ipv4", "asn ipvAll", "unknown-vendor"} {
		tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, RecordSize: 24, BuildEpoch: 1_750_000_000})
		if err != nil {
			f.Fatal(err)
		}
		_, n, _ := net.ParseCIDR("1.2.3.0/24")
		tree.Insert(n, mmdbtype.Map{
			"city": mmdbtype.String("Mountain View"), "country_code": mmdbtype.String("US"),
			"state1": mmdbtype.String("California"), "latitude": mmdbtype.Float32(37.4), "longitude": mmdbtype.Float64(-122.1),
			"autonomous_system_number": mmdbtype.Uint32(64500), "location": mmdbtype.Map{"accuracy_radius": mmdbtype.Uint16(5)},
		})
		var buf bytes.Buffer
		if _, err := tree.WriteTo(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	addrs := []netip.Addr{
		netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("1.1.1.1"),
		netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("2001:218::1"),
		netip.MustParseAddr("::ffff:1.2.3.4"),
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		db, err := openBytes(b, "fuzz", "fuzz.mmdb", "", DefaultMappings())
		if err != nil {
			return
		}
		defer db.close()
		e := &Enricher{slots: []slot{{builds: []*database{db}}}}
		e.planEras()
		for _, a := range addrs {
			// Compact sources read back as the list written out, even
			// for a hostile tree's prefixes.
			r, hits, day, era, hostingASN := lookupHits(e, a, time.Time{})
			if want := e.sourceList(hits, day, e.after[era], hostingASN); r.Sources.Len() > 0 && !reflect.DeepEqual(r.Sources.List(), want) {
				t.Fatalf("%s: sources %+v, written out %+v", a, r.Sources.List(), want)
			}
			// The fast IPv4 search answers as the library does, even on
			// a hostile tree.
			if db.v4 != nil && a.Is4() {
				check(t, db, a)
			}
		}

		// Lookups in lockstep answer as one at a time, even on a hostile
		// tree.
		var batch Batch
		e.LookupBatch(&batch, addrs, make([]time.Time, len(addrs)))
		for i, a := range addrs {
			if want := e.Lookup(a, time.Time{}); !reflect.DeepEqual(batch.Records[i], want) {
				t.Fatalf("%s: LookupBatch %+v, Lookup %+v", a, batch.Records[i], want)
			}
		}
		// The full walk, only after maxminddb's verifier accepted the tree
		// (as Verify does): a cyclic tree would be walked forever.
		if db.reader.Verify() != nil {
			return
		}
		n := 0
		for res := range db.reader.Networks() {
			if res.Err() != nil || n > 10000 {
				break
			}
			db.decode(res)
			n++
		}
	})
}
