package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// writeBenchPCAP writes a large synthetic Ethernet pcap for the capture
// benchmarks: deterministic (fixed seed), streamed (memory does not grow
// with size), about size bytes.
//
// Normal mode mixes HTTPS (handshake, ClientHello with SNI/ALPN,
// ServerHello, data), plain HTTP, DNS over UDP, SSH (banners, KEXINIT)
// and short refused connections, with 4096 flows open at once. Flow i
// comes from client i mod clients, so every client appears once the file
// holds more flows than clients (about 140 k flows per GB).
//
// Scan mode is chosen when there are fewer than 2 KB per client
// (size/clients < 2048): four scanner addresses send one SYN each to
// clients distinct targets × 16 ports; one probe in five gets a RST back,
// the rest go unanswered (filtered). The file holds about size/84
// distinct 5-tuples, the shape of a port scan.
func writeBenchPCAP(path string, size int64, clients int) error {
	if size <= 0 || clients <= 0 {
		return fmt.Errorf("bench pcap: size and clients must be positive")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := &pcapWriter{w: bufio.NewWriterSize(f, 1<<20), ts: time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)}
	w.header()
	if size/int64(clients) < 2048 {
		err = w.scan(size, clients)
	} else {
		err = w.mixed(size, clients)
	}
	if ferr := w.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type pcapWriter struct {
	w   *bufio.Writer
	n   int64
	ts  time.Time
	buf []byte
	err error
}

func (p *pcapWriter) header() {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond pcap
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // Ethernet
	p.write(h[:])
}

func (p *pcapWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	_, p.err = p.w.Write(b)
	p.n += int64(len(b))
}

// endpoint is an IPv4 address and port.
type endpoint struct {
	ip   [4]byte
	port uint16
}

// frame writes one Ethernet/IPv4 TCP or UDP packet record.
func (p *pcapWriter) frame(proto byte, src, dst endpoint, flags byte, seq, ack uint32, payload []byte) {
	thl := 20
	if proto == 17 {
		thl = 8
	}
	n := 14 + 20 + thl + len(payload)
	if cap(p.buf) < n+16 {
		p.buf = make([]byte, n+16)
	}
	b := p.buf[:16+n]
	ts := p.ts.UnixNano()
	binary.LittleEndian.PutUint32(b[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(b[4:], uint32(ts%1e9))
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
	e := b[16:]
	copy(e[0:6], []byte{0x02, 0, 0, 0, 0, 1})
	copy(e[6:12], []byte{0x02, 0, 0, 0, 0, 2})
	e[12], e[13] = 0x08, 0x00
	ip := e[14:]
	clear(ip[:20+thl])
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+thl+len(payload)))
	ip[8], ip[9] = 64, proto
	copy(ip[12:16], src.ip[:])
	copy(ip[16:20], dst.ip[:])
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], src.port)
	binary.BigEndian.PutUint16(t[2:], dst.port)
	if proto == 6 {
		binary.BigEndian.PutUint32(t[4:], seq)
		binary.BigEndian.PutUint32(t[8:], ack)
		t[12] = 5 << 4
		t[13] = flags
		binary.BigEndian.PutUint16(t[14:], 65535)
	} else {
		binary.BigEndian.PutUint16(t[4:], uint16(8+len(payload)))
	}
	copy(t[thl:], payload)
	p.write(b)
}

const (
	finF = 0x01
	synF = 0x02
	rstF = 0x04
	pshF = 0x08
	ackF = 0x10
)

// benchFlow is a scripted conversation: a list of packets emitted one at
// a time so that many flows interleave.
type benchFlow struct {
	pkts []benchPkt
	next int
}

type benchPkt struct {
	proto   byte
	fromCli bool
	flags   byte
	payload []byte
}

