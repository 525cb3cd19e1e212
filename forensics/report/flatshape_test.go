package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// csvWithShapes writes recs as a CSV table, reading records through
// layouts or (shapes false) flattening every one in full.
func csvWithShapes(t *testing.T, recs []any, shapes bool) (string, int) {
	t.Helper()
	cc := NewCSVColumns()
	if !shapes {
		cc.shapes.skip = math.MaxInt
	}
	for _, v := range recs {
		if err := cc.Add(v); err != nil {
			return "error: " + err.Error(), 0
		}
	}
	var out bytes.Buffer
	w, err := NewCSVRows(&out, cc.Header())
	if err != nil {
		t.Fatal(err)
	}
	if !shapes {
		w.shapes.skip = math.MaxInt
	}
	for _, v := range recs {
		if err := w.Write(v); err != nil {
			return "error: " + err.Error(), 0
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String(), cc.shapes.hits + w.shapes.hits
}

// TestCSVShapesMatchFlatten: tables of records of a few layouts, with
// values that change type, become objects or arrays of objects, or hold
// escapes, are the same read through layouts as flattened in full.
func TestCSVShapesMatchFlatten(t *testing.T) {
	layouts := []string{
		`{"id":%V,"src_ip":"%S","src_geo":{"country":"%S","sources":[{"db":"a","fields":["country"]}]},"n":%V}`,
		`{"id":%V,"src_ip":"%S","src_geo":{"country":"%S","asn":%V},"tls":{"sni":"%S","ja3":%V},"n":%V}`,
		`{"id":%V,"user_agent":"%S","indicators":{"a.b":"%S","c":%V},"flags":%V}`,
		`{"id":%V,"a":{"b":{"c":{"d":%V}}},"e":[]}`,
	}
	strs := []string{"", "x", `a\"b`, `\u00e9`, `=cmd|' /C calc'!A0`, "1.2.3.4", `\\`, `a,b\nc`}
	vals := []string{"1", "-2.5e3", "true", "null", `"s"`, `""`, `["x","y"]`, `[]`, `[{"k":[1,2]},"z"]`, `"=1+1"`, `{}`, `{"k":"v"}`, `{"a.b":1}`}
	r := rand.New(rand.NewPCG(9, 10))
	fill := func(tmpl string) string {
		var b strings.Builder
		for i := 0; i < len(tmpl); i++ {
			if tmpl[i] == '%' {
				i++
				if tmpl[i] == 'S' {
					b.WriteString(strs[r.IntN(len(strs))])
				} else if r.IntN(6) == 0 {
					b.WriteString(vals[r.IntN(len(vals))])
				} else {
					b.WriteString(vals[r.IntN(4)])
				}
				continue
			}
			b.WriteByte(tmpl[i])
		}
		return b.String()
	}
	hits := 0
	for range 300 {
		var recs []any
		for range 1 + r.IntN(60) {
			js := fill(layouts[min(r.IntN(6), len(layouts)-1)])
			var c bytes.Buffer
			if json.Compact(&c, []byte(js)) != nil {
				t.Fatalf("bad test record %s", js)
			}
			recs = append(recs, CompactJSON(c.Bytes()))
		}
		got, n := csvWithShapes(t, recs, true)
		want, _ := csvWithShapes(t, recs, false)
		if got != want {
			t.Fatalf("through layouts:\n%s\nflattened in full:\n%s", got, want)
		}
		hits += n
	}
	if hits < 5000 {
		t.Fatalf("only %d records read through a layout", hits)
	}
}

// FuzzCSVShapes: two records, the second read through the first's
// layout, give the table flattening both in full gives; and arbitrary
// bytes passed as CompactJSON neither panic nor hang.
func FuzzCSVShapes(f *testing.F) {
	f.Add([]byte(`{"a":"1","b":{"c":[1,2]}}`), []byte(`{"a":"x\"y","b":{"c":{"d":1}}}`))
	f.Add([]byte(`{"a":1,"b":"=x"}`), []byte(`{"a":[{"k":1}],"b":"=y"}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		// Bytes that break CompactJSON's contract give rows of no
		// particular content, or an error, but never a panic or a hang.
		raw := []any{CompactJSON(a), CompactJSON(b), CompactJSON(b)}
		csvWithShapes(t, raw, true)
		csvWithShapes(t, raw, false)
		// CompactJSON is this tool's own compact, valid output.
		var ca, cb bytes.Buffer
		if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil || ca.Len() == 0 || cb.Len() == 0 || ca.Bytes()[0] != '{' || cb.Bytes()[0] != '{' {
			return
		}
		recs := []any{CompactJSON(ca.Bytes()), CompactJSON(cb.Bytes()), CompactJSON(cb.Bytes())}
		got, _ := csvWithShapes(t, recs, true)
		want, _ := csvWithShapes(t, recs, false)
		if got != want {
			t.Fatalf("%q then %q:\nthrough layouts:\n%s\nflattened in full:\n%s", a, b, got, want)
		}
	})
}
