package capture

import (
	"bytes"
	"encoding/binary"

	"github.com/tracehop/tracehop/forensics"
)

// Limits of the application-metadata look at the first bytes of each
// direction: no full reassembly, only enough in-order bytes for a
// ClientHello spanning segments, an HTTP header block or an SSH KEXINIT.
const (
	maxAppBytes = 16 << 10
	maxAppSegs  = 24
	maxUDPTries = 4 // datagrams looked at before a non-DNS UDP flow is left alone
)

// Detected application protocols.
const (
	appUnknown uint8 = iota
	appTLS
	appHTTP
	appSSH
	appDNS
	appNone
)

// streamBuf holds the first in-order bytes of one direction.
type streamBuf struct {
	buf     []byte
	next    uint32
	started bool
	done    bool
	segs    uint8
}

// appState is the per-flow application parse state; it is dropped as
// soon as both directions are done so long flows cost nothing.
type appState struct {
	kind uint8
	dir  [2]streamBuf
}

func (f *flowState) appFinished() bool {
	return f.app == nil && f.appTried
}

// tcpApp feeds one TCP segment to the application parsers. dir 0 is from
// the flow's src.
func (f *flowState) tcpApp(dir int, p *packet, fc *fpCache) {
	if f.appFinished() {
		return
	}
	if p.tcpFlags&tcpSYN != 0 {
		// Kept in the flow, not in appState, so a scan's SYNs allocate
		// nothing.
		f.isn[dir], f.isnSet = p.seq+1, f.isnSet|1<<dir
	}
	data := p.payload
	if len(data) == 0 {
		return
	}
	if f.app == nil {
		f.app = &appState{}
		f.appTried = true
	}
	a := f.app
	s := &a.dir[dir]
	if s.done {
		return
	}
	if !s.started {
		s.started, s.next = true, p.seq
		if f.isnSet&(1<<dir) != 0 {
			s.next = f.isn[dir]
		}
	}
	diff := int32(p.seq - s.next)
	switch {
	case diff > 0: // a gap: what we have is all we get
		f.parseApp(dir, true, fc)
		s.done = true
		f.releaseApp()
		return
	case diff < 0: // retransmission overlapping what we have
		skip := int(-diff)
		if skip >= len(data) {
			return
		}
		data = data[skip:]
	}
	s.next += uint32(len(data))
	if room := maxAppBytes - len(s.buf); len(data) > room {
		data = data[:room]
	}
	s.segs++
	final := len(s.buf)+len(data) >= maxAppBytes || s.segs >= maxAppSegs || p.tcpFlags&(tcpFIN|tcpRST) != 0
	if len(s.buf) == 0 {
		// Most first segments hold the whole message: parse the packet
		// bytes in place and copy only if more is needed. Parsers copy
		// what they keep, so nothing borrowed outlives this call.
		s.buf = data
		f.parseApp(dir, final, fc)
		if s.done || f.app == nil || f.app.kind == appNone {
			s.buf = nil
		} else {
			s.buf = append(make([]byte, 0, min(maxAppBytes, 2*len(data))), data...)
		}
	} else {
		s.buf = append(s.buf, data...)
		f.parseApp(dir, final, fc)
	}
	if final {
		s.done = true
	}
	f.releaseApp()
}

// releaseApp frees the buffers once both directions are done.
func (f *flowState) releaseApp() {
	if a := f.app; a != nil && (a.dir[0].done && a.dir[1].done || a.kind == appNone) {
		f.app = nil
	}
}

func hasPort(f *flowState, ports ...uint16) bool {
	for _, p := range ports {
		if f.key.ap == p || f.key.bp == p {
			return true
		}
	}
	return false
}

