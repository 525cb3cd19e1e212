package logs

import (
	"fmt"
	"strings"
)

// jsonParser reads JSON lines with ECS names by default, the common
// alternative names of nginx/Apache JSON formats, AWS API Gateway and
// CloudTrail, and the --field mappings. Nested objects and flattened
// dotted keys are the same path.
type jsonParser struct {
	fm    *fieldMap
	visit jsonVisitor
	path  []byte
	lower []byte
	prio  [nTargets]int8
	kind  [nTargets]byte
	val   [nTargets]string
	inds  [][2]string
	rec   webRec
	// seen remembers, per leaf position in the line, the path met there
	// and what it maps to: lines of one log share their layout, so most
	// leaves are resolved by comparing the path with the last line's
	// instead of lower-casing and hashing it.
	seen []seenLeaf
	n    int
	// shapes are the recent layouts of lines; spans and slots are what a
	// full walk records one from.
	shapes shapeSet[shapeSlot]
	spans  []jsonSpan
	slots  []shapeSlot
	// The method values given to shapes.match, made once.
	resetFn   func()
	applySlot func(*shapeSlot, byte, string)
}

// shapeSlot is what a value's path resolved to.
type shapeSlot struct {
	entry fieldEntry
	known bool
}

type seenLeaf struct {
	path  []byte
	entry fieldEntry
	ok    bool
}

func (p *jsonParser) leaf(path []byte, kind byte, raw string) {
	e, ok := p.lookup(path)
	p.slots = append(p.slots, shapeSlot{entry: e, known: ok})
	p.apply(e, ok, kind, raw)
}

// apply takes one value whose path resolved to e (ok: it names a field).
func (p *jsonParser) apply(e fieldEntry, ok bool, kind byte, raw string) {
	if !ok || kind == jsNull || (kind == jsString && raw == "") {
		return
	}
	if e.target == fIndicator {
		if kind != jsArray && len(p.inds) < 32 {
			p.inds = append(p.inds, [2]string{e.ind, raw})
		}
		return
	}
	t := e.target
	if e.prio < p.prio[t] {
		p.prio[t], p.kind[t], p.val[t] = e.prio, kind, raw
	}
}

// scan reads the values of line s into p: through a recent line's layout
// when s has one, else by the full walk, which records s's layout (a bad
// line leaves the layouts as they were).
func (p *jsonParser) scan(s string) error {
	if p.applySlot == nil {
		p.resetFn = p.reset
		p.applySlot = func(sl *shapeSlot, kind byte, raw string) { p.apply(sl.entry, sl.known, kind, raw) }
	}
	if p.shapes.match(s, p.resetFn, p.applySlot) {
		return nil
	}
	p.reset()
	p.slots = p.slots[:0]
	if !p.shapes.recording() {
		var err error
		p.path, err = walkJSON(s, p.path, p.visit, nil)
		return err
	}
	p.spans = p.spans[:0]
	var err error
	if p.path, err = walkJSON(s, p.path, p.visit, &p.spans); err != nil {
		return err
	}
	p.shapes.record(s, p.spans, p.slots)
	return nil
}

func (p *jsonParser) reset() {
	for i := range p.prio {
		p.prio[i] = 127
	}
	p.inds = p.inds[:0]
	p.n = 0
}

func (p *jsonParser) lookup(path []byte) (fieldEntry, bool) {
	n := p.n
	p.n++
	if n < len(p.seen) && string(p.seen[n].path) == string(path) {
		return p.seen[n].entry, p.seen[n].ok
	}
	key := path
	for _, c := range path {
		if c >= 'A' && c <= 'Z' {
			p.lower = appendLower(p.lower[:0], path)
			key = p.lower
			break
		}
	}
	e, ok := p.fm.json[string(key)]
	if n < 64 {
		if n >= len(p.seen) {
			p.seen = append(p.seen, seenLeaf{})
		}
		sl := &p.seen[n]
		sl.path, sl.entry, sl.ok = append(sl.path[:0], path...), e, ok
	}
	return e, ok
}

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func (p *jsonParser) parse(st *state, s string) error {
	if p.visit == nil {
		p.fm = &st.fields
		p.visit = p.leaf
	}
	if err := p.scan(s); err != nil {
		if st.truncated {
			return fmt.Errorf("line cut at %d bytes: %w", st.opts.MaxLine, err)
		}
		return fmt.Errorf("not a JSON object: %w", err)
	}
	r := &p.rec
	r.reset()
	for t := range nTargets {
		if p.prio[t] == 127 {
			continue
		}
		v := p.val[t]
		switch p.kind[t] {
		case jsEscStr:
			v = jsonUnquote(v)
		case jsArray:
			if t != fXFF && t != fForwarded {
				continue
			}
			v = strings.Join(jsonStrings(v, 4*st.opts.MaxChain), ",")
		}
		r.set(t, v, "")
	}
	for _, kv := range p.inds {
		r.indicator(kv[0], jsonUnquote(kv[1]))
	}
	if r.src == "" && r.clientIP != "" {
		r.src, r.clientIP = r.clientIP, ""
	}
	kind := "json"
	if r.method != "" || r.path != "" || r.request != "" || r.status != "" {
		kind = "web"
	}
	return st.buildEmit(r, kind)
}
