package enrich

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestCacheAnswersAsUncached: with a tiny cache (constant eviction) and
// several goroutines, every record equals the uncached one; IPv4 and
// its IPv4-mapped IPv6 form stay distinct entries.
func TestCacheAnswersAsUncached(t *testing.T) {
	cached, err := New(Options{CacheSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	plain, err := New(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	addrs := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("::ffff:8.8.8.8"),
		netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2001:4860:4860::8888"),
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2002:c000:0204::1"),
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		x := rng.Uint32()
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}))
	}
	want := make([]Record, len(addrs))
	for i, a := range addrs {
		want[i] = plain.Lookup(a, time.Time{})
	}
	if reflect.DeepEqual(want[0], want[1]) {
		t.Fatal("8.8.8.8 and ::ffff:8.8.8.8 give the same record")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 20 {
				for j := range addrs {
					i := (j*7 + g + round) % len(addrs)
					if got := cached.Lookup(addrs[i], time.Time{}); !reflect.DeepEqual(got, want[i]) {
						t.Errorf("%s: cached %+v, uncached %+v", addrs[i], got, want[i])
						return
					}
					if got := cached.LookupShared(addrs[i], time.Time{}); got.IP != addrs[i] || got.ASN != want[i].ASN {
						t.Errorf("%s: shared %+v", addrs[i], got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheHitAllocs: a cache hit allocates nothing, by value or shared.
func TestCacheHitAllocs(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ip := netip.MustParseAddr("8.8.8.8")
	e.Lookup(ip, time.Time{})
	var sink uint32
	if n := testing.AllocsPerRun(100, func() { sink += e.Lookup(ip, time.Time{}).ASN }); n != 0 {
		t.Errorf("Lookup hit: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink += e.LookupShared(ip, time.Time{}).ASN }); n != 0 {
		t.Errorf("LookupShared hit: %v allocations", n)
	}
	// A miss allocates the record it publishes, once (its sources are
	// compact, see Sources).
	addrs := benchAddrs(200)
	ips := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		ips[i] = netip.AddrFrom4(a)
	}
	// LookupBatch bypasses the record cache but decodes the databases'
	// answers, which are then cached: the misses below decode nothing.
	e.LookupBatch(&Batch{}, ips, make([]time.Time, len(ips)))
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		sink += e.LookupShared(ips[i], time.Time{}).ASN
		i++
	}); n != 1 {
		t.Errorf("LookupShared miss: %v allocations", n)
	}
	// An uncached lookup allocates nothing: the record is the caller's.
	u, err := New(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Lookup(ip, time.Time{})
	if n := testing.AllocsPerRun(100, func() { sink += u.Lookup(ip, time.Time{}).ASN }); n != 0 {
		t.Errorf("uncached Lookup: %v allocations", n)
	}
	_ = sink
}
