package capture

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// flowKey is the bidirectional 5-tuple in canonical order (a <= b by
// address, then port), so both directions of a conversation find the same
// entry. It is a comparable value: no strings, no pointers.
type flowKey struct {
	a, b   [16]byte
	ap, bp uint16
	proto  uint8
	v6     bool
}

const nilIdx = -1

// flowState is one live flow. Entries live in a slice and link into an
// intrusive list ordered by last packet time (least recent first), which
// gives idle expiry and cap eviction in O(1) and in a deterministic order.
type flowState struct {
	key        flowKey
	prev, next int32
	list       uint8
	// srcIsA: the flow's src (first sender, or SYN sender) is key.a.
	srcIsA      bool
	first, last int64 // unix nanoseconds
	pkts        [2]uint64
	bytes       [2]uint64
	firstPacket uint64
	firstOffset int64
	sport       uint16 // as first seen from src (ICMP: type)
	dport       uint16 // (ICMP: code)
	// TCP flags seen per direction, OR-ed; synFirst: the first packet was
	// a SYN (or SYN-ACK, in which case src was swapped to the SYN sender).
	flags    [2]uint8
	synFirst bool
	vlan     [maxVLANLayers]uint16
	nvlan    uint8
	tunnel   string
	isn      [2]uint32 // SYN sequence + 1 per direction
	isnSet   uint8
	app      *appState // nil when no payload was looked at, or done
	appTried bool
	udpTries uint8
	dnsID    int32 // ID of the query that named the flow; -1 none
	meta     appMeta
}

// appMeta is what the application parsers found; kept separately from
// appState so that the buffers can be freed while the results stay.
type appMeta struct {
	http *forensics.HTTPMeta
	tls  *forensics.TLSMeta
	ssh  *forensics.SSHMeta
	dns  *forensics.DNSMeta
}

// Flow lists: open flows expire after the idle timeout; closed ones (TCP
// FIN both ways or RST, DNS answered) linger briefly for stray packets.
const (
	listOpen   = 0
	listClosed = 1
)

// closeLinger is how long a closed flow waits for late packets (a final
// ACK, a retransmitted FIN) before it is emitted; Zeek's tcp_close_delay.
const closeLinger = int64(5e9)

type flowList struct{ head, tail int32 }

// flowTable tracks live flows with a memory cap.
type flowTable struct {
	index map[flowKey]int32
	// chunks hold the flow states; index i is chunks[i>>chunkBits][i&chunkMask].
	chunks [][]flowState
	n      int32
	free   []int32
	lists  [2]flowList // each ordered least recently seen first
	max    int
}

func newFlowTable(max int) *flowTable {
	t := &flowTable{index: make(map[flowKey]int32, min(max, 1024)), max: max}
	for i := range t.lists {
		t.lists[i] = flowList{nilIdx, nilIdx}
	}
	return t
}

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

func (t *flowTable) len() int { return len(t.index) }

// at returns flow i.
func (t *flowTable) at(i int32) *flowState { return &t.chunks[i>>chunkBits][i&chunkMask] }

