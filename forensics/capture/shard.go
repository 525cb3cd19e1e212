package capture

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracehop/tracehop/forensics"
)

// Batching between the reading goroutine and the flow-table shards.
const (
	batchArena   = 512 << 10
	batchRecords = 2048
	batchesEach  = 4 // per shard in flight: bounds memory to shards*4*512 KB
)

// batchRec is one decoded packet; its payload lives in the batch arena.
type batchRec struct {
	p   packet
	ts  int64
	pkt uint64
	off int64
}

type batch struct {
	arena []byte
	recs  []batchRec
}

// shard owns one flow table and runs it on its own goroutine. Packets go
// to the shard of their canonical flow key, so both directions of a
// conversation meet in one table.
type shard struct {
	rs  *readerState
	in  chan *batch
	cur *batch
}

// sharded is the parallel processor: the caller's goroutine reads and
// decodes (main), shards track flows. The shard count is fixed by
// Options, never by the machine, so evictions and timeouts, and thus the
// output, are the same everywhere.
type sharded struct {
	main   *readerState
	shards []*shard
	free   chan *batch
	wg     sync.WaitGroup
	mu     sync.Mutex // serialises emit
	copyPL bool
}

func newSharded(main *readerState, n int, emit func(forensics.Flow)) *sharded {
	s := &sharded{main: main, free: make(chan *batch, n*batchesEach), copyPL: !main.opts.NoAppMeta}
	for range n * batchesEach {
		s.free <- &batch{} // buffers allocated on first use: small captures stay small
	}
	locked := func(f forensics.Flow) {
		s.mu.Lock()
		defer s.mu.Unlock()
		emit(f)
	}
	opts := main.opts
	opts.MaxFlows = (opts.MaxFlows + n - 1) / n
	for range n {
		sh := &shard{in: make(chan *batch, batchesEach)}
		sh.rs = newReaderState(main.file, opts, locked, &Stats{})
		s.shards = append(s.shards, sh)
		s.wg.Go(func() {
			for b := range sh.in {
				for i := range b.recs {
					r := &b.recs[i]
					sh.rs.handle(&r.p, r.ts, r.pkt, r.off)
				}
				clear(b.recs) // drop references into the arena
				b.arena, b.recs = b.arena[:0], b.recs[:0]
				s.free <- b
			}
			sh.rs.flushFlows()
		})
	}
	return s
}

// flowHash hashes the canonical flow key, so both directions of a
// conversation land in one shard. (Later fragments carry their first
// fragment's ports by now: admit resolves them before dispatch.)
func flowHash(p *packet) uint64 {
	k, _ := canonicalKey(p)
	h := binary.LittleEndian.Uint64(k.a[0:8])*0x9E3779B97F4A7C15 ^
		binary.LittleEndian.Uint64(k.a[8:16])*0xC2B2AE3D27D4EB4F ^
		binary.LittleEndian.Uint64(k.b[0:8])*0x165667B19E3779F9 ^
		binary.LittleEndian.Uint64(k.b[8:16])*0xD6E8FEB86659FD93 ^
		(uint64(k.ap)<<24|uint64(k.bp)<<8|uint64(k.proto))*0xFF51AFD7ED558CCD
	return h ^ h>>31
}

func (s *sharded) packet(lt layers.LinkType, data []byte, ts int64, pkt uint64, off int64) {
	if !s.main.admit(lt, data, pkt, off) {
		return
	}
	p := &s.main.dec.p
	sh := s.shards[flowHash(p)%uint64(len(s.shards))]
	pl := p.payload
	if !s.copyPL {
		pl = nil
	}
	b := sh.cur
	if b != nil && (len(b.recs) == cap(b.recs) || len(b.arena)+len(pl) > cap(b.arena)) {
		sh.in <- b
		b = nil
	}
	if b == nil {
		b = <-s.free
		if b.recs == nil {
			b.arena, b.recs = make([]byte, 0, batchArena), make([]batchRec, 0, batchRecords)
		}
		sh.cur = b
	}
	var own []byte
	if len(pl) > 0 {
		if len(pl) > cap(b.arena)-len(b.arena) { // larger than a whole arena
			own = append([]byte(nil), pl...)
		} else {
			start := len(b.arena)
			b.arena = append(b.arena, pl...)
			own = b.arena[start:len(b.arena):len(b.arena)]
		}
	}
	b.recs = append(b.recs, batchRec{p: *p, ts: ts, pkt: pkt, off: off})
	b.recs[len(b.recs)-1].p.payload = own
}

// finish drains the shards, ends every flow and merges the counts.
func (s *sharded) finish() {
	for _, sh := range s.shards {
		if sh.cur != nil && len(sh.cur.recs) > 0 {
			sh.in <- sh.cur
		}
		sh.cur = nil
		close(sh.in)
	}
	s.wg.Wait()
	m := s.main
	st := m.st
	for _, sh := range s.shards {
		ss := sh.rs.st
		st.Flows += ss.Flows
		st.Evictions += ss.Evictions
		st.Expired += ss.Expired
		st.Malformed += ss.Malformed
		st.Problems = append(st.Problems, ss.Problems...)
		m.dropped += sh.rs.dropped
	}
	// Keep the first problems by position, whichever shard saw them.
	slices.SortStableFunc(st.Problems, func(a, b forensics.Problem) int {
		return cmp.Or(cmp.Compare(a.Packet, b.Packet), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Reason, b.Reason))
	})
	if n := m.opts.MaxProblems; len(st.Problems) > n {
		m.dropped += int64(len(st.Problems) - n)
		st.Problems = st.Problems[:n]
	}
	m.finishStats()
}
