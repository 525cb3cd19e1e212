package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// The reference flattening: the record marshalled, decoded into
// interfaces and walked, as Flatten did before it walked the JSON bytes.
// Flatten turns one record into column → value via its JSON form, so CSV
// columns are exactly the JSON names joined with ".".
func flattenReference(v any) (map[string]string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	out := map[string]string{}
	refFlattenInto(out, "", tree)
	return out, nil
}

func refFlattenInto(out map[string]string, prefix string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, sub := range t {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			refFlattenInto(out, key, sub)
		}
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(e)
				parts = append(parts, string(b))
			default:
				parts = append(parts, refScalar(e))
			}
		}
		out[prefix] = strings.Join(parts, "|")
	default:
		out[prefix] = refScalar(t)
	}
}

func refScalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// ptrs is a pointer to every element of s, as WriteRecords flattens them.
func ptrs[T any](s []T) []any {
	out := make([]any, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// flattenCases are records of every kind a CSV table holds, hostile text
// included.
func flattenCases() []any {
	var out []any
	for _, hostile := range []bool{false, true} {
		c := testCase(hostile)
		v, err := newView(c, Options{}, nil, nil)
		if err != nil {
			panic(err)
		}
		out = append(out, ptrs(c.Events)...)
		out = append(out, ptrs(c.Flows)...)
		out = append(out, ptrs(c.Sessions)...)
		out = append(out, ptrs(c.Campaigns)...)
		out = append(out, ptrs(v.IPs)...)
		out = append(out, ptrs(v.Relays)...)
		out = append(out, ptrs(c.Chains)...)
	}
	// Values whose JSON re-encoding differs from the bytes written: HTML
	// characters, invalid UTF-8, U+2028, escapes, numbers, nesting.
	for _, js := range []string{
		`{"a":"x<y>&z","b":["<&>",{"k":"v<"}],"c":{"d":[1,2.50,-3e5,true,null,"\u2028"]}}`,
		`{"s":"bad \ufffd byte","arr":[{"z":1,"a":{"y":"\u003c","b":[]}},[],[[1],"x"]],"e":{},"n":null}`,
		`{"q":"quote \" and \\ slash \/ tab \t","u":"\ud83d\ude00","list":["a|b",{"b":"1","a":"2","a":"3"}]}`,
		`{"deep":{"deeper":{"deepest":"\u0000\u001f"}},"empty_list":[],"nums":[0,-0.0,1E+2]}`,
	} {
		out = append(out, json.RawMessage(js))
	}
	return out
}

func TestFlattenMatchesReference(t *testing.T) {
	for i, v := range flattenCases() {
		want, err := flattenReference(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Flatten(v)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !maps.Equal(got, want) {
			for k := range maps.Keys(want) {
				if got[k] != want[k] {
					t.Errorf("case %d (%T) column %q:\n got %q\nwant %q", i, v, k, got[k], want[k])
				}
			}
			for k := range maps.Keys(got) {
				if _, ok := want[k]; !ok {
					t.Errorf("case %d (%T): extra column %q", i, v, k)
				}
			}
		}
	}
}

// TestCSVRowsMatchWriteCSV: the two-pass table equals WriteCSV over the
// reference rows.
func TestCSVRowsMatchWriteCSV(t *testing.T) {
	recs := flattenCases()
	var rows []map[string]string
	cols := map[string]struct{}{}
	for _, v := range recs {
		row, err := flattenReference(v)
		if err != nil {
			t.Fatal(err)
		}
		for k := range row {
			cols[k] = struct{}{}
		}
		rows = append(rows, row)
	}
	header := make([]string, 0, len(cols))
	for k := range cols {
		header = append(header, k)
	}
	slices.Sort(header)
	var want bytes.Buffer
	if err := WriteCSV(&want, header, rows); err != nil {
		t.Fatal(err)
	}
	cc := NewCSVColumns()
	for _, v := range recs {
		if err := cc.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	w, err := NewCSVRows(&got, cc.Header())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range recs {
		if err := w.Write(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("CSV differs:\n got %q\nwant %q", got.String(), want.String())
	}
}

// TestWriteDocumentMatchesMarshal: the streamed report.json equals
// marshalIndent of the whole document.
func TestWriteDocumentMatchesMarshal(t *testing.T) {
	cases := map[string]*forensics.Case{
		"test": testCase(false), "hostile": testCase(true), "empty": {}, "big": bigCase(300),
	}
	for name, c := range cases {
		v, err := newView(c, Options{CaseID: "case <1>", Examiner: "a&b"}, []InputCheck{{Path: "x", SHA256: "y", Reverified: "match"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := marshalIndent(v.document())
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeDocument(&got, v.document()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			g, w := got.String(), string(want)
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("%s: differs at byte %d:\n got %q\nwant %q", name, i, g[max(0, i-80):min(len(g), i+80)], w[max(0, i-80):min(len(w), i+80)])
		}
	}
	var nilCase bytes.Buffer
	d := &Document{Inputs: []InputCheck{}, IPs: []IPRow{}, Relays: []Relay{}}
	want, _ := marshalIndent(d)
	if err := writeDocument(&nilCase, d); err != nil || nilCase.String() != string(want) {
		t.Errorf("nil case: %v\n got %q\nwant %q", err, nilCase.String(), want)
	}
}

// TestDocumentFieldsKnown fails when Document or Case gains, loses or
// renames a field: writeDocument lists them by hand.
func TestDocumentFieldsKnown(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[Document](), "schema_version cover input_checks ips relays case"},
		{reflect.TypeFor[forensics.Case](), "case_id,omitempty examiner,omitempty home,omitempty tool inputs databases,omitempty parameters,omitempty flows,omitempty events,omitempty sessions,omitempty campaigns,omitempty chains,omitempty problems,omitempty caps_hit,omitempty - - -"},
	} {
		var tags []string
		for f := range c.typ.Fields() {
			tags = append(tags, f.Tag.Get("json"))
		}
		if got := strings.Join(tags, " "); got != c.want {
			t.Errorf("%v fields changed: update writeDocument/writeCase, then this list\n got %s\nwant %s", c.typ, got, c.want)
		}
	}
}

func TestAppendIndentedMatchesIndent(t *testing.T) {
	for _, js := range []string{`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[1,{"c":"x,y:{[\"]}"}]}`, `"s"`, `12`, `[[[]],[{}]]`} {
		for depth := range 3 {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(js), strings.Repeat("  ", depth), "  "); err != nil {
				t.Fatal(err)
			}
			if got := appendIndented(nil, []byte(js), depth); string(got) != want.String() {
				t.Errorf("%s depth %d:\n got %s\nwant %s", js, depth, got, want.String())
			}
		}
	}
}

// FuzzFlatten: for any JSON object (a case file's stored rows are
// JSON), Flatten never panics and agrees with the reference, except
// where the reference itself is ambiguous: a repeated key, kept once by
// a map.
func FuzzFlatten(f *testing.F) {
	for _, v := range flattenCases() {
		js, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, js []byte) {
		got, err := Flatten(json.RawMessage(js))
		if !json.Valid(js) || bytes.TrimSpace(js)[0] != '{' {
			return
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", js, err)
		}
		if repeatedKey(js) || collidingColumns(js) {
			return
		}
		want, err := flattenReference(json.RawMessage(js))
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", js, got, want)
		}
	})
}

// collidingColumns reports whether two values flatten to one column
// ({"a.b":1,"a":{"b":2}}): the reference then keeps whichever its map
// iteration met last.
func collidingColumns(js []byte) bool {
	var c bytes.Buffer
	if json.Compact(&c, js) != nil {
		return false
	}
	seen := map[string]bool{}
	dup := false
	flatWalk(c.Bytes(), nil, func(key, _ []byte) {
		dup = dup || seen[string(key)]
		seen[string(key)] = true
	})
	return dup
}

// repeatedKey reports whether any object in the valid JSON js repeats a
// key.
func repeatedKey(js []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(js))
	type level struct {
		keys   map[string]bool
		object bool
		key    bool // the next token of an object is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if s, ok := tok.(string); ok {
				if top.keys[s] {
					return true
				}
				top.keys[s] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &level{keys: map[string]bool{}, object: true, key: true})
			continue
		case json.Delim('['):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

// FuzzAppendIndented: for any valid JSON, compacted as the encoders write
// it, the indenter writes what json.Indent writes.
func FuzzAppendIndented(f *testing.F) {
	for _, v := range flattenCases() {
		js, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js, uint8(1))
	}
	f.Add([]byte(`[[],{},"\\\"",[{"a":[]}]]`), uint8(0))
	f.Fuzz(func(t *testing.T, js []byte, depth uint8) {
		var c bytes.Buffer
		if json.Compact(&c, js) != nil {
			return
		}
		d := int(depth % 8)
		var want bytes.Buffer
		if err := json.Indent(&want, c.Bytes(), strings.Repeat("  ", d), "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndented(nil, c.Bytes(), d); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%q depth %d:\n got %q\nwant %q", c.Bytes(), d, got, want.Bytes())
		}
	})
}

// TestCSVFieldMatchesWriter: rows built with appendCSVField are the bytes
// encoding/csv's Writer writes, on fields chosen to hit every rule
// (quotes, commas, CR, LF, leading Unicode spaces, `\.`, invalid UTF-8)
// and on random ones.
func TestCSVFieldMatchesWriter(t *testing.T) {
	fields := []string{"", "a", `\.`, `\.x`, `"`, `a"b""c`, "a,b", "a\rb", "a\nb", "\r\n", " lead", "\tlead", "\u00a0nbsp",
		"\u2028ls", "\u3000ideo", "\x85nel", "\xc2\x85nel", "\xff\xfe", "trail ", "'=1", "=cmd", "-3", "+x", "@a", "a\x00b", "é,\"ü\"\n"}
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"a", " ", ",", `"`, "\r", "\n", "\t", "\\", ".", "\u00a0", "\xff", "é", "="}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		fields = append(fields, b.String())
	}
	for i := 0; i+3 <= len(fields); i += 3 {
		rec := fields[i : i+3]
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Write(rec)
		cw.Flush()
		var got []byte
		for j, f := range rec {
			if j > 0 {
				got = append(got, ',')
			}
			got = appendCSVField(got, []byte(f))
		}
		got = append(got, '\n')
		if string(got) != want.String() {
			t.Fatalf("%q: got %q, want %q", rec, got, want.String())
		}
		got = got[:0]
		want.Reset()
		cw.Write([]string{CSVCell(rec[0])})
		cw.Flush()
		got = append(appendCSVCell(got, []byte(rec[0])), '\n')
		if string(got) != want.String() {
			t.Fatalf("cell %q: got %q, want %q", rec[0], got, want.String())
		}
	}
}

