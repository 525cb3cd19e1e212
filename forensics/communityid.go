package forensics

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers that Community ID treats specially.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// CommunityID returns the Community ID v1 flow hash ("1:" + base64 SHA-1)
// of a transport tuple, as Zeek, Suricata and Arkime compute it
// (github.com/corelight/community-id-spec). The result is the same for both
// directions of a conversation.
//
// For ICMP and ICMPv6 pass the message type as sport and the code as dport:
// request/reply types are mapped to their counterpart so that both halves of
// an exchange hash alike, and types without a counterpart are hashed one-way
// (in the order given). For protocols other than TCP, UDP, SCTP, ICMP and
// ICMPv6 the ports are ignored. An IPv4-mapped IPv6 address hashes as IPv6,
// as on the wire; callers that decoded IPv4 pass a 4-byte address.
func CommunityID(seed uint16, proto uint8, src, dst netip.Addr, sport, dport uint16) string {
	hasPorts := true
	oneWay := false
	switch proto {
	case protoTCP, protoUDP, protoSCTP:
	case protoICMP:
		sport, dport, oneWay = icmpPorts(sport, dport, icmpv4Counterpart)
	case protoICMPv6:
		sport, dport, oneWay = icmpPorts(sport, dport, icmpv6Counterpart)
	default:
		hasPorts = false
	}
	if !oneWay {
		if c := src.Compare(dst); c > 0 || (c == 0 && hasPorts && sport > dport) {
			src, dst = dst, src
			sport, dport = dport, sport
		}
	}

	var buf [2 + 16 + 16 + 4 + 4]byte
	b := binary.BigEndian.AppendUint16(buf[:0], seed)
	b = appendAddr(b, src)
	b = appendAddr(b, dst)
	b = append(b, proto, 0)
	if hasPorts {
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
	}
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// icmpPorts maps an ICMP type/code to Community ID's port pair: a type
// with a counterpart becomes (type, counterpart) and is bidirectional;
// any other stays (type, code) and is one-way.
func icmpPorts(typ, code uint16, counterpart func(uint16) (uint16, bool)) (sport, dport uint16, oneWay bool) {
	if c, ok := counterpart(typ); ok {
		return typ, c, false
	}
	return typ, code, true
}

// icmpv4Counterpart follows the spec's reference implementation
// (pycommunityid): echo, timestamp, information, router and address mask
// request/reply pairs.
func icmpv4Counterpart(t uint16) (uint16, bool) {
	switch t {
	case 8:
		return 0, true
	case 0:
		return 8, true
	case 13:
		return 14, true
	case 14:
		return 13, true
	case 15:
		return 16, true
	case 16:
		return 15, true
	case 10:
		return 9, true
	case 9:
		return 10, true
	case 17:
		return 18, true
	case 18:
		return 17, true
	}
	return 0, false
}

// icmpv6Counterpart: echo, MLD query/report, router and neighbor
// solicitation/advertisement, node information query/reply and home agent
// address discovery request/reply.
func icmpv6Counterpart(t uint16) (uint16, bool) {
	switch t {
	case 128:
		return 129, true
	case 129:
		return 128, true
	case 130:
		return 131, true
	case 131:
		return 130, true
	case 133:
		return 134, true
	case 134:
		return 133, true
	case 135:
		return 136, true
	case 136:
		return 135, true
	case 139:
		return 140, true
	case 140:
		return 139, true
	case 144:
		return 145, true
	case 145:
		return 144, true
	}
	return 0, false
}

// IsICMPOneWay reports whether an ICMP (proto 1) or ICMPv6 (proto 58)
// message type has no request/reply counterpart, so that Community ID
// and flow tracking treat it as one-way.
func IsICMPOneWay(proto uint8, typ uint8) bool {
	switch proto {
	case protoICMP:
		_, ok := icmpv4Counterpart(uint16(typ))
		return !ok
	case protoICMPv6:
		_, ok := icmpv6Counterpart(uint16(typ))
		return !ok
	}
	return false
}
