package capture

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// parseStatus says whether a parser got what it wanted from the bytes so far.
type parseStatus uint8

const (
	needMore parseStatus = iota // too few bytes yet; call again with more
	parsed                      // done, result valid
	invalid                     // not this protocol, or broken: give up
)

// maxHandshake bounds the handshake message we reassemble (a ClientHello
// with post-quantum key shares is ~2 KB; 64 KB is the protocol's limit for
// a sane one and the cap for a hostile one).
const maxHandshake = 1 << 16

// clientHello is what JA3 and JA4 need from a TLS ClientHello.
type clientHello struct {
	version       uint16 // legacy_version
	ciphers       []uint16
	extensions    []uint16
	groups        []uint16
	pointFormats  []uint8
	sigAlgs       []uint16
	supportedVers []uint16
	sni           string
	alpn          []string
}

// serverHello is what JA3S needs from a ServerHello.
type serverHello struct {
	version          uint16
	cipher           uint16
	extensions       []uint16
	supportedVersion uint16
}

// isGREASE reports the reserved GREASE values of RFC 8701 (0x?a?a).
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// tlsHandshake reassembles the first handshake message from a stream of
// TLS records (a message may span records, and records may span TCP
// segments). It returns the message type and body.
func tlsHandshake(stream []byte) (typ uint8, body []byte, st parseStatus) {
	// Fast path: the first record holds the whole message (no copy).
	if len(stream) >= 9 && stream[0] == 22 && stream[1] == 3 {
		rl := int(binary.BigEndian.Uint16(stream[3:5]))
		if len(stream) >= 5+rl {
			if t, b, ok := handshakeComplete(stream[5 : 5+rl]); ok {
				return t, b, parsed
			}
		}
	}
	var msg []byte
	for {
		if len(stream) < 5 {
			return 0, nil, needMore
		}
		if stream[0] != 22 || stream[1] != 3 {
			return 0, nil, invalid
		}
		rl := int(binary.BigEndian.Uint16(stream[3:5]))
		if rl == 0 || rl > 1<<14+2048 {
			return 0, nil, invalid
		}
		if len(stream) < 5+rl {
			// Parse what we have if the message is already complete in
			// the partial record; otherwise wait for more.
			msg = append(msg, stream[5:]...)
			if t, b, ok := handshakeComplete(msg); ok {
				return t, b, parsed
			}
			return 0, nil, needMore
		}
		msg = append(msg, stream[5:5+rl]...)
		stream = stream[5+rl:]
		if t, b, ok := handshakeComplete(msg); ok {
			return t, b, parsed
		}
		if len(msg) >= 4 && int(msg[1])<<16|int(msg[2])<<8|int(msg[3]) > maxHandshake {
			return 0, nil, invalid
		}
	}
}

func handshakeComplete(msg []byte) (uint8, []byte, bool) {
	if len(msg) < 4 {
		return 0, nil, false
	}
	l := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	if l > maxHandshake || len(msg) < 4+l {
		return 0, nil, false
	}
	return msg[0], msg[4 : 4+l], true
}

// reader is a bounds-checked cursor over a message; any short read sets
// bad and returns zeros, so parsers check once at the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// parseClientHello parses a ClientHello body (after the 4-byte handshake
// header).
func parseClientHello(body []byte) (clientHello, bool) {
	var ch clientHello
	r := reader{b: body}
	ch.version = r.u16()
	r.bytes(32) // random
	r.bytes(int(r.u8()))
	cs := reader{b: r.bytes(int(r.u16()))}
	ch.ciphers = make([]uint16, 0, len(cs.b)/2)
	for len(cs.b) >= 2 {
		ch.ciphers = append(ch.ciphers, cs.u16())
	}
	r.bytes(int(r.u8())) // compression methods
	if r.bad {
		return ch, false
	}
	if len(r.b) == 0 {
		return ch, true // no extensions (SSLv3 style)
	}
	exts := reader{b: r.bytes(int(r.u16()))}
	if r.bad {
		return ch, false
	}
	ch.extensions = make([]uint16, 0, 24)
	for len(exts.b) >= 4 {
		typ := exts.u16()
		data := exts.bytes(int(exts.u16()))
		if exts.bad {
			return ch, false
		}
		ch.extensions = append(ch.extensions, typ)
		e := reader{b: data}
		switch typ {
		case 0: // server_name
			l := reader{b: e.bytes(int(e.u16()))}
			for len(l.b) >= 3 {
				nt := l.u8()
				name := l.bytes(int(l.u16()))
				if nt == 0 && ch.sni == "" && !l.bad {
					ch.sni = string(name)
				}
			}
		case 10: // supported_groups
			l := reader{b: e.bytes(int(e.u16()))}
			for len(l.b) >= 2 {
				ch.groups = append(ch.groups, l.u16())
			}
		case 11: // ec_point_formats
			ch.pointFormats = append(ch.pointFormats, e.bytes(int(e.u8()))...)
		case 13: // signature_algorithms
			l := reader{b: e.bytes(int(e.u16()))}
			for len(l.b) >= 2 {
				ch.sigAlgs = append(ch.sigAlgs, l.u16())
			}
		case 16: // ALPN
			l := reader{b: e.bytes(int(e.u16()))}
			for len(l.b) >= 1 {
				p := l.bytes(int(l.u8()))
				if l.bad {
					break
				}
				if len(ch.alpn) < 16 {
					ch.alpn = append(ch.alpn, string(p))
				}
			}
		case 43: // supported_versions
			l := reader{b: e.bytes(int(e.u8()))}
			for len(l.b) >= 2 {
				ch.supportedVers = append(ch.supportedVers, l.u16())
			}
		}
	}
	return ch, true
}

