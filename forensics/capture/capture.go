package capture

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracehop/tracehop/forensics"
)

// ErrNotCapture is returned (wrapped) when a stream is not a pcap or pcapng
// capture at all. Truncated or damaged captures are not errors: they end
// with the flows read so far and a note in Stats.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// Options tune capture reading. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	// CommunityIDSeed is the Community ID v1 seed (0 is what Zeek,
	// Suricata and Arkime use by default).
	CommunityIDSeed uint16
	// MaxFlows caps live flows. When full, the least recently seen flow is
	// emitted early (an eviction), so memory is bounded by this number,
	// not by the size of the capture.
	MaxFlows int
	// IdleTimeout ends a flow that saw no packet for this long (capture
	// time); ActiveTimeout splits a flow that lasts longer.
	IdleTimeout   time.Duration
	ActiveTimeout time.Duration
	// MaxProblems is how many malformed-packet positions are kept.
	MaxProblems int
	// NoAppMeta skips the HTTP/TLS/SSH/DNS look at payloads.
	NoAppMeta bool
	// Shards is how many flow tables run in parallel, each on its own
	// goroutine, fed by address-pair hash. It is a fixed number, not the
	// core count, because per-shard caps and timeouts shape the output;
	// 1 runs everything on the caller's goroutine.
	Shards int
}

// DefaultOptions returns the defaults: seed 0, half a million live flows
// (about 300 MB of process memory at most, with room for the garbage
// collector inside a 1 GB budget), 5 minutes idle, 1 hour active, 100
// problems kept, two flow-table shards.
func DefaultOptions() Options {
	return Options{
		MaxFlows:      500_000,
		IdleTimeout:   5 * time.Minute,
		ActiveTimeout: time.Hour,
		MaxProblems:   100,
		Shards:        2,
	}
}

// LinkTypeCount counts packets of a link type tracehop does not decode.
type LinkTypeCount struct {
	LinkType string
	Packets  int64
}

// Stats counts what a read saw.
type Stats struct {
	Format    string // "pcap" or "pcapng"
	Packets   int64
	Bytes     int64 // captured bytes of all packet records
	Flows     int64 // flows emitted
	Malformed int64 // packets that could not be decoded, plus a truncated end
	NonIP     int64 // frames without IP (ARP, LLDP, ...)
	Fragments int64 // IPv4/IPv6 fragments
	Tunneled  int64 // packets decapsulated from IP-in-IP, GRE or VXLAN
	// UnknownLinkTypes lists link types without a decoder, sorted.
	UnknownLinkTypes []LinkTypeCount
	// Evictions are flows emitted early because MaxFlows was reached;
	// Expired are flows ended by the idle or active timeout.
	Evictions int64
	Expired   int64
	// Truncated is set when the capture ended early:
	// "truncated at byte N / packet N" (or "malformed ... at byte N").
	Truncated string
	Problems  []forensics.Problem
	Caps      []forensics.CapHit
}

// countingReader counts bytes handed to the buffered reader above it, so
// the byte offset of a packet record is count - buffered.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// packetSource is pcapgo's Reader or NgReader behind one interface.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

const readBufferSize = 256 << 10

