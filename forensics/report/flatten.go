package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/maphash"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// A CSV row is a record's JSON form flattened: nested object keys joined
// with ".", arrays joined with "|" (an element that is itself an object or
// array as its JSON, keys sorted, as encoding/json writes a decoded
// value). The flattening below walks the compact JSON bytes directly; it
// used to decode every record into maps of interfaces, which took most of
// the time and memory of a report. TestFlattenMatchesReference holds it
// to that reference (flattenReference) on every record kind, and
// FuzzFlatten on arbitrary JSON.

// recordEncoder writes the compact JSON of records: events, flows and
// sessions through the hand-written encoders, their shared enrichment records
// encoded once each, anything else through encoding/json. The HTML
// characters it leaves raw change nothing here: a cell holds the decoded
// string, and an array element is re-encoded (flatElement).
type recordEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	geo map[*enrich.Record][]byte
	// scratch is where a record is encoded before its exact-size copy is
	// cached: growing a fresh slice took two thirds of the time.
	scratch []byte
}

func newRecordEncoder() *recordEncoder {
	e := &recordEncoder{geo: map[*enrich.Record][]byte{}}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// CompactJSON is a record already encoded by this tool's own encoders:
// compact, valid JSON (a trailing newline is allowed). CSV tables flatten
// it as they are; anything else goes through encoding/json first. Bytes
// that break this contract give cells of no particular content (or an
// error), never a panic or a hang (FuzzCSVShapes).
type CompactJSON []byte

// encode returns the compact JSON of v (valid until the next call).
func (e *recordEncoder) encode(v any) ([]byte, error) {
	e.buf.Reset()
	switch r := v.(type) {
	case CompactJSON:
		// Escaped already unless an older version wrote it.
		return forensics.EscapeInvisibles(bytes.TrimSuffix(r, []byte{'\n'})), nil
	case json.RawMessage:
		// Stored JSON (a case file's rows) is compacted: numbers keep
		// every digit, as decoding with UseNumber did.
		if err := json.Compact(&e.buf, r); err != nil {
			return nil, err
		}
		return forensics.EscapeInvisibles(e.buf.Bytes()), nil
	case *forensics.Event:
		geo, err := e.geoJSON(r.SrcGeo)
		if err != nil {
			return nil, err
		}
		return forensics.AppendEventJSONGeo(e.buf.AvailableBuffer(), r, geo), nil
	case *forensics.Flow:
		src, err := e.geoJSON(r.SrcGeo)
		if err != nil {
			return nil, err
		}
		dst, err := e.geoJSON(r.DstGeo)
		if err != nil {
			return nil, err
		}
		return forensics.AppendFlowJSONGeo(e.buf.AvailableBuffer(), r, src, dst), nil
	case *forensics.Session:
		geo, err := e.geoJSON(r.SrcGeo)
		if err != nil {
			return nil, err
		}
		if b, ok := forensics.AppendSessionJSONGeo(e.buf.AvailableBuffer(), r, geo); ok {
			return b, nil
		}
		// Not encodable (a NaN figure): encoding/json says why.
	case *IPRow:
		// One per distinct address: report.json and ips.csv of a large
		// case hold hundreds of thousands.
		if geo, err := e.geoJSON(r.Geo); err == nil {
			return appendIPRowJSON(e.buf.AvailableBuffer(), r, geo), nil
		}
	}
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	return forensics.EscapeInvisibles(b[:len(b)-1]), nil
}

// appendIPRowJSON appends r as encoding/json encodes it (HTML escaping
// off), geo being the JSON of r.Geo. TestIPRowJSONMatchesMarshal holds it
// to json.Marshal.
func appendIPRowJSON(b []byte, r *IPRow, geo []byte) []byte {
	b = append(b, `{"ip":`...)
	if r.IP.Zone() == "" {
		b = append(r.IP.AppendTo(append(b, '"')), '"')
	} else {
		b = forensics.AppendJSONString(b, r.IP.String()) // a zone is any text
	}
	if r.Geo != nil {
		b = append(append(b, `,"geo":`...), geo...)
	}
	b = strconv.AppendInt(append(b, `,"sessions":`...), int64(r.Sessions), 10)
	b = strconv.AppendInt(append(b, `,"events":`...), int64(r.Events), 10)
	b = strconv.AppendInt(append(b, `,"flows":`...), int64(r.Flows), 10)
	for _, l := range []struct {
		name string
		vals []string
	}{{`,"campaigns":[`, r.Campaigns}, {`,"roles":[`, r.Roles}} {
		if len(l.vals) == 0 {
			continue
		}
		b = append(b, l.name...)
		for i, v := range l.vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = forensics.AppendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (e *recordEncoder) geoJSON(r *enrich.Record) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if b, ok := e.geo[r]; ok {
		return b, nil
	}
	var err error
	if e.scratch, err = forensics.AppendRecordJSON(e.scratch[:0], r); err != nil {
		return nil, err
	}
	b := bytes.Clone(e.scratch)
	if len(e.geo) >= 1<<16 {
		clear(e.geo)
	}
	e.geo[r] = b
	return b, nil
}

var errNotObject = errors.New("flatten: record is not a JSON object")

// flatWalk calls leaf for every column of the compact JSON object js: the
// joined key and the raw JSON of the value (a scalar or an array).
func flatWalk(js []byte, key []byte, leaf func(key, raw []byte)) error {
	if len(js) == 0 || js[0] != '{' {
		return errNotObject
	}
	_, err := flatObject(js, 0, key, leaf)
	return err
}

// flatObject walks the object at js[i] and returns the index after it.
func flatObject(js []byte, i int, key []byte, leaf func(key, raw []byte)) (int, error) {
	i++ // {
	if i < len(js) && js[i] == '}' {
		return i + 1, nil
	}
	base := len(key)
	for i < len(js) {
		end, err := skipString(js, i)
		if err != nil {
			return 0, err
		}
		key = key[:base]
		if base > 0 {
			key = append(key, '.')
		}
		key = appendUnquoted(key, js[i:end])
		i = end + 1 // :
		if i >= len(js) {
			break
		}
		if js[i] == '{' {
			if i, err = flatObject(js, i, key, leaf); err != nil {
				return 0, err
			}
		} else {
			end, err := skipValue(js, i)
			if err != nil {
				return 0, err
			}
			leaf(key, js[i:end])
			i = end
		}
		if i >= len(js) {
			break
		}
		if js[i] == '}' {
			return i + 1, nil
		}
		i++ // ,
	}
	return 0, errBadJSON
}

var errBadJSON = errors.New("flatten: malformed JSON")

// skipString returns the index after the string starting at js[i].
func skipString(js []byte, i int) (int, error) {
	if i >= len(js) || js[i] != '"' {
		return 0, errBadJSON
	}
	j, ok := stringEnd(js, i)
	if !ok {
		return 0, errBadJSON
	}
	return j, nil
}

// stringEnd returns the index after the closing quote of the string
// opened at js[i]: the first quote not escaped by an odd run of
// backslashes.
func stringEnd(js []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(js[j:], '"')
		if k < 0 {
			return len(js), false
		}
		j += k
		n := 0
		for p := j - 1; p > i && js[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// skipValue returns the index after the value starting at js[i].
func skipValue(js []byte, i int) (int, error) {
	if i >= len(js) {
		return 0, errBadJSON
	}
	switch js[i] {
	case '"':
		return skipString(js, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(js); j++ {
			switch js[j] {
			case '"':
				end, err := skipString(js, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errBadJSON
	}
	j := i
	for j < len(js) && js[j] != ',' && js[j] != '}' && js[j] != ']' {
		j++
	}
	if j == i {
		// No JSON value is empty; a loop over values must always advance.
		return 0, errBadJSON
	}
	return j, nil
}

// appendUnquoted appends the decoded text of the JSON string tok.
func appendUnquoted(dst, tok []byte) []byte {
	inner := tok[1 : len(tok)-1]
	// Invalid UTF-8 (only stored JSON can hold it) decodes to U+FFFD.
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return append(dst, inner...)
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return append(dst, inner...)
	}
	return append(dst, s...)
}

// cell renders the raw value of a column as its CSV text (before
// CSVCell): a string decoded, a number as written, a bool, "" for null,
// an array's elements joined with "|".
func cell(dst, raw []byte) []byte {
	if len(raw) == 0 {
		return dst
	}
	switch raw[0] {
	case '"':
		return appendUnquoted(dst, raw)
	case 'n':
		return dst
	case '[':
		i, first := 1, true
		for i < len(raw) && raw[i] != ']' {
			end, err := skipValue(raw, i)
			if err != nil {
				return dst
			}
			if !first {
				dst = append(dst, '|')
			}
			first = false
			if c := raw[i]; c == '{' || c == '[' {
				dst = canonical(dst, raw[i:end])
			} else {
				dst = cell(dst, raw[i:end])
			}
			i = end
			if i < len(raw) && raw[i] == ',' {
				i++
			}
		}
		return dst
	}
	return append(dst, raw...)
}

// cellMemo remembers the cells of arrays: an address's enrichment sources
// (an array of objects, canonicalised for its cell) repeat on every row of
// its events and sessions, and rendering them again took about a tenth of
// `analyze` on a 1M-line log. Direct-mapped, so that the arrays of busy
// addresses stay while the rest pass through; bounded by its slot count
// and the longest array it keeps.
type cellMemo struct {
	seed  maphash.Seed
	slots []memoSlot
}

type memoSlot struct {
	raw  string
	cell []byte
}

// At most cellMemoSlots × 2 × cellMemoMax bytes (16 MB) are held.
const (
	cellMemoSlots = 1 << 12
	cellMemoMin   = 64   // shorter arrays are rendered each time,
	cellMemoMax   = 2048 // as are longer arrays; longer cells are not kept
)

// cell is cell(dst, raw), from the memo when raw is an array of a
// length it keeps.
func (c *cellMemo) cell(dst, raw []byte) []byte {
	if len(raw) < cellMemoMin || len(raw) > cellMemoMax || raw[0] != '[' {
		return cell(dst, raw)
	}
	if c.slots == nil {
		c.seed, c.slots = maphash.MakeSeed(), make([]memoSlot, cellMemoSlots)
	}
	sl := &c.slots[maphash.Bytes(c.seed, raw)&(cellMemoSlots-1)]
	if sl.raw == string(raw) {
		return append(dst, sl.cell...)
	}
	start := len(dst)
	dst = cell(dst, raw)
	if len(dst)-start <= cellMemoMax { // escaping can lengthen a cell
		sl.raw, sl.cell = string(raw), append(sl.cell[:0], dst[start:]...)
	}
	return dst
}

// canonical appends the value raw as json.Marshal writes it once decoded
// into interfaces: object keys sorted, strings escaped as encoding/json
// does by default (HTML characters too), numbers as written.
func canonical(dst, raw []byte) []byte {
	// Bytes that are not this tool's compact JSON (CompactJSON's contract
	// broken) come out as they are, never as a panic.
	if len(raw) < 2 {
		return append(dst, raw...)
	}
	switch raw[0] {
	case '"':
		inner := raw[1 : len(raw)-1]
		if !bytes.ContainsAny(inner, `\<>&`) && utf8.Valid(inner) {
			return append(dst, raw...)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return append(dst, raw...)
		}
		b, _ := json.Marshal(s)
		return append(dst, b...)
	case '[':
		dst = append(dst, '[')
		i := 1
		for i < len(raw) && raw[i] != ']' {
			end, err := skipValue(raw, i)
			if err != nil {
				return dst
			}
			if i > 1 {
				dst = append(dst, ',')
			}
			dst = canonical(dst, raw[i:end])
			i = end
			if i < len(raw) && raw[i] == ',' {
				i++
			}
		}
		return append(dst, ']')
	case '{':
		// Keys compare as decoded text; only a key with an escape is
		// decoded (none of ours has one).
		type member struct {
			key, rawKey, val []byte
		}
		var small [16]member
		ms := small[:0]
		i := 1
		for i < len(raw) && raw[i] != '}' {
			kend, err := skipString(raw, i)
			if err != nil {
				return dst
			}
			vend, err := skipValue(raw, kend+1)
			if err != nil {
				return dst
			}
			rk := raw[i:kend]
			key := rk[1 : len(rk)-1]
			if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
				key = appendUnquoted(nil, rk)
			}
			ms = append(ms, member{key: key, rawKey: rk, val: raw[kend+1 : vend]})
			i = vend
			if i < len(raw) && raw[i] == ',' {
				i++
			}
		}
		// A repeated key keeps its last value, as decoding into a map does.
		slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		dst = append(dst, '{')
		first := true
		for k := range ms {
			if k+1 < len(ms) && bytes.Equal(ms[k+1].key, ms[k].key) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = canonical(dst, ms[k].rawKey)
			dst = append(dst, ':')
			dst = canonical(dst, ms[k].val)
		}
		return append(dst, '}')
	}
	return append(dst, raw...)
}
