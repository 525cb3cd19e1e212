package logs

import (
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tracehop/tracehop/forensics"
)

// A small JSON walker: it visits every scalar of an object with its dotted
// path ("http.request.method") without building maps, so that a JSON log
// line costs one pass and no allocation beyond the values kept. Strings are
// returned raw (still escaped) and unquoted only when a field is used.

const maxJSONDepth = 32

var errJSON = errors.New("invalid JSON")

// JSON value kinds passed to the visitor.
const (
	jsString = 's' // raw is the string itself: no backslash in it
	jsEscStr = 'e' // raw holds escapes: jsonUnquote gives the string
	jsNumber = 'n'
	jsBool   = 'b'
	jsNull   = 'z'
	jsArray  = 'a' // raw text of the whole array
)

type jsonVisitor func(path []byte, kind byte, raw string)

type jsonWalker struct {
	s     string
	path  []byte
	visit jsonVisitor
	// spans, when not nil, gets where each visited value lies (not the
	// elements of arrays): what a jsonShape is recorded from.
	spans *[]jsonSpan
}

// walkJSON visits the scalars and arrays of the JSON object in s.
// spans, when not nil, gets where each value lies (see jsonShape).
func walkJSON(s string, path []byte, visit jsonVisitor, spans *[]jsonSpan) ([]byte, error) {
	if len(s) >= 1<<31-1 {
		spans = nil // positions are kept as int32
	}
	w := jsonWalker{s: s, path: path[:0], visit: visit, spans: spans}
	i := w.ws(0)
	if i >= len(s) || s[i] != '{' {
		return w.path, errJSON
	}
	i, err := w.object(i, 0)
	if err != nil {
		return w.path, err
	}
	if w.ws(i) != len(s) {
		return w.path, errJSON
	}
	return w.path, nil
}