// Read decodes a capture stream (already decompressed) and calls emit for
// every flow. Flows carry Evidence.File, Packet (1-based index of their
// first packet) and Offset (byte offset of that packet's record; for
// pcapng, of the first block read for that packet); SHA256 is left to the
// caller. Emission order is unspecified: use SortFlows.
func Read(ctx context.Context, r io.Reader, file string, opts Options, emit func(forensics.Flow)) (Stats, error) {
	st := Stats{}
	ra := newReadAhead(r)
	defer ra.stop()
	cr := &countingReader{r: ra}
	br := bufio.NewReaderSize(cr, readBufferSize)
	pos := func() int64 { return cr.n - int64(br.Buffered()) }

	magic, err := br.Peek(4)
	if len(magic) < 4 {
		if err == nil || errors.Is(err, io.EOF) {
			return st, fmt.Errorf("read %s: %w (%d bytes)", file, ErrNotCapture, len(magic))
		}
		return st, fmt.Errorf("read %s: %w", file, err)
	}
	var src packetSource
	var linkType layers.LinkType
	var ng bool
	switch {
	case isPcapMagic(magic):
		st.Format = "pcap"
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return truncatedHeader(st, file, pos(), err)
		}
		src, linkType = pr, pr.LinkType()
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		st.Format = "pcapng"
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return truncatedHeader(st, file, pos(), err)
		}
		src, ng = nr, true
	default:
		return st, fmt.Errorf("read %s: %w (magic %x)", file, ErrNotCapture, magic)
	}

	rd := newReaderState(file, opts, emit, &st)
	var proc interface {
		packet(lt layers.LinkType, data []byte, ts int64, pkt uint64, off int64)
	} = rd
	finish := rd.flush
	var truncAt forensics.Problem
	if opts.Shards > 1 {
		sh := newSharded(rd, min(opts.Shards, 64), emit)
		proc, finish = sh, sh.finish
	}
	for {
		if st.Packets&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				finish()
				return st, fmt.Errorf("read %s: %w", file, err)
			}
		}
		off := pos()
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if ra.ioErr != nil { // the input failed, not the capture format
				finish()
				return st, fmt.Errorf("read %s at byte %d / packet %d: %w", file, off, st.Packets+1, ra.ioErr)
			}
			next := st.Packets + 1
			if errors.Is(err, io.ErrUnexpectedEOF) {
				st.Truncated = fmt.Sprintf("truncated at byte %d / packet %d", off, next)
			} else if errors.Is(err, pcapgo.ErrNgLinkTypeMismatch) {
				continue
			} else {
				st.Truncated = fmt.Sprintf("malformed record at byte %d / packet %d: %v", off, next, err)
			}
			st.Malformed++
			truncAt = forensics.Problem{File: file, Packet: uint64(next), Offset: off, Reason: st.Truncated}
			break
		}
		st.Packets++
		st.Bytes += int64(len(data))
		lt := linkType
		if ng && len(ci.AncillaryData) > 0 {
			if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				lt = l
			}
		}
		proc.packet(lt, data, ci.Timestamp.UnixNano(), uint64(st.Packets), off)
	}
	finish()
	if truncAt.Reason != "" {
		// Always listed, whatever MaxProblems: it says where the evidence ends.
		st.Problems = append(st.Problems, truncAt)
	}
	return st, nil
}

// truncatedHeader handles a capture whose magic is right but whose file
// header is cut or broken: it is a capture, with nothing in it.
func truncatedHeader(st Stats, file string, off int64, err error) (Stats, error) {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		st.Truncated = fmt.Sprintf("truncated at byte %d / packet 1 (file header)", off)
		st.Malformed++
		st.Problems = append(st.Problems, forensics.Problem{File: file, Offset: off, Reason: st.Truncated})
		return st, nil
	}
	return st, fmt.Errorf("read %s: %s header: %w", file, st.Format, err)
}

func isPcapMagic(m []byte) bool {
	switch string(m) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d":
		return true
	}
	return false
}

// readerState is the per-stream decode and flow-tracking state.
type readerState struct {
	file    string
	opts    Options
	emit    func(forensics.Flow)
	st      *Stats
	dec     decoder
	table   *flowTable
	now     int64
	idle    int64
	active  int64
	frags   map[fragKey][2]uint16
	unknown map[layers.LinkType]int64
	dropped int64 // problems beyond MaxProblems
	fp      fpCache
}

// fragKey finds the first fragment's ports for later fragments.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
}

const maxFragEntries = 1 << 16