// parseApp tries the parsers on direction dir's bytes.
func (f *flowState) parseApp(dir int, final bool, fc *fpCache) {
	a := f.app
	s := &a.dir[dir]
	b := s.buf
	if a.kind == appUnknown {
		switch {
		case len(b) >= 1 && b[0] == 22 && (len(b) < 2 || b[1] == 3):
			a.kind = appTLS
		case bytes.HasPrefix(b, []byte("SSH-")):
			a.kind = appSSH
		case len(b) < 4 && bytes.HasPrefix([]byte("SSH-"), b) && !final:
			return
		case looksHTTPRequest(b):
			a.kind = appHTTP
		case hasPort(f, 53, 5353, 5355) && len(b) >= 2:
			a.kind = appDNS
		default:
			// This direction is not one we read; the other may still be
			// (an SSH server speaks first, a TLS client does).
			s.done = true
			if a.dir[1-dir].done || a.dir[1-dir].segs > 0 {
				a.kind = appNone
			}
			return
		}
	}
	switch a.kind {
	case appTLS:
		f.parseTLS(s, final, fc)
	case appHTTP:
		if !looksHTTPRequest(b) {
			s.done = true // the response direction
			return
		}
		m, st := parseHTTPRequest(b, final)
		if st == needMore {
			return
		}
		if st == parsed && f.meta.http == nil {
			f.meta.http = m
		}
		s.done = true
	case appSSH:
		side, st := parseSSH(b)
		if st == needMore && !final {
			return
		}
		s.done = true
		if side.banner == "" {
			return
		}
		if f.meta.ssh == nil {
			f.meta.ssh = &forensics.SSHMeta{}
		}
		// The flow's src is the client when the handshake was seen; an
		// SSH server's banner says nothing reliable about its role.
		if dir == 0 {
			f.meta.ssh.Client = side.banner
			if side.kexOK {
				f.meta.ssh.HASSH = md5Hex(side.c2s)
			}
		} else {
			f.meta.ssh.Server = side.banner
			if side.kexOK {
				f.meta.ssh.HASSHServer = md5Hex(side.s2c)
			}
		}
	case appDNS:
		// DNS over TCP: the first length-prefixed message is the flow's
		// query (or answer), as for UDP.
		if len(b) >= 2 {
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				if final {
					s.done = true
				}
				return
			}
			if m, ok := parseDNS(b[2:2+l], false); ok {
				applyDNS(&f.meta.dns, m, &f.dnsID)
			}
			s.done = true
			return
		}
	default:
		s.done = true
	}
}

func (f *flowState) parseTLS(s *streamBuf, final bool, fc *fpCache) {
	typ, body, st := tlsHandshake(s.buf)
	if st == needMore && !final {
		return
	}
	s.done = true
	if st != parsed {
		return
	}
	switch typ {
	case 1:
		ch, ok := parseClientHello(body)
		if !ok {
			return
		}
		m := f.tlsMeta()
		m.SNI = clip([]byte(ch.sni))
		m.ALPN = ch.alpn
		for i := range m.ALPN {
			m.ALPN[i] = clip([]byte(m.ALPN[i]))
		}
		fp := fc.clientFingerprints(&ch)
		m.JA3, m.JA3Hash, m.JA4 = fp.ja3, fp.ja3Hash, fp.ja4
		if m.Version == "" {
			m.Version = tlsVersionName(ch.maxVersion())
		}
	case 2:
		sh, ok := parseServerHello(body)
		if !ok {
			return
		}
		m := f.tlsMeta()
		m.JA3S, m.JA3SHash = fc.serverFingerprint(&sh)
		v := sh.version
		if sh.supportedVersion != 0 {
			v = sh.supportedVersion
		}
		m.Version = tlsVersionName(v) // the negotiated version wins
	}
}

func (f *flowState) tlsMeta() *forensics.TLSMeta {
	if f.meta.tls == nil {
		f.meta.tls = &forensics.TLSMeta{}
	}
	return f.meta.tls
}

// udpApp looks at a UDP datagram for DNS: by port, or by a strict
// content check on other ports.
func (f *flowState) udpApp(p *packet) {
	if f.udpTries >= maxUDPTries && f.meta.dns == nil {
		return
	}
	if f.meta.dns != nil && f.meta.dns.RCode != "" {
		return
	}
	f.udpTries++
	strict := !hasPort(f, 53, 5353, 5355)
	if m, ok := parseDNS(p.payload, strict); ok {
		applyDNS(&f.meta.dns, m, &f.dnsID)
	}
}