func (w *jsonWalker) ws(i int) int {
	if i < len(w.s) && w.s[i] > ' ' {
		return i // compact JSON: no white space at all
	}
	for i < len(w.s) {
		switch w.s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func (w *jsonWalker) object(i, depth int) (int, error) {
	if depth > maxJSONDepth {
		return i, errors.New("JSON nested too deep")
	}
	i++ // {
	base := len(w.path)
	i = w.ws(i)
	if i < len(w.s) && w.s[i] == '}' {
		return i + 1, nil
	}
	for {
		i = w.ws(i)
		if i >= len(w.s) || w.s[i] != '"' {
			return i, errJSON
		}
		end, esc, err := w.str(i)
		if err != nil {
			return i, err
		}
		key := w.s[i+1 : end-1]
		w.path = w.path[:base]
		if base > 0 {
			w.path = append(w.path, '.')
		}
		if esc {
			w.path = append(w.path, jsonUnquote(key)...)
		} else {
			w.path = append(w.path, key...)
		}
		i = w.ws(end)
		if i >= len(w.s) || w.s[i] != ':' {
			return i, errJSON
		}
		i, err = w.value(w.ws(i+1), depth)
		if err != nil {
			return i, err
		}
		i = w.ws(i)
		if i >= len(w.s) {
			return i, errJSON
		}
		if w.s[i] == '}' {
			w.path = w.path[:base]
			return i + 1, nil
		}
		if w.s[i] != ',' {
			return i, errJSON
		}
		i++
	}
}

func (w *jsonWalker) value(i, depth int) (int, error) {
	if i >= len(w.s) {
		return i, errJSON
	}
	switch c := w.s[i]; {
	case c == '"':
		end, esc, err := w.str(i)
		if err != nil {
			return i, err
		}
		kind := byte(jsString)
		if esc {
			kind = jsEscStr
		}
		w.span(i, end, depth)
		w.visit(w.path, kind, w.s[i+1:end-1])
		return end, nil
	case c == '{':
		return w.object(i, depth+1)
	case c == '[':
		end, err := w.skipArray(i, depth+1)
		if err != nil {
			return i, err
		}
		w.span(i, end, depth)
		w.visit(w.path, jsArray, w.s[i:end])
		return end, nil
	case c == 't' && strings.HasPrefix(w.s[i:], "true"):
		w.span(i, i+4, depth)
		w.visit(w.path, jsBool, "true")
		return i + 4, nil
	case c == 'f' && strings.HasPrefix(w.s[i:], "false"):
		w.span(i, i+5, depth)
		w.visit(w.path, jsBool, "false")
		return i + 5, nil
	case c == 'n' && strings.HasPrefix(w.s[i:], "null"):
		w.span(i, i+4, depth)
		w.visit(w.path, jsNull, "")
		return i + 4, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := scanNumber(w.s, i)
		w.span(i, j, depth)
		w.visit(w.path, jsNumber, w.s[i:j])
		return j, nil
	}
	return i, errJSON
}

func (w *jsonWalker) span(start, end, depth int) {
	if w.spans != nil {
		*w.spans = append(*w.spans, jsonSpan{int32(start), int32(end), int32(depth)})
	}
}

// scanNumber returns the end of the number token at i: the run of
// characters a JSON number may hold (not checked further).
func scanNumber(s string, i int) int {
	j := i + 1
	for j < len(s) {
		d := s[j]
		if (d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-' {
			j++
			continue
		}
		break
	}
	return j
}

var errUnterminated = errors.New("unterminated JSON string")

// str returns the index just past the closing quote of the string at i
// (the first quote not escaped by a backslash) and whether the string
// holds a backslash. It runs on every key and value of a line: eight bytes
// are checked at a time for a quote or backslash, instead of an IndexByte
// call (costly on short strings) and a look back at backslashes.
func (w *jsonWalker) str(i int) (int, bool, error) {
	s := w.s
	esc := false
	j := i + 1
	for {
		for j+8 <= len(s) {
			if m := forensics.QuoteOrBackslash8(load64(s, j)); m != 0 {
				// The lowest flagged byte is the first quote or
				// backslash (haszero flags exactly up to there).
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= len(s) {
			return i, esc, errUnterminated
		}
		switch s[j] {
		case '"':
			return j + 1, esc, nil
		case '\\':
			esc = true
			j += 2
		default:
			j++
		}
	}
}

// load64 reads s[i:i+8] little-endian (the compiler merges the loads).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// skipArray returns the index past the array at i; nested values are
// checked for structure only.
func (w *jsonWalker) skipArray(i, depth int) (int, error) {
	if depth > maxJSONDepth {
		return i, errors.New("JSON nested too deep")
	}
	i = w.ws(i + 1)
	if i < len(w.s) && w.s[i] == ']' {
		return i + 1, nil
	}
	if w.spans != nil {
		save := w.spans
		w.spans = nil
		defer func() { w.spans = save }()
	}
	for {
		i = w.ws(i)
		if i >= len(w.s) {
			return i, errJSON
		}
		var err error
		switch w.s[i] {
		case '[':
			i, err = w.skipArray(i, depth+1)
		case '{':
			save := w.visit
			w.visit = func([]byte, byte, string) {}
			base := len(w.path)
			i, err = w.object(i, depth+1)
			w.path = w.path[:base]
			w.visit = save
		default:
			save := w.visit
			w.visit = func([]byte, byte, string) {}
			i, err = w.value(i, depth)
			w.visit = save
		}
		if err != nil {
			return i, err
		}
		i = w.ws(i)
		if i >= len(w.s) {
			return i, errJSON
		}
		if w.s[i] == ']' {
			return i + 1, nil
		}
		if w.s[i] != ',' {
			return i, errJSON
		}
		i++
	}
}

// jsonUnquote decodes the escapes of a raw JSON string body; invalid
// escapes are kept as written, lone surrogates become U+FFFD.
func jsonUnquote(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b = append(b, s[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := decodeU(s[i+1:])
			if n == 0 {
				b = append(b, '\\', 'u')
				continue
			}
			i += n
			b = utf8.AppendRune(b, r)
		default:
			b = append(b, '\\', s[i])
		}
	}
	return string(b)
}

func decodeU(s string) (rune, int) {
	if len(s) < 4 {
		return 0, 0
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	if err != nil {
		return 0, 0
	}
	r := rune(v)
	if r >= 0xD800 && r < 0xDC00 {
		if len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
			if v2, err := strconv.ParseUint(s[6:10], 16, 32); err == nil && v2 >= 0xDC00 && v2 < 0xE000 {
				return 0x10000 + (r-0xD800)<<10 + (rune(v2) - 0xDC00), 10
			}
		}
		return utf8.RuneError, 4
	}
	if r >= 0xDC00 && r < 0xE000 {
		return utf8.RuneError, 4
	}
	return r, 4
}

// jsonStrings returns the string (or number) elements of a raw JSON array.
func jsonStrings(raw string, limit int) []string {
	var out []string
	w := jsonWalker{s: raw}
	i := w.ws(1)
	for i < len(raw) && len(out) < limit {
		i = w.ws(i)
		if i >= len(raw) || raw[i] == ']' {
			break
		}
		if raw[i] == '"' {
			end, _, err := w.str(i)
			if err != nil {
				break
			}
			out = append(out, jsonUnquote(raw[i+1:end-1]))
			i = end
		} else {
			var val string
			w.visit = func(_ []byte, _ byte, r string) { val = r }
			j, err := w.value(i, 0)
			if err != nil {
				break
			}
			if val != "" {
				out = append(out, val)
			}
			i = j
		}
		i = w.ws(i)
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
	return out
}
