package logs

import "strings"

// Lines of one JSON log share a few layouts: the same keys in the same
// order with the same punctuation, only the values differ (Suricata
// interleaves one layout per event type; an API gateway adds a user when
// there is one). A jsonShape is the layout of a line walked in full: the
// bytes between its values, and for each value what its path resolved to
// (the parser's slot S). A line that has the same bytes between values is
// read by comparing those bytes and cutting the values, with no path
// built and no name looked up.
//
// It gives exactly what the full walk gives: the literal bytes fix every
// key, bracket and separator, and each value is cut with the walker's own
// rules (str, scanNumber, skipArray), so the tokens and paths are the
// walk's. Any difference, an object where a value was, or a line cut
// short falls back to the full walk, which records the new layout.

// maxShapeValues and maxShapeLine bound a recorded layout (a parser
// keeps four, each holding its line's literal bytes twice); longer lines
// and lines with more values are always walked in full.
const (
	maxShapeValues = 128
	maxShapeLine   = 64 << 10
)

// maxShapes is how many layouts a parser keeps, most recently used first.
const maxShapes = 4

// After shapeMisses lines in a row fit no layout, the next shapeSkip lines
// are walked without trying: irregular logs then pay for the tries on
// one line in eight, not on every line.
const (
	shapeMisses = 8
	shapeSkip   = 56
)

// jsonSpan is where the walk found one value: s[start:end] is its token
// (a string with its quotes), depth its nesting (for arrays).
type jsonSpan struct {
	start, end int32
	depth      int32
}

type jsonShape[S any] struct {
	// lit holds the literal bytes between values, one after another;
	// cuts[k] is the end in lit of the literal before value k.
	lit   string
	cuts  []int32
	depth []int32
	slots []S
	buf   []byte
}

// shapeSet is a parser's recent layouts.
type shapeSet[S any] struct {
	shapes     []*jsonShape[S] // most recently used first
	miss, skip int
	hits       int // lines read through a layout (for tests)
}

// match reads s through the first layout that fits, calling reset before
// each try and apply for each value with its slot. False: none fits (s
// may have been partly applied; the caller resets and walks s in full).
func (ss *shapeSet[S]) match(s string, reset func(), apply func(*S, byte, string)) bool {
	if ss.skip > 0 {
		ss.skip--
		return false
	}
	for i, sh := range ss.shapes {
		reset()
		if sh.match(s, apply) {
			copy(ss.shapes[1:i+1], ss.shapes[:i])
			ss.shapes[0] = sh
			ss.miss = 0
			ss.hits++
			return true
		}
	}
	if ss.miss++; ss.miss >= shapeMisses {
		ss.miss, ss.skip = 0, shapeSkip
	}
	return false
}

// recording says whether the line match just refused should be walked
// with spans and recorded (not while tries are skipped).
func (ss *shapeSet[S]) recording() bool { return ss.skip == 0 }

// record makes the layout of line s, from the spans of its values and
// the slot each resolved to, the most recent one, in place of the least
// recently used.
func (ss *shapeSet[S]) record(s string, spans []jsonSpan, slots []S) {
	if len(spans) != len(slots) || len(spans) > maxShapeValues || len(s) > maxShapeLine {
		return
	}
	var sh *jsonShape[S]
	if len(ss.shapes) < maxShapes {
		sh = &jsonShape[S]{}
		ss.shapes = append(ss.shapes, nil)
	} else {
		sh = ss.shapes[len(ss.shapes)-1]
	}
	copy(ss.shapes[1:], ss.shapes[:len(ss.shapes)-1])
	ss.shapes[0] = sh
	b := sh.buf[:0]
	sh.cuts, sh.depth, sh.slots = sh.cuts[:0], sh.depth[:0], append(sh.slots[:0], slots...)
	prev := 0
	for _, sp := range spans {
		b = append(b, s[prev:sp.start]...)
		sh.cuts = append(sh.cuts, int32(len(b)))
		sh.depth = append(sh.depth, sp.depth)
		prev = int(sp.end)
	}
	b = append(b, s[prev:]...)
	// lit is a copy: lines are not kept (their memory is reused).
	sh.buf, sh.lit = b, string(b)
}

func (sh *jsonShape[S]) match(s string, apply func(*S, byte, string)) bool {
	pos, prev := 0, int32(0)
	w := jsonWalker{s: s, visit: noVisit}
	for k := range sh.slots {
		lit := sh.lit[prev:sh.cuts[k]]
		prev = sh.cuts[k]
		if !strings.HasPrefix(s[pos:], lit) {
			return false
		}
		pos += len(lit)
		if pos >= len(s) {
			return false
		}
		var kind byte
		var raw string
		end := pos
		switch c := s[pos]; {
		case c == '"':
			e, esc, err := w.str(pos)
			if err != nil {
				return false
			}
			end, kind, raw = e, jsString, s[pos+1:e-1]
			if esc {
				kind = jsEscStr
			}
		case c == '-' || (c >= '0' && c <= '9'):
			end = scanNumber(s, pos)
			kind, raw = jsNumber, s[pos:end]
		case c == '[':
			e, err := w.skipArray(pos, int(sh.depth[k])+1)
			if err != nil {
				return false
			}
			end, kind, raw = e, jsArray, s[pos:e]
		case c == 't' && strings.HasPrefix(s[pos:], "true"):
			end, kind, raw = pos+4, jsBool, "true"
		case c == 'f' && strings.HasPrefix(s[pos:], "false"):
			end, kind, raw = pos+5, jsBool, "false"
		case c == 'n' && strings.HasPrefix(s[pos:], "null"):
			end, kind = pos+4, jsNull
		default:
			return false
		}
		apply(&sh.slots[k], kind, raw)
		pos = end
	}
	return s[pos:] == sh.lit[prev:]
}

func noVisit([]byte, byte, string) {}
