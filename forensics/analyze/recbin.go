package analyze

import (
	"encoding/binary"
	"math"
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

// The spilled form of a session (SpooledSessions), as appendEventBin's of
// an event: every field in the order of the struct, SrcGeo as whether it
// was set (it is looked up again). TestSessionBinRoundTrip and
// FuzzSessionBin hold the round trip.

func appendSessionBin(dst []byte, s *forensics.Session) []byte {
	w := &binWriter{b: dst}
	str, strs := w.str, w.strs
	counts := func(m map[string]int) {
		w.b = binary.AppendUvarint(w.b, uint64(len(m)))
		for k, n := range m {
			str(k)
			w.b = binary.AppendVarint(w.b, int64(n))
		}
	}
	vint := func(v int64) { w.b = binary.AppendVarint(w.b, v) }
	str(s.ID)
	str(s.Kind)
	b, _ := s.SrcIP.MarshalBinary() // never fails
	str(string(b))
	w.b = appendTime(w.b, s.Start.Time)
	w.b = appendTime(w.b, s.End.Time)
	vint(int64(s.Events))
	vint(s.Bytes)
	in := &s.Indicators
	for _, v := range [...]string{in.Credential, in.TokenKeyID, in.User, in.UserAgent, in.JA3, in.JA4, in.HASSH} {
		str(v)
	}
	strs(in.PathTemplates)
	counts(in.Methods)
	counts(in.Statuses)
	vint(int64(in.Objects))
	vint(in.FirstObject)
	vint(in.LastObject)
	str(in.SeqTemplate)
	vint(int64(in.SeqRun))
	str(in.Prefix)
	w.b = binary.AppendUvarint(w.b, uint64(in.ASN))
	str(in.Country)
	w.b = append(w.b, b2u(in.Hosting), b2u(in.Anonymizer), b2u(in.Crawler))
	vint(int64(in.Failures))
	vint(int64(in.NotFound))
	vint(int64(in.ProbeHits))
	w.b = binary.AppendUvarint(w.b, uint64(len(in.HourOfWeek)))
	for _, h := range in.HourOfWeek {
		vint(int64(h.Hour))
		vint(int64(h.Count))
	}
	w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(in.BeaconPeriod))
	w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(in.BeaconScore))
	strs(in.Extra)
	w.b = append(w.b, b2u(s.SrcGeo != nil))
	w.b = binary.AppendUvarint(w.b, uint64(len(s.Evidence)))
	for _, r := range s.Evidence {
		str(r.File)
		str(r.SHA256)
		w.b = binary.AppendUvarint(w.b, r.Packet)
		w.b = binary.AppendUvarint(w.b, r.Line)
		vint(r.Offset)
	}
	return w.b
}

func (r *binReader) byte() byte {
	if r.bad || r.i >= len(r.all) {
		r.bad = true
		return 0
	}
	c := r.all[r.i]
	r.i++
	return c
}

func (r *binReader) float() float64 {
	if r.bad || len(r.all)-r.i < 8 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint64([]byte(r.all[r.i : r.i+8]))
	r.i += 8
	return math.Float64frombits(v)
}

// count reads a length, failing (0) when it cannot fit in what is left.
func (r *binReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.all)-r.i) {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *binReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *binReader) counts() map[string]int {
	n := r.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]int, n)
	for range n {
		k := r.str()
		m[k] = int(r.varint())
	}
	return m
}

// decodeSessionBin decodes what appendSessionBin wrote into s (SrcGeo
// nil) and says whether it had a SrcGeo.
func decodeSessionBin(b []byte, s *forensics.Session) (geo bool, err error) {
	r := &binReader{all: string(b)}
	*s = forensics.Session{ID: r.str(), Kind: r.str()}
	s.SrcIP = r.addr()
	for _, t := range [...]*forensics.Time{&s.Start, &s.End} {
		sec, nsec := r.varint(), r.uvarint()
		if nsec >= 1e9 {
			return false, errCorruptItem
		}
		*t = forensics.Time{Time: time.Unix(sec, int64(nsec)).UTC()}
	}
	s.Events = int(r.varint())
	s.Bytes = r.varint()
	in := &s.Indicators
	in.Credential, in.TokenKeyID, in.User, in.UserAgent = r.str(), r.str(), r.str(), r.str()
	in.JA3, in.JA4, in.HASSH = r.str(), r.str(), r.str()
	in.PathTemplates = r.strs()
	in.Methods, in.Statuses = r.counts(), r.counts()
	in.Objects = int(r.varint())
	in.FirstObject, in.LastObject = r.varint(), r.varint()
	in.SeqTemplate = r.str()
	in.SeqRun = int(r.varint())
	in.Prefix = r.str()
	in.ASN = uint32(r.uvarint())
	in.Country = r.str()
	in.Hosting, in.Anonymizer, in.Crawler = r.byte() == 1, r.byte() == 1, r.byte() == 1
	in.Failures, in.NotFound, in.ProbeHits = int(r.varint()), int(r.varint()), int(r.varint())
	if n := r.count(); n > 0 {
		in.HourOfWeek = make([]forensics.HourCount, n)
		for i := range in.HourOfWeek {
			in.HourOfWeek[i] = forensics.HourCount{Hour: int(r.varint()), Count: int(r.varint())}
		}
	}
	in.BeaconPeriod, in.BeaconScore = r.float(), r.float()
	in.Extra = r.strs()
	geo = r.byte() == 1
	if n := r.count(); n > 0 {
		s.Evidence = make([]forensics.EvidenceRef, n)
		for i := range s.Evidence {
			e := &s.Evidence[i]
			e.File, e.SHA256 = r.str(), r.str()
			e.Packet, e.Line = r.uvarint(), r.uvarint()
			e.Offset = r.varint()
		}
	}
	if r.bad || r.i != len(r.all) {
		return false, errCorruptItem
	}
	return geo, nil
}

