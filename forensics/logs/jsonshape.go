package logs

import "strings"

// Lines of one JSON log share their layout: the same keys in the same
// order with the same punctuation, only the values differ. A jsonShape is
// the layout of the last line walked in full: the bytes between its
// values and what each value's path resolved to. A line that has the same
// bytes between values as the shape is read by comparing those bytes and
// scanning the values, with no paths built and no names looked up.
//
// It gives exactly what the full walk gives: the literal bytes fix every
// key, bracket and separator, and each value is cut with the walker's own
// rules (str, the number scan, skipArray), so the tokens and paths are
// the walk's. Any difference, an object where a value was, or a line cut
// short falls back to the full walk, which records the new shape.

// maxShapeValues bounds a recorded shape; lines with more values are
// always walked in full.
const maxShapeValues = 128

// jsonSpan is where the walk found one value: s[start:end] is its token
// (a string with its quotes), depth its nesting (for arrays).
type jsonSpan struct {
	start, end int32
	depth      int32
}

type jsonShape struct {
	// lit holds the literal bytes between values, one after another;
	// cuts[k] is the end in lit of the literal before value k.
	lit   string
	cuts  []int32
	slots []shapeSlot
	buf   []byte
	ok    bool
}

type shapeSlot struct {
	entry fieldEntry
	known bool
	depth int32
}

// record makes the shape of line s from the spans of its values and the
// field each resolved to (one slot per span).
func (sh *jsonShape) record(s string, spans []jsonSpan, slots []shapeSlot) {
	sh.ok = false
	if len(spans) != len(slots) || len(spans) > maxShapeValues {
		return
	}
	b := sh.buf[:0]
	sh.cuts, sh.slots = sh.cuts[:0], sh.slots[:0]
	prev := 0
	for k, sp := range spans {
		b = append(b, s[prev:sp.start]...)
		sh.cuts = append(sh.cuts, int32(len(b)))
		sl := slots[k]
		sl.depth = sp.depth
		sh.slots = append(sh.slots, sl)
		prev = int(sp.end)
	}
	b = append(b, s[prev:]...)
	// The buffer is kept for the next layout; lit is its own copy, as
	// lines are not kept (their memory is reused).
	sh.buf, sh.lit = b, string(b)
	sh.ok = true
}

// match reads s through the shape, handing each value to p.apply; false
// means s does not have the shape (p's fields may then hold part of s and
// must be reset before the full walk).
func (sh *jsonShape) match(s string, p *jsonParser) bool {
	if !sh.ok {
		return false
	}
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
			e, err := w.skipArray(pos, int(sh.slots[k].depth)+1)
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
		sl := &sh.slots[k]
		p.apply(sl.entry, sl.known, kind, raw)
		pos = end
	}
	return s[pos:] == sh.lit[prev:]
}

func noVisit([]byte, byte, string) {}