func (t *flowTable) unlink(i int32) {
	f := t.at(i)
	l := &t.lists[f.list]
	if f.prev != nilIdx {
		t.at(f.prev).next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nilIdx {
		t.at(f.next).prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nilIdx, nilIdx
}

func (t *flowTable) pushBack(i int32) {
	f := t.at(i)
	l := &t.lists[f.list]
	f.prev, f.next = l.tail, nilIdx
	if l.tail != nilIdx {
		t.at(l.tail).next = i
	} else {
		l.head = i
	}
	l.tail = i
}

// touch marks i as the most recently seen flow of its list.
func (t *flowTable) touch(i int32) {
	if t.lists[t.at(i).list].tail == i {
		return
	}
	t.unlink(i)
	t.pushBack(i)
}

// close moves flow i to the closed list.
func (t *flowTable) close(i int32) {
	if t.at(i).list == listClosed {
		return
	}
	t.unlink(i)
	t.at(i).list = listClosed
	t.pushBack(i)
}

// oldest is the flow to evict when the table is full: the least recently
// seen closed flow, else the least recently seen open one.
func (t *flowTable) oldest() int32 {
	if h := t.lists[listClosed].head; h != nilIdx {
		return h
	}
	return t.lists[listOpen].head
}

// insert adds a new flow; the caller has made room.
func (t *flowTable) insert(k flowKey) int32 {
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if t.n&chunkMask == 0 {
			// Fixed-size chunks: growth never copies live flows, and
			// memory follows the number of flows actually seen.
			t.chunks = append(t.chunks, make([]flowState, chunkSize))
		}
		i = t.n
		t.n++
	}
	*t.at(i) = flowState{key: k, prev: nilIdx, next: nilIdx}
	t.index[k] = i
	t.pushBack(i)
	return i
}

// remove drops flow i from the table; the caller has emitted it.
func (t *flowTable) remove(i int32) {
	t.unlink(i)
	delete(t.index, t.at(i).key)
	*t.at(i) = flowState{prev: nilIdx, next: nilIdx}
	t.free = append(t.free, i)
}

// canonicalKey orders the endpoints; swapped reports that the packet's
// source is key.b.
func canonicalKey(p *packet) (k flowKey, swapped bool) {
	sp, dp := p.sport, p.dport
	oneWay := false
	if p.icmp {
		// Request and reply types join one flow, as Community ID pairs them.
		proto := p.proto
		if forensics.IsICMPOneWay(proto, uint8(sp)) {
			oneWay = true
		} else {
			dp = icmpCounterpart(proto, uint8(sp))
		}
	}
	k = flowKey{proto: p.proto, v6: p.v6}
	c := bytes.Compare(p.src[:], p.dst[:])
	if !oneWay && (c > 0 || (c == 0 && sp > dp)) {
		k.a, k.b, k.ap, k.bp = p.dst, p.src, dp, sp
		return k, true
	}
	k.a, k.b, k.ap, k.bp = p.src, p.dst, sp, dp
	return k, false
}

func icmpCounterpart(proto uint8, typ uint8) uint16 {
	pairs4 := [...][2]uint8{{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}}
	pairs6 := [...][2]uint8{{128, 129}, {130, 131}, {133, 134}, {135, 136}, {139, 140}, {144, 145}}
	pairs := pairs4[:]
	if proto == ipProtoICMPv6 {
		pairs = pairs6[:]
	}
	for _, pr := range pairs {
		if pr[0] == typ {
			return uint16(pr[1])
		}
		if pr[1] == typ {
			return uint16(pr[0])
		}
	}
	return 0
}

func addrOf(b [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

func protoName(p uint8) string {
	switch p {
	case ipProtoTCP:
		return "tcp"
	case ipProtoUDP:
		return "udp"
	case ipProtoICMP:
		return "icmp"
	case ipProtoICMPv6:
		return "icmp6"
	case ipProtoSCTP:
		return "sctp"
	case ipProtoGRE:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	}
	return strconv.Itoa(int(p))
}

// tcpState renders what was seen of the TCP connection as comma-joined
// words: how it began (handshake, syn, synack, midstream) then fin and/or
// rst if seen. Words an analyst reads without a legend.
func tcpState(f *flowState) string {
	out, in := f.flags[0], f.flags[1]
	var b strings.Builder
	switch {
	case !f.synFirst:
		b.WriteString("midstream")
	case out&tcpSYN != 0 && in&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
		b.WriteString("handshake")
	case out&tcpSYN == 0:
		b.WriteString("synack") // only the SYN-ACK was captured
	default:
		b.WriteString("syn")
	}
	if (out|in)&tcpFIN != 0 {
		b.WriteString(",fin")
	}
	if (out|in)&tcpRST != 0 {
		b.WriteString(",rst")
	}
	return b.String()
}
