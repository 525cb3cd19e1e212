package casefile

import (
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// A hand-written JSON encoder for the two record kinds stored by the
// million: forensics.Event and forensics.Flow. It writes exactly the bytes
// of encoding/json with SetEscapeHTML(false) (field order, omitempty and
// omitzero, string escaping, sorted map keys), without reflection. The
// enrichment records are encoded by encoding/json, once per distinct
// *enrich.Record (enrichers hand out shared records), and copied in.
//
// TestRecordJSONExact and FuzzRecordJSON prove the equality; TestRecordJSONFields
// fails when a model type gains, loses or renames a field; and at run time
// the first record of every chunk is also encoded by encoding/json and
// compared, the chunk falling back to encoding/json on any difference.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json does with HTML escaping off.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
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
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// recordEncoder holds the scratch space and the enrichment cache of one
// worker.
type recordEncoder struct {
	scratch []byte
	geo     func(*enrich.Record) ([]byte, error)
}

// field appends `,"name":` (no comma for the first field, which callers
// write themselves).
func field(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func (e *recordEncoder) str(b []byte, name, v string) []byte {
	return appendJSONString(field(b, name), v)
}

func (e *recordEncoder) strOmit(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(field(b, name), v)
}

// addr appends a as its MarshalText string.
func (e *recordEncoder) addr(b []byte, a netip.Addr) []byte {
	if a.Zone() == "" {
		// Digits, dots, colons and hex letters: nothing to escape.
		b = append(b, '"')
		if a.IsValid() {
			b = a.AppendTo(b)
		}
		return append(b, '"')
	}
	e.scratch = a.AppendTo(e.scratch[:0])
	return appendJSONString(b, string(e.scratch))
}

func (e *recordEncoder) uintOmit(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(field(b, name), v, 10)
}

func (e *recordEncoder) intOmit(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(field(b, name), v, 10)
}

// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the
// times appendTime formats itself.
const (
	minFastUnix = -62167219200
	maxFastUnix = 253402300799
)

// timeJSON appends t as forensics.Time.MarshalJSON does.
func timeJSON(b []byte, t forensics.Time) []byte {
	b = append(b, '"')
	b = appendTime(b, t.Time)
	return append(b, '"')
}

// appendTime appends t.UTC().AppendFormat(b, forensics.TimeLayout), doing
// the calendar arithmetic itself for years 0 to 9999 (time.AppendFormat
// is an eighth of the cost of a flow); other years go to AppendFormat.
func appendTime(b []byte, t time.Time) []byte {
	u := t.Unix()
	if u < minFastUnix || u > maxFastUnix {
		return t.UTC().AppendFormat(b, forensics.TimeLayout)
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

func (e *recordEncoder) strs(b []byte, name string, v []string) []byte {
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

func (e *recordEncoder) geoField(b []byte, name string, g *enrich.Record) ([]byte, error) {
	if g == nil {
		return b, nil
	}
	js, err := e.geo(g)
	if err != nil {
		return nil, err
	}
	return append(field(b, name), js...), nil
}

func (e *recordEncoder) evidence(b []byte, r *forensics.EvidenceRef) []byte {
	b = append(b, `,"evidence":{"file":`...)
	b = appendJSONString(b, r.File)
	b = e.str(b, "sha256", r.SHA256)
	b = e.uintOmit(b, "packet", r.Packet)
	b = e.uintOmit(b, "line", r.Line)
	return strconv.AppendInt(append(b, `,"offset":`...), r.Offset, 10)
}

// event appends ev's JSON (no newline).
func (e *recordEncoder) event(b []byte, ev *forensics.Event) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, ev.ID)
	b = timeJSON(append(b, `,"time":`...), ev.Time)
	b = e.strOmit(b, "time_raw", ev.TimeRaw)
	b = e.str(b, "source_kind", ev.SourceKind)
	if ev.SrcIP.IsValid() {
		b = e.addr(field(b, "src_ip"), ev.SrcIP)
	}
	b = e.uintOmit(b, "src_port", uint64(ev.SrcPort))
	if ev.ClientIP.IsValid() {
		b = e.addr(field(b, "client_ip"), ev.ClientIP)
	}
	if len(ev.ProxyChain) > 0 {
		b = append(field(b, "proxy_chain"), '[')
		for i := range ev.ProxyChain {
			h := &ev.ProxyChain[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(b, `{"ip":`...), h.IP)
			b = strconv.AppendBool(append(b, `,"trusted":`...), h.Trusted)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if ev.DstIP.IsValid() {
		b = e.addr(field(b, "dst_ip"), ev.DstIP)
	}
	b = e.uintOmit(b, "dst_port", uint64(ev.DstPort))
	b = e.strOmit(b, "method", ev.Method)
	b = e.strOmit(b, "host", ev.Host)
	b = e.strOmit(b, "path", ev.Path)
	b = e.intOmit(b, "status", int64(ev.Status))
	b = e.intOmit(b, "bytes", ev.Bytes)
	b = e.strOmit(b, "user_agent", ev.UserAgent)
	b = e.strOmit(b, "referrer", ev.Referrer)
	b = e.strOmit(b, "user", ev.User)
	b = e.strOmit(b, "credential", ev.Credential)
	b = e.strOmit(b, "action", ev.Action)
	if len(ev.Indicators) > 0 {
		keys := make([]string, 0, len(ev.Indicators))
		for k := range ev.Indicators {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(field(b, "indicators"), '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			b = appendJSONString(b, ev.Indicators[k])
		}
		b = append(b, '}')
	}
	b = e.strs(b, "flags", ev.Flags)
	b, err := e.geoField(b, "src_geo", ev.SrcGeo)
	if err != nil {
		return nil, err
	}
	b = e.evidence(b, &ev.Evidence)
	return append(b, '}', '}'), nil
}

// flow appends fl's JSON (no newline).
func (e *recordEncoder) flow(b []byte, fl *forensics.Flow) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, fl.ID)
	b = e.strOmit(b, "community_id", fl.CommunityID)
	b = e.str(b, "proto", fl.Proto)
	b = e.addr(append(b, `,"src_ip":`...), fl.SrcIP)
	b = strconv.AppendUint(append(b, `,"src_port":`...), uint64(fl.SrcPort), 10)
	b = e.addr(append(b, `,"dst_ip":`...), fl.DstIP)
	b = strconv.AppendUint(append(b, `,"dst_port":`...), uint64(fl.DstPort), 10)
	b = timeJSON(append(b, `,"start":`...), fl.Start)
	b = timeJSON(append(b, `,"end":`...), fl.End)
	b = strconv.AppendUint(append(b, `,"pkts_out":`...), fl.PktsOut, 10)
	b = strconv.AppendUint(append(b, `,"pkts_in":`...), fl.PktsIn, 10)
	b = strconv.AppendUint(append(b, `,"bytes_out":`...), fl.BytesOut, 10)
	b = strconv.AppendUint(append(b, `,"bytes_in":`...), fl.BytesIn, 10)
	b = e.strOmit(b, "state", fl.State)
	b = e.strOmit(b, "tunnel", fl.Tunnel)
	if len(fl.VLAN) > 0 {
		b = append(field(b, "vlan"), '[')
		for i, v := range fl.VLAN {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		b = append(b, ']')
	}
	if h := fl.HTTP; h != nil {
		b = e.object(field(b, "http"), func(b []byte) []byte {
			b = e.strOmit(b, "method", h.Method)
			b = e.strOmit(b, "host", h.Host)
			b = e.strOmit(b, "path", h.Path)
			b = e.strOmit(b, "user_agent", h.UserAgent)
			return e.strOmit(b, "xff", h.XFF)
		})
	}
	if t := fl.TLS; t != nil {
		b = e.object(field(b, "tls"), func(b []byte) []byte {
			b = e.strOmit(b, "version", t.Version)
			b = e.strOmit(b, "sni", t.SNI)
			b = e.strs(b, "alpn", t.ALPN)
			b = e.strOmit(b, "ja3", t.JA3)
			b = e.strOmit(b, "ja3_hash", t.JA3Hash)
			b = e.strOmit(b, "ja3s", t.JA3S)
			b = e.strOmit(b, "ja3s_hash", t.JA3SHash)
			return e.strOmit(b, "ja4", t.JA4)
		})
	}
	if s := fl.SSH; s != nil {
		b = e.object(field(b, "ssh"), func(b []byte) []byte {
			b = e.strOmit(b, "client", s.Client)
			b = e.strOmit(b, "server", s.Server)
			b = e.strOmit(b, "hassh", s.HASSH)
			return e.strOmit(b, "hassh_server", s.HASSHServer)
		})
	}
	if d := fl.DNS; d != nil {
		b = e.object(field(b, "dns"), func(b []byte) []byte {
			b = e.strOmit(b, "query", d.Query)
			b = e.strOmit(b, "qtype", d.QType)
			b = e.strOmit(b, "rcode", d.RCode)
			return e.strs(b, "answers", d.Answers)
		})
	}
	b, err := e.geoField(b, "src_geo", fl.SrcGeo)
	if err != nil {
		return nil, err
	}
	if b, err = e.geoField(b, "dst_geo", fl.DstGeo); err != nil {
		return nil, err
	}
	b = append(e.evidence(b, &fl.Evidence), '}')
	if len(fl.Activity) > 0 {
		b = append(field(b, "activity"), '[')
		for i := range fl.Activity {
			p := &fl.Activity[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = timeJSON(append(b, `{"start":`...), p.Start)
			b = timeJSON(append(b, `,"end":`...), p.End)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// object appends a nested object whose fields are all optional: fields
// writes each as `,"name":value`, and the first comma is dropped.
func (e *recordEncoder) object(b []byte, fields func([]byte) []byte) []byte {
	at := len(b)
	b = fields(append(b, '{'))
	if len(b) > at+1 && b[at+1] == ',' {
		b = append(b[:at+1], b[at+2:]...)
	}
	return append(b, '}')
}