// parseServerHello parses a ServerHello body.
func parseServerHello(body []byte) (serverHello, bool) {
	var sh serverHello
	r := reader{b: body}
	sh.version = r.u16()
	r.bytes(32)
	r.bytes(int(r.u8()))
	sh.cipher = r.u16()
	r.u8() // compression
	if r.bad {
		return sh, false
	}
	if len(r.b) == 0 {
		return sh, true
	}
	exts := reader{b: r.bytes(int(r.u16()))}
	if r.bad {
		return sh, false
	}
	for len(exts.b) >= 4 {
		typ := exts.u16()
		data := exts.bytes(int(exts.u16()))
		if exts.bad {
			return sh, false
		}
		sh.extensions = append(sh.extensions, typ)
		if typ == 43 && len(data) >= 2 {
			sh.supportedVersion = binary.BigEndian.Uint16(data)
		}
	}
	return sh, true
}

func joinDec16(b *strings.Builder, vs []uint16, skipGREASE bool) {
	first := true
	for _, v := range vs {
		if skipGREASE && isGREASE(v) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(v)))
	}
}

// ja3 returns the JA3 string (salesforce/ja3): version, ciphers,
// extensions, groups and point formats in wire order, GREASE removed.
func (ch *clientHello) ja3() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(ch.version)))
	b.WriteByte(',')
	joinDec16(&b, ch.ciphers, true)
	b.WriteByte(',')
	joinDec16(&b, ch.extensions, true)
	b.WriteByte(',')
	joinDec16(&b, ch.groups, true)
	b.WriteByte(',')
	for i, v := range ch.pointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(v)))
	}
	return b.String()
}

// ja3s returns the JA3S string: version, cipher, extensions.
func (sh *serverHello) ja3s() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(sh.version)))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(int(sh.cipher)))
	b.WriteByte(',')
	joinDec16(&b, sh.extensions, false)
	return b.String()
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tlsVersionCode is JA4's two-character version.
func tlsVersionCode(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// tlsVersionName is the human name for the flow record.
func tlsVersionName(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	case 0x0302:
		return "TLS 1.1"
	case 0x0301:
		return "TLS 1.0"
	case 0x0300:
		return "SSL 3.0"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// maxVersion is the highest non-GREASE supported_versions entry, or the
// legacy version when the extension is absent.
func (ch *clientHello) maxVersion() uint16 {
	v := uint16(0)
	for _, s := range ch.supportedVers {
		if !isGREASE(s) && s > v {
			v = s
		}
	}
	if v == 0 {
		v = ch.version
	}
	return v
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ja4ALPN is the first and last character of the first ALPN value, or
// "00"; non-alphanumeric ends use the first and last hex digit instead.
func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	a := alpn[0]
	first, last := a[0], a[len(a)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(a))
	return string([]byte{h[0], h[len(h)-1]})
}

func hex4List(vs []uint16) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		var x [2]byte
		binary.BigEndian.PutUint16(x[:], v)
		b.WriteString(hex.EncodeToString(x[:]))
	}
	return b.String()
}

func sha12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// ja4 returns the JA4 TLS client fingerprint (FoxIO JA4 specification,
// BSD-3-Clause) for a ClientHello seen over TCP.
func (ch *clientHello) ja4() string {
	var ciphers, exts, sig []uint16
	for _, c := range ch.ciphers {
		if !isGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	nExt := 0
	for _, e := range ch.extensions {
		if isGREASE(e) {
			continue
		}
		nExt++
		if e != 0 && e != 16 {
			exts = append(exts, e)
		}
	}
	for _, s := range ch.sigAlgs {
		if !isGREASE(s) {
			sig = append(sig, s)
		}
	}
	sni := "i"
	if slices.Contains(ch.extensions, 0) {
		sni = "d"
	}
	var b strings.Builder
	b.WriteByte('t')
	b.WriteString(tlsVersionCode(ch.maxVersion()))
	b.WriteString(sni)
	b.WriteString(twoDigits(len(ciphers)))
	b.WriteString(twoDigits(nExt))
	b.WriteString(ja4ALPN(ch.alpn))
	b.WriteByte('_')
	if len(ciphers) == 0 {
		b.WriteString("000000000000")
	} else {
		slices.Sort(ciphers)
		b.WriteString(sha12(hex4List(ciphers)))
	}
	b.WriteByte('_')
	if len(exts) == 0 {
		b.WriteString("000000000000")
	} else {
		slices.Sort(exts)
		s := hex4List(exts)
		if len(sig) > 0 {
			s += "_" + hex4List(sig)
		}
		b.WriteString(sha12(s))
	}
	return b.String()
}

func twoDigits(n int) string {
	n = min(n, 99)
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}
