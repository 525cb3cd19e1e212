package analyze

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// geoJSONCache holds enrichment records encoded as JSON, for the stages that
// write records out and keep nothing else of them (`events`, `flows`).
// An entry holds for an address within one snapshot era (the same
// builds answer) and one UTC day (the same snapshot distances). Misses
// are best queued (want) and resolved together (resolve): LookupBatch
// interleaves their searches, so the cache misses of many new addresses
// overlap, and builds the records in reusable storage, since only their
// encoding is kept. Not safe for concurrent use.
type geoJSONCache struct {
	e *enrich.Enricher
	m map[geoKey][]byte
	// scratch is where a record is encoded (then copied at its size):
	// growing a fresh slice cost more than the encoding.
	scratch []byte
	// the queued lookups
	keys  []geoKey
	ips   []netip.Addr
	ats   []time.Time
	batch enrich.Batch
}

// geoKey is plain bytes (not netip.Addr, which holds a zone handle) so
// the map hashes it as memory.
type geoKey struct {
	ip  [16]byte
	is4 bool
	era int32
	day int64
}

// maxGeoJSON bounds a geoJSONCache; it is cleared when full.
const maxGeoJSON = 1 << 16

// newGeoJSONCache returns an empty cache; with a nil enricher every record
// is nil.
func newGeoJSONCache(e *enrich.Enricher) *geoJSONCache {
	return &geoJSONCache{e: e, m: map[geoKey][]byte{}}
}

func (g *geoJSONCache) key(ip netip.Addr, at time.Time) geoKey {
	return geoKey{ip.As16(), ip.Is4(), int32(g.e.Era(at)), floorDay(at.Unix())}
}

// reserve makes room for n more entries, clearing the cache when it
// would overflow (so that queued entries are not cleared before use).
func (g *geoJSONCache) reserve(n int) {
	if len(g.m) > maxGeoJSON-n {
		clear(g.m)
	}
}

// want queues the lookup of ip at time at unless it is cached or queued.
func (g *geoJSONCache) want(ip netip.Addr, at time.Time) {
	if g.e == nil || !ip.IsValid() {
		return
	}
	k := g.key(ip, at)
	if _, ok := g.m[k]; ok {
		return
	}
	g.m[k] = nil // queued; resolve fills it
	g.keys = append(g.keys, k)
	g.ips = append(g.ips, ip)
	g.ats = append(g.ats, at)
}

// resolve looks up and encodes every queued address. A record that does
// not encode is left out: get then tries it alone and reports the error.
func (g *geoJSONCache) resolve() {
	if len(g.keys) == 0 {
		return
	}
	g.e.LookupBatch(&g.batch, g.ips, g.ats)
	for i, k := range g.keys {
		var err error
		if g.scratch, err = forensics.AppendRecordJSON(g.scratch[:0], &g.batch.Records[i]); err != nil {
			delete(g.m, k)
			continue
		}
		g.m[k] = bytes.Clone(g.scratch)
	}
	g.keys, g.ips, g.ats = g.keys[:0], g.ips[:0], g.ats[:0]
}

// get returns the encoded record of ip at time at: nil without an
// enricher or a valid address, from the cache when there, else looked up
// alone (and cached).
func (g *geoJSONCache) get(ip netip.Addr, at time.Time) ([]byte, error) {
	if g.e == nil || !ip.IsValid() {
		return nil, nil
	}
	k := g.key(ip, at)
	if b := g.m[k]; b != nil {
		return b, nil
	}
	var err error
	if g.scratch, err = forensics.AppendRecordJSON(g.scratch[:0], g.e.LookupShared(ip, at)); err != nil {
		return nil, err
	}
	b := bytes.Clone(g.scratch)
	if len(g.m) >= maxGeoJSON {
		clear(g.m)
	}
	g.m[k] = b
	return b, nil
}