func newReaderState(file string, opts Options, emit func(forensics.Flow), st *Stats) *readerState {
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = DefaultOptions().MaxFlows
	}
	rs := &readerState{
		file: file, opts: opts, emit: emit, st: st,
		table:  newFlowTable(opts.MaxFlows),
		idle:   int64(opts.IdleTimeout),
		active: int64(opts.ActiveTimeout),
	}
	if rs.idle <= 0 {
		rs.idle = int64(DefaultOptions().IdleTimeout)
	}
	if rs.active <= 0 {
		rs.active = int64(DefaultOptions().ActiveTimeout)
	}
	return rs
}

func (rs *readerState) problem(pkt uint64, off int64, reason string) {
	if len(rs.st.Problems) >= rs.opts.MaxProblems {
		rs.dropped++
		return
	}
	rs.st.Problems = append(rs.st.Problems, forensics.Problem{File: rs.file, Packet: pkt, Offset: off, Reason: reason})
}

// packet handles one frame inline: admit then handle. A panic in a
// decoder or parser costs that packet, not the file.
func (rs *readerState) packet(lt layers.LinkType, data []byte, ts int64, pkt uint64, off int64) {
	if rs.admit(lt, data, pkt, off) {
		rs.handle(&rs.dec.p, ts, pkt, off)
	}
}

// admit decodes a frame into rs.dec.p and counts what is not a flow
// packet. It reports whether the packet goes on to the flow table.
func (rs *readerState) admit(lt layers.LinkType, data []byte, pkt uint64, off int64) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			rs.st.Malformed++
			rs.problem(pkt, off, fmt.Sprintf("packet decode failed: %v", r))
			ok = false
		}
	}()
	d := &rs.dec
	switch d.decode(lt, data) {
	case decodeOK:
	case decodeUnknownLT:
		if rs.unknown == nil {
			rs.unknown = make(map[layers.LinkType]int64)
		}
		rs.unknown[lt]++
		return false
	case decodeNonIP:
		rs.st.NonIP++
		return false
	case decodeMalformed:
		rs.st.Malformed++
		rs.problem(pkt, off, "malformed packet: header cut short or inconsistent")
		return false
	case decodeFragment:
		rs.st.Fragments++
		ports, ok := rs.frags[rs.fragKey()]
		if !ok {
			return false // the first fragment was not seen: no ports to join it with
		}
		d.p.sport, d.p.dport = ports[0], ports[1]
	}
	p := &d.p
	if p.tunnel != "" {
		rs.st.Tunneled++
	}
	if p.fragment && p.fragFirst {
		rs.st.Fragments++
		if rs.frags == nil || len(rs.frags) >= maxFragEntries {
			rs.frags = make(map[fragKey][2]uint16) // bounded: start over
		}
		rs.frags[rs.fragKey()] = [2]uint16{p.sport, p.dport}
	}
	return true
}

// handle puts a decoded packet into the flow table.
func (rs *readerState) handle(p *packet, ts int64, pkt uint64, off int64) {
	defer func() {
		if r := recover(); r != nil {
			rs.st.Malformed++
			rs.problem(pkt, off, fmt.Sprintf("packet processing failed: %v", r))
		}
	}()
	if ts > rs.now {
		rs.now = ts
	}
	rs.expire()
	rs.track(p, ts, pkt, off)
}

func (rs *readerState) fragKey() fragKey {
	p := &rs.dec.p
	return fragKey{src: p.src, dst: p.dst, id: p.fragID, proto: p.proto}
}

