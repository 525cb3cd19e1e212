package report

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"

	"github.com/tracehop/tracehop/forensics"
)

// writeDocument writes report.json: the bytes marshalIndent(d) gives,
// without ever holding them. The document of a million-line log is
// gigabytes of indented JSON; marshalling it whole held it two or three
// times over. The tables that grow with the evidence (ips, and the case's
// flows, events and sessions, and the relays, campaigns and chains, which
// hop chains can multiply) are written element by element, the events
// and flows through the hand-written encoder; everything else goes
// through encoding/json as before. TestWriteDocumentMatchesMarshal holds
// the bytes to marshalIndent, and TestDocumentFieldsKnown fails when
// Document or Case gains a field this writer does not know.
func writeDocument(w io.Writer, d *Document) error {
	jw := newDocWriter(w)

	jw.open('{')
	jw.member(1, "schema_version", d.SchemaVersion)
	jw.member(1, "cover", d.Cover)
	jw.member(1, "input_checks", d.Inputs)
	jw.array(1, "ips", len(d.IPs), false, func(i int) ([]byte, error) { return jw.rec.encode(&d.IPs[i]) })
	jw.array(1, "relays", len(d.Relays), false, func(i int) ([]byte, error) { return jw.rec.encode(&d.Relays[i]) })
	if d.Case == nil {
		jw.member(1, "case", nil)
	} else {
		jw.name(1, "case")
		writeCase(jw, d.Case)
	}
	jw.close(0, '}')
	return jw.finish()
}

// writeCase writes c as the value of the member "case" (depth 1), in the
// field order and with the omitempty rules of forensics.Case.
func writeCase(jw *docWriter, c *forensics.Case) {
	const d = 2
	jw.open('{')
	if c.ID != "" {
		jw.member(d, "case_id", c.ID)
	}
	if c.Examiner != "" {
		jw.member(d, "examiner", c.Examiner)
	}
	if c.Home != "" {
		jw.member(d, "home", c.Home)
	}
	jw.member(d, "tool", c.Tool)
	jw.member(d, "inputs", c.Inputs)
	if len(c.Databases) > 0 {
		jw.member(d, "databases", c.Databases)
	}
	if len(c.Params) > 0 {
		jw.member(d, "parameters", c.Params)
	}
	jw.arrayEach(d, "flows", c.NumFlows(), true, encodeEach(jw, c.EachFlow))
	jw.arrayEach(d, "events", c.NumEvents(), true, encodeEach(jw, c.EachEvent))
	jw.arrayEach(d, "sessions", c.NumSessions(), true, encodeEach(jw, c.EachSession))
	jw.array(d, "campaigns", len(c.Campaigns), true, func(i int) ([]byte, error) { return jw.rec.encode(&c.Campaigns[i]) })
	jw.array(d, "chains", len(c.Chains), true, func(i int) ([]byte, error) { return jw.rec.encode(&c.Chains[i]) })
	if len(c.Problems) > 0 {
		jw.member(d, "problems", c.Problems)
	}
	if len(c.Caps) > 0 {
		jw.member(d, "caps_hit", c.Caps)
	}
	jw.close(1, '}')
}

// encodeEach turns a walk over records into arrayEach's: each record
// encoded as it comes.
func encodeEach[T any](jw *docWriter, each func(fn func(*T) error) error) func(emit func(js []byte) error) error {
	return func(emit func(js []byte) error) error {
		return each(func(v *T) error {
			js, err := jw.rec.encode(v)
			if err != nil {
				return err
			}
			return emit(js)
		})
	}
}

// docWriter writes indented JSON a member or an array element at a time.
// The first error sticks; later calls do nothing.
type docWriter struct {
	w   *bufio.Writer
	out []byte // indented text not yet written
	rec *recordEncoder
	// first is true right after an open brace or bracket: the next
	// member or element takes no comma.
	first bool
	err   error
}

const indentUnit = "  "

func newDocWriter(w io.Writer) *docWriter {
	return &docWriter{w: bufio.NewWriterSize(w, 1<<20), rec: newRecordEncoder()}
}

// finish ends the document with a newline, as json.Encoder does, and
// writes out what is buffered.
func (jw *docWriter) finish() error {
	jw.out = append(jw.out, '\n')
	return jw.flush()
}

func (jw *docWriter) open(c byte) {
	jw.out = append(jw.out, c)
	jw.first = true
}

// close ends an object or array whose members sit at depth+1; an empty
// one stays {} or [] as json.Indent writes it.
func (jw *docWriter) close(depth int, c byte) {
	if !jw.first {
		jw.out = newline(jw.out, depth)
	}
	jw.out = append(jw.out, c)
	jw.first = false
}

// name starts a member at depth: the separator, indentation and key.
func (jw *docWriter) name(depth int, key string) {
	if !jw.first {
		jw.out = append(jw.out, ',')
	}
	jw.first = false
	jw.out = newline(jw.out, depth)
	jw.out = append(jw.out, '"')
	jw.out = append(jw.out, key...)
	jw.out = append(jw.out, '"', ':', ' ')
}

