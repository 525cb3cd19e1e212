package logs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// shapeParsers returns a parser that reads through shapes and a
// reference that always walks in full, with the same field mapping.
func shapeParsers(t testing.TB) (*jsonParser, *jsonParser) {
	fm, err := newFieldMap(map[string]string{"credential": "a.b", "indicators.x": "c"})
	if err != nil {
		t.Fatal(err)
	}
	p, ref := &jsonParser{fm: &fm}, &jsonParser{fm: &fm}
	p.visit, ref.visit = p.leaf, ref.leaf
	return p, ref
}

// checkShape reads line through p (whatever shape p holds) and through a
// full walk in ref, and fails when they differ in outcome or values.
func checkShape(t testing.TB, p, ref *jsonParser, prev, line string) {
	t.Helper()
	err := p.scan(line)
	ref.reset()
	ref.slots = ref.slots[:0]
	var refErr error
	ref.path, refErr = walkJSON(line, ref.path, ref.visit, nil)
	if (err == nil) != (refErr == nil) {
		t.Fatalf("after %q\nline %q: shape read error %v, full walk %v", prev, line, err, refErr)
	}
	if err != nil {
		return
	}
	// A target's kind and value count only when it was set (prio < 127).
	got, want := shapeValues(p), shapeValues(ref)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after %q\nline %q:\nshape %q\nfull  %q", prev, line, got, want)
	}
}

// checkFlowShape is checkShape for the flow records' parser (EVE keys).
func checkFlowShape(t testing.TB, p, ref *jsonFlowParser, prev, line string) {
	t.Helper()
	for _, q := range []*jsonFlowParser{p, ref} {
		if q.idx == nil {
			q.init(eveKeys)
		}
	}
	err := p.walk(nil, line)
	clear(ref.vals)
	ref.slots = ref.slots[:0]
	var refErr error
	ref.path, refErr = walkJSON(line, ref.path, ref.visit, nil)
	if (err == nil) != (refErr == nil) {
		t.Fatalf("after %q\nline %q: shape read error %v, full walk %v", prev, line, err, refErr)
	}
	if err == nil && !reflect.DeepEqual(p.vals, ref.vals) {
		t.Fatalf("after %q\nline %q:\nshape %q\nfull  %q", prev, line, p.vals, ref.vals)
	}
}

