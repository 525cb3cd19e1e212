package enrich

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// jumpBits is how many leading address bits the IPv4 jump table resolves
// at once. The top levels of a search tree are spread over the whole
// file, so for random addresses each of them can be a cache miss; one
// table entry replaces them. Trees of bigJumpNodes nodes or more (a
// city database) resolve bigJumpBits: their levels below 16 miss too,
// and their 5 MB table is small beside them.
const (
	jumpBits     = 16
	bigJumpBits  = 20
	bigJumpNodes = 1 << 21
)

// tree4 is a faster IPv4 search over a database's search tree than the
// library's bit-by-bit walk from the root: a table indexed by the first
// jump bits of the address gives the node (or record) reached after
// them, and the remaining bits of several databases are walked in
// lockstep (walk4), so that their memory accesses overlap instead of
// queueing. It answers exactly what maxminddb's Lookup answers: the same
// record and the same prefix length.
type tree4 struct {
	tree      []byte // the search tree section
	nodeCount uint32
	recBytes  uint32 // bytes per node: 6, 7 or 8
	dataSize  uint32 // size of the data section
	// jump[i] is the value reached from the IPv4 root along the bits of
	// i after jumpBits bits, or earlier at a record or the empty marker
	// (depth[i] then says after how many bits).
	jump  []uint32
	depth []uint8
	bits  uint32 // jumpBits or bigJumpBits
}

// newTree4 builds the jump table of a database, or returns nil when the
// fast path does not apply (an unusual record size, a tree larger than
// the buffer, no IPv4 subtree in an IPv6 database); the library then
// answers every lookup.
func newTree4(buf []byte, nodeCount, recordSize uint, ipVersion uint, dataSize int) *tree4 {
	if recordSize != 24 && recordSize != 28 && recordSize != 32 {
		return nil
	}
	if nodeCount == 0 || nodeCount >= 1<<32-1 || dataSize < 0 || dataSize >= 1<<32 {
		return nil
	}
	rb := uint64(recordSize / 4)
	size := uint64(nodeCount) * rb
	if size > uint64(len(buf)) || size >= 1<<32 {
		return nil
	}
	t := &tree4{tree: buf[:size], nodeCount: uint32(nodeCount), recBytes: uint32(rb), dataSize: uint32(dataSize)}
	root := uint32(0)
	if ipVersion == 6 {
		// IPv4 addresses live under ::/96.
		for range 96 {
			if root >= t.nodeCount {
				return nil // ::/n is a record: let the library say so
			}
			root = t.child(root, 0)
		}
		if root >= t.nodeCount {
			return nil
		}
	}
	t.bits = jumpBits
	if nodeCount >= bigJumpNodes {
		t.bits = bigJumpBits
	}
	t.jump = make([]uint32, 1<<t.bits)
	t.depth = make([]uint8, 1<<t.bits)
	t.fill(root, 0, 0)
	return t
}

// fill sets the jump entries under the prefix of length depth reached at
// node. The recursion is bounded by t.bits, so a cyclic (hostile) tree
// cannot make it loop.
func (t *tree4) fill(node uint32, depth int, prefix uint32) {
	if node >= t.nodeCount || depth == int(t.bits) {
		lo := prefix << (int(t.bits) - depth)
		hi := lo + 1<<(int(t.bits)-depth)
		for i := lo; i < hi; i++ {
			t.jump[i], t.depth[i] = node, uint8(depth)
		}
		return
	}
	t.fill(t.child(node, 0), depth+1, prefix<<1)
	t.fill(t.child(node, 1), depth+1, prefix<<1|1)
}

// child reads the left (bit 0) or right (bit 1) record of node, which
// must be below nodeCount (the tree section holds every such node).
func (t *tree4) child(node, bit uint32) uint32 {
	off := node * t.recBytes
	b := t.tree[off : off+t.recBytes]
	switch t.recBytes {
	case 6:
		o := bit * 3
		return uint32(b[o])<<16 | uint32(b[o+1])<<8 | uint32(b[o+2])
	case 7:
		if bit == 0 {
			return uint32(b[3]&0xf0)<<20 | uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
		}
		return uint32(b[3]&0x0f)<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	default:
		return binary.BigEndian.Uint32(b[bit*4:])
	}
}

// walk4 is the state of one database's IPv4 search.
type walk4 struct {
	t     *tree4
	node  uint32
	depth uint32
	ip    uint32 // the address searched for
}

// errTreeCorrupt is what a walk that ends inside the tree or points out
// of the data section returns, as maxminddb does.
var errTreeCorrupt = errors.New("the MaxMind DB file's search tree is corrupt")

// start places w at the jump table entry for ip.
func (w *walk4) start(t *tree4, ip uint32) {
	j := ip >> (32 - t.bits)
	w.t, w.node, w.depth, w.ip = t, t.jump[j], uint32(t.depth[j]), ip
}

// step takes w one level down; false when w had already finished.
func (w *walk4) step() bool {
	if w.node >= w.t.nodeCount || w.depth >= 32 {
		return false
	}
	w.node = w.t.child(w.node, w.ip>>(31-w.depth)&1)
	w.depth++
	return true
}

// walkAll finishes the searches of ws in lockstep: one level of every
// unfinished search per round. LookupBatch keeps a list of pointers to its
// unfinished searches instead; here such a list makes a lookup's probe
// escape to the heap (291 → 675 bytes per Lookup), for at most maxWalks
// searches.
func walkAll(ws []walk4) {
	for {
		busy := false
		for k := range ws {
			if ws[k].step() {
				busy = true
			}
		}
		if !busy {
			return
		}
	}
}

// result turns a finished walk into a data offset: found is false for
// the empty marker; an error for a corrupt tree.
func (w *walk4) result() (off uintptr, found bool, err error) {
	t := w.t
	switch {
	case w.node == t.nodeCount:
		return 0, false, nil
	case w.node < t.nodeCount:
		return 0, false, errTreeCorrupt
	}
	d := w.node - t.nodeCount
	if d < 16 || d-16 >= t.dataSize {
		return 0, false, errTreeCorrupt
	}
	return uintptr(d - 16), true, nil
}

// prefix is the matched network: the searched address cut to the
// depth the search ended at.
func (w *walk4) prefix() netip.Prefix {
	ip := w.ip
	if w.depth < 32 {
		ip &^= 1<<(32-w.depth) - 1
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), int(w.depth))
}