// member writes `"key": value` at depth, value through encoding/json.
func (jw *docWriter) member(depth int, key string, v any) {
	if jw.err != nil {
		return
	}
	jw.name(depth, key)
	var js []byte
	if js, jw.err = jw.rec.encode(v); jw.err == nil {
		jw.out = appendIndented(jw.out, js, depth)
	}
	jw.maybeFlush()
}

// array writes `"key": [...]` at depth with n elements, each encoded by
// elem; omitEmpty drops the member when n is 0 (the omitempty of the
// field).
func (jw *docWriter) array(depth int, key string, n int, omitEmpty bool, elem func(i int) ([]byte, error)) {
	jw.arrayEach(depth, key, n, omitEmpty, func(emit func(js []byte) error) error {
		for i := range n {
			js, err := elem(i)
			if err != nil {
				return err
			}
			if err := emit(js); err != nil {
				return err
			}
		}
		return nil
	})
}

// arrayEach is array over the n elements each hands to emit, encoded, in
// order: elements read from a spool, not held.
func (jw *docWriter) arrayEach(depth int, key string, n int, omitEmpty bool, each func(emit func(js []byte) error) error) {
	if jw.err != nil || (n == 0 && omitEmpty) {
		return
	}
	jw.name(depth, key)
	jw.open('[')
	err := each(func(js []byte) error {
		if !jw.first {
			jw.out = append(jw.out, ',')
		}
		jw.first = false
		jw.out = newline(jw.out, depth+1)
		jw.out = appendIndented(jw.out, js, depth+1)
		jw.maybeFlush()
		return jw.err
	})
	if err != nil {
		if jw.err == nil {
			jw.err = err
		}
		return
	}
	jw.close(depth, ']')
}

// elementSpliced writes one element of an array whose elements sit at
// depth, as arrayEach's emit does, with the last "mark" string of js
// replaced by the strings each hands over, in order, as array elements:
// an array too long to hold (the STIX grouping's references). each must
// hand over at least one string.
func (jw *docWriter) elementSpliced(depth int, js []byte, mark string, each func(fn func(string) error) error) error {
	if jw.err != nil {
		return jw.err
	}
	ind := appendIndented(nil, js, depth)
	q := []byte(`"` + mark + `"`)
	i := bytes.LastIndex(ind, q)
	if i < 0 {
		return fmt.Errorf("splice: %q not in the element", mark)
	}
	indent := ind[bytes.LastIndexByte(ind[:i], '\n'):i] // the newline and indentation of an element
	if !jw.first {
		jw.out = append(jw.out, ',')
	}
	jw.first = false
	jw.out = newline(jw.out, depth)
	jw.out = append(jw.out, ind[:i]...)
	n := 0
	err := each(func(v string) error {
		if n > 0 {
			jw.out = append(jw.out, ',')
			jw.out = append(jw.out, indent...)
		}
		n++
		js, err := jw.rec.encode(v)
		if err != nil {
			return err
		}
		jw.out = append(jw.out, js...)
		jw.maybeFlush()
		return jw.err
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("splice: no %s", mark)
	}
	if err != nil {
		jw.err = cmp.Or(jw.err, err)
		return err
	}
	jw.out = append(jw.out, ind[i+len(q):]...)
	jw.maybeFlush()
	return jw.err
}

func (jw *docWriter) maybeFlush() {
	if jw.err == nil && len(jw.out) >= 256<<10 {
		_, jw.err = jw.w.Write(jw.out)
		jw.out = jw.out[:0]
	}
}

func (jw *docWriter) flush() error {
	if jw.err != nil {
		return jw.err
	}
	if _, err := jw.w.Write(jw.out); err != nil {
		return err
	}
	jw.out = jw.out[:0]
	return jw.w.Flush()
}

func newline(b []byte, depth int) []byte {
	b = append(b, '\n')
	for range depth {
		b = append(b, indentUnit...)
	}
	return b
}

// appendIndented appends compact JSON src as json.Indent(dst, src, prefix,
// "  ") does with a prefix of depth indents: the value as it reads nested
// depth levels deep. src must be valid compact JSON (encoding/json's own
// output): no whitespace outside strings. It skips json.Indent's
// validating scanner, which cost more than encoding itself.
func appendIndented(dst, src []byte, depth int) []byte {
	level := depth
	// pending: an object or array was just opened; its first member
	// decides whether it is empty ({} / []) or breaks the line.
	pending := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if pending && c != '}' && c != ']' {
			pending = false
			level++
			dst = newline(dst, level)
		}
		switch c {
		case '"':
			// Copy the whole string, escapes included.
			j, _ := stringEnd(src, i)
			dst = append(dst, src[i:j]...)
			i = j - 1
		case '{', '[':
			pending = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst, level)
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if pending {
				pending = false
			} else {
				level--
				dst = newline(dst, level)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
