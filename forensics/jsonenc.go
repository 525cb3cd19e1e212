package forensics

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
)

// The one hand-written JSON encoder of the two record kinds written by the
// million: Event and Flow. It writes exactly the bytes of encoding/json
// with SetEscapeHTML(false) (field order, omitempty and omitzero, string
// escaping, sorted map keys), without reflection.
//
// The enrichment records (src_geo, dst_geo) are written by
// AppendRecordJSON: AppendEventJSON and AppendFlowJSON encode them on
// every call, while
// AppendEventJSONGeo and AppendFlowJSONGeo take them already encoded, so
// that a caller holding shared records (or looking them up itself) encodes
// each once and keeps that cache on its side.
//
// TestRecordJSONExact and FuzzRecordJSON prove the equality, and
// TestRecordJSONFields fails when a model type gains, loses or renames a
// field.

// AppendEventJSON appends the JSON of e (no newline) as encoding/json with
// SetEscapeHTML(false) writes it. The error is that of encoding/json for
// e.SrcGeo (a NaN coordinate); dst is then returned unchanged.
func AppendEventJSON(dst []byte, e *Event) ([]byte, error) {
	geo, err := enrichJSON(e.SrcGeo)
	if err != nil {
		return dst, err
	}
	return AppendEventJSONGeo(dst, e, geo), nil
}

// AppendFlowJSON appends the JSON of f (no newline) as encoding/json with
// SetEscapeHTML(false) writes it. The error is that of encoding/json for
// f.SrcGeo or f.DstGeo; dst is then returned unchanged.
func AppendFlowJSON(dst []byte, f *Flow) ([]byte, error) {
	src, err := enrichJSON(f.SrcGeo)
	if err != nil {
		return dst, err
	}
	dstGeo, err := enrichJSON(f.DstGeo)
	if err != nil {
		return dst, err
	}
	return AppendFlowJSONGeo(dst, f, src, dstGeo), nil
}

// enrichJSON is r's JSON as encoding/json with SetEscapeHTML(false) writes
// it, without the newline; nil for a nil r.
func enrichJSON(r *enrich.Record) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	// A record with its sources takes 500-800 bytes: one allocation, not
	// three as the slice grows.
	return AppendRecordJSON(make([]byte, 0, 1024), r)
}

// field appends `,"name":` (the first field of an object is written by
// its caller, without the comma).
func field(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func strField(b []byte, name, v string) []byte {
	return appendJSONString(field(b, name), v)
}

func strOmit(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(field(b, name), v)
}

// appendAddrJSON appends a as encoding/json writes its MarshalText string.
func appendAddrJSON(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		// Most addresses: four table lookups instead of netip's digit
		// arithmetic.
		ip := a.As4()
		b = slices.Grow(b, 17)
		d := b[len(b) : len(b)+17]
		d[0] = '"'
		n := 1
		for k, o := range ip {
			if k > 0 {
				d[n] = '.'
				n++
			}
			t := &decimal8[o]
			d[n], d[n+1], d[n+2] = t.d[0], t.d[1], t.d[2]
			n += int(t.n)
		}
		d[n] = '"'
		return b[:len(b)+n+1]
	}
	if a.Zone() == "" {
		// Digits, dots, colons and hex letters: nothing to escape.
		b = append(b, '"')
		if a.IsValid() {
			b = a.AppendTo(b)
		}
		return append(b, '"')
	}
	return appendJSONString(b, a.String())
}

func uintOmit(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return AppendUint(field(b, name), v)
}

// keyStr, keyInt and keyUint are omitempty fields (strOmit, uintOmit) with the
// key written whole (`,"name":`): one append instead of three, on every
// field of every event.
func keyStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(append(b, key...), v)
}

func keyInt(b []byte, key string, v int64) []byte {
	switch {
	case v == 0:
		return b
	case v < 0:
		return strconv.AppendInt(append(b, key...), v, 10)
	}
	return AppendUint(append(b, key...), uint64(v))
}

func keyUint(b []byte, key string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return AppendUint(append(b, key...), v)
}

