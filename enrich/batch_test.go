package enrich

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestLookupBatchMatchesLookup: every record of LookupBatch equals
// Lookup's, with the embedded data (with and without a home country) and
// with snapshot builds chosen by time, over local, IPv6, embedded-IPv4
// and zoned addresses, for batches that are not a multiple of the lane
// count and a Batch reused across calls (no source of an earlier call
// may show through).
func TestLookupBatchMatchesLookup(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fixed := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("::ffff:8.8.8.8"),
		netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2002:c000:0204::1"),
		netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("1.2.3.4"),
		netip.MustParseAddr("1.2.4.4"), netip.MustParseAddr("64:ff9b::808:808"),
		{},
	}
	addrs := func(n int) []netip.Addr {
		out := append([]netip.Addr(nil), fixed...)
		for len(out) < n {
			x := rng.Uint32()
			out = append(out, netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}))
		}
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	times := []time.Time{{}, day("2024-12-01"), day("2025-03-01"), day("2025-07-14"), day("2026-03-01")}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"embedded", Options{CacheSize: -1}},
		{"embedded, home DE", Options{Home: "DE"}},
		{"snapshots", Options{Paths: []string{filepath.Join(repoTestdata(t), "enrich", "snapshots")}, NoEmbedded: true}},
		{"snapshots and embedded", Options{Paths: []string{filepath.Join(repoTestdata(t), "enrich", "snapshots")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			var b Batch
			for _, n := range []int{1, 16, 37, 300, 5} {
				ips := addrs(n)
				at := make([]time.Time, len(ips))
				for i := range at {
					at[i] = times[rng.IntN(len(times))]
				}
				e.LookupBatch(&b, ips, at)
				if len(b.Records) != len(ips) {
					t.Fatalf("%d records for %d addresses", len(b.Records), len(ips))
				}
				for i, ip := range ips {
					if want := e.Lookup(ip, at[i]); !reflect.DeepEqual(b.Records[i], want) {
						t.Fatalf("%s at %s:\nbatch  %+v\nLookup %+v", ip, at[i], b.Records[i], want)
					}
				}
			}
			// Every slot first filled with a dated answer, then with an
			// address only the embedded data answers.
			for _, ip := range []netip.Addr{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("8.8.8.8")} {
				ips := []netip.Addr{ip, ip, ip}
				at := []time.Time{day("2024-12-01"), day("2025-07-14"), {}}
				e.LookupBatch(&b, ips, at)
				for i := range ips {
					if want := e.Lookup(ip, at[i]); !reflect.DeepEqual(b.Records[i], want) {
						t.Fatalf("%s at %s after reuse:\nbatch  %+v\nLookup %+v", ip, at[i], b.Records[i], want)
					}
				}
			}
		})
	}
}

// TestLookupBatchAllocs: a reused Batch allocates nothing.
func TestLookupBatchAllocs(t *testing.T) {
	e, err := New(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	addrs := benchAddrs(256)
	ips := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		ips[i] = netip.AddrFrom4(a)
	}
	at := make([]time.Time, len(ips))
	var b Batch
	e.LookupBatch(&b, ips, at)
	if n := testing.AllocsPerRun(20, func() { e.LookupBatch(&b, ips, at) }); n != 0 {
		t.Errorf("LookupBatch: %v allocations per call", n)
	}
}

// TestLookupBatchMatchesLookupCorpus: the same with MaxMind's test
// databases, all combined (IPv6 trees with 24-, 28- and 32-bit records,
// each field merged from several sources), at the first and last address
// of every network in their source data and at random IPv4 addresses, in
// batches of 128 as the events stage sends them. Skips without the corpus.
func TestLookupBatchMatchesLookupCorpus(t *testing.T) {
	dir := corpusDir(t)
	names := []string{
		"GeoIP2-City-Test", "GeoIP2-Country-Test", "GeoLite2-ASN-Test", "GeoIP2-ISP-Test",
		"GeoIP2-Anonymous-IP-Test", "GeoIP2-Connection-Type-Test", "GeoIP2-Domain-Test",
		"GeoIP2-Enterprise-Test",
	}
	var paths []string
	var ips []netip.Addr
	for _, name := range names {
		paths = append(paths, filepath.Join(dir, name+".mmdb"))
		src := filepath.Join(dir, "source-data", name+".json")
		if _, err := os.Stat(src); err != nil {
			continue // ISP and Enterprise come without source data
		}
		for _, en := range readSourceData(t, src) {
			ips = append(ips, en.prefix.Addr(), lastAddr(en.prefix))
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 4096 {
		x := rng.Uint32()
		ips = append(ips, netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}))
	}
	rng.Shuffle(len(ips), func(i, j int) { ips[i], ips[j] = ips[j], ips[i] })
	e, err := New(Options{Paths: paths, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var b Batch
	at := make([]time.Time, 128)
	for lo := 0; lo < len(ips); lo += 128 {
		batch := ips[lo:min(lo+128, len(ips))]
		e.LookupBatch(&b, batch, at[:len(batch)])
		for i, ip := range batch {
			if want := e.Lookup(ip, time.Time{}); !reflect.DeepEqual(b.Records[i], want) {
				t.Fatalf("%s:\nbatch  %+v\nLookup %+v", ip, b.Records[i], want)
			}
		}
	}
	t.Logf("%d addresses, %d databases and the embedded data", len(ips), len(names))
}
