package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// FlowEncoder writes flows as JSON exactly as encoding/json does with
// SetEscapeHTML(false) (the bytes `tracehop flows` has always written),
// without reflection. Enrichment records are encoded once per distinct
// *enrich.Record and reused: callers attach shared, read-only
// records (enrich.Enricher.LookupShared), so most flows hit the cache.
// TestFlowEncoderFields fails when a field is added to a type it writes.
// A FlowEncoder is not safe for concurrent use; its cache is bounded
// (maxCachedRecords).
type FlowEncoder struct {
	recs map[*enrich.Record][]byte
	buf  bytes.Buffer
	enc  *json.Encoder
	scr  []byte
}

// NewFlowEncoder returns an encoder with an empty record cache.
func NewFlowEncoder() *FlowEncoder {
	e := &FlowEncoder{recs: map[*enrich.Record][]byte{}}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// Append appends f's JSON (no trailing newline) to dst.
func (e *FlowEncoder) Append(dst []byte, f *forensics.Flow) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, f.ID)
	if f.CommunityID != "" {
		dst = append(dst, `,"community_id":`...)
		dst = appendJSONString(dst, f.CommunityID)
	}
	dst = append(dst, `,"proto":`...)
	dst = appendJSONString(dst, f.Proto)
	dst = append(dst, `,"src_ip":`...)
	dst = e.appendAddr(dst, f.SrcIP)
	dst = append(dst, `,"src_port":`...)
	dst = strconv.AppendUint(dst, uint64(f.SrcPort), 10)
	dst = append(dst, `,"dst_ip":`...)
	dst = e.appendAddr(dst, f.DstIP)
	dst = append(dst, `,"dst_port":`...)
	dst = strconv.AppendUint(dst, uint64(f.DstPort), 10)
	dst = append(dst, `,"start":`...)
	dst = appendTime(dst, f.Start)
	dst = append(dst, `,"end":`...)
	dst = appendTime(dst, f.End)
	dst = append(dst, `,"pkts_out":`...)
	dst = strconv.AppendUint(dst, f.PktsOut, 10)
	dst = append(dst, `,"pkts_in":`...)
	dst = strconv.AppendUint(dst, f.PktsIn, 10)
	dst = append(dst, `,"bytes_out":`...)
	dst = strconv.AppendUint(dst, f.BytesOut, 10)
	dst = append(dst, `,"bytes_in":`...)
	dst = strconv.AppendUint(dst, f.BytesIn, 10)
	if f.State != "" {
		dst = append(dst, `,"state":`...)
		dst = appendJSONString(dst, f.State)
	}
	if f.Tunnel != "" {
		dst = append(dst, `,"tunnel":`...)
		dst = appendJSONString(dst, f.Tunnel)
	}
	if len(f.VLAN) > 0 {
		dst = append(dst, `,"vlan":[`...)
		for i, v := range f.VLAN {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(v), 10)
		}
		dst = append(dst, ']')
	}
	if h := f.HTTP; h != nil {
		dst = append(dst, `,"http":{`...)
		o := len(dst)
		dst = appendOpt(dst, o, `"method":`, h.Method)
		dst = appendOpt(dst, o, `"host":`, h.Host)
		dst = appendOpt(dst, o, `"path":`, h.Path)
		dst = appendOpt(dst, o, `"user_agent":`, h.UserAgent)
		dst = appendOpt(dst, o, `"xff":`, h.XFF)
		dst = append(dst, '}')
	}
	if t := f.TLS; t != nil {
		dst = append(dst, `,"tls":{`...)
		o := len(dst)
		dst = appendOpt(dst, o, `"version":`, t.Version)
		dst = appendOpt(dst, o, `"sni":`, t.SNI)
		dst = appendOptList(dst, o, `"alpn":`, t.ALPN)
		dst = appendOpt(dst, o, `"ja3":`, t.JA3)
		dst = appendOpt(dst, o, `"ja3_hash":`, t.JA3Hash)
		dst = appendOpt(dst, o, `"ja3s":`, t.JA3S)
		dst = appendOpt(dst, o, `"ja3s_hash":`, t.JA3SHash)
		dst = appendOpt(dst, o, `"ja4":`, t.JA4)
		dst = append(dst, '}')
	}
	if s := f.SSH; s != nil {
		dst = append(dst, `,"ssh":{`...)
		o := len(dst)
		dst = appendOpt(dst, o, `"client":`, s.Client)
		dst = appendOpt(dst, o, `"server":`, s.Server)
		dst = appendOpt(dst, o, `"hassh":`, s.HASSH)
		dst = appendOpt(dst, o, `"hassh_server":`, s.HASSHServer)
		dst = append(dst, '}')
	}
	if d := f.DNS; d != nil {
		dst = append(dst, `,"dns":{`...)
		o := len(dst)
		dst = appendOpt(dst, o, `"query":`, d.Query)
		dst = appendOpt(dst, o, `"qtype":`, d.QType)
		dst = appendOpt(dst, o, `"rcode":`, d.RCode)
		dst = appendOptList(dst, o, `"answers":`, d.Answers)
		dst = append(dst, '}')
	}
	var err error
	if f.SrcGeo != nil {
		dst = append(dst, `,"src_geo":`...)
		if dst, err = e.appendRecord(dst, f.SrcGeo); err != nil {
			return dst, err
		}
	}
	if f.DstGeo != nil {
		dst = append(dst, `,"dst_geo":`...)
		if dst, err = e.appendRecord(dst, f.DstGeo); err != nil {
			return dst, err
		}
	}
	ev := &f.Evidence
	dst = append(dst, `,"evidence":{"file":`...)
	dst = appendJSONString(dst, ev.File)
	dst = append(dst, `,"sha256":`...)
	dst = appendJSONString(dst, ev.SHA256)
	if ev.Packet != 0 {
		dst = append(dst, `,"packet":`...)
		dst = strconv.AppendUint(dst, ev.Packet, 10)
	}
	if ev.Line != 0 {
		dst = append(dst, `,"line":`...)
		dst = strconv.AppendUint(dst, ev.Line, 10)
	}
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, ev.Offset, 10)
	dst = append(dst, '}')
	if len(f.Activity) > 0 {
		dst = append(dst, `,"activity":[`...)
		for i := range f.Activity {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"start":`...)
			dst = appendTime(dst, f.Activity[i].Start)
			dst = append(dst, `,"end":`...)
			dst = appendTime(dst, f.Activity[i].End)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendOpt appends an omitempty string field of an object whose first
// field would start at offset o.
func appendOpt(dst []byte, o int, key, v string) []byte {
	if v == "" {
		return dst
	}
	if len(dst) > o {
		dst = append(dst, ',')
	}
	dst = append(dst, key...)
	return appendJSONString(dst, v)
}

// appendOptList is appendOpt for an omitempty []string.
func appendOptList(dst []byte, o int, key string, vs []string) []byte {
	if len(vs) == 0 {
		return dst
	}
	if len(dst) > o {
		dst = append(dst, ',')
	}
	dst = append(dst, key...)
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, v)
	}
	return append(dst, ']')
}

// appendAddr writes a as encoding/json does: its MarshalText as a string
// ("" for the zero Addr).
func (e *FlowEncoder) appendAddr(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		dst = append(dst, '"')
		dst = a.AppendTo(dst) // dotted quad: nothing to escape
		return append(dst, '"')
	}
	e.scr, _ = a.AppendText(e.scr[:0])
	return appendJSONString(dst, string(e.scr))
}

// appendTime writes forensics.Time's MarshalJSON output.
func appendTime(dst []byte, t forensics.Time) []byte {
	u := t.UTC()
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		dst = append(dst, '"')
		dst = u.AppendFormat(dst, forensics.TimeLayout)
		return append(dst, '"')
	}
	h, mi, s := u.Clock()
	ns := u.Nanosecond()
	var b [32]byte
	b[0] = '"'
	put := func(i, v, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(1, y, 4)
	b[5] = '-'
	put(6, int(mo), 2)
	b[8] = '-'
	put(9, d, 2)
	b[11] = 'T'
	put(12, h, 2)
	b[14] = ':'
	put(15, mi, 2)
	b[17] = ':'
	put(18, s, 2)
	b[20] = '.'
	put(21, ns, 9)
	b[30] = 'Z'
	b[31] = '"'
	return append(dst, b[:]...)
}

// maxCachedRecords bounds the record cache of a FlowEncoder.
const maxCachedRecords = 8192

// appendRecord writes r, once per distinct record (then from the cache).
func (e *FlowEncoder) appendRecord(dst []byte, r *enrich.Record) ([]byte, error) {
	if b, ok := e.recs[r]; ok {
		return append(dst, b...), nil
	}
	if len(e.recs) >= maxCachedRecords {
		clear(e.recs) // a scan: every address new, nothing to gain
	}
	var b []byte
	if (r.Lat != nil && !finite(*r.Lat)) || (r.Lon != nil && !finite(*r.Lon)) {
		// encoding/json refuses these: let it say so.
		e.buf.Reset()
		if err := e.enc.Encode(r); err != nil {
			return dst, err
		}
		b = bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}))
	} else {
		b = e.recordJSON(make([]byte, 0, 256), r)
	}
	e.recs[r] = b
	return append(dst, b...), nil
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// recordJSON writes r as encoding/json does (finite coordinates only).
func (e *FlowEncoder) recordJSON(dst []byte, r *enrich.Record) []byte {
	dst = append(dst, `{"ip":`...)
	dst = e.appendAddr(dst, r.IP)
	dst = append(dst, `,"class":`...)
	dst = appendJSONString(dst, r.Class)
	if r.EmbeddedIPv4 != (netip.Addr{}) {
		dst = append(dst, `,"embedded_ipv4":`...)
		dst = e.appendAddr(dst, r.EmbeddedIPv4)
	}
	o := 0 // never the first field: appendOpt always writes the comma
	dst = appendOpt(dst, o, `"embedding":`, r.Embedding)
	dst = appendOpt(dst, o, `"country":`, r.Country)
	dst = appendOpt(dst, o, `"country_name":`, r.CountryName)
	dst = appendOpt(dst, o, `"registered_country":`, r.RegisteredCountry)
	dst = appendOpt(dst, o, `"subdivision":`, r.Subdivision)
	dst = appendOpt(dst, o, `"city":`, r.City)
	if r.Lat != nil {
		dst = append(dst, `,"lat":`...)
		dst = appendFloat(dst, *r.Lat)
	}
	if r.Lon != nil {
		dst = append(dst, `,"lon":`...)
		dst = appendFloat(dst, *r.Lon)
	}
	if r.AccuracyKM != 0 {
		dst = append(dst, `,"accuracy_km":`...)
		dst = strconv.AppendUint(dst, uint64(r.AccuracyKM), 10)
	}
	if r.ASN != 0 {
		dst = append(dst, `,"asn":`...)
		dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	}
	dst = appendOpt(dst, o, `"as_org":`, r.ASOrg)
	dst = appendOpt(dst, o, `"isp":`, r.ISP)
	dst = appendOpt(dst, o, `"connection_type":`, r.ConnectionType)
	dst = appendOpt(dst, o, `"domain":`, r.Domain)
	if r.Network != (netip.Prefix{}) {
		dst = append(dst, `,"network":`...)
		dst = e.appendPrefix(dst, r.Network)
	}
	if a := r.Anonymous; a != nil {
		dst = append(dst, `,"anonymous":{`...)
		o := len(dst)
		dst = appendFlag(dst, o, `"vpn":true`, a.VPN)
		dst = appendFlag(dst, o, `"tor":true`, a.Tor)
		dst = appendFlag(dst, o, `"hosting":true`, a.Hosting)
		dst = appendFlag(dst, o, `"proxy":true`, a.Proxy)
		dst = appendFlag(dst, o, `"residential_proxy":true`, a.ResidentialProxy)
		dst = append(dst, '}')
	}
	dst = appendFlag(dst, o, `"anycast":true`, r.Anycast)
	if r.Foreign != nil {
		dst = append(dst, `,"foreign":`...)
		dst = strconv.AppendBool(dst, *r.Foreign)
	}
	if len(r.Sources) > 0 {
		dst = append(dst, `,"sources":[`...)
		for i := range r.Sources {
			s := &r.Sources[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"db":`...)
			dst = appendJSONString(dst, s.DB)
			dst = append(dst, `,"type":`...)
			dst = appendJSONString(dst, s.Type)
			dst = append(dst, `,"build":`...)
			dst = appendJSONString(dst, s.Build)
			dst = append(dst, `,"sha256":`...)
			dst = appendJSONString(dst, s.SHA256)
			if s.Network != (netip.Prefix{}) {
				dst = append(dst, `,"network":`...)
				dst = e.appendPrefix(dst, s.Network)
			}
			dst = appendOptList(dst, o, `"fields":`, s.Fields)
			if s.SnapshotDistanceDays != nil {
				dst = append(dst, `,"snapshot_distance_days":`...)
				dst = strconv.AppendInt(dst, int64(*s.SnapshotDistanceDays), 10)
			}
			dst = appendFlag(dst, o, `"after_event":true`, s.AfterEvent)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendFlag appends an omitempty true bool field.
func appendFlag(dst []byte, o int, field string, v bool) []byte {
	if !v {
		return dst
	}
	if len(dst) > o {
		dst = append(dst, ',')
	}
	return append(dst, field...)
}

func (e *FlowEncoder) appendPrefix(dst []byte, p netip.Prefix) []byte {
	e.scr, _ = p.AppendText(e.scr[:0])
	return appendJSONString(dst, string(e.scr))
}

// appendFloat is encoding/json's float64 encoder for a finite f.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const jsonHex = "0123456789abcdef"

// appendJSONString is encoding/json's string encoder with HTML escaping
// off: quote and backslash escaped, control characters as \b \f \n \r \t
// or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look: no control
		// character, quote, backslash or non-ASCII byte.
		for i+8 <= len(s) && plainJSON8(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHex[b>>4], jsonHex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', jsonHex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainJSON8 reports whether the eight bytes of x are all printable ASCII
// other than '"' and '\\' (copied as they are into a JSON string). Each
// test is the exact "has a byte less than n" bit trick.
func plainJSON8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lt := func(v uint64, n uint64) uint64 { return (v - ones*n) & ^v & highs }
	return (x&highs)|lt(x, 0x20)|lt(x^(ones*'"'), 1)|lt(x^(ones*'\\'), 1) == 0
}
