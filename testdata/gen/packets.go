package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	macClient = net.HardwareAddr{0x00, 0x1c, 0x73, 0x00, 0x00, 0x01} // upstream router
	macServer = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

// packetWriter builds Ethernet frames with correct lengths and checksums
// and keeps them until flush writes them in time order (connections of a
// scenario overlap, a capture file does not go back in time).
type packetWriter struct {
	buf  gopacket.SerializeBuffer
	n    int
	pkts []packet
}

type packet struct {
	t    time.Time
	data []byte
}

func newPacketWriter() *packetWriter {
	return &packetWriter{buf: gopacket.NewSerializeBuffer()}
}

// flush writes the packets sorted by time (stable: same-time packets keep
// the order they were made in).
func (p *packetWriter) flush(w *pcapgo.Writer) error {
	slices.SortStableFunc(p.pkts, func(a, b packet) int { return a.t.Compare(b.t) })
	for _, k := range p.pkts {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: k.t, CaptureLength: len(k.data), Length: len(k.data)}, k.data); err != nil {
			return err
		}
	}
	return nil
}

func (p *packetWriter) write(t time.Time, src, dst netip.Addr, transport gopacket.SerializableLayer, payload []byte) error {
	eth := &layers.Ethernet{SrcMAC: macClient, DstMAC: macServer, EthernetType: layers.EthernetTypeIPv4}
	var ip gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	proto := layers.IPProtocolTCP
	if _, ok := transport.(*layers.UDP); ok {
		proto = layers.IPProtocolUDP
	}
	if src.Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 52, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Flags: layers.IPv4DontFragment, Id: uint16(p.n)}
		ip, nl = v4, v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 52, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ip, nl = v6, v6
	}
	switch tl := transport.(type) {
	case *layers.TCP:
		tl.SetNetworkLayerForChecksum(nl)
	case *layers.UDP:
		tl.SetNetworkLayerForChecksum(nl)
	}
	p.buf.Clear()
	err := gopacket.SerializeLayers(p.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, transport, gopacket.Payload(payload))
	if err != nil {
		return err
	}
	p.n++
	p.pkts = append(p.pkts, packet{t, append([]byte(nil), p.buf.Bytes()...)})
	return nil
}

// tcpConn plays one TCP connection: handshake, exchanges, FIN.
type tcpConn struct {
	pw           *packetWriter
	c, s         netip.Addr
	cport, sport uint16
	cseq, sseq   uint32
	t            time.Time
	rtt          time.Duration
}

func (k *tcpConn) seg(fromClient bool, flags string, payload []byte) error {
	tcp := &layers.TCP{Window: 64240}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		case 'R':
			tcp.RST = true
		}
	}
	src, dst := k.c, k.s
	if fromClient {
		tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = layers.TCPPort(k.cport), layers.TCPPort(k.sport), k.cseq, k.sseq
	} else {
		src, dst = k.s, k.c
		tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = layers.TCPPort(k.sport), layers.TCPPort(k.cport), k.sseq, k.cseq
	}
	if !tcp.ACK {
		tcp.Ack = 0
	}
	if err := k.pw.write(k.t, src, dst, tcp, payload); err != nil {
		return err
	}
	adv := uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		adv++
	}
	if fromClient {
		k.cseq += adv
	} else {
		k.sseq += adv
	}
	k.t = k.t.Add(k.rtt / 2)
	return nil
}

// exchange sends client data, then the server's answer in segments of at
// most 1400 bytes.
func (k *tcpConn) exchange(req, resp []byte) error {
	if err := k.seg(true, "PA", req); err != nil {
		return err
	}
	for len(resp) > 0 {
		n := min(len(resp), 1400)
		if err := k.seg(false, "PA", resp[:n]); err != nil {
			return err
		}
		resp = resp[n:]
	}
	return k.seg(true, "A", nil)
}

func (k *tcpConn) open() error {
	if err := k.seg(true, "S", nil); err != nil {
		return err
	}
	if err := k.seg(false, "SA", nil); err != nil {
		return err
	}
	return k.seg(true, "A", nil)
}

func (k *tcpConn) close() error {
	if err := k.seg(true, "FA", nil); err != nil {
		return err
	}
	if err := k.seg(false, "FA", nil); err != nil {
		return err
	}
	return k.seg(true, "A", nil)
}

// tlsProfile is a client's ClientHello shape: what JA3/JA4 fingerprint.
type tlsProfile struct {
	Grease     bool
	Ciphers    []uint16
	Extensions []uint16 // order as sent (SNI, ALPN etc. are filled in)
	Groups     []uint16
	SigAlgs    []uint16
	ALPN       []string
	Versions   []uint16 // supported_versions; empty: TLS 1.2 only
}

