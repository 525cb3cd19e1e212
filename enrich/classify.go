package enrich

import (
	"encoding/binary"
	"net/netip"
)

// Address classes reported in Record.Class. "public" is the only class
// whose addresses are routed on the Internet; every other class names an
// RFC 6890 (IANA special-purpose registry) range.
const (
	ClassPublic        = "public"
	ClassPrivate       = "private"       // RFC 1918
	ClassLoopback      = "loopback"      // 127/8, ::1
	ClassLinkLocal     = "link_local"    // 169.254/16, fe80::/10
	ClassCGNAT         = "cgnat"         // 100.64/10, RFC 6598 shared address space
	ClassMulticast     = "multicast"     // 224/4, ff00::/8
	ClassDocumentation = "documentation" // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
	ClassBenchmarking  = "benchmarking"  // 198.18/15, 2001:2::/48
	ClassReserved      = "reserved"      // 240/4, IPv6 outside 2000::/3, deprecated ranges
	ClassUnspecified   = "unspecified"   // 0.0.0.0, ::
	ClassThisNetwork   = "this_network"  // 0/8 (RFC 791 "this host on this network")
	ClassBroadcast     = "broadcast"     // 255.255.255.255
	ClassIETFProtocol  = "ietf_protocol" // 192.0.0.0/24, 2001::/23 remainder
	ClassUniqueLocal   = "unique_local"  // fc00::/7 (RFC 4193)
	ClassDiscard       = "discard"       // 100::/64 (RFC 6666)
	ClassNAT64Local    = "nat64_local"   // 64:ff9b:1::/48 (RFC 8215), not routed
	ClassInvalid       = "invalid"       // the zero netip.Addr
)

// Ways an IPv4 address can be carried inside an IPv6 address, reported in
// Record.Embedding.
const (
	EmbeddingMapped = "ipv4_mapped" // ::ffff:0:0/96
	EmbeddingNAT64  = "nat64"       // 64:ff9b::/96 (RFC 6052)
	Embedding6to4   = "6to4"        // 2002::/16 (RFC 3056)
	EmbeddingTeredo = "teredo"      // 2001::/32 (RFC 4380), client address obfuscated
)

// Classify names the special-purpose range ip falls in, without any
// database. For an IPv6 address that carries an IPv4 address (IPv4-mapped,
// NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) it returns the
// class of the carried IPv4 address and that address, which is what
// databases should be asked about. Routable IPv6 is never "private".
func Classify(ip netip.Addr) (class string, embedded netip.Addr) {
	class, embedded, _ = classify(ip)
	return class, embedded
}

// classify is Classify plus the name of the embedding.
func classify(ip netip.Addr) (class string, embedded netip.Addr, embedding string) {
	if !ip.IsValid() {
		return ClassInvalid, netip.Addr{}, ""
	}
	if ip.Is4() {
		return classifyIPv4(ip.As4()), netip.Addr{}, ""
	}
	b := ip.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	switch {
	case hi == 0 && lo>>32 == 0xffff: // ::ffff:0:0/96
		v4 := netip.AddrFrom4([4]byte(b[12:16]))
		return classifyIPv4(v4.As4()), v4, EmbeddingMapped
	case hi == 0x0064_ff9b_0000_0000 && lo>>32 == 0: // 64:ff9b::/96
		v4 := netip.AddrFrom4([4]byte(b[12:16]))
		return classifyIPv4(v4.As4()), v4, EmbeddingNAT64
	case hi>>48 == 0x2002: // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
		v4 := netip.AddrFrom4([4]byte(b[2:6]))
		return classifyIPv4(v4.As4()), v4, Embedding6to4
	case hi>>32 == 0x2001_0000: // Teredo: client address is the last 32 bits inverted
		x := binary.BigEndian.Uint32(b[12:16]) ^ 0xffff_ffff
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], x)
		v4 := netip.AddrFrom4(c)
		return classifyIPv4(c), v4, EmbeddingTeredo
	}
	return classifyIPv6(hi, lo), netip.Addr{}, ""
}

