package analyze

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/tracehop/tracehop/forensics"
)

// decodeEventLine decodes one spooled event line (forensics's event
// encoder wrote it) into se, as json.Unmarshal would, without
// reflection: decoding was half the time of an events Parquet export.
// It reads the value types the encoder writes and gives up on anything
// else (an escape it does not handle, an unknown field, a number out of
// range); the caller then falls back to json.Unmarshal, so the result is
// always json.Unmarshal's. FuzzDecodeEventLine holds the two equal.
func decodeEventLine(line []byte, se *spoolEvent) bool {
	return decodeEventLineKnown(line, se, nil)
}

// decodeEventLineKnown is decodeEventLine for a caller that interns the
// enrichment as it goes: known says whether a src_geo's bytes are those
// of one it has already decoded (so they are valid JSON, and are not
// checked again; most events of a log share their address's record), and
// se.SrcGeo is then line's own bytes, not a copy (valid while line is).
func decodeEventLineKnown(line []byte, se *spoolEvent, known func(raw []byte) bool) bool {
	d := lineDec{b: line}
	*se = spoolEvent{}
	e := &se.Event
	return d.object(eventKeyIndex, func(key string) bool {
		var ok bool
		switch key {
		case "id":
			ok = d.str(&e.ID)
		case "time":
			var s []byte
			if s, ok = d.rawString(); ok {
				ok = e.Time.UnmarshalText(s) == nil
			}
		case "time_raw":
			ok = d.str(&e.TimeRaw)
		case "source_kind":
			ok = d.str(&e.SourceKind)
		case "src_ip":
			ok = d.addr(func(b []byte) error { return e.SrcIP.UnmarshalText(b) })
		case "src_port":
			ok = d.uint16(&e.SrcPort)
		case "client_ip":
			ok = d.addr(func(b []byte) error { return e.ClientIP.UnmarshalText(b) })
		case "proxy_chain":
			ok = d.proxyChain(&e.ProxyChain)
		case "dst_ip":
			ok = d.addr(func(b []byte) error { return e.DstIP.UnmarshalText(b) })
		case "dst_port":
			ok = d.uint16(&e.DstPort)
		case "method":
			ok = d.str(&e.Method)
		case "host":
			ok = d.str(&e.Host)
		case "path":
			ok = d.str(&e.Path)
		case "status":
			var v int64
			if v, ok = d.int(); ok && int64(int(v)) == v {
				e.Status = int(v)
			} else {
				ok = false
			}
		case "bytes":
			e.Bytes, ok = d.int()
		case "user_agent":
			ok = d.str(&e.UserAgent)
		case "referrer":
			ok = d.str(&e.Referrer)
		case "user":
			ok = d.str(&e.User)
		case "credential":
			ok = d.str(&e.Credential)
		case "action":
			ok = d.str(&e.Action)
		case "indicators":
			ok = d.indicators(&e.Indicators)
		case "flags":
			ok = d.strings(&e.Flags)
		case "src_geo":
			// Kept raw for geoCache, as json.RawMessage keeps it.
			ok = d.rawGeo(&se.SrcGeo, known)
		case "evidence":
			ok = d.evidence(&e.Evidence)
		default:
			return false
		}
		return ok
	})
}

// eventKeyIndex numbers the keys of an event line (31: any other).
func eventKeyIndex(key string) int {
	for i, k := range [...]string{"id", "time", "time_raw", "source_kind", "src_ip", "src_port", "client_ip",
		"proxy_chain", "dst_ip", "dst_port", "method", "host", "path", "status", "bytes", "user_agent",
		"referrer", "user", "credential", "action", "indicators", "flags", "src_geo", "evidence"} {
		if k == key {
			return i
		}
	}
	return 31
}

// lineDec reads the JSON of one line: no whitespace (the encoder writes
// none), and any doubt is a failure.
type lineDec struct {
	b []byte
	i int
}

func (d *lineDec) peek(c byte) bool { return d.i < len(d.b) && d.b[d.i] == c }

func (d *lineDec) byte(c byte) bool {
	if d.peek(c) {
		d.i++
		return true
	}
	return false
}

