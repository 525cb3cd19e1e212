package capture

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func TestParseHTTPRequest(t *testing.T) {
	tests := []struct {
		name                  string
		in                    string
		final                 bool
		st                    parseStatus
		method, host, ua, xff string
		path                  string
	}{
		{"full", "GET /a?b=1 HTTP/1.1\r\nHost: ex.com\r\nUser-Agent: curl/8\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.1\r\n\r\n", false, parsed, "GET", "ex.com", "curl/8", "203.0.113.9, 10.0.0.1", "/a?b=1"},
		{"incomplete waits", "GET / HTTP/1.1\r\nHost: ex", false, needMore, "", "", "", "", ""},
		{"incomplete final takes what is there", "POST /x HTTP/1.0\r\nHost: h\r\n", true, parsed, "POST", "h", "", "", "/x"},
		{"forwarded header", "GET / HTTP/1.1\r\nForwarded: for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"\r\n\r\n", false, parsed, "GET", "", "", "192.0.2.60, 2001:db8::1", "/"},
		{"repeated xff joins", "GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\n", false, parsed, "GET", "", "", "1.1.1.1, 2.2.2.2", "/"},
		{"not http", "HELLO world\r\n\r\n", false, invalid, "", "", "", "", ""},
		{"control chars neutralised", "GET /\x1b[31m HTTP/1.1\r\nHost: a\r\n\r\n", false, parsed, "GET", "a", "", "", "/?[31m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, st := parseHTTPRequest([]byte(tt.in), tt.final)
			if st != tt.st {
				t.Fatalf("status %v, want %v", st, tt.st)
			}
			if st != parsed {
				return
			}
			if m.Method != tt.method || m.Host != tt.host || m.UserAgent != tt.ua || m.XFF != tt.xff || m.Path != tt.path {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func dnsQuery(id uint16, name string, qtype uint16, response bool, answers ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	flags := uint16(0x0100)
	if response {
		flags |= 0x8000
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(answers)))
	b = append(b, 0, 0, 0, 0)
	for _, l := range splitLabels(name) {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, a := range answers {
		b = append(b, 0xc0, 12) // pointer to the question name
		typ := uint16(1)
		if len(a) == 16 {
			typ = 28
		}
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = append(b, 0, 0, 0, 60)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
		b = append(b, a...)
	}
	return b
}

func splitLabels(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestParseDNS(t *testing.T) {
	q := dnsQuery(7, "www.example.com", 1, false)
	m, ok := parseDNS(q, true)
	if !ok || m.qname != "www.example.com" || dnsTypeName(m.qtype) != "A" || m.response {
		t.Fatalf("query: %+v %v", m, ok)
	}
	r := dnsQuery(7, "www.example.com", 1, true, []byte{93, 184, 216, 34}, make([]byte, 16))
	m, ok = parseDNS(r, true)
	if !ok || !slices.Equal(m.answers, []string{"93.184.216.34", "::"}) || dnsRcodeName(m.rcode) != "NOERROR" {
		t.Fatalf("response: %+v %v", m, ok)
	}
	// A compression loop must end.
	loop := append(dnsQuery(1, "a", 1, false)[:12], 0xc0, 12)
	if _, ok := parseDNS(loop, false); ok {
		t.Error("pointer loop accepted")
	}
	if _, ok := parseDNS([]byte("random bytes here!"), true); ok {
		t.Error("random bytes taken for DNS")
	}
}

func TestParseSSH(t *testing.T) {
	lists := []string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes256-ctr", "hmac-sha2-256", "hmac-sha2-512", "none", "zlib", "", ""}
	var payload []byte
	payload = append(payload, 20)
	payload = append(payload, make([]byte, 16)...)
	for _, l := range lists {
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(l)))
		payload = append(payload, l...)
	}
	payload = append(payload, 0, 0, 0, 0, 0)
	pad := 4
	pkt := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	pkt = append(pkt, byte(pad))
	pkt = append(pkt, payload...)
	pkt = append(pkt, make([]byte, pad)...)
	stream := append([]byte("SSH-2.0-OpenSSH_9.6\r\n"), pkt...)
	for cut := range len(stream) - 1 {
		if _, st := parseSSH(stream[:cut]); st == invalid {
			t.Fatalf("cut %d: invalid", cut)
		}
	}
	s, st := parseSSH(stream)
	if st != parsed || s.banner != "SSH-2.0-OpenSSH_9.6" || !s.kexOK {
		t.Fatalf("%+v %v", s, st)
	}
	if s.c2s != "curve25519-sha256;aes128-ctr;hmac-sha2-256;none" || s.s2c != "curve25519-sha256;aes256-ctr;hmac-sha2-512;zlib" {
		t.Errorf("hassh inputs %q %q", s.c2s, s.s2c)
	}
}

func TestDecodeLinkTypes(t *testing.T) {
	ipv4 := synthTCP(cli, srv, 1234, 80, tcpSYN, 1, nil)[14:]
	vlan := func(et uint16, ids ...uint16) []byte {
		b := make([]byte, 12)
		for _, id := range ids {
			b = binary.BigEndian.AppendUint16(b, et)
			b = binary.BigEndian.AppendUint16(b, id)
		}
		b = binary.BigEndian.AppendUint16(b, etherIPv4)
		return append(b, ipv4...)
	}
	sll := append(append(make([]byte, 14), 0x08, 0x00), ipv4...)
	sll2 := append(append([]byte{0x08, 0x00}, make([]byte, 18)...), ipv4...)
	null := append([]byte{2, 0, 0, 0}, ipv4...)
	gre := func() []byte {
		outer := synthTCP(srv, cli, 0, 0, 0, 0, nil)[14:34] // an IPv4 header to reuse
		o := append([]byte(nil), outer...)
		o[9] = ipProtoGRE
		inner := append([]byte{0, 0, 0x08, 0x00}, ipv4...)
		binary.BigEndian.PutUint16(o[2:], uint16(20+len(inner)))
		return append(o, inner...)
	}()
	ipip := func() []byte {
		o := append([]byte(nil), synthTCP(srv, cli, 0, 0, 0, 0, nil)[14:34]...)
		o[9] = ipProtoIPIP
		binary.BigEndian.PutUint16(o[2:], uint16(20+len(ipv4)))
		return append(o, ipv4...)
	}()
	vxlan := func() []byte {
		inner := append([]byte{0x08, 0, 0, 0, 0, 0, 0x2a, 0}, synthTCP(cli, srv, 1234, 80, tcpSYN, 1, nil)...)
		o := append([]byte(nil), synthTCP(srv, cli, 0, 0, 0, 0, nil)[14:34]...)
		o[9] = ipProtoUDP
		udp := binary.BigEndian.AppendUint16(nil, 40000)
		udp = binary.BigEndian.AppendUint16(udp, vxlanUDPPort)
		udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(inner)))
		udp = append(udp, 0, 0)
		binary.BigEndian.PutUint16(o[2:], uint16(20+len(udp)+len(inner)))
		return append(append(o, udp...), inner...)
	}()
	tests := []struct {
		name   string
		lt     layers.LinkType
		data   []byte
		want   decodeResult
		vlans  int
		tunnel string
	}{
		{"ethernet", layers.LinkTypeEthernet, synthTCP(cli, srv, 1234, 80, tcpSYN, 1, nil), decodeOK, 0, ""},
		{"802.1q", layers.LinkTypeEthernet, vlan(etherVLAN, 7), decodeOK, 1, ""},
		{"qinq", layers.LinkTypeEthernet, vlan(etherQinQ, 7, 8), decodeOK, 2, ""},
		{"sll", layers.LinkTypeLinuxSLL, sll, decodeOK, 0, ""},
		{"sll2", layers.LinkTypeLinuxSLL2, sll2, decodeOK, 0, ""},
		{"raw", layers.LinkTypeRaw, ipv4, decodeOK, 0, ""},
		{"null", layers.LinkTypeNull, null, decodeOK, 0, ""},
		{"gre", layers.LinkTypeRaw, gre, decodeOK, 0, "gre"},
		{"ipip", layers.LinkTypeRaw, ipip, decodeOK, 0, "ipip"},
		{"vxlan", layers.LinkTypeRaw, vxlan, decodeOK, 0, "vxlan"},
		{"cut ip", layers.LinkTypeRaw, ipv4[:10], decodeMalformed, 0, ""},
		{"cut tcp", layers.LinkTypeRaw, ipv4[:30], decodeMalformed, 0, ""},
		{"unknown link type", layers.LinkType(147), ipv4, decodeUnknownLT, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d decoder
			got := d.decode(tt.lt, tt.data)
			if got != tt.want {
				t.Fatalf("decode = %v, want %v", got, tt.want)
			}
			if got != decodeOK {
				return
			}
			if d.p.sport != 1234 || d.p.dport != 80 || d.p.proto != ipProtoTCP || int(d.p.nvlan) != tt.vlans || d.p.tunnel != tt.tunnel {
				t.Errorf("packet %+v", d.p)
			}
		})
	}
}
