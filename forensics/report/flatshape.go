package report

import "bytes"

// The records of one table have few layouts: the same keys in the same
// order, only the values differ (a flow with or without TLS metadata, an
// address with two or three enrichment sources). A flatShape is the
// layout of a record flattened in full: the bytes between its leaf values
// and, for CSV rows, the column of each. A record with the same bytes
// between its values is flattened by comparing them and cutting the
// values with flatObject's own rule (skipValue), with no key joined or
// looked up. An object where a value was, or any other difference, falls
// back to flatWalk, which records the new layout.

const (
	maxFlatShapes = 4
	// After flatShapeMisses records in a row fit no layout, the next
	// flatShapeSkip are flattened without trying.
	flatShapeMisses = 8
	flatShapeSkip   = 56
	// Records longer than this are not recorded (a layout holds its
	// record's literal bytes).
	maxFlatShapeLen = 64 << 10
)

type flatShape struct {
	lit  []byte  // the literal bytes between leaf values, one after another
	cuts []int32 // cuts[k]: end in lit of the literal before leaf k
	cols []int32 // the column of leaf k (CSVRows; -1: not in the header)
}

// flatSpan is where one leaf value lies in a record.
type flatSpan struct{ start, end int32 }

type flatShapes struct {
	shapes     []*flatShape // most recently used first
	miss, skip int
	spans      []flatSpan // the leaves of the record being read
	cols       []int32    // the columns of the record being recorded
	hits       int        // records read through a layout (for tests)
}

// match reports the layout js has, its leaves' places in fs.spans.
func (fs *flatShapes) match(js []byte) (*flatShape, bool) {
	if fs.skip > 0 {
		fs.skip--
		return nil, false
	}
	for i, sh := range fs.shapes {
		if sh.cut(js, fs) {
			copy(fs.shapes[1:i+1], fs.shapes[:i])
			fs.shapes[0] = sh
			fs.miss = 0
			fs.hits++
			return sh, true
		}
	}
	if fs.miss++; fs.miss >= flatShapeMisses {
		fs.miss, fs.skip = 0, flatShapeSkip
	}
	return nil, false
}

// recording says whether the record match just refused should be
// recorded (not while tries are skipped); begin starts its leaves.
func (fs *flatShapes) recording() bool { return fs.skip == 0 }

func (fs *flatShapes) begin() { fs.spans, fs.cols = fs.spans[:0], fs.cols[:0] }

// leaf notes one leaf of the record being flattened in full: raw is a
// part of js, col its column.
func (fs *flatShapes) leaf(js, raw []byte, col int32) {
	start := cap(js) - cap(raw) // raw is js[start:end]
	fs.spans = append(fs.spans, flatSpan{int32(start), int32(start + len(raw))})
	fs.cols = append(fs.cols, col)
}

// record makes the layout of js, from the leaves noted since begin, the
// most recent one.
func (fs *flatShapes) record(js []byte) {
	if len(js) > maxFlatShapeLen {
		return
	}
	var sh *flatShape
	if len(fs.shapes) < maxFlatShapes {
		sh = &flatShape{}
		fs.shapes = append(fs.shapes, nil)
	} else {
		sh = fs.shapes[len(fs.shapes)-1]
	}
	copy(fs.shapes[1:], fs.shapes[:len(fs.shapes)-1])
	fs.shapes[0] = sh
	sh.lit, sh.cuts, sh.cols = sh.lit[:0], sh.cuts[:0], append(sh.cols[:0], fs.cols...)
	prev := int32(0)
	for _, sp := range fs.spans {
		sh.lit = append(sh.lit, js[prev:sp.start]...)
		sh.cuts = append(sh.cuts, int32(len(sh.lit)))
		prev = sp.end
	}
	sh.lit = append(sh.lit, js[prev:]...)
}

// cut cuts the leaves of js through the layout into fs.spans; false when
// js does not have it.
func (sh *flatShape) cut(js []byte, fs *flatShapes) bool {
	if len(js) > maxFlatShapeLen {
		return false
	}
	spans := fs.spans[:0]
	pos, prev := 0, int32(0)
	for k := range sh.cuts {
		lit := sh.lit[prev:sh.cuts[k]]
		prev = sh.cuts[k]
		if !bytes.HasPrefix(js[pos:], lit) {
			return false
		}
		pos += len(lit)
		if pos >= len(js) || js[pos] == '{' {
			return false // flatObject would walk into an object here
		}
		end, err := skipValue(js, pos)
		if err != nil {
			return false
		}
		spans = append(spans, flatSpan{int32(pos), int32(end)})
		pos = end
	}
	fs.spans = spans
	return bytes.Equal(js[pos:], sh.lit[prev:])
}