// end accepts the end of the line (an optional newline).
func (d *lineDec) end() bool {
	return d.i == len(d.b) || (d.i == len(d.b)-1 && d.b[d.i] == '\n')
}

// object reads the JSON object at d.i to the end of the line, field by
// field: index numbers a key (31: any other), field reads its value. A
// repeated key is left to encoding/json (index numbers them apart), and so
// is any field refused.
func (d *lineDec) object(index func(string) int, field func(key string) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.peek('}') {
		d.i++
		return d.end()
	}
	var seen uint32 // keys read
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		bit := uint32(1) << index(key)
		if seen&bit != 0 || !field(key) {
			return false
		}
		seen |= bit
		if d.peek(',') {
			d.i++
			continue
		}
		return d.byte('}') && d.end()
	}
}

// rawGeo reads an ip record as the bytes json.RawMessage keeps: checked
// (json.Valid) unless known knows them, and copied unless known is set
// (see decodeEventLineKnown).
func (d *lineDec) rawGeo(dst *json.RawMessage, known func(raw []byte) bool) bool {
	start := d.i
	if !d.skipRaw() {
		return false
	}
	raw := d.b[start:d.i]
	switch {
	case known != nil && known(raw):
	case !json.Valid(raw):
		return false
	case known == nil:
		raw = append([]byte(nil), raw...)
	}
	*dst = raw
	return true
}

// rawString returns the bytes of a string without escapes (any
// backslash, control byte or invalid UTF-8 fails).
func (d *lineDec) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, n := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			d.i += n
		}
	}
	return nil, false
}

func (d *lineDec) plainString() (string, bool) {
	s, ok := d.rawString()
	return string(s), ok
}

// str reads a string value, unescaping the escapes the encoder writes;
// with a nil dst it only checks it (skip: no allocation). Runs of eight
// plain ASCII bytes are passed over a word at a time.
func (d *lineDec) str(dst *string) bool {
	if !d.byte('"') {
		return false
	}
	start := d.i
	keep := dst != nil
	var out []byte // nil while there is no escape (or nothing is kept)
	escaped := false
	for d.i < len(d.b) {
		if j := forensics.SkipPlain(d.b, d.i); j > d.i {
			if out != nil {
				out = append(out, d.b[d.i:j]...)
			}
			d.i = j
			if d.i >= len(d.b) {
				break
			}
		}
		c := d.b[d.i]
		switch {
		case c == '"':
			switch {
			case !keep:
			case !escaped:
				*dst = string(d.b[start:d.i])
			default:
				*dst = string(out)
			}
			d.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if keep && !escaped {
				out = append(make([]byte, 0, d.i-start+16), d.b[start:d.i]...)
			}
			escaped = true
			if d.i+1 >= len(d.b) {
				return false
			}
			esc := d.b[d.i+1]
			d.i += 2
			var r rune
			switch esc {
			case '"', '\\', '/':
				r = rune(esc)
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				var ok bool
				r, ok = d.hex4()
				if !ok || (r >= 0xd800 && r < 0xe000) {
					return false // surrogates: left to encoding/json
				}
			default:
				return false
			}
			if keep {
				out = utf8.AppendRune(out, r)
			}
		case c < utf8.RuneSelf:
			if out != nil {
				out = append(out, c)
			}
			d.i++
		default:
			r, n := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && n == 1 {
				return false
			}
			if out != nil {
				out = append(out, d.b[d.i:d.i+n]...)
			}
			d.i += n
		}
	}
	return false
}

func (d *lineDec) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(v), true
}

// number returns the bytes of an integer: an optional minus and digits,
// no leading zero (what strconv's Append functions write).
func (d *lineDec) number() ([]byte, bool) {
	start := d.i
	d.byte('-')
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || (n > 1 && d.b[digits] == '0') {
		return nil, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return nil, false
	}
	return d.b[start:d.i], true
}

func (d *lineDec) int() (int64, bool) {
	s, ok := d.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}

func (d *lineDec) uint(bits int) (uint64, bool) {
	s, ok := d.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s), 10, bits)
	return v, err == nil
}

func (d *lineDec) uint16(dst *uint16) bool {
	v, ok := d.uint(16)
	*dst = uint16(v)
	return ok
}

