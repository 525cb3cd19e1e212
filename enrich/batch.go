package enrich

import (
	"net/netip"
	"slices"
	"time"
)

// batchLanes is how many lookups LookupBatch runs in lockstep: enough
// searches in flight at once that their cache misses overlap, few enough
// that their state stays in the L1 cache. A lookup of random addresses
// mostly waits on memory (the trees, the decoded records, fresh memory
// for the record), and one lookup alone gives the CPU only its own few
// independent loads to overlap.
const batchLanes = 16

// Batch is the reusable storage of LookupBatch: the records of its last
// call, overwritten by the next. A batch allocates nothing (but for
// anonymizer flags merged from two sources, which get a copy): a record's
// sources are compact (see Sources), so a copy of a record may be kept.
type Batch struct {
	// Records[i] is the record of the i-th address of the last call.
	Records []Record
	probes  [batchLanes]probe
	live    [batchLanes]bool
}

// LookupBatch enriches ips[i] as of at[i] (len(at) == len(ips)) into
// b.Records[i], as Lookup would, record for record. It bypasses the
// lookup cache: it is for callers that keep their own cache of what
// they derive from a record (an encoded form), and it resolves up to
// batchLanes addresses at a time with their searches interleaved.
func (e *Enricher) LookupBatch(b *Batch, ips []netip.Addr, at []time.Time) {
	n := len(ips)
	b.Records = slices.Grow(b.Records[:0], n)[:n]
	for lo := 0; lo < n; lo += batchLanes {
		hi := min(lo+batchLanes, n)
		e.lookupLanes(b, ips[lo:hi], at[lo:hi], lo)
	}
}

// lookupLanes resolves ips (at most batchLanes) into b.Records[base:].
func (e *Enricher) lookupLanes(b *Batch, ips []netip.Addr, at []time.Time, base int) {
	var eras [batchLanes]int
	var days [batchLanes]int32
	for k, ip := range ips {
		r := &b.Records[base+k]
		*r = Record{}
		eras[k], days[k] = e.eraDay(at[k])
		b.live[k] = e.begin(&b.probes[k], r, ip.WithZone(""), eras[k])
	}
	// Every lane's searches one level per round. Only unfinished searches
	// are visited: depths differ by up to 16 levels, and revisiting the
	// finished ones each round cost about a tenth of the batch.
	var act [batchLanes * maxWalks]*walk4
	na := 0
	for k := range ips {
		if b.live[k] {
			p := &b.probes[k]
			for w := range p.ws[:p.nw] {
				act[na] = &p.ws[w]
				na++
			}
		}
	}
	for na > 0 {
		j := 0
		for _, w := range act[:na] {
			if w.step() {
				act[j] = w
				j++
			}
		}
		na = j
	}
	// Fetch the decoded records the searches found, all lanes before any
	// is read, so that those misses overlap too; answer takes them from
	// the probe instead of hashing the offset again.
	for k := range ips {
		if b.live[k] {
			e.fetch(&b.probes[k])
		}
	}
	for k, ip := range ips {
		r := &b.Records[base+k]
		if b.live[k] {
			var hb [8]hit
			p := &b.probes[k]
			hits, m, hostingASN := e.answer(p, r, hb[:0])
			if m > 0 {
				e.fillSources(r, p.addr, hits, days[k], e.after[eras[k]], hostingASN)
			}
		}
		r.IP = ip
	}
}
