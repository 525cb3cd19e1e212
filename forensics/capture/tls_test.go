package capture

import (
	"encoding/binary"
	"strings"
	"testing"
)

// helloSpec builds a ClientHello for table tests.
type helloSpec struct {
	version  uint16
	ciphers  []uint16
	exts     []uint16 // extension types in order; 0, 10, 11, 13, 16, 43 get bodies
	sni      string
	alpn     []string
	groups   []uint16
	sigAlgs  []uint16
	versions []uint16
}

func u16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func (h helloSpec) body() []byte {
	b := u16(nil, h.version)
	b = append(b, make([]byte, 32)...)
	b = append(b, 0) // session id
	b = u16(b, uint16(2*len(h.ciphers)))
	for _, c := range h.ciphers {
		b = u16(b, c)
	}
	b = append(b, 1, 0) // compression: null
	var ext []byte
	for _, e := range h.exts {
		var d []byte
		switch e {
		case 0:
			d = u16(d, uint16(3+len(h.sni)))
			d = append(d, 0)
			d = u16(d, uint16(len(h.sni)))
			d = append(d, h.sni...)
		case 10:
			d = u16(d, uint16(2*len(h.groups)))
			for _, g := range h.groups {
				d = u16(d, g)
			}
		case 11:
			d = append(d, 1, 0)
		case 13:
			d = u16(d, uint16(2*len(h.sigAlgs)))
			for _, s := range h.sigAlgs {
				d = u16(d, s)
			}
		case 16:
			var l []byte
			for _, a := range h.alpn {
				l = append(l, byte(len(a)))
				l = append(l, a...)
			}
			d = u16(d, uint16(len(l)))
			d = append(d, l...)
		case 43:
			d = append(d, byte(2*len(h.versions)))
			for _, v := range h.versions {
				d = u16(d, v)
			}
		}
		ext = u16(ext, e)
		ext = u16(ext, uint16(len(d)))
		ext = append(ext, d...)
	}
	b = u16(b, uint16(len(ext)))
	return append(b, ext...)
}