func (rs *readerState) track(p *packet, ts int64, pkt uint64, off int64) {
	t := rs.table
	k, swapped := canonicalKey(p)
	i, ok := t.index[k]
	if ok && ts-t.at(i).first > rs.active {
		rs.end(i)
		rs.st.Expired++
		ok = false
	}
	if ok && t.at(i).list == listClosed && p.proto == ipProtoTCP && p.tcpFlags&(tcpSYN|tcpACK) == tcpSYN {
		// A new connection reusing the 5-tuple of a closed one.
		rs.end(i)
		ok = false
	}
	if !ok {
		if t.len() >= t.max {
			rs.end(t.oldest())
			rs.st.Evictions++
		}
		i = t.insert(k)
		f := t.at(i)
		f.srcIsA = !swapped
		f.first, f.last = ts, ts
		f.firstPacket, f.firstOffset = pkt, off
		f.sport, f.dport = p.sport, p.dport
		f.dnsID = -1
		f.vlan, f.nvlan, f.tunnel = p.vlan, p.nvlan, p.tunnel
		if p.proto == ipProtoUDP && isDNSResponse(p) {
			// Only the answer was captured: the asker is the client, as
			// Zeek reports it.
			f.srcIsA = swapped
			f.sport, f.dport = p.dport, p.sport
		}
		if p.proto == ipProtoTCP && p.tcpFlags&tcpSYN != 0 {
			f.synFirst = true
			if p.tcpFlags&tcpACK != 0 {
				// Only the SYN-ACK was captured: its receiver is the client.
				f.srcIsA = swapped
				f.sport, f.dport = p.dport, p.sport
			}
		}
	} else {
		t.touch(i)
	}
	f := t.at(i)
	dir := 0
	if (!swapped) != f.srcIsA {
		dir = 1
	}
	if ts > f.last {
		f.last = ts
	}
	f.pkts[dir]++
	f.bytes[dir] += uint64(p.ipLen)
	if rs.opts.NoAppMeta {
		if p.proto == ipProtoTCP {
			f.flags[dir] |= p.tcpFlags
			if fl := f.flags[0] | f.flags[1]; fl&tcpRST != 0 || f.flags[0]&f.flags[1]&tcpFIN != 0 {
				t.close(i)
			}
		}
		return
	}
	switch p.proto {
	case ipProtoTCP:
		f.flags[dir] |= p.tcpFlags
		f.tcpApp(dir, p, &rs.fp)
		if fl := f.flags[0] | f.flags[1]; fl&tcpRST != 0 || f.flags[0]&f.flags[1]&tcpFIN != 0 {
			t.close(i)
		}
	case ipProtoUDP:
		if len(p.payload) > 0 {
			f.udpApp(p)
			if f.meta.dns != nil && f.meta.dns.RCode != "" {
				t.close(i)
			}
		}
	}
}

// isDNSResponse: a datagram from a DNS port with the QR bit set.
func isDNSResponse(p *packet) bool {
	switch p.sport {
	case 53, 5353, 5355:
		return len(p.payload) >= 12 && p.payload[2]&0x80 != 0
	}
	return false
}

// expire ends flows idle for longer than the idle timeout, least recently
// seen first; the list order makes this O(1) per packet.
func (rs *readerState) expire() {
	t := rs.table
	for h := t.lists[listOpen].head; h != nilIdx && rs.now-t.at(h).last > rs.idle; h = t.lists[listOpen].head {
		rs.end(h)
		rs.st.Expired++
	}
	for h := t.lists[listClosed].head; h != nilIdx && rs.now-t.at(h).last > closeLinger; h = t.lists[listClosed].head {
		rs.end(h)
	}
}

// end emits flow i and removes it.
func (rs *readerState) end(i int32) {
	f := rs.table.at(i)
	if f.app != nil {
		for d := range f.app.dir {
			if s := &f.app.dir[d]; !s.done && len(s.buf) > 0 {
				f.parseApp(d, true, &rs.fp)
			}
		}
	}
	rs.emit(rs.flow(f))
	rs.st.Flows++
	rs.table.remove(i)
}