func (d *lineDec) addr(set func([]byte) error) bool {
	s, ok := d.rawString()
	return ok && set(s) == nil
}

func (d *lineDec) bool(dst *bool) bool {
	switch {
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		*dst, d.i = true, d.i+4
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		*dst, d.i = false, d.i+5
	default:
		return false
	}
	return true
}

// strings reads a non-empty array of strings.
func (d *lineDec) strings(dst *[]string) bool {
	if !d.byte('[') || d.peek(']') {
		return false
	}
	for {
		var s string
		if !d.str(&s) {
			return false
		}
		*dst = append(*dst, s)
		if !d.byte(',') {
			return d.byte(']')
		}
	}
}

// indicators reads a non-empty object of string values.
func (d *lineDec) indicators(dst *map[string]string) bool {
	if !d.byte('{') || d.peek('}') {
		return false
	}
	*dst = map[string]string{}
	for {
		var k, v string
		if !d.str(&k) || !d.byte(':') || !d.str(&v) {
			return false
		}
		if _, dup := (*dst)[k]; dup {
			return false // json keeps the last; left to it
		}
		(*dst)[k] = v
		if !d.byte(',') {
			return d.byte('}')
		}
	}
}

// proxyChain reads a non-empty array of {"ip":…,"trusted":…}.
func (d *lineDec) proxyChain(dst *[]forensics.ProxyHop) bool {
	if !d.byte('[') || d.peek(']') {
		return false
	}
	for {
		var h forensics.ProxyHop
		if !d.byte('{') {
			return false
		}
		if k, ok := d.plainString(); !ok || k != "ip" || !d.byte(':') || !d.str(&h.IP) || !d.byte(',') {
			return false
		}
		if k, ok := d.plainString(); !ok || k != "trusted" || !d.byte(':') || !d.bool(&h.Trusted) || !d.byte('}') {
			return false
		}
		*dst = append(*dst, h)
		if !d.byte(',') {
			return d.byte(']')
		}
	}
}

// evidence reads {"file":…,"sha256":…[,"packet":…][,"line":…],"offset":…}.
func (d *lineDec) evidence(r *forensics.EvidenceRef) bool {
	if !d.byte('{') {
		return false
	}
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		switch key {
		case "file":
			ok = d.str(&r.File)
		case "sha256":
			ok = d.str(&r.SHA256)
		case "packet":
			r.Packet, ok = d.uint(64)
		case "line":
			r.Line, ok = d.uint(64)
		case "offset":
			r.Offset, ok = d.int()
		default:
			return false
		}
		if !ok {
			return false
		}
		if !d.byte(',') {
			return d.byte('}')
		}
	}
}

// skipRaw passes over one JSON value by its structure alone (strings,
// brackets and braces, and what lies between them), without checking it:
// the caller checks the bytes (json.Valid) or knows them. For valid JSON it
// ends exactly where the value does.
func (d *lineDec) skipRaw() bool {
	if d.i >= len(d.b) || !isValueStart(d.b[d.i]) {
		return false // white space too: json's RawMessage leaves it out
	}
	depth := 0
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case '"':
			if !d.skipString() {
				return false
			}
			if depth == 0 {
				return true
			}
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			if depth == 0 {
				return false
			}
			depth--
			d.i++
			if depth == 0 {
				return true
			}
		case ',':
			if depth == 0 {
				return false
			}
			d.i++
		default:
			d.i++
			if depth == 0 && (d.i == len(d.b) || isValueEnd(d.b[d.i])) {
				return true // the end of a number, true, false or null
			}
		}
	}
	return false
}

// skipString passes over the string at d.i to just past its closing
// quote: the first quote not escaped, found eight bytes at a time.
func (d *lineDec) skipString() bool {
	d.i++
	for {
		for d.i+8 <= len(d.b) {
			if m := forensics.QuoteOrBackslash8(binary.LittleEndian.Uint64(d.b[d.i:])); m != 0 {
				d.i += bits.TrailingZeros64(m) >> 3
				break
			}
			d.i += 8
		}
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case '"':
			d.i++
			return true
		case '\\':
			d.i += 2
		default:
			d.i++
		}
	}
}

func isValueStart(c byte) bool {
	return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n'
}

func isValueEnd(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n'
}