func shapeValues(p *jsonParser) []string {
	var out []string
	for t := range nTargets {
		if p.prio[t] != 127 {
			out = append(out, fmt.Sprint(t, p.prio[t], string(p.kind[t]), p.val[t]))
		}
	}
	for _, kv := range p.inds {
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}

// TestJSONShapeMatchesWalk: a line read through the previous line's shape
// gives what the full walk gives, for lines that keep the layout, change
// one value's type, swap a value for an object or array, change white
// space, escapes or keys, or are cut short.
func TestJSONShapeMatchesWalk(t *testing.T) {
	base := []string{
		`{"@timestamp":"%T","source":{"ip":"%S","port":%N},"url":{"path":"%S"},"http":{"request":{"method":"%S"},"response":{"status_code":%N}},"user_agent":{"original":"%S"},"x":%V,"c":"%S"}`,
		`{ "time" : "%T", "remote_addr":"%S" , "request":"%S", "status": %V, "tags": %V, "a": {"b": "%S"} }`,
		`{"ts":%N,"client_ip":"%S","ua":"%S","xff":%V,"nested":{"deep":{"er":%V}}}` + "\t ",
		`{"timestamp":"%T","event_type":"%S","src_ip":"%S","src_port":%N,"proto":%V,"http":{"hostname":"%S","xff":%V},"dns":{"queries":%V,"rrname":"%S"}}`,
		// Layouts sharing their first literals with the one above, as
		// Suricata's event types do: a failed try resumes where they part.
		`{"timestamp":"%T","event_type":"%S","src_ip":"%S","src_port":%N,"proto":%V,"tls":{"sni":"%S","version":%V}}`,
		`{"timestamp":"%T","event_type":"%S","src_ip":"%S","src_port":%N,"proto":%V,"http":{"hostname":"%S","url":%V}}`,
	}
	strs := []string{"", "1.2.3.4", `a\"b`, `\u00e9t\u00e9`, "GET", `\\`, "2001:db8::1", "-", `\ud800`, "x y", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}
	vals := []string{"1", "-2.5e3", "true", "false", "null", `"s"`, `""`, `["1.1.1.1","2.2.2.2"]`, `[]`, `[{"a":[1,{}]},2]`}
	// Values that change the layout or break the line, now and then.
	odd := []string{`{}`, `{"k":"v"}`, "tru", "1x", `"open`}
	r := rand.New(rand.NewPCG(7, 8))
	fill := func(tmpl string) string {
		var b strings.Builder
		for i := 0; i < len(tmpl); i++ {
			if tmpl[i] == '%' && i+1 < len(tmpl) {
				i++
				switch tmpl[i] {
				case 'T':
					b.WriteString("2025-06-24T00:00:0" + string(rune('0'+r.IntN(10))) + "Z")
				case 'S':
					b.WriteString(strs[r.IntN(len(strs))])
				case 'N':
					b.WriteString([]string{"1", "22", "65535", "-1", "0.5"}[r.IntN(5)])
				case 'V':
					if r.IntN(16) == 0 {
						b.WriteString(odd[r.IntN(len(odd))])
					} else {
						b.WriteString(vals[r.IntN(len(vals))])
					}
				}
				continue
			}
			b.WriteByte(tmpl[i])
		}
		s := b.String()
		switch r.IntN(12) {
		case 0:
			s = s[:r.IntN(len(s)+1)] // cut short
		case 1:
			s = strings.Replace(s, ":", " :", 1) // white space moves
		case 2:
			s = strings.Replace(s, `"`, `"X`, 1+r.IntN(3)) // a key changes
		}
		return s
	}
	p, ref := shapeParsers(t)
	fp, fref := &jsonFlowParser{}, &jsonFlowParser{}
	prev := ""
	for range 100000 {
		line := fill(base[r.IntN(len(base))])
		if r.IntN(4) != 0 {
			// Mostly one of four layouts.
			line = fill(base[[]int{0, 3, 4, 5}[r.IntN(4)]])
		}
		checkShape(t, p, ref, prev, line)
		checkFlowShape(t, fp, fref, prev, line)
		prev = line
	}
	if p.shapes.hits < 10000 || fp.shapes.hits < 10000 {
		t.Fatalf("only %d / %d lines read through a layout", p.shapes.hits, fp.shapes.hits)
	}
}

// TestJSONShapeLayouts: interleaved layouts are all kept (up to
// maxShapes); a run of lines that fit none stops the tries for a while,
// and they resume after it.
func TestJSONShapeLayouts(t *testing.T) {
	p, ref := shapeParsers(t)
	layouts := []string{`{"source":{"ip":"%d.0.0.1"},"event":"flow"}`, `{"source":{"ip":"%d.0.0.2"},"tls":{"sni":"a"}}`,
		`{"src_ip":"%d.0.0.3","ua":"x"}`, `{"ts":%d,"c":"y"}`}
	prev := ""
	step := func(line string) {
		checkShape(t, p, ref, prev, line)
		prev = line
	}
	for i := range 400 {
		step(fmt.Sprintf(layouts[i%len(layouts)], i%200))
	}
	if p.shapes.hits != 400-len(layouts) {
		t.Fatalf("interleaved layouts: %d lines read through a layout, want %d", p.shapes.hits, 400-len(layouts))
	}
	for i := range 100 {
		step(fmt.Sprintf(`{"k%d":%d}`, i, i)) // every line a new layout
	}
	h := p.shapes.hits
	for i := range 100 {
		step(fmt.Sprintf(layouts[0], i))
	}
	if got := p.shapes.hits - h; got < 100-shapeSkip-1 {
		t.Fatalf("after irregular lines: %d of 100 regular lines read through a layout", got)
	}
	// A line over maxShapeLine is not recorded: the next one like it is
	// walked in full too.
	long := `{"big":"` + strings.Repeat("x", maxShapeLine) + `","n":%d}`
	h = p.shapes.hits
	for i := range 3 {
		step(fmt.Sprintf(long, i))
	}
	if p.shapes.hits != h {
		t.Fatalf("a %d-byte line was recorded as a layout", len(long))
	}
}

// TestJSONShapeCorpus reads every JSON log sample in testdata (the
// corpus has none) line by line through shapes, against the full walk.
func TestJSONShapeCorpus(t *testing.T) {
	var files []string
	for _, pat := range []string{"testdata/samples/*.json*"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, ref := shapeParsers(t)
		fp, fref := &jsonFlowParser{}, &jsonFlowParser{}
		prev := ""
		for line := range strings.SplitSeq(string(data), "\n") {
			checkShape(t, p, ref, prev, line)
			checkFlowShape(t, fp, fref, prev, line)
			prev = line
			n++
		}
	}
	t.Logf("%d lines in %d files", n, len(files))
}

// FuzzJSONShape: the second line read through the first line's shape is
// read as the full walk reads it.
func FuzzJSONShape(f *testing.F) {
	f.Add(`{"a":"1","b":{"c":2}}`, `{"a":"1","b":{"d":2}}`, `{"a":"x\"y","b":{"c":[3]}}`)
	f.Add(`{"source":{"ip":"1.2.3.4"},"x":null}`, `{"source":{"ip":"1.2.3.4"},"y":1}`, `{"source":{"ip":"1.2.3.4"},"x":{"y":1}}`)
	f.Add(`{"ts":1,"ua":"a"}`, `{"ts":1,"ub":"a"}`, `{"ts":1,"ua":"a`)
	f.Add(`{"timestamp":"t","event_type":"flow","src_ip":"1.2.3.4","flow":{"pkts_toserver":1}}`,
		`{"timestamp":"t","event_type":"tls","src_ip":"1.2.3.4","tls":{"sni":"x"}}`,
		`{"timestamp":"u","event_type":"flow","src_ip":"5.6.7.8","flow":{"pkts_toserver":2}}`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		// Two layouts recorded (a and b), then c read through them.
		p, ref := shapeParsers(t)
		_, _ = p.scan(a), p.scan(b)
		checkShape(t, p, ref, b, c)
		fp, fref := &jsonFlowParser{}, &jsonFlowParser{}
		fp.init(eveKeys)
		_, _ = fp.walk(nil, a), fp.walk(nil, b)
		checkFlowShape(t, fp, fref, b, c)
	})
}
