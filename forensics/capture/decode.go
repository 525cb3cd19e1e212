package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers used on the decode path.
const (
	ipProtoICMP   = 1
	ipProtoIPIP   = 4
	ipProtoTCP    = 6
	ipProtoUDP    = 17
	ipProtoIPv6   = 41
	ipProtoGRE    = 47
	ipProtoICMPv6 = 58
	ipProtoSCTP   = 132
)

// Ethernet types used on the decode path.
const (
	etherIPv4     = 0x0800
	etherIPv6     = 0x86DD
	etherVLAN     = 0x8100
	etherQinQ     = 0x88A8
	etherQinQOld  = 0x9100
	etherTEB      = 0x6558 // transparent Ethernet bridging (GRE)
	vxlanUDPPort  = 4789
	maxVLANLayers = 2

	linkTypeNFLOG layers.LinkType = 239 // not named by gopacket
)

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// decodeResult says why a packet did or did not give a transport tuple.
type decodeResult uint8

const (
	decodeOK        decodeResult = iota
	decodeNonIP                  // ARP, LLDP, ... : counted, no flow
	decodeUnknownLT              // link type not supported
	decodeMalformed              // a header was cut short or inconsistent
	decodeFragment               // non-first IPv4/IPv6 fragment: no ports
)

// packet is the decoded view of one frame. It borrows data from the read
// buffer: nothing in it may be kept past the next read.
type packet struct {
	v6        bool
	src, dst  [16]byte
	proto     uint8
	sport     uint16
	dport     uint16
	tcpFlags  uint8
	seq       uint32
	ipLen     int // L3 bytes (IP header + payload) as the IP header declares
	payload   []byte
	vlan      [maxVLANLayers]uint16
	nvlan     uint8
	tunnel    string
	fragment  bool // a fragment (first or not)
	fragFirst bool
	fragID    uint32
	icmp      bool // sport/dport hold ICMP type/code
}

// decoder holds per-reader decode state. It is not safe for concurrent
// use: one per goroutine, as gopacket's DecodingLayerParser.
type decoder struct {
	p packet
}

// decode fills d.p from one frame of the given link type.
func (d *decoder) decode(lt layers.LinkType, data []byte) decodeResult {
	d.p = packet{}
	switch lt {
	case layers.LinkTypeEthernet:
		return d.ethernet(data, false)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return decodeMalformed
		}
		return d.etherType(binary.BigEndian.Uint16(data[14:16]), data[16:], false)
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return decodeMalformed
		}
		return d.etherType(binary.BigEndian.Uint16(data[0:2]), data[20:], false)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		return d.rawIP(data, false)
	case layers.LinkTypeNull:
		if len(data) < 4 {
			return decodeMalformed
		}
		// The family is in the writer's byte order; either order of a
		// small value is unambiguous.
		fam := binary.LittleEndian.Uint32(data[:4])
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[:4])
		}
		return d.bsdFamily(fam, data[4:])
	case layers.LinkTypeLoop:
		if len(data) < 4 {
			return decodeMalformed
		}
		return d.bsdFamily(binary.BigEndian.Uint32(data[:4]), data[4:])
	case linkTypeNFLOG:
		return d.nflog(data)
	}
	return decodeUnknownLT
}

func (d *decoder) bsdFamily(fam uint32, data []byte) decodeResult {
	switch fam {
	case 2:
		return d.ipv4(data, false)
	case 24, 28, 30:
		return d.ipv6(data, false)
	}
	return decodeNonIP
}