// The spilled form of a flow (SpooledFlows), as appendEventBin's of an
// event: every field in the order of the struct but SrcGeo and DstGeo
// (looked up again), each metadata block behind whether it is set.
// TestFlowBinRoundTrip and FuzzFlowBin hold the round trip.

func appendFlowBin(dst []byte, f *forensics.Flow) []byte {
	w := &binWriter{b: dst}
	str, strs, addr, uv := w.str, w.strs, w.addr, w.uvarint
	str(f.ID)
	str(f.CommunityID)
	str(f.Proto)
	addr(f.SrcIP)
	uv(uint64(f.SrcPort))
	addr(f.DstIP)
	uv(uint64(f.DstPort))
	w.b = appendTime(w.b, f.Start.Time)
	w.b = appendTime(w.b, f.End.Time)
	uv(f.PktsOut)
	uv(f.PktsIn)
	uv(f.BytesOut)
	uv(f.BytesIn)
	str(f.State)
	str(f.Tunnel)
	uv(uint64(len(f.VLAN)))
	for _, v := range f.VLAN {
		uv(uint64(v))
	}
	w.b = append(w.b, b2u(f.HTTP != nil))
	if h := f.HTTP; h != nil {
		for _, v := range [...]string{h.Method, h.Host, h.Path, h.UserAgent, h.XFF} {
			str(v)
		}
	}
	w.b = append(w.b, b2u(f.TLS != nil))
	if t := f.TLS; t != nil {
		str(t.Version)
		str(t.SNI)
		strs(t.ALPN)
		for _, v := range [...]string{t.JA3, t.JA3Hash, t.JA3S, t.JA3SHash, t.JA4} {
			str(v)
		}
	}
	w.b = append(w.b, b2u(f.SSH != nil))
	if s := f.SSH; s != nil {
		for _, v := range [...]string{s.Client, s.Server, s.HASSH, s.HASSHServer} {
			str(v)
		}
	}
	w.b = append(w.b, b2u(f.DNS != nil))
	if d := f.DNS; d != nil {
		str(d.Query)
		str(d.QType)
		str(d.RCode)
		strs(d.Answers)
	}
	str(f.Evidence.File)
	str(f.Evidence.SHA256)
	uv(f.Evidence.Packet)
	uv(f.Evidence.Line)
	w.b = binary.AppendVarint(w.b, f.Evidence.Offset)
	uv(uint64(len(f.Activity)))
	for _, p := range f.Activity {
		w.b = appendTime(w.b, p.Start.Time)
		w.b = appendTime(w.b, p.End.Time)
	}
	return w.b
}

func (r *binReader) time() forensics.Time {
	sec, nsec := r.varint(), r.uvarint()
	if nsec >= 1e9 {
		r.bad = true
		return forensics.Time{}
	}
	return forensics.Time{Time: time.Unix(sec, int64(nsec)).UTC()}
}

// decodeFlowBin decodes what appendFlowBin wrote into f (SrcGeo and
// DstGeo nil).
func decodeFlowBin(b []byte, f *forensics.Flow) error {
	r := &binReader{all: string(b)}
	*f = forensics.Flow{ID: r.str(), CommunityID: r.str(), Proto: r.str()}
	f.SrcIP = r.addr()
	f.SrcPort = uint16(r.uvarint())
	f.DstIP = r.addr()
	f.DstPort = uint16(r.uvarint())
	f.Start, f.End = r.time(), r.time()
	f.PktsOut, f.PktsIn, f.BytesOut, f.BytesIn = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	f.State, f.Tunnel = r.str(), r.str()
	if n := r.count(); n > 0 {
		f.VLAN = make([]uint16, n)
		for i := range f.VLAN {
			f.VLAN[i] = uint16(r.uvarint())
		}
	}
	if r.byte() == 1 {
		f.HTTP = &forensics.HTTPMeta{Method: r.str(), Host: r.str(), Path: r.str(), UserAgent: r.str(), XFF: r.str()}
	}
	if r.byte() == 1 {
		t := &forensics.TLSMeta{Version: r.str(), SNI: r.str()}
		t.ALPN = r.strs()
		t.JA3, t.JA3Hash, t.JA3S, t.JA3SHash, t.JA4 = r.str(), r.str(), r.str(), r.str(), r.str()
		f.TLS = t
	}
	if r.byte() == 1 {
		f.SSH = &forensics.SSHMeta{Client: r.str(), Server: r.str(), HASSH: r.str(), HASSHServer: r.str()}
	}
	if r.byte() == 1 {
		d := &forensics.DNSMeta{Query: r.str(), QType: r.str(), RCode: r.str()}
		d.Answers = r.strs()
		f.DNS = d
	}
	f.Evidence.File, f.Evidence.SHA256 = r.str(), r.str()
	f.Evidence.Packet, f.Evidence.Line = r.uvarint(), r.uvarint()
	f.Evidence.Offset = r.varint()
	if n := r.count(); n > 0 {
		f.Activity = make([]forensics.Period, n)
		for i := range f.Activity {
			f.Activity[i] = forensics.Period{Start: r.time(), End: r.time()}
		}
	}
	if r.bad || r.i != len(r.all) {
		return errCorruptItem
	}
	return nil
}

// binWriter appends the parts of a spilled record: strings and byte
// strings behind their length, integers as varints.
type binWriter struct{ b []byte }

func (w *binWriter) str(v string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *binWriter) strs(vs []string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(vs)))
	for _, v := range vs {
		w.str(v)
	}
}

func (w *binWriter) addr(a netip.Addr) {
	b, _ := a.MarshalBinary() // never fails
	w.str(string(b))
}

func (w *binWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