func classifyIPv4(a [4]byte) string {
	switch a[0] {
	case 0:
		if a == [4]byte{} {
			return ClassUnspecified
		}
		return ClassThisNetwork
	case 10:
		return ClassPrivate
	case 100:
		if a[1]&0xc0 == 64 { // 100.64.0.0/10
			return ClassCGNAT
		}
	case 127:
		return ClassLoopback
	case 169:
		if a[1] == 254 {
			return ClassLinkLocal
		}
	case 172:
		if a[1]&0xf0 == 16 { // 172.16.0.0/12
			return ClassPrivate
		}
	case 192:
		switch {
		case a[1] == 0 && a[2] == 0:
			// 192.0.0.9 (PCP anycast) and .10 (TURN anycast) are globally
			// reachable exceptions inside the IETF protocol block.
			if a[3] == 9 || a[3] == 10 {
				return ClassPublic
			}
			return ClassIETFProtocol
		case a[1] == 0 && a[2] == 2:
			return ClassDocumentation
		case a[1] == 88 && a[2] == 99: // deprecated 6to4 relay anycast (RFC 7526)
			return ClassReserved
		case a[1] == 168:
			return ClassPrivate
		}
	case 198:
		if a[1]&0xfe == 18 { // 198.18.0.0/15
			return ClassBenchmarking
		}
		if a[1] == 51 && a[2] == 100 {
			return ClassDocumentation
		}
	case 203:
		if a[1] == 0 && a[2] == 113 {
			return ClassDocumentation
		}
	case 255:
		if a == [4]byte{255, 255, 255, 255} {
			return ClassBroadcast
		}
		return ClassReserved
	}
	switch {
	case a[0]&0xf0 == 224:
		return ClassMulticast
	case a[0]&0xf0 == 240:
		return ClassReserved
	}
	return ClassPublic
}

func classifyIPv6(hi, lo uint64) string {
	switch {
	case hi == 0 && lo == 0:
		return ClassUnspecified
	case hi == 0 && lo == 1:
		return ClassLoopback
	case hi>>56 == 0xff: // ff00::/8
		return ClassMulticast
	case hi>>54 == 0xfe80_0000_0000_0000>>54: // fe80::/10
		return ClassLinkLocal
	case hi>>54 == 0xfec0_0000_0000_0000>>54: // fec0::/10, deprecated site-local (RFC 3879)
		return ClassReserved
	case hi>>57 == 0xfc00_0000_0000_0000>>57: // fc00::/7
		return ClassUniqueLocal
	case hi == 0x0100_0000_0000_0000: // 100::/64
		return ClassDiscard
	case hi>>16 == 0x0064_ff9b_0001: // 64:ff9b:1::/48
		return ClassNAT64Local
	case hi>>32 == 0x2001_0db8 || hi>>44 == 0x3fff_0000_0000_0000>>44: // 2001:db8::/32, 3fff::/20 (RFC 9637)
		return ClassDocumentation
	case hi>>61 != 1: // outside 2000::/3: not allocated for global unicast
		return ClassReserved
	case hi>>41 == 0x2001_0000_0000_0000>>41: // 2001::/23 IETF protocol assignments
		return classifyIETF6(hi, lo)
	}
	return ClassPublic
}

// classifyIETF6 sorts the 2001::/23 block (RFC 6890 and the IANA IPv6
// special-purpose registry): some of it is globally reachable.
func classifyIETF6(hi, lo uint64) string {
	switch {
	case hi == 0x2001_0001_0000_0000 && lo == 1, hi == 0x2001_0001_0000_0000 && lo == 2: // PCP, TURN anycast
		return ClassPublic
	case hi>>16 == 0x2001_0002_0000: // 2001:2::/48
		return ClassBenchmarking
	case hi>>32 == 0x2001_0003: // 2001:3::/32 AMT
		return ClassPublic
	case hi>>16 == 0x2001_0004_0112: // 2001:4:112::/48 AS112-v6
		return ClassPublic
	case hi>>36 == 0x2001_0010_0000_0000>>36: // 2001:10::/28 ORCHID (deprecated)
		return ClassReserved
	case hi>>36 == 0x2001_0020_0000_0000>>36: // 2001:20::/28 ORCHIDv2
		return ClassPublic
	case hi>>36 == 0x2001_0030_0000_0000>>36: // 2001:30::/28 DRIP
		return ClassPublic
	}
	return ClassIETFProtocol
}

// isLocalClass reports classes that no public database can say anything
// about: looking them up would only risk a misleading answer.
func isLocalClass(class string) bool {
	switch class {
	case ClassPrivate, ClassLoopback, ClassLinkLocal, ClassCGNAT, ClassMulticast,
		ClassUnspecified, ClassThisNetwork, ClassBroadcast, ClassUniqueLocal,
		ClassDiscard, ClassNAT64Local, ClassInvalid:
		return true
	}
	return false
}
