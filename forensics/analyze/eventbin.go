package analyze

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// The spilled form of an event (SpooledEvents): every field but SrcGeo
// (the enricher's, looked up again), integers as varints, strings and
// addresses behind their length, in the order of the struct. Strings
// keep every byte (invalid UTF-8 included), so an event comes back as
// it went in; decoding one is a single copy of its bytes, which every
// string of the event then shares. TestEventBinRoundTrip and
// FuzzEventBin hold the round trip, and fail when Event gains a field.

func appendEventBin(dst []byte, e *forensics.Event) []byte {
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	addr := func(a netip.Addr) {
		b, _ := a.MarshalBinary() // never fails
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	str(e.ID)
	dst = appendTime(dst, e.Time.Time)
	str(e.TimeRaw)
	str(e.SourceKind)
	addr(e.SrcIP)
	dst = binary.AppendUvarint(dst, uint64(e.SrcPort))
	addr(e.ClientIP)
	dst = binary.AppendUvarint(dst, uint64(len(e.ProxyChain)))
	for _, h := range e.ProxyChain {
		str(h.IP)
		dst = append(dst, b2u(h.Trusted))
	}
	addr(e.DstIP)
	dst = binary.AppendUvarint(dst, uint64(e.DstPort))
	for _, s := range [...]string{e.Method, e.Host, e.Path} {
		str(s)
	}
	dst = binary.AppendVarint(dst, int64(e.Status))
	dst = binary.AppendVarint(dst, e.Bytes)
	for _, s := range [...]string{e.UserAgent, e.Referrer, e.User, e.Credential, e.Action} {
		str(s)
	}
	// A nil map and an empty one encode alike (omitempty): the length
	// says which only as far as JSON can tell.
	dst = binary.AppendUvarint(dst, uint64(len(e.Indicators)))
	for k, v := range e.Indicators {
		str(k)
		str(v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Flags)))
	for _, f := range e.Flags {
		str(f)
	}
	str(e.Evidence.File)
	str(e.Evidence.SHA256)
	dst = binary.AppendUvarint(dst, e.Evidence.Packet)
	dst = binary.AppendUvarint(dst, e.Evidence.Line)
	return binary.AppendVarint(dst, e.Evidence.Offset)
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// binReader reads an encoded event; strings are cut from all, one copy
// of the encoding. The first error sticks.
type binReader struct {
	all string
	i   int
	bad bool
}

func (r *binReader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	var v uint64
	var s uint
	for n := 0; ; n++ {
		if r.i >= len(r.all) || n == binary.MaxVarintLen64 {
			r.bad = true
			return 0
		}
		c := r.all[r.i]
		r.i++
		if c < 0x80 {
			if n == binary.MaxVarintLen64-1 && c > 1 {
				r.bad = true
				return 0
			}
			return v | uint64(c)<<s
		}
		v |= uint64(c&0x7f) << s
		s += 7
	}
}

func (r *binReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *binReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.all)-r.i) {
		r.bad = true
		return ""
	}
	s := r.all[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *binReader) addr() netip.Addr {
	var a netip.Addr
	if b := r.str(); !r.bad && a.UnmarshalBinary([]byte(b)) != nil {
		r.bad = true
	}
	return a
}

// decodeEventBin decodes what appendEventBin wrote into e (SrcGeo nil).
func decodeEventBin(b []byte, e *forensics.Event) error {
	r := &binReader{all: string(b)}
	*e = forensics.Event{ID: r.str()}
	sec, nsec := r.varint(), r.uvarint()
	if nsec >= 1e9 {
		return errCorruptItem
	}
	e.Time = forensics.Time{Time: time.Unix(sec, int64(nsec)).UTC()}
	e.TimeRaw, e.SourceKind = r.str(), r.str()
	e.SrcIP = r.addr()
	e.SrcPort = uint16(r.uvarint())
	e.ClientIP = r.addr()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.all)) {
		e.ProxyChain = make([]forensics.ProxyHop, n)
		for i := range e.ProxyChain {
			e.ProxyChain[i].IP = r.str()
			e.ProxyChain[i].Trusted = r.uvarint() == 1
		}
	}
	e.DstIP = r.addr()
	e.DstPort = uint16(r.uvarint())
	e.Method, e.Host, e.Path = r.str(), r.str(), r.str()
	e.Status = int(r.varint())
	e.Bytes = r.varint()
	e.UserAgent, e.Referrer, e.User, e.Credential, e.Action = r.str(), r.str(), r.str(), r.str(), r.str()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.all)) {
		e.Indicators = make(map[string]string, n)
		for range n {
			k := r.str()
			e.Indicators[k] = r.str()
		}
	}
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.all)) {
		e.Flags = make([]string, n)
		for i := range e.Flags {
			e.Flags[i] = r.str()
		}
	}
	e.Evidence.File, e.Evidence.SHA256 = r.str(), r.str()
	e.Evidence.Packet, e.Evidence.Line = r.uvarint(), r.uvarint()
	e.Evidence.Offset = r.varint()
	if r.bad || r.i != len(r.all) {
		return errCorruptItem
	}
	return nil
}
