package enrich

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync/atomic"
	"unsafe"
)

// cacheKey identifies a lookup: the address (zone dropped) as its two
// 64-bit halves, and in ctx the era of snapshot builds in force, the day
// of the lookup time when snapshot distances are recorded (noDay
// otherwise) and whether the address is IPv4 (so that 1.2.3.4 and
// ::ffff:1.2.3.4 stay apart). Three words compare without a call.
type cacheKey struct {
	hi, lo uint64
	ctx    uint64
}

func makeCacheKey(ip netip.Addr, era, day int32) cacheKey {
	ctx := uint64(uint32(era))<<33 | uint64(uint32(day))<<1
	if ip.Is4() {
		// The halves of ip.As16() (::ffff:a.b.c.d), without the bytes.
		a := ip.As4()
		return cacheKey{lo: 0xffff<<32 | uint64(binary.BigEndian.Uint32(a[:])), ctx: ctx | 1}
	}
	a := ip.As16()
	return cacheKey{hi: binary.BigEndian.Uint64(a[:8]), lo: binary.BigEndian.Uint64(a[8:]), ctx: ctx}
}

func (k *cacheKey) hash() uint64 {
	h := (k.lo ^ k.hi*0x9e3779b97f4a7c15 ^ k.ctx*0xc2b2ae3d27d4eb4f) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// cacheWays is the associativity of the lookup cache: a key may sit in
// any of the ways of its set, so a few keys landing in one set do not
// evict each other. Five ways with their tags fill one 64-byte line.
const cacheWays = 5

// cacheSet is one set of the cache: a 32-bit tag per way (0: empty) and
// the way's entry, in one cache line, so that a probe reads one line
// before it touches the entry it found.
type cacheSet struct {
	tags [cacheWays]atomic.Uint32
	ptrs [cacheWays]atomic.Pointer[head]
}

// cache maps lookups to records without locks: a fixed table of sets of
// atomic pointers to immutable entries (key and record, allocated with
// the record's sources). A hit is one hash, the tag loads, one pointer
// load and a key comparison; a miss stores the new entry in an empty way
// or over one the key's hash picks. The cache only saves time, it never
// changes an answer: a tag and its pointer are written separately, so a
// tag match is always confirmed by the full key, and a way overwritten
// by a concurrent writer at worst costs another lookup.
type cache struct {
	sets  []cacheSet
	shift uint // 64 - log2(len(sets))
}

// newCache sizes the table to hold at least size records: 2.5 ways per
// record, so that a set rarely overflows while the working set fits.
func newCache(size int) *cache {
	n := 1
	for n*2 < size && n < 1<<28 {
		n <<= 1
	}
	return &cache{sets: make([]cacheSet, n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
}

// locate returns h's set and the tag of h (never 0, which marks an
// empty way).
func (c *cache) locate(h uint64) (*cacheSet, uint32) {
	i := uint64(0)
	if c.shift < 64 {
		i = h >> c.shift
	}
	return &c.sets[i], uint32(h) | 1
}

// get returns the cached record, shared: callers must not modify it.
func (c *cache) get(k *cacheKey) *Record {
	s, tag := c.locate(k.hash())
	for w := range s.tags {
		if s.tags[w].Load() == tag {
			if e := s.ptrs[w].Load(); e != nil && e.key == *k {
				return &e.rec
			}
		}
	}
	return nil
}

// put stores e (whose key is set) in an empty way of its set, else over
// the way the key's hash picks.
func (c *cache) put(e *head) {
	h := e.key.hash()
	s, tag := c.locate(h)
	victim := int(h>>40) % cacheWays
	for w := range s.tags {
		if s.tags[w].Load() == 0 {
			victim = w
			break
		}
	}
	s.ptrs[victim].Store(e)
	s.tags[victim].Store(tag)
}

// A set must fill exactly one cache line.
var _ [64 - unsafe.Sizeof(cacheSet{})]struct{}
var _ [unsafe.Sizeof(cacheSet{}) - 64]struct{}