// AppendUint is strconv.AppendUint(b, v, 10) writing the digits in place:
// four numbers per event (status, bytes, line, offset) made the library
// call and its copy show in profiles. Parsers use it for record IDs too.
func AppendUint(b []byte, v uint64) []byte {
	if v >= 1e12 {
		return strconv.AppendUint(b, v, 10)
	}
	n := 1
	for x := v; x >= 100; x /= 100 {
		n += 2
	}
	if v >= pow10[n] {
		n++
	}
	b = slices.Grow(b, n)
	d := b[len(b) : len(b)+n]
	i := n
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		d[i-1], d[i-2] = digitPairs[r+1], digitPairs[r]
		i -= 2
		v = q
	}
	if v >= 10 {
		d[i-1], d[i-2] = digitPairs[v*2+1], digitPairs[v*2]
	} else {
		d[i-1] = byte('0' + v)
	}
	return b[:len(b)+n]
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

func strsOmit(b []byte, name string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(field(b, name), '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// rawOmit appends a pre-encoded value; nil is omitted.
func rawOmit(b []byte, name string, js []byte) []byte {
	if js == nil {
		return b
	}
	return append(field(b, name), js...)
}

func appendEvidenceJSON(b []byte, r *EvidenceRef) []byte {
	return appendEvidenceTail(appendEvidenceHead(b, r), r)
}

// appendEvidenceHead writes the evidence object up to its sha256, the part
// that is the same for every record of a file.
func appendEvidenceHead(b []byte, r *EvidenceRef) []byte {
	b = append(b, `,"evidence":{"file":`...)
	b = appendJSONString(b, r.File)
	return strField(b, "sha256", r.SHA256)
}

func appendEvidenceTail(b []byte, r *EvidenceRef) []byte {
	b = keyUint(b, `,"packet":`, r.Packet)
	b = keyUint(b, `,"line":`, r.Line)
	b = append(b, `,"offset":`...)
	if r.Offset >= 0 {
		return append(AppendUint(b, uint64(r.Offset)), '}')
	}
	return append(strconv.AppendInt(b, r.Offset, 10), '}')
}

// AppendEventJSONGeo is AppendEventJSON with srcGeo as the JSON of the
// src_geo field, already encoded (nil: omitted); e.SrcGeo is not read.
func AppendEventJSONGeo(b []byte, e *Event, srcGeo []byte) []byte {
	return appendEventJSON(b, e, srcGeo, nil)
}

// EventEncoder is AppendEventJSONGeo for a stream of events, most of them
// from one file: the evidence file and SHA-256, the same on every line,
// are escaped once and reused. The zero EventEncoder is ready to use.
type EventEncoder struct {
	file, sha string
	head      []byte
	// sec is the last second written, date[:20] its text up to the
	// fraction ("2006-01-02T15:04:05."): events of a log come in time
	// order, many in the same second.
	sec  int64
	date [30]byte
	// raw is the last time_raw written, rawJSON its JSON string.
	raw     string
	rawJSON []byte
	// key is the key of the last event with one indicator (most events
	// of a JSON log carry the same one), keyJSON its JSON and a colon.
	key     string
	keyJSON []byte
}

// lastKeyIn looks up in m the key of the last event with one indicator:
// ranging over a map costs as much as several lookups.
func (enc *EventEncoder) lastKeyIn(m map[string]string) (string, bool) {
	if enc == nil || enc.keyJSON == nil {
		return "", false
	}
	v, ok := m[enc.key]
	return v, ok
}

func (enc *EventEncoder) setKey(k string) {
	if enc != nil && k != enc.key {
		enc.key = strings.Clone(k) // a key may be cut from a reused buffer
		enc.keyJSON = append(appendJSONString(enc.keyJSON[:0], k), ':')
	}
}

// Append appends the JSON of e as AppendEventJSONGeo does.
func (enc *EventEncoder) Append(b []byte, e *Event, srcGeo []byte) []byte {
	return appendEventJSON(b, e, srcGeo, enc)
}

func appendEventJSON(b []byte, e *Event, srcGeo []byte, enc *EventEncoder) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	if enc != nil {
		b = enc.appendTime(append(b, `,"time":`...), e.Time.Time)
		if e.TimeRaw != "" {
			// Shared by every line of the same second.
			if e.TimeRaw != enc.raw || enc.rawJSON == nil {
				enc.raw = e.TimeRaw
				enc.rawJSON = appendJSONString(enc.rawJSON[:0], e.TimeRaw)
			}
			b = append(append(b, `,"time_raw":`...), enc.rawJSON...)
		}
	} else {
		b = timeJSON(append(b, `,"time":`...), e.Time)
		b = keyStr(b, `,"time_raw":`, e.TimeRaw)
	}
	b = appendJSONString(append(b, `,"source_kind":`...), e.SourceKind)
	src := len(b)
	if e.SrcIP.IsValid() {
		b = appendAddrJSON(append(b, `,"src_ip":`...), e.SrcIP)
	}
	srcEnd := len(b)
	b = keyUint(b, `,"src_port":`, uint64(e.SrcPort))
	if e.ClientIP.IsValid() {
		b = append(b, `,"client_ip":`...)
		if e.ClientIP == e.SrcIP {
			// The usual case without proxies: the same text again.
			b = append(b, b[src+len(`,"src_ip":`):srcEnd]...)
		} else {
			b = appendAddrJSON(b, e.ClientIP)
		}
	}
	if len(e.ProxyChain) > 0 {
		b = append(field(b, "proxy_chain"), '[')
		for i := range e.ProxyChain {
			h := &e.ProxyChain[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(b, `{"ip":`...), h.IP)
			b = strconv.AppendBool(append(b, `,"trusted":`...), h.Trusted)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if e.DstIP.IsValid() {
		b = appendAddrJSON(field(b, "dst_ip"), e.DstIP)
	}
	b = keyUint(b, `,"dst_port":`, uint64(e.DstPort))
	b = keyStr(b, `,"method":`, e.Method)
	b = keyStr(b, `,"host":`, e.Host)
	b = keyStr(b, `,"path":`, e.Path)
	b = keyInt(b, `,"status":`, int64(e.Status))
	b = keyInt(b, `,"bytes":`, e.Bytes)
	b = keyStr(b, `,"user_agent":`, e.UserAgent)
	b = keyStr(b, `,"referrer":`, e.Referrer)
	b = keyStr(b, `,"user":`, e.User)
	b = keyStr(b, `,"credential":`, e.Credential)
	b = keyStr(b, `,"action":`, e.Action)
	if len(e.Indicators) == 1 {
		// the common case (a dataset, a request that is not HTTP): no
		// sort, and no second lookup
		b = append(field(b, "indicators"), '{')
		if v, ok := enc.lastKeyIn(e.Indicators); ok {
			b = appendJSONString(append(b, enc.keyJSON...), v)
		} else {
			for k, v := range e.Indicators {
				b = append(appendJSONString(b, k), ':')
				b = appendJSONString(b, v)
				enc.setKey(k)
			}
		}
		b = append(b, '}')
	} else if len(e.Indicators) > 0 {
		var small [8]string
		keys := small[:0]
		for k := range e.Indicators {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(field(b, "indicators"), '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			b = appendJSONString(b, e.Indicators[k])
		}
		b = append(b, '}')
	}
	b = strsOmit(b, "flags", e.Flags)
	b = rawOmit(b, "src_geo", srcGeo)
	switch r := &e.Evidence; {
	case enc == nil:
		b = appendEvidenceHead(b, r)
	case enc.head != nil && r.File == enc.file && r.SHA256 == enc.sha:
		b = append(b, enc.head...)
	default:
		at := len(b)
		b = appendEvidenceHead(b, r)
		enc.file, enc.sha, enc.head = r.File, r.SHA256, append(enc.head[:0], b[at:]...)
	}
	b = appendEvidenceTail(b, &e.Evidence)
	return append(b, '}')
}

// AppendFlowJSONGeo is AppendFlowJSON with srcGeo and dstGeo as the JSON
// of the src_geo and dst_geo fields, already encoded (nil: omitted);
// f.SrcGeo and f.DstGeo are not read.
func AppendFlowJSONGeo(b []byte, f *Flow, srcGeo, dstGeo []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, f.ID)
	b = strOmit(b, "community_id", f.CommunityID)
	b = strField(b, "proto", f.Proto)
	b = appendAddrJSON(append(b, `,"src_ip":`...), f.SrcIP)
	b = strconv.AppendUint(append(b, `,"src_port":`...), uint64(f.SrcPort), 10)
	b = appendAddrJSON(append(b, `,"dst_ip":`...), f.DstIP)
	b = strconv.AppendUint(append(b, `,"dst_port":`...), uint64(f.DstPort), 10)
	b = timeJSON(append(b, `,"start":`...), f.Start)
	b = timeJSON(append(b, `,"end":`...), f.End)
	b = strconv.AppendUint(append(b, `,"pkts_out":`...), f.PktsOut, 10)
	b = strconv.AppendUint(append(b, `,"pkts_in":`...), f.PktsIn, 10)
	b = strconv.AppendUint(append(b, `,"bytes_out":`...), f.BytesOut, 10)
	b = strconv.AppendUint(append(b, `,"bytes_in":`...), f.BytesIn, 10)
	b = strOmit(b, "state", f.State)
	b = strOmit(b, "tunnel", f.Tunnel)
	if len(f.VLAN) > 0 {
		b = append(field(b, "vlan"), '[')
		for i, v := range f.VLAN {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		b = append(b, ']')
	}
	if h := f.HTTP; h != nil {
		at := len(b)
		b = append(field(b, "http"), '{')
		b = strOmit(b, "method", h.Method)
		b = strOmit(b, "host", h.Host)
		b = strOmit(b, "path", h.Path)
		b = strOmit(b, "user_agent", h.UserAgent)
		b = strOmit(b, "xff", h.XFF)
		b = closeObject(b, at)
	}
	if t := f.TLS; t != nil {
		at := len(b)
		b = append(field(b, "tls"), '{')
		b = strOmit(b, "version", t.Version)
		b = strOmit(b, "sni", t.SNI)
		b = strsOmit(b, "alpn", t.ALPN)
		b = strOmit(b, "ja3", t.JA3)
		b = strOmit(b, "ja3_hash", t.JA3Hash)
		b = strOmit(b, "ja3s", t.JA3S)
		b = strOmit(b, "ja3s_hash", t.JA3SHash)
		b = strOmit(b, "ja4", t.JA4)
		b = closeObject(b, at)
	}
	if s := f.SSH; s != nil {
		at := len(b)
		b = append(field(b, "ssh"), '{')
		b = strOmit(b, "client", s.Client)
		b = strOmit(b, "server", s.Server)
		b = strOmit(b, "hassh", s.HASSH)
		b = strOmit(b, "hassh_server", s.HASSHServer)
		b = closeObject(b, at)
	}
	if d := f.DNS; d != nil {
		at := len(b)
		b = append(field(b, "dns"), '{')
		b = strOmit(b, "query", d.Query)
		b = strOmit(b, "qtype", d.QType)
		b = strOmit(b, "rcode", d.RCode)
		b = strsOmit(b, "answers", d.Answers)
		b = closeObject(b, at)
	}
	b = rawOmit(b, "src_geo", srcGeo)
	b = rawOmit(b, "dst_geo", dstGeo)
	b = appendEvidenceJSON(b, &f.Evidence)
	if len(f.Activity) > 0 {
		b = append(field(b, "activity"), '[')
		for i := range f.Activity {
			p := &f.Activity[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = timeJSON(append(b, `{"start":`...), p.Start)
			b = timeJSON(append(b, `,"end":`...), p.End)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// closeObject ends a nested object of optional fields that started at
// b[at:] with `,"name":{`, each field written as `,"name":value`: the
// comma before its first field is dropped.
func closeObject(b []byte, at int) []byte {
	open := at + bytes.IndexByte(b[at:], '{') + 1
	if len(b) > open && b[open] == ',' {
		b = append(b[:open], b[open+1:]...)
	}
	return append(b, '}')
}

// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the
// times appendTime formats itself.
const (
	minFastUnix = -62167219200
	maxFastUnix = 253402300799
)

// appendTime is timeJSON remembering the last second's text.
func (enc *EventEncoder) appendTime(b []byte, t time.Time) []byte {
	u := t.Unix()
	if u < minFastUnix || u > maxFastUnix {
		return timeJSON(b, Time{t})
	}
	if u != enc.sec || enc.date[4] != '-' {
		appendTime(enc.date[:0], t)
		enc.sec = u
	}
	ns := t.Nanosecond()
	buf := enc.date
	if ns == 0 {
		// Whole seconds: every log format that has no fraction.
		copy(buf[20:29], "000000000")
	} else {
		for i := 28; i >= 20; i-- {
			buf[i] = byte('0' + ns%10)
			ns /= 10
		}
	}
	b = append(b, '"')
	b = append(b, buf[:]...)
	return append(b, '"')
}

// timeJSON appends t as Time.MarshalJSON does.
func timeJSON(b []byte, t Time) []byte {
	b = append(b, '"')
	b = appendTime(b, t.Time)
	return append(b, '"')
}

// appendTime appends t.UTC().AppendFormat(b, TimeLayout), doing
// the calendar arithmetic itself for years 0 to 9999 (time.AppendFormat
// is an eighth of the cost of a flow); other years go to AppendFormat.
func appendTime(b []byte, t time.Time) []byte {
	u := t.Unix()
	if u < minFastUnix || u > maxFastUnix {
		return t.UTC().AppendFormat(b, TimeLayout)
	}
	// Days since 0000-03-01 (a 400-year era starts there, so the leap day
	// ends a year), then civil from days (H. Hinnant's algorithm).
	days := (u - minFastUnix) / 86400
	secs := (u - minFastUnix) % 86400
	z := days - 60 // 0000-01-01 + 60 days = 0000-03-01 (0000 is leap)
	var y, m, d int64
	if z < 0 {
		// January and February of year 0.
		y, m, d = 0, 1+(days/31), days%31+1
		if days >= 31 {
			m, d = 2, days-31+1
		}
	} else {
		era := z / 146097
		doe := z - era*146097
		yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
		y = yoe + era*400
		doy := doe - (365*yoe + yoe/4 - yoe/100)
		mp := (5*doy + 2) / 153
		d = doy - (153*mp+2)/5 + 1
		if mp < 10 {
			m = mp + 3
		} else {
			m = mp - 9
			y++
		}
	}
	hh, mm, ss := secs/3600, secs/60%60, secs%60
	ns := int64(t.Nanosecond())
	var buf [30]byte
	buf[0] = byte('0' + y/1000)
	buf[1] = byte('0' + y/100%10)
	buf[2] = byte('0' + y/10%10)
	buf[3] = byte('0' + y%10)
	buf[4] = '-'
	buf[5], buf[6] = byte('0'+m/10), byte('0'+m%10)
	buf[7] = '-'
	buf[8], buf[9] = byte('0'+d/10), byte('0'+d%10)
	buf[10] = 'T'
	buf[11], buf[12] = byte('0'+hh/10), byte('0'+hh%10)
	buf[13] = ':'
	buf[14], buf[15] = byte('0'+mm/10), byte('0'+mm%10)
	buf[16] = ':'
	buf[17], buf[18] = byte('0'+ss/10), byte('0'+ss%10)
	buf[19] = '.'
	for i := 28; i >= 20; i-- {
		buf[i] = byte('0' + ns%10)
		ns /= 10
	}
	buf[29] = 'Z'
	return append(b, buf[:]...)
}

const hexDigits = "0123456789abcdef"

// decimal8 holds the decimal digits of every byte value, n of them.
var decimal8 = func() (t [256]struct {
	d [3]byte
	n uint8
}) {
	for i := range t {
		s := strconv.Itoa(i)
		copy(t[i].d[:], s)
		t[i].n = uint8(len(s))
	}
	return t
}()

// load64 reads s[i:i+8] little-endian (the compiler merges the loads).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports that none of the eight bytes in v needs escaping: no
// control byte (< 0x20), no '"' or '\\', nothing from 0x80 (bit tricks
// from "Bit Twiddling Hacks", haszero/hasless).
func plain8(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	less20 := (v - ones*0x20) & ^v & highs
	quote := v ^ (ones * '"')
	bslash := v ^ (ones * '\\')
	hasQuote := (quote - ones) & ^quote & highs
	hasBslash := (bslash - ones) & ^bslash & highs
	return (less20 | hasQuote | hasBslash | v&highs) == 0
}

// SkipPlain returns the index of the first 8-byte word of b at or after i
// that holds a byte a JSON string escapes or a non-ASCII byte, or of the
// last incomplete word: decoders pass over plain runs a word at a time.
func SkipPlain(b []byte, i int) int {
	for i >= 0 && i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	return i
}

// QuoteOrBackslash8 flags the high bit of bytes of v that are '"' or
// '\\' (haszero from "Bit Twiddling Hacks": zero when there is none, and
// its lowest flag is always a true one): JSON scanners find the end of a
// string eight bytes at a time.
func QuoteOrBackslash8(v uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := v ^ (ones * '"')
	b := v ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b) & highs
}

// plain16 is plain8 of two words with one branch.
func plain16(v, w uint64) bool {
	return (needsEscape8(v)|needsEscape8(w))&0x8080808080808080 == 0
}

// needsEscape8 is plain8's test before its mask: the high bit of a byte
// is set (at least for the first one) when it needs escaping.
func needsEscape8(v uint64) uint64 {
	const ones = 0x0101010101010101
	q, bs := v^(ones*'"'), v^(ones*'\\')
	return ((v - ones*0x20) &^ v) | ((q - ones) &^ q) | ((bs - ones) &^ bs) | v
}

// appendJSONString quotes s as encoding/json does with HTML escaping off
// (control characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and
// U+2029 escaped), and escapes the other invisible characters too: what
// EscapeInvisibles makes of encoding/json's output.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	if len(s) < 8 {
		// Short values (methods, kinds): one test of the bytes padded
		// with spaces.
		w := [8]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
		copy(w[:], s)
		if plain8(binary.LittleEndian.Uint64(w[:])) {
			b = append(b, s...)
			return append(b, '"')
		}
	}
	for i := 0; i < len(s); {
		// Sixteen, then eight plain ASCII bytes at a time: most of a log
		// is.
		for i+16 <= len(s) && plain16(load64(s, i), load64(s, i+8)) {
			i += 16
		}
		for i+8 <= len(s) && plain8(load64(s, i)) {
			i += 8
		}
		if i+8 > len(s) && i < len(s) && len(s) >= 8 && plain8(load64(s, len(s)-8)) {
			// The tail, as the last eight bytes (read again in part).
			i = len(s)
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if invisible(r) {
			b = append(b, s[start:i]...)
			b = appendUEscape(b, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// invisible reports the characters that JSON output escapes beyond what
// encoding/json escapes (U+2028 and U+2029 it escapes too): C1 controls,
// which some terminals obey (U+009B is CSI), and format characters
// (bidirectional overrides, zero-width characters, tags), which reorder
// or hide text. Escaped, the strings are the same once decoded, but
// JSON Lines on a terminal or in a viewer can no longer act on it or
// hide part of it.
func invisible(r rune) bool {
	return r >= 0x80 && (r <= 0x9f || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r))
}

// appendUEscape appends r as \uXXXX, or as a surrogate pair beyond U+FFFF.
func appendUEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return appendUEscape(appendUEscape(b, r1), r2)
	}
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// EscapeInvisibles rewrites the invisible characters (see invisible) in
// the JSON text b as \u escapes, as the hand-written encoder writes them,
// for output made by encoding/json. Outside strings, JSON text is ASCII,
// so any such character is inside a string and its escape means the
// same. b is returned as is when it holds none.
func EscapeInvisibles(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	var out []byte
	start := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if invisible(r) {
			if out == nil {
				out = make([]byte, 0, len(b)+16)
			}
			out = appendUEscape(append(out, b[start:i]...), r)
			start = i + size
		}
		i += size
	}
	if out == nil {
		return b
	}
	return append(out, b[start:]...)
}

// MarshalJSON is the JSON of v as a json.Encoder with the given HTML
// escaping and indent writes it (trailing newline included), with the
// invisible characters escaped: the one form of one-shot JSON outputs
// (bundle files, command output) that encoding/json writes.
func MarshalJSON(v any, indent string, escapeHTML bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return EscapeInvisibles(buf.Bytes()), nil
}

// AppendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping off, and invisible characters escaped too (EscapeInvisibles),
// for encoders elsewhere that must give its bytes.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }
