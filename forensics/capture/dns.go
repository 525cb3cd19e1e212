package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// DNS limits: names per RFC 1035, answers kept per message.
const (
	maxDNSName    = 255
	maxDNSAnswers = 32
	maxDNSPtrs    = 16 // compression pointers followed per name
)

// dnsMessage is the part of a DNS message tracehop keeps.
type dnsMessage struct {
	id       uint16
	response bool
	rcode    uint8
	qname    string
	qtype    uint16
	answers  []string
}

// parseDNS parses one DNS message (UDP payload, or a TCP message without
// its length prefix). strict asks for a plausibility check used when the
// port does not say DNS, so random UDP is not taken for DNS.
func parseDNS(b []byte, strict bool) (dnsMessage, bool) {
	var m dnsMessage
	if len(b) < 12 {
		return m, false
	}
	m.id = binary.BigEndian.Uint16(b[0:2])
	flags := binary.BigEndian.Uint16(b[2:4])
	m.response = flags&0x8000 != 0
	m.rcode = uint8(flags & 0x000f)
	opcode := (flags >> 11) & 0xf
	qd := binary.BigEndian.Uint16(b[4:6])
	an := binary.BigEndian.Uint16(b[6:8])
	if qd == 0 || (strict && (qd != 1 || opcode > 5 || flags&0x0040 != 0)) {
		return m, false
	}
	off := 12
	name, off, ok := dnsName(b, off)
	if !ok || off+4 > len(b) {
		return m, false
	}
	m.qname = name
	m.qtype = binary.BigEndian.Uint16(b[off : off+2])
	off += 4
	for i := 1; i < int(qd); i++ { // skip further questions
		if _, off, ok = dnsName(b, off); !ok || off+4 > len(b) {
			return m, !strict
		}
		off += 4
	}
	for i := 0; i < int(an) && len(m.answers) < maxDNSAnswers; i++ {
		if _, off, ok = dnsName(b, off); !ok || off+10 > len(b) {
			break
		}
		typ := binary.BigEndian.Uint16(b[off : off+2])
		rdl := int(binary.BigEndian.Uint16(b[off+8 : off+10]))
		off += 10
		if off+rdl > len(b) {
			break
		}
		rd := b[off : off+rdl]
		switch {
		case typ == 1 && rdl == 4:
			m.answers = append(m.answers, netip.AddrFrom4([4]byte(rd)).String())
		case typ == 28 && rdl == 16:
			m.answers = append(m.answers, netip.AddrFrom16([16]byte(rd)).String())
		}
		off += rdl
	}
	return m, true
}

// dnsName reads a possibly compressed name at off, returning the offset
// after it in the message.
func dnsName(b []byte, off int) (string, int, bool) {
	var sb strings.Builder
	end := -1
	ptrs := 0
	for {
		if off >= len(b) {
			return "", 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			s := sb.String()
			if s == "" {
				s = "."
			}
			return s, end, true
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) || ptrs >= maxDNSPtrs {
				return "", 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(b[off:off+2]) & 0x3fff)
			ptrs++
		case l&0xc0 != 0:
			return "", 0, false
		default:
			if off+1+l > len(b) || sb.Len()+l+1 > maxDNSName {
				return "", 0, false
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			for _, c := range b[off+1 : off+1+l] {
				if c <= 0x20 || c >= 0x7f || c == '.' {
					sb.WriteString(`\` + strconv.Itoa(int(c)))
					continue
				}
				sb.WriteByte(c)
			}
			off += 1 + l
		}
	}
}

var dnsTypes = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
	33: "SRV", 35: "NAPTR", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 52: "TLSA",
	64: "SVCB", 65: "HTTPS", 99: "SPF", 255: "ANY", 252: "AXFR", 251: "IXFR", 257: "CAA",
}

func dnsTypeName(t uint16) string {
	if s, ok := dnsTypes[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var dnsRcodes = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

func dnsRcodeName(r uint8) string {
	if int(r) < len(dnsRcodes) {
		return dnsRcodes[r]
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// applyDNS merges one message into the flow's DNS metadata: the first
// query names the flow; the response to it gives rcode and answers.
func applyDNS(meta **forensics.DNSMeta, m dnsMessage, queryID *int32) {
	if *meta == nil {
		*meta = &forensics.DNSMeta{Query: m.qname, QType: dnsTypeName(m.qtype)}
		if !m.response {
			*queryID = int32(m.id)
			return
		}
	}
	d := *meta
	if m.response && d.RCode == "" && m.qname == d.Query && (*queryID < 0 || int32(m.id) == *queryID) {
		d.RCode = dnsRcodeName(m.rcode)
		d.Answers = m.answers
	}
}