// record wraps the ClientHello in a handshake message and TLS records of
// at most recLen bytes each.
func (h helloSpec) records(recLen int) []byte {
	body := h.body()
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	var out []byte
	for len(msg) > 0 {
		n := min(recLen, len(msg))
		out = append(out, 22, 3, 1)
		out = u16(out, uint16(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

func TestJA3JA4(t *testing.T) {
	base := helloSpec{
		version: 0x0303,
		ciphers: []uint16{0x1301, 0x1302, 0xc02b},
		exts:    []uint16{0, 10, 11, 13, 16, 43},
		sni:     "example.com",
		alpn:    []string{"h2", "http/1.1"},
		groups:  []uint16{29, 23},
		sigAlgs: []uint16{0x0403, 0x0804},
	}
	tests := []struct {
		name     string
		mod      func(h *helloSpec)
		ja3      string
		ja4Start string
	}{
		{"tls12 with sni and alpn", nil, "771,4865-4866-49195,0-10-11-13-16-43,29-23,0", "t12d0306h2_"},
		{"grease removed everywhere", func(h *helloSpec) {
			h.ciphers = append([]uint16{0x0a0a}, h.ciphers...)
			h.exts = append([]uint16{0x1a1a}, h.exts...)
			h.groups = append([]uint16{0x2a2a}, h.groups...)
			h.versions = []uint16{0x3a3a, 0x0304, 0x0303}
		}, "771,4865-4866-49195,0-10-11-13-16-43,29-23,0", "t13d0306h2_"},
		{"sni absent gives i", func(h *helloSpec) { h.exts = []uint16{10, 11, 13, 16} }, "771,4865-4866-49195,10-11-13-16,29-23,0", "t12i0304h2_"},
		{"alpn absent gives 00", func(h *helloSpec) { h.exts = []uint16{0, 10, 11, 13} }, "771,4865-4866-49195,0-10-11-13,29-23,0", "t12d030400_"},
		{"tls13 supported_versions wins over legacy version", func(h *helloSpec) { h.versions = []uint16{0x0304, 0x0303} }, "771,4865-4866-49195,0-10-11-13-16-43,29-23,0", "t13d0306h2_"},
		{"non-alphanumeric alpn uses hex", func(h *helloSpec) { h.alpn = []string{"\xabx\xcd"} }, "", "t12d0306ad_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := base
			h.exts = append([]uint16(nil), base.exts...)
			if tt.mod != nil {
				tt.mod(&h)
			}
			typ, body, st := tlsHandshake(h.records(1 << 14))
			if st != parsed || typ != 1 {
				t.Fatalf("tlsHandshake = %d, %v", typ, st)
			}
			ch, ok := parseClientHello(body)
			if !ok {
				t.Fatal("parseClientHello failed")
			}
			if tt.ja3 != "" && ch.ja3() != tt.ja3 {
				t.Errorf("ja3 = %s, want %s", ch.ja3(), tt.ja3)
			}
			if got := ch.ja4(); !strings.HasPrefix(got, tt.ja4Start) || len(got) != len("t13d1516h2_8daaf6152771_e5627efa2ab1") {
				t.Errorf("ja4 = %s, want prefix %s", got, tt.ja4Start)
			}
		})
	}
}

// The JA4 hash parts follow the spec's worked example (FoxIO JA4 README):
// sorted ciphers, sorted extensions without SNI/ALPN, then signature
// algorithms in wire order.
func TestJA4Hashes(t *testing.T) {
	h := helloSpec{version: 0x0303, ciphers: []uint16{0xc02b, 0x1301}, exts: []uint16{0, 16, 13, 10}, sni: "a", alpn: []string{"h2"}, groups: []uint16{29}, sigAlgs: []uint16{0x0804, 0x0403}}
	_, body, _ := tlsHandshake(h.records(100))
	ch, _ := parseClientHello(body)
	want := "t12d0204h2_" + sha12("1301,c02b") + "_" + sha12("000a,000d_0804,0403")
	if got := ch.ja4(); got != want {
		t.Errorf("ja4 = %s, want %s", got, want)
	}
	// No signature algorithms: no trailing underscore in the hashed string.
	h.exts, h.sigAlgs = []uint16{10}, nil
	_, body, _ = tlsHandshake(h.records(100))
	ch, _ = parseClientHello(body)
	if got, want := ch.ja4(), "t12i0201"+"00_"+sha12("1301,c02b")+"_"+sha12("000a"); got != want {
		t.Errorf("ja4 = %s, want %s", got, want)
	}
}

// A ClientHello split over several TLS records and cut at any byte asks
// for more rather than failing, then parses once complete.
func TestClientHelloSpanningSegments(t *testing.T) {
	h := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []uint16{0}, sni: "split.example"}
	stream := h.records(40)
	for cut := 0; cut < len(stream); cut++ {
		if _, _, st := tlsHandshake(stream[:cut]); st != needMore {
			t.Fatalf("cut at %d: status %v, want needMore", cut, st)
		}
	}
	typ, body, st := tlsHandshake(stream)
	if st != parsed || typ != 1 {
		t.Fatalf("full stream: %d %v", typ, st)
	}
	if ch, _ := parseClientHello(body); ch.sni != "split.example" {
		t.Errorf("sni = %q", ch.sni)
	}
}

func TestIsGREASE(t *testing.T) {
	for _, v := range []uint16{0x0a0a, 0x1a1a, 0xfafa} {
		if !isGREASE(v) {
			t.Errorf("%04x not GREASE", v)
		}
	}
	for _, v := range []uint16{0x0a1a, 0x1301, 0x0000} {
		if isGREASE(v) {
			t.Errorf("%04x GREASE", v)
		}
	}
}
