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
	id int // index in shapeSet.common
	// lit holds the literal bytes between values, one after another;
	// cuts[k] is the end in lit of the literal before value k.
	lit   string
	cuts  []int32
	depth []int32
	slots []S
	buf   []byte
}

// literal returns the literal before value k (k == len(slots): the
// tail).
func (sh *jsonShape[S]) literal(k int) string {
	start := int32(0)
	if k > 0 {
		start = sh.cuts[k-1]
	}
	if k == len(sh.cuts) {
		return sh.lit[start:]
	}
	return sh.lit[start:sh.cuts[k]]
}

// shapeSet is a parser's recent layouts.
type shapeSet[S any] struct {
	shapes []*jsonShape[S] // most recently used first
	// common[a][b] is how many leading literals layouts a and b share
	// (by id): the values before them lie at the same places in a line
	// and have the same paths, so a try of b after a fails resumes there.
	common     [maxShapes][maxShapes]int32
	vals       *[maxShapeValues]cutValue // the values of the line being tried
	miss, skip int
	hits       int // lines read through a layout (for tests)
}

// cutValue is one value of a line cut by a layout: its kind, its raw
// text and where its token ends.
type cutValue struct {
	raw  string
	end  int32
	kind byte
}

// match reads s through the first layout that fits, calling apply for
// each value with its slot (after reset). False: none fits (s may have
// been partly applied; the caller resets and walks s in full).
func (ss *shapeSet[S]) match(s string, reset func(), apply func(*S, byte, string)) bool {
	if ss.skip > 0 {
		ss.skip--
		return false
	}
	if ss.vals == nil && len(ss.shapes) > 0 {
		ss.vals = new([maxShapeValues]cutValue)
	}
	reset()
	var last *jsonShape[S]
	lastOK := 0 // values of s cut (and applied) through last before it failed
	for i, sh := range ss.shapes {
		k := 0
		if last != nil {
			k = min(lastOK, int(ss.common[last.id][sh.id]))
			if lastOK > k {
				// last applied values sh does not share: start again
				// from those it does (their slots are the same).
				reset()
				for j := range k {
					apply(&sh.slots[j], ss.vals[j].kind, ss.vals[j].raw)
				}
			}
		}
		n, ok := sh.cut(s, k, ss.vals, apply)
		if ok {
			copy(ss.shapes[1:i+1], ss.shapes[:i])
			ss.shapes[0] = sh
			ss.miss = 0
			ss.hits++
			return true
		}
		last, lastOK = sh, n
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
		sh = &jsonShape[S]{id: len(ss.shapes)}
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
	for _, o := range ss.shapes[1:] {
		n := 0
		for n < len(sh.slots) && n < len(o.slots) && sh.literal(n) == o.literal(n) {
			n++
		}
		ss.common[sh.id][o.id], ss.common[o.id][sh.id] = int32(n), int32(n)
	}
}

// cut cuts the values of s from value k on into vals (the values before
// it are there already), applying each. It returns how many values of s
// it cut in all and whether s has the layout.
func (sh *jsonShape[S]) cut(s string, k int, vals *[maxShapeValues]cutValue, apply func(*S, byte, string)) (int, bool) {
	pos := 0
	if k > 0 {
		pos = int(vals[k-1].end)
	}
	w := jsonWalker{s: s, visit: noVisit}
	for ; k < len(sh.slots); k++ {
		lit := sh.literal(k)
		if !strings.HasPrefix(s[pos:], lit) {
			return k, false
		}
		pos += len(lit)
		if pos >= len(s) {
			return k, false
		}
		var kind byte
		var raw string
		end := pos
		switch c := s[pos]; {
		case c == '"':
			e, esc, err := w.str(pos)
			if err != nil {
				return k, false
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
				return k, false
			}
			end, kind, raw = e, jsArray, s[pos:e]
		case c == 't' && strings.HasPrefix(s[pos:], "true"):
			end, kind, raw = pos+4, jsBool, "true"
		case c == 'f' && strings.HasPrefix(s[pos:], "false"):
			end, kind, raw = pos+5, jsBool, "false"
		case c == 'n' && strings.HasPrefix(s[pos:], "null"):
			end, kind = pos+4, jsNull
		default:
			return k, false
		}
		vals[k] = cutValue{raw: raw, end: int32(end), kind: kind}
		apply(&sh.slots[k], kind, raw)
		pos = end
	}
	return k, s[pos:] == sh.literal(k)
}

func noVisit([]byte, byte, string) {}
