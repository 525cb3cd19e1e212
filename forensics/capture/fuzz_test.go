package capture

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tracehop/tracehop/forensics"
)

// smallCorpusCaptures returns corpus captures small enough to seed fuzzing.
func smallCorpusCaptures(f *testing.F) [][]byte {
	if _, err := os.Stat("../../../shared/corpus"); err != nil {
		return nil
	}
	var out [][]byte
	for _, p := range corpusCaptures(f) {
		b, err := os.ReadFile(p)
		if err == nil && len(b) <= 32<<10 && !bytes.HasSuffix([]byte(p), []byte(".gz")) {
			out = append(out, b)
		}
	}
	return out
}

// FuzzRead drives the pcap/pcapng readers and everything behind them.
func FuzzRead(f *testing.F) {
	f.Add(writePcap(f, handshake(1, t0, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))))
	for _, b := range smallCorpusCaptures(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := DefaultOptions()
		opts.MaxFlows = 64
		opts.Shards = 1 + len(data)%2 // both the inline and the sharded path
		n := 0
		_, _ = Read(context.Background(), bytes.NewReader(data), "fuzz", opts, func(forensics.Flow) { n++ })
	})
}

// FuzzDecode drives the link, IP, tunnel and transport decoders and the
// flow table with one packet per call.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(layers.LinkTypeEthernet), synthTCP(cli, srv, 1, 2, tcpSYN, 0, nil))
	f.Add(uint16(layers.LinkTypeRaw), synthTCP(cli, srv, 1, 2, tcpSYN, 0, nil)[14:])
	f.Add(uint16(layers.LinkTypeLinuxSLL2), append([]byte{0x86, 0xdd}, make([]byte, 60)...))
	f.Add(uint16(linkTypeNFLOG), []byte{2, 0, 0, 0, 8, 0, 9, 0, 0x45, 0, 0, 20})
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var st Stats
		opts := DefaultOptions()
		opts.MaxFlows = 16
		rs := newReaderState("fuzz", opts, func(forensics.Flow) {}, &st)
		rs.packet(layers.LinkType(lt), data, time.Second.Nanoseconds(), 1, 0)
		rs.packet(layers.LinkType(lt), data, 2*time.Second.Nanoseconds(), 2, 0)
		rs.flush()
		if st.Malformed > 0 && len(st.Problems) == 0 {
			t.Fatal("malformed without a problem")
		}
		for _, p := range st.Problems {
			if bytes.Contains([]byte(p.Reason), []byte("decode failed")) {
				t.Fatalf("decoder panicked: %s", p.Reason)
			}
		}
	})
}

// FuzzHTTP drives the HTTP/1.x request parser.
func FuzzHTTP(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=1.2.3.4\r\n\r\n"), true)
	f.Add([]byte("POST /x HTTP/1.0\r\nX-Forwarded-For: 1, 2\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, final bool) {
		m, st := parseHTTPRequest(data, final)
		if st == parsed && (m == nil || len(m.Path) > maxHTTPField) {
			t.Fatalf("bad result %+v", m)
		}
	})
}

// FuzzTLS drives handshake reassembly, the ClientHello/ServerHello parsers
// and the fingerprint builders.
func FuzzTLS(f *testing.F) {
	f.Add(helloSpec{version: 0x0303, ciphers: []uint16{0x0a0a, 0x1301}, exts: []uint16{0, 10, 11, 13, 16, 43}, sni: "a", alpn: []string{"h2"}, groups: []uint16{29}, sigAlgs: []uint16{0x0403}, versions: []uint16{0x0304}}.records(50))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, body, st := tlsHandshake(data)
		if st != parsed {
			return
		}
		switch typ {
		case 1:
			if ch, ok := parseClientHello(body); ok {
				_ = ch.ja3()
				if j := ch.ja4(); len(j) != 36 {
					t.Fatalf("ja4 %q has length %d", j, len(j))
				}
			}
		case 2:
			if sh, ok := parseServerHello(body); ok {
				_ = sh.ja3s()
			}
		}
	})
}

// FuzzSSH drives the banner and KEXINIT parser.
func FuzzSSH(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n\x00\x00\x00\x0c\x04\x14abcdefghij"))
	f.Add([]byte("banner line\r\nSSH-1.99-x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := parseSSH(data)
		if len(s.banner) > maxSSHBanner {
			t.Fatalf("banner of %d bytes", len(s.banner))
		}
	})
}

// FuzzDNS drives the DNS message parser (names, compression, answers).
func FuzzDNS(f *testing.F) {
	f.Add(dnsQuery(1, "www.example.com", 1, true, []byte{1, 2, 3, 4}), false)
	f.Add(dnsQuery(2, "x", 28, false), true)
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		m, ok := parseDNS(data, strict)
		if ok && len(m.answers) > maxDNSAnswers {
			t.Fatalf("%d answers", len(m.answers))
		}
	})
}