// nflog walks the NFLOG TLVs (little-endian lengths) to the payload TLV.
func (d *decoder) nflog(data []byte) decodeResult {
	if len(data) < 4 {
		return decodeMalformed
	}
	fam := data[0]
	b := data[4:]
	for len(b) >= 4 {
		l := int(binary.LittleEndian.Uint16(b[0:2]))
		t := binary.LittleEndian.Uint16(b[2:4])
		if l < 4 || l > len(b) {
			return decodeMalformed
		}
		if t == 9 { // NFULA_PAYLOAD
			switch fam {
			case 2:
				return d.ipv4(b[4:l], false)
			case 10:
				return d.ipv6(b[4:l], false)
			}
			return d.rawIP(b[4:l], false)
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return decodeNonIP
}

func (d *decoder) rawIP(data []byte, inner bool) decodeResult {
	if len(data) < 1 {
		return decodeMalformed
	}
	switch data[0] >> 4 {
	case 4:
		return d.ipv4(data, inner)
	case 6:
		return d.ipv6(data, inner)
	}
	return decodeMalformed
}

func (d *decoder) ethernet(data []byte, inner bool) decodeResult {
	if len(data) < 14 {
		return decodeMalformed
	}
	return d.etherType(binary.BigEndian.Uint16(data[12:14]), data[14:], inner)
}

func (d *decoder) etherType(et uint16, data []byte, inner bool) decodeResult {
	for et == etherVLAN || et == etherQinQ || et == etherQinQOld {
		if len(data) < 4 {
			return decodeMalformed
		}
		if !inner && int(d.p.nvlan) < maxVLANLayers {
			d.p.vlan[d.p.nvlan] = binary.BigEndian.Uint16(data[0:2]) & 0x0fff
			d.p.nvlan++
		}
		et = binary.BigEndian.Uint16(data[2:4])
		data = data[4:]
	}
	switch et {
	case etherIPv4:
		return d.ipv4(data, inner)
	case etherIPv6:
		return d.ipv6(data, inner)
	}
	return decodeNonIP
}

func (d *decoder) ipv4(data []byte, inner bool) decodeResult {
	if len(data) < 20 || data[0]>>4 != 4 {
		return decodeMalformed
	}
	ihl := int(data[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if ihl < 20 || total < ihl || len(data) < ihl {
		return decodeMalformed
	}
	p := &d.p
	p.v6 = false
	p.src = [16]byte{}
	p.dst = [16]byte{}
	copy(p.src[:4], data[12:16])
	copy(p.dst[:4], data[16:20])
	p.proto = data[9]
	p.ipLen = total
	if len(data) > total {
		data = data[:total] // drop Ethernet padding
	}
	frag := binary.BigEndian.Uint16(data[6:8])
	offset := frag & 0x1fff
	more := frag&0x2000 != 0
	if offset != 0 || more {
		p.fragment = true
		p.fragFirst = offset == 0
		p.fragID = uint32(binary.BigEndian.Uint16(data[4:6]))
		if offset != 0 {
			return decodeFragment
		}
	}
	return d.transport(data[ihl:], inner)
}

func (d *decoder) ipv6(data []byte, inner bool) decodeResult {
	if len(data) < 40 || data[0]>>4 != 6 {
		return decodeMalformed
	}
	p := &d.p
	p.v6 = true
	copy(p.src[:], data[8:24])
	copy(p.dst[:], data[24:40])
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	p.ipLen = 40 + plen
	next := data[6]
	b := data[40:]
	if plen != 0 && len(b) > plen {
		b = b[:plen]
	}
	// Walk extension headers; bounded by the length of the packet, and by a
	// count so that a loop of tiny headers cannot spin.
	for range 16 {
		switch next {
		case 0, 43, 60, 135: // hop-by-hop, routing, destination options, mobility
			if len(b) < 8 {
				return decodeMalformed
			}
			l := (int(b[1]) + 1) * 8
			if l > len(b) {
				return decodeMalformed
			}
			next, b = b[0], b[l:]
		case 51: // AH: length in 4-octet units, minus 2
			if len(b) < 8 {
				return decodeMalformed
			}
			l := (int(b[1]) + 2) * 4
			if l > len(b) {
				return decodeMalformed
			}
			next, b = b[0], b[l:]
		case 44: // fragment
			if len(b) < 8 {
				return decodeMalformed
			}
			off := binary.BigEndian.Uint16(b[2:4]) >> 3
			more := b[3]&1 != 0
			p.fragID = binary.BigEndian.Uint32(b[4:8])
			if off != 0 || more {
				p.fragment = true
				p.fragFirst = off == 0
			}
			next, b = b[0], b[8:]
			if off != 0 {
				p.proto = next
				return decodeFragment
			}
		default:
			p.proto = next
			return d.transport(b, inner)
		}
	}
	return decodeMalformed
}

// transport decodes the L4 header, or a tunnel one level deep.
func (d *decoder) transport(b []byte, inner bool) decodeResult {
	p := &d.p
	if p.fragment && len(b) >= 4 && len(b) < 20 && (p.proto == ipProtoTCP || p.proto == ipProtoUDP || p.proto == ipProtoSCTP) {
		// A tiny first fragment: the rest of the header is in the next
		// fragment, but the ports are here and join the fragments.
		p.sport = binary.BigEndian.Uint16(b[0:2])
		p.dport = binary.BigEndian.Uint16(b[2:4])
		return decodeOK
	}
	switch p.proto {
	case ipProtoTCP:
		if len(b) < 20 {
			return decodeMalformed
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return decodeMalformed
		}
		p.sport = binary.BigEndian.Uint16(b[0:2])
		p.dport = binary.BigEndian.Uint16(b[2:4])
		p.seq = binary.BigEndian.Uint32(b[4:8])
		p.tcpFlags = b[13]
		p.payload = b[off:]
	case ipProtoUDP:
		if len(b) < 8 {
			return decodeMalformed
		}
		p.sport = binary.BigEndian.Uint16(b[0:2])
		p.dport = binary.BigEndian.Uint16(b[2:4])
		pl := b[8:]
		if ul := int(binary.BigEndian.Uint16(b[4:6])); ul >= 8 && ul-8 < len(pl) {
			pl = pl[:ul-8]
		}
		p.payload = pl
		if !inner && p.dport == vxlanUDPPort && len(pl) >= 8+14 && pl[0]&0x08 != 0 {
			return d.tunnel("vxlan", func(t *decoder) decodeResult { return t.ethernet(pl[8:], true) })
		}
	case ipProtoSCTP:
		if len(b) < 12 {
			return decodeMalformed
		}
		p.sport = binary.BigEndian.Uint16(b[0:2])
		p.dport = binary.BigEndian.Uint16(b[2:4])
		p.payload = b[12:]
	case ipProtoICMP, ipProtoICMPv6:
		if len(b) < 4 {
			return decodeMalformed
		}
		p.icmp = true
		p.sport = uint16(b[0])
		p.dport = uint16(b[1])
		p.payload = b[4:]
	case ipProtoIPIP:
		if !inner {
			return d.tunnel("ipip", func(t *decoder) decodeResult { return t.ipv4(b, true) })
		}
		p.payload = b
	case ipProtoIPv6:
		if !inner {
			return d.tunnel("ip6in4", func(t *decoder) decodeResult { return t.ipv6(b, true) })
		}
		p.payload = b
	case ipProtoGRE:
		if !inner {
			if r, ok := d.gre(b); ok {
				return r
			}
		}
		p.payload = b
	default:
		p.payload = b
	}
	return decodeOK
}

// tunnel decodes the inner packet; if it is unusable the outer packet
// stands as the flow so that nothing is lost.
func (d *decoder) tunnel(name string, inner func(*decoder) decodeResult) decodeResult {
	outer := d.p
	vlan, nvlan := d.p.vlan, d.p.nvlan
	d.p = packet{vlan: vlan, nvlan: nvlan}
	r := inner(d)
	if r == decodeOK || r == decodeFragment {
		d.p.tunnel = name
		return r
	}
	d.p = outer
	return decodeOK
}

// gre decapsulates GRE version 0 carrying IP or Ethernet.
func (d *decoder) gre(b []byte) (decodeResult, bool) {
	if len(b) < 4 {
		return decodeMalformed, false
	}
	flags := binary.BigEndian.Uint16(b[0:2])
	if flags&0x7 != 0 { // version 1 is PPTP's enhanced GRE: no inner IP to find
		return decodeOK, false
	}
	proto := binary.BigEndian.Uint16(b[2:4])
	off := 4
	if flags&0x8000 != 0 { // checksum + reserved
		off += 4
	}
	if flags&0x2000 != 0 { // key
		off += 4
	}
	if flags&0x1000 != 0 { // sequence
		off += 4
	}
	if off > len(b) {
		return decodeMalformed, false
	}
	in := b[off:]
	switch proto {
	case etherIPv4:
		return d.tunnel("gre", func(t *decoder) decodeResult { return t.ipv4(in, true) }), true
	case etherIPv6:
		return d.tunnel("gre", func(t *decoder) decodeResult { return t.ipv6(in, true) }), true
	case etherTEB:
		return d.tunnel("gre", func(t *decoder) decodeResult { return t.ethernet(in, true) }), true
	}
	return decodeOK, false
}