var (
	chromeTLS = tlsProfile{
		Grease:     true,
		Ciphers:    []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27, 17513},
		Groups:     []uint16{0x001d, 0x0017, 0x0018},
		SigAlgs:    []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		ALPN:       []string{"h2", "http/1.1"},
		Versions:   []uint16{0x0304, 0x0303},
	}
	okhttpTLS = tlsProfile{
		Ciphers:    []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0, 23, 65281, 10, 11, 35, 16, 5, 13, 51, 45, 43, 21},
		Groups:     []uint16{0x001d, 0x0017, 0x0018},
		SigAlgs:    []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201},
		ALPN:       []string{"h2", "http/1.1"},
		Versions:   []uint16{0x0304, 0x0303},
	}
	// The actor's tooling: a scripting-language TLS stack, no ALPN, no GREASE.
	actorTLS = tlsProfile{
		Ciphers:    []uint16{0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff},
		Extensions: []uint16{0, 11, 10, 35, 22, 23, 13, 43, 45, 51},
		Groups:     []uint16{0x001d, 0x0017, 0x001e, 0x0019, 0x0018},
		SigAlgs:    []uint16{0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601},
		Versions:   []uint16{0x0304, 0x0303},
	}
)

func u16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func ext(b []byte, typ uint16, body []byte) []byte {
	b = u16(b, typ)
	b = u16(b, uint16(len(body)))
	return append(b, body...)
}

// clientHello builds a TLS record with a ClientHello for sni.
func clientHello(p tlsProfile, sni string, random []byte) []byte {
	const grease = 0x0a0a
	var hs []byte
	hs = u16(hs, 0x0303)
	hs = append(hs, random[:32]...)
	hs = append(hs, 32)
	hs = append(hs, random[:32]...) // session id
	var cs []byte
	if p.Grease {
		cs = u16(cs, grease)
	}
	for _, c := range p.Ciphers {
		cs = u16(cs, c)
	}
	hs = u16(hs, uint16(len(cs)))
	hs = append(hs, cs...)
	hs = append(hs, 1, 0) // compression: null
	var exts []byte
	if p.Grease {
		exts = ext(exts, grease, nil)
	}
	for _, e := range p.Extensions {
		var body []byte
		switch e {
		case 0:
			if sni == "" {
				continue
			}
			var name []byte
			name = append(name, 0)
			name = u16(name, uint16(len(sni)))
			name = append(name, sni...)
			body = u16(body, uint16(len(name)))
			body = append(body, name...)
		case 10:
			var g []byte
			if p.Grease {
				g = u16(g, 0x1a1a)
			}
			for _, v := range p.Groups {
				g = u16(g, v)
			}
			body = u16(body, uint16(len(g)))
			body = append(body, g...)
		case 11:
			body = []byte{1, 0}
		case 13:
			var s []byte
			for _, v := range p.SigAlgs {
				s = u16(s, v)
			}
			body = u16(body, uint16(len(s)))
			body = append(body, s...)
		case 16:
			var l []byte
			for _, a := range p.ALPN {
				l = append(l, byte(len(a)))
				l = append(l, a...)
			}
			body = u16(body, uint16(len(l)))
			body = append(body, l...)
		case 43:
			var v []byte
			if p.Grease {
				v = u16(v, 0x2a2a)
			}
			for _, x := range p.Versions {
				v = u16(v, x)
			}
			body = append([]byte{byte(len(v))}, v...)
		case 45:
			body = []byte{1, 1}
		case 51:
			ks := u16(nil, 0x001d)
			ks = u16(ks, 32)
			ks = append(ks, random[:32]...)
			body = u16(body, uint16(len(ks)))
			body = append(body, ks...)
		case 65281:
			body = []byte{0}
		case 5:
			body = []byte{1, 0, 0, 0, 0}
		case 27:
			body = []byte{2, 0, 2}
		case 17513:
			body = []byte{0, 3, 2, 'h', '2'}
		}
		exts = ext(exts, e, body)
	}
	if p.Grease {
		exts = ext(exts, 0x3a3a, []byte{0})
	}
	hs = u16(hs, uint16(len(exts)))
	hs = append(hs, exts...)
	return tlsRecord(1, hs)
}

// serverHello answers with TLS 1.3 via supported_versions.
func serverHello(cipher uint16, random []byte) []byte {
	var hs []byte
	hs = u16(hs, 0x0303)
	hs = append(hs, random[:32]...)
	hs = append(hs, 32)
	hs = append(hs, random[:32]...)
	hs = u16(hs, cipher)
	hs = append(hs, 0)
	var exts []byte
	exts = ext(exts, 43, []byte{0x03, 0x04})
	ks := u16(nil, 0x001d)
	ks = u16(ks, 32)
	ks = append(ks, random[:32]...)
	exts = ext(exts, 51, ks)
	hs = u16(hs, uint16(len(exts)))
	hs = append(hs, exts...)
	return tlsRecord(2, hs)
}

func tlsRecord(hsType byte, body []byte) []byte {
	rec := []byte{0x16, 0x03, 0x01}
	rec = u16(rec, uint16(len(body)+4))
	rec = append(rec, hsType, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	return append(rec, body...)
}

// appData is an opaque TLS application-data record of n bytes.
func appData(n int, fill byte) []byte {
	rec := []byte{0x17, 0x03, 0x03}
	rec = u16(rec, uint16(n))
	for range n {
		rec = append(rec, fill)
	}
	return rec
}

// dnsQuery builds a DNS message (query or response with A answers).
func dnsMessage(id uint16, name string, answers []netip.Addr, response bool) []byte {
	d := &layers.DNS{ID: id, RD: true, QR: response, RA: response, OpCode: layers.DNSOpCodeQuery,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	for _, a := range answers {
		d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: a.AsSlice()})
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}
