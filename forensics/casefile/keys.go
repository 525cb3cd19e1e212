package casefile

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// recKey is what a query filters one record on (see Filter for what each
// value means per kind). In a block's keys blob each record is encoded as:
//
//	flags byte (1: ipA set, 2: ipB set, 4: ipA IPv4, 8: ipB IPv4)
//	ipA, ipB        4 or 16 bytes each, when set
//	tStart          8 bytes little endian (Unix ns)
//	tEnd - tStart   varint
//	asnA, asnB      uvarint
//	ccA, ccB, credA, credB, ua, campaign   uvarint length + bytes
//	pos, off        varint (line or packet number, byte offset)
//	jsonLen         uvarint (the record's JSON line without its newline)
type recKey struct {
	ipA, ipB     netip.Addr
	tStart, tEnd int64
	asnA, asnB   uint32
	ccA, ccB     string
	credA, credB string
	ua           string
	campaign     string
	pos, off     int64
	jsonLen      int
}

var errBadKeys = errors.New("corrupt record keys")

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (k *recKey) append(b []byte) []byte {
	var flags byte
	if k.ipA.IsValid() {
		flags |= 1
		if k.ipA.Is4() {
			flags |= 4
		}
	}
	if k.ipB.IsValid() {
		flags |= 2
		if k.ipB.Is4() {
			flags |= 8
		}
	}
	b = append(b, flags)
	if k.ipA.IsValid() {
		b = appendAddr(b, k.ipA)
	}
	if k.ipB.IsValid() {
		b = appendAddr(b, k.ipB)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(k.tStart))
	b = binary.AppendVarint(b, k.tEnd-k.tStart)
	b = binary.AppendUvarint(b, uint64(k.asnA))
	b = binary.AppendUvarint(b, uint64(k.asnB))
	for _, s := range [...]string{k.ccA, k.ccB, k.credA, k.credB, k.ua, k.campaign} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, k.pos)
	b = binary.AppendVarint(b, k.off)
	return binary.AppendUvarint(b, uint64(k.jsonLen))
}

// keyReader decodes a keys blob record by record, checking every length
// (a case file is evidence too: a damaged one must not crash a query).
type keyReader struct {
	b   []byte
	err error
}

func (r *keyReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *keyReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errBadKeys
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *keyReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadKeys
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *keyReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadKeys
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *keyReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errBadKeys
		return ""
	}
	return string(r.bytes(int(n)))
}

func (r *keyReader) addr(is4 bool) netip.Addr {
	n := 16
	if is4 {
		n = 4
	}
	b := r.bytes(n)
	if is4 && b != nil {
		return netip.AddrFrom4([4]byte(b))
	}
	if b == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

// next decodes one record into k.
func (r *keyReader) next(k *recKey) bool {
	flags := r.bytes(1)
	if flags == nil {
		return false
	}
	*k = recKey{}
	if flags[0]&1 != 0 {
		k.ipA = r.addr(flags[0]&4 != 0)
	}
	if flags[0]&2 != 0 {
		k.ipB = r.addr(flags[0]&8 != 0)
	}
	if t := r.bytes(8); t != nil {
		k.tStart = int64(binary.LittleEndian.Uint64(t))
	}
	k.tEnd = k.tStart + r.varint()
	k.asnA = uint32(min(r.uvarint(), math.MaxUint32))
	k.asnB = uint32(min(r.uvarint(), math.MaxUint32))
	k.ccA, k.ccB, k.credA, k.credB, k.ua, k.campaign = r.str(), r.str(), r.str(), r.str(), r.str(), r.str()
	k.pos = r.varint()
	k.off = r.varint()
	n := r.uvarint()
	if n > math.MaxInt32 {
		r.err = errBadKeys
	}
	k.jsonLen = int(n)
	return r.err == nil
}

// Keys of each record kind.

func flowKey(fl *forensics.Flow) recKey {
	k := recKey{ipA: canon(fl.SrcIP), ipB: canon(fl.DstIP), tStart: unixNano(fl.Start), tEnd: unixNano(fl.End),
		pos: refPos(fl.Evidence), off: fl.Evidence.Offset}
	k.asnA, k.ccA = geoKey(fl.SrcGeo)
	k.asnB, k.ccB = geoKey(fl.DstGeo)
	if fl.HTTP != nil {
		k.ua = fl.HTTP.UserAgent
	}
	return k
}

func eventKey(e *forensics.Event) recKey {
	actor := canon(e.Actor())
	k := recKey{ipA: actor, tStart: unixNano(e.Time), credA: e.Credential, ua: e.UserAgent,
		pos: refPos(e.Evidence), off: e.Evidence.Offset}
	k.tEnd = k.tStart
	if src := canon(e.SrcIP); src != actor {
		k.ipB = src
	}
	k.asnA, k.ccA = geoKey(e.SrcGeo)
	return k
}

func sessionKey(s *forensics.Session, campaign string) recKey {
	k := recKey{ipA: canon(s.SrcIP), tStart: unixNano(s.Start), tEnd: unixNano(s.End),
		credA: s.Indicators.Credential, credB: s.Indicators.TokenKeyID, ua: s.Indicators.UserAgent, campaign: campaign}
	k.asnA, k.ccA = geoKey(s.SrcGeo)
	if k.asnA == 0 {
		k.asnA = s.Indicators.ASN
	}
	return k
}

// canon drops the zone and unmaps IPv4-mapped IPv6, so that one address
// has one key whatever form a parser produced.
func canon(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	return a.WithZone("").Unmap()
}

func geoKey(r *enrich.Record) (uint32, string) {
	if r == nil {
		return 0, ""
	}
	return r.ASN, r.Country
}

// unixNano is t in Unix nanoseconds, clamped to the representable years
// 1678–2262 (hostile inputs carry any year); the zero time is 0.
func unixNano(t forensics.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// refPos is the line or packet number of a reference (whichever is set).
func refPos(r forensics.EvidenceRef) int64 {
	if r.Line > 0 {
		return int64(min(r.Line, math.MaxInt64))
	}
	return int64(min(r.Packet, math.MaxInt64))
}