// TestIPRowJSONMatchesMarshal: the hand encoding of an IP row is
// json.Marshal's (HTML escaping off), zones, names and empty lists
// included.
func TestIPRowJSONMatchesMarshal(t *testing.T) {
	lat := 48.1
	geo := &enrich.Record{IP: netip.MustParseAddr("192.0.2.7"), Class: "public", City: "M\xfcnchen <b>", Lat: &lat, Lon: &lat,
		Sources: enrich.MakeSources([]enrich.Source{{DB: "d\"b", Fields: []string{"city"}}})}
	rows := []IPRow{
		{},
		{IP: netip.MustParseAddr("192.0.2.7"), Geo: geo, Sessions: 3, Events: -1, Flows: 1 << 40},
		{IP: netip.MustParseAddr("fe80::1%et\"h<0>"), Campaigns: []string{"c-1", "a&b\u2028"}, Roles: []string{}},
		{IP: netip.MustParseAddr("::ffff:192.0.2.1"), Roles: []string{"relay", "\x00\xff"}},
	}
	for _, r := range rows {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		got, err := newRecordEncoder().encode(&r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("got  %s\nwant %s", got, want.String())
		}
	}
}

// TestCellMemoMatchesCell: the memo renders every value as cell does,
// on repeats, on values too short, too long or not arrays, and after
// their slots have been taken by others.
func TestCellMemoMatchesCell(t *testing.T) {
	vals := []string{
		`"short"`, `12`, `null`, `["a","b"]`,
		`[{"z":1,"a":"<b>&amp;","m":[3,2]},{"db":"x.mmdb","fields":["country"],"network":"1.0.0.0/24"}]`,
		`[{"db":"dbip-country.mmdb","sha256":"4e7f53dd9c6ebe0e7244d5dd4cc03639","fields":["country"],"network":"1.2.3.0/24"}]`,
		`["` + strings.Repeat(`\u00e9\"x`, 40) + `","=cmd|' /C calc'!A0"]`,
	}
	var m cellMemo
	check := func(raw string) {
		t.Helper()
		want := cell([]byte("prefix:"), []byte(raw))
		if got := m.cell([]byte("prefix:"), []byte(raw)); !bytes.Equal(got, want) {
			t.Fatalf("%s: memo %q, cell %q", raw, got, want)
		}
	}
	for range 3 {
		for _, v := range vals {
			check(v)
		}
	}
	// Enough distinct arrays to replace every slot several times, and
	// arrays past the longest kept.
	for i := range 4 * cellMemoSlots {
		check(fmt.Sprintf(`[{"i":%d,"pad":"%s"}]`, i, strings.Repeat("p", 200)))
	}
	check(`["` + strings.Repeat("x", cellMemoMax) + `"]`)
	// A cell longer than its array (escaped HTML characters) is not kept.
	long := `[{"a":"` + strings.Repeat("<", cellMemoMax/2) + `"}]`
	check(long)
	check(long)
	for _, v := range vals {
		check(v)
	}
}