func clientAddr(i int) [4]byte {
	// 100.64.0.0/10 holds 4 M addresses: enough distinct clients.
	v := uint32(100)<<24 | uint32(64)<<16 + uint32(i)
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

var (
	benchHello    = benchClientHello()
	benchSrvHello = append(benchServerHello(), make([]byte, 2600)...)
	benchHTTPReq  = []byte("GET /api/v1/items/12345 HTTP/1.1\r\nHost: shop.example.kr\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\nAccept: */*\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
	benchSSHCli   = []byte("SSH-2.0-OpenSSH_9.6\r\n")
	benchSSHSrv   = []byte("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n")
	benchKEX      = benchKexInit()
	benchData     = make([]byte, 1400)
)

func (p *pcapWriter) mixed(size int64, clients int) error {
	rng := rand.New(rand.NewPCG(4, 2026))
	const open = 4096
	type live struct {
		bf       benchFlow
		cli, srv endpoint
		seq      [2]uint32
	}
	flows := make([]live, open)
	flowNo := 0
	servers := [][4]byte{{198, 51, 100, 10}, {198, 51, 100, 20}, {203, 0, 113, 30}, {192, 0, 2, 40}}
	newFlow := func(l *live) {
		cli := clientAddr(flowNo % clients)
		flowNo++
		l.cli = endpoint{cli, uint16(1024 + rng.IntN(60000))}
		srv := servers[rng.IntN(len(servers))]
		r := rng.IntN(100)
		var ps []benchPkt
		hs := []benchPkt{{6, true, synF, nil}, {6, false, synF | ackF, nil}, {6, true, ackF, nil}}
		fin := []benchPkt{{6, true, finF | ackF, nil}, {6, false, finF | ackF, nil}, {6, true, ackF, nil}}
		switch {
		case r < 55: // HTTPS
			l.srv = endpoint{srv, 443}
			ps = append(ps, hs...)
			ps = append(ps, benchPkt{6, true, pshF | ackF, benchHello}, benchPkt{6, false, ackF, benchSrvHello[:1400]}, benchPkt{6, false, pshF | ackF, benchSrvHello[1400:]})
			for range rng.IntN(5) {
				ps = append(ps, benchPkt{6, false, ackF, benchData}, benchPkt{6, true, ackF, nil})
			}
			ps = append(ps, fin...)
		case r < 75: // HTTP
			l.srv = endpoint{srv, 80}
			ps = append(ps, hs...)
			ps = append(ps, benchPkt{6, true, pshF | ackF, benchHTTPReq})
			for range 1 + rng.IntN(3) {
				ps = append(ps, benchPkt{6, false, ackF, benchData})
			}
			ps = append(ps, fin...)
		case r < 90: // DNS
			l.srv = endpoint{[4]byte{198, 51, 100, 53}, 53}
			q := benchDNS(uint16(flowNo), false)
			ps = append(ps, benchPkt{17, true, 0, q}, benchPkt{17, false, 0, benchDNS(uint16(flowNo), true)})
		case r < 95: // SSH
			l.srv = endpoint{srv, 22}
			ps = append(ps, hs...)
			ps = append(ps, benchPkt{6, false, pshF | ackF, benchSSHSrv}, benchPkt{6, true, pshF | ackF, benchSSHCli},
				benchPkt{6, true, pshF | ackF, benchKEX}, benchPkt{6, false, pshF | ackF, benchKEX})
			for range rng.IntN(6) {
				ps = append(ps, benchPkt{6, true, pshF | ackF, benchData[:200]}, benchPkt{6, false, pshF | ackF, benchData[:600]})
			}
			ps = append(ps, fin...)
		default: // refused
			l.srv = endpoint{srv, uint16(1 + rng.IntN(1024))}
			ps = append(ps, benchPkt{6, true, synF, nil}, benchPkt{6, false, rstF | ackF, nil})
		}
		l.bf = benchFlow{pkts: ps}
		l.seq = [2]uint32{rng.Uint32(), rng.Uint32()}
	}
	for i := range flows {
		newFlow(&flows[i])
	}
	for p.n < size && p.err == nil {
		l := &flows[rng.IntN(open)]
		bp := l.bf.pkts[l.bf.next]
		l.bf.next++
		src, dst, d := l.cli, l.srv, 0
		if !bp.fromCli {
			src, dst, d = l.srv, l.cli, 1
		}
		p.frame(bp.proto, src, dst, bp.flags, l.seq[d], l.seq[1-d], bp.payload)
		l.seq[d] += uint32(len(bp.payload))
		if bp.flags&(synF|finF) != 0 {
			l.seq[d]++
		}
		p.ts = p.ts.Add(time.Duration(5+rng.IntN(30)) * time.Microsecond)
		if l.bf.next == len(l.bf.pkts) {
			newFlow(l)
		}
	}
	return p.err
}

func (p *pcapWriter) scan(size int64, targets int) error {
	rng := rand.New(rand.NewPCG(5, 2026))
	ports := []uint16{21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 3306, 3389, 5432, 6379, 8080, 8443}
	scanners := [][4]byte{{45, 155, 205, 1}, {45, 155, 205, 2}, {185, 220, 101, 3}, {193, 32, 162, 4}}
	for i := 0; p.n < size && p.err == nil; i++ {
		t := i % targets
		port := ports[(i/targets)%len(ports)]
		src := endpoint{scanners[i%len(scanners)], uint16(20000 + (i/targets/len(ports))%40000)}
		dst := endpoint{clientAddr(t), port}
		seq := rng.Uint32()
		p.frame(6, src, dst, synF, seq, 0, nil)
		p.ts = p.ts.Add(2 * time.Microsecond)
		if rng.IntN(5) == 0 { // most probes go unanswered (filtered)
			p.frame(6, dst, src, rstF|ackF, 0, seq+1, nil)
			p.ts = p.ts.Add(2 * time.Microsecond)
		}
	}
	return p.err
}

func appendU16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

// benchClientHello is a Chrome-like ClientHello record with GREASE, SNI,
// ALPN and TLS 1.3 supported_versions.
func benchClientHello() []byte {
	var ext []byte
	add := func(typ uint16, data []byte) {
		ext = appendU16(ext, typ)
		ext = appendU16(ext, uint16(len(data)))
		ext = append(ext, data...)
	}
	add(0x0a0a, nil)
	sni := "shop.example.kr"
	d := appendU16(nil, uint16(3+len(sni)))
	d = append(d, 0)
	d = appendU16(d, uint16(len(sni)))
	add(0, append(d, sni...))
	add(23, nil)
	add(65281, []byte{0})
	add(10, []byte{0, 8, 0x0a, 0x0a, 0, 29, 0, 23, 0, 24})
	add(11, []byte{1, 0})
	add(35, nil)
	add(16, []byte{0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})
	add(5, []byte{1, 0, 0, 0, 0})
	add(13, []byte{0, 8, 4, 3, 8, 4, 4, 1, 5, 3})
	add(51, append([]byte{0, 38, 0, 29, 0, 32}, make([]byte, 32)...))
	add(45, []byte{1, 1})
	add(43, []byte{6, 0x1a, 0x1a, 3, 4, 3, 3})
	add(21, make([]byte, 120))
	body := appendU16(nil, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 32)
	body = append(body, make([]byte, 32)...)
	ciphers := []uint16{0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	body = appendU16(body, uint16(2*len(ciphers)))
	for _, c := range ciphers {
		body = appendU16(body, c)
	}
	body = append(body, 1, 0)
	body = appendU16(body, uint16(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{1, 0}, appendU16(nil, uint16(len(body)))...)
	hs = append(hs, body...)
	rec := append([]byte{22, 3, 1}, appendU16(nil, uint16(len(hs)))...)
	return append(rec, hs...)
}

func benchServerHello() []byte {
	body := appendU16(nil, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = appendU16(body, 0x1301)
	body = append(body, 0)
	ext := []byte{0, 43, 0, 2, 3, 4, 0, 51, 0, 36, 0, 29, 0, 32}
	ext = append(ext, make([]byte, 32)...)
	body = appendU16(body, uint16(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{2, 0}, appendU16(nil, uint16(len(body)))...)
	hs = append(hs, body...)
	rec := append([]byte{22, 3, 3}, appendU16(nil, uint16(len(hs)))...)
	return append(rec, hs...)
}

func benchKexInit() []byte {
	lists := []string{"curve25519-sha256,ecdh-sha2-nistp256", "ssh-ed25519,rsa-sha2-512", "chacha20-poly1305@openssh.com,aes128-ctr", "chacha20-poly1305@openssh.com,aes128-ctr",
		"hmac-sha2-256-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "none,zlib@openssh.com", "none,zlib@openssh.com", "", ""}
	payload := append([]byte{20}, make([]byte, 16)...)
	for _, l := range lists {
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(l)))
		payload = append(payload, l...)
	}
	payload = append(payload, 0, 0, 0, 0, 0)
	pad := 8 - (5+len(payload))%8 + 4
	pkt := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	pkt = append(pkt, byte(pad))
	pkt = append(pkt, payload...)
	return append(pkt, make([]byte, pad)...)
}

func benchDNS(id uint16, response bool) []byte {
	b := appendU16(nil, id)
	if response {
		b = append(b, 0x81, 0x80, 0, 1, 0, 1)
	} else {
		b = append(b, 0x01, 0x00, 0, 1, 0, 0)
	}
	b = append(b, 0, 0, 0, 0)
	b = append(b, 4, 's', 'h', 'o', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 2, 'k', 'r', 0, 0, 1, 0, 1)
	if response {
		b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 10)
	}
	return b
}