func (rs *readerState) flow(f *flowState) forensics.Flow {
	k := &f.key
	srcB, dstB := k.a, k.b
	sport, dport := k.ap, k.bp
	if !f.srcIsA {
		srcB, dstB = k.b, k.a
		sport, dport = k.bp, k.ap
	}
	if f.key.proto == ipProtoICMP || f.key.proto == ipProtoICMPv6 {
		sport, dport = f.sport, f.dport // type and code of the first packet
	}
	src, dst := addrOf(srcB, k.v6), addrOf(dstB, k.v6)
	fl := forensics.Flow{
		CommunityID: forensics.CommunityID(rs.opts.CommunityIDSeed, k.proto, src, dst, sport, dport),
		Proto:       protoName(k.proto),
		SrcIP:       src,
		SrcPort:     sport,
		DstIP:       dst,
		DstPort:     dport,
		Start:       forensics.NewTime(time.Unix(0, f.first)),
		End:         forensics.NewTime(time.Unix(0, f.last)),
		PktsOut:     f.pkts[0],
		PktsIn:      f.pkts[1],
		BytesOut:    f.bytes[0],
		BytesIn:     f.bytes[1],
		Tunnel:      f.tunnel,
		HTTP:        f.meta.http,
		TLS:         f.meta.tls,
		SSH:         f.meta.ssh,
		DNS:         f.meta.dns,
		Evidence:    forensics.EvidenceRef{File: rs.file, Packet: f.firstPacket, Offset: f.firstOffset},
	}
	if k.proto == ipProtoTCP {
		fl.State = tcpState(f)
	}
	if f.nvlan > 0 {
		fl.VLAN = append([]uint16(nil), f.vlan[:f.nvlan]...)
	}
	// The ID is what identifies the flow in this evidence: its tuple, its
	// first instant and its first packet; the same capture gives the same IDs.
	fl.ID = forensics.HashID("flow", fl.CommunityID, strconv.FormatInt(f.first, 10), strconv.FormatUint(f.firstPacket, 10))
	return fl
}

// flush ends every live flow and completes the stats.
func (rs *readerState) flush() {
	rs.flushFlows()
	rs.finishStats()
}

// flushFlows ends every live flow. A panic while emitting costs the rest
// of the table, never the process.
func (rs *readerState) flushFlows() {
	defer func() {
		if r := recover(); r != nil {
			rs.st.Malformed++
			rs.problem(0, 0, fmt.Sprintf("flow table flush failed: %v", r))
		}
	}()
	t := rs.table
	for _, l := range []int{listOpen, listClosed} {
		for t.lists[l].head != nilIdx {
			rs.end(t.lists[l].head)
		}
	}
}

// finishStats adds link types not decoded and the caps hit.
func (rs *readerState) finishStats() {
	st := rs.st
	for lt, n := range rs.unknown {
		st.UnknownLinkTypes = append(st.UnknownLinkTypes, LinkTypeCount{LinkType: linkTypeName(lt), Packets: n})
	}
	slices.SortFunc(st.UnknownLinkTypes, func(a, b LinkTypeCount) int { return cmp.Compare(a.LinkType, b.LinkType) })
	for _, u := range st.UnknownLinkTypes {
		reason := fmt.Sprintf("link type %s not decoded (%d packets)", u.LinkType, u.Packets)
		st.Problems = append(st.Problems, forensics.Problem{File: rs.file, Reason: reason})
	}
	if st.Evictions > 0 {
		st.Caps = append(st.Caps, forensics.CapHit{Cap: "capture.max_flows=" + strconv.Itoa(rs.opts.MaxFlows) + " (flows evicted early)", File: rs.file, Count: st.Evictions})
	}
	if rs.dropped > 0 {
		st.Caps = append(st.Caps, forensics.CapHit{Cap: "capture.max_problems=" + strconv.Itoa(rs.opts.MaxProblems) + " (problems not listed)", File: rs.file, Count: rs.dropped})
	}
}

func linkTypeName(lt layers.LinkType) string {
	s := lt.String()
	if s == "" || s[0] == 'U' && len(s) > 7 && s[:7] == "Unknown" {
		return "LINKTYPE_" + strconv.Itoa(int(lt))
	}
	return s + " (" + strconv.Itoa(int(lt)) + ")"
}

// SortFlows puts flows in output order: by start time, then ID.
func SortFlows(fs []forensics.Flow) {
	slices.SortStableFunc(fs, func(a, b forensics.Flow) int {
		return cmp.Or(a.Start.Compare(b.Start.Time), cmp.Compare(a.ID, b.ID))
	})
}
