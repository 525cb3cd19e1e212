package hive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

var (
	typeAddr   = reflect.TypeFor[netip.Addr]()
	typePrefix = reflect.TypeFor[netip.Prefix]()
	// typeSources is written as the list it holds.
	typeSources = reflect.TypeFor[enrich.Sources]()
	typeFTime   = reflect.TypeFor[forensics.Time]()
	typeTime    = reflect.TypeFor[time.Time]()
)

// fill sets every field reachable from v to a non-zero value that
// depends on seed and the field's path, so a column swapped for another
// or left out shows in the comparison.
func fill(v reflect.Value, path string, seed int) {
	switch v.Type() {
	case typeAddr:
		v.Set(reflect.ValueOf(netip.AddrFrom4([4]byte{10, byte(seed), byte(len(path)), 1})))
		return
	case typePrefix:
		v.Set(reflect.ValueOf(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(seed), 0, 0}), 16)))
		return
	case typeFTime:
		v.Set(reflect.ValueOf(forensics.NewTime(time.Date(2025, 6, 24+seed%2, 1, 2, 3, 456789000+len(path), time.UTC))))
		return
	case typeSources:
		var list []enrich.Source
		fill(reflect.ValueOf(&list).Elem(), path, seed)
		v.Set(reflect.ValueOf(enrich.MakeSources(list)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d \"x\"", path, seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(len(path) + seed))
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(len(path) + seed))
	case reflect.Float64:
		v.SetFloat(float64(len(path)) + 0.25)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), path, seed)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), path+"[0]", seed)
		fill(s.Index(1), path+"[1]", seed+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i, k := range []string{"b-key", "a-key"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, path+k, seed+i)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name, seed)
			}
		}
	default:
		panic("fill: unhandled " + v.Type().String())
	}
}

// rowValue is a row read back, as JSON would hold it: columns by name,
// nulls left out, timestamps (int64 microseconds) in forensics.TimeLayout.
func rowValue(v reflect.Value, optional bool) (any, bool) {
	return rowValueTS(v, optional, false)
}

func rowValueTS(v reflect.Value, optional, ts bool) (any, bool) {
	if optional && v.IsZero() {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Pointer:
		return rowValueTS(v.Elem(), false, ts)
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			tag := strings.Split(v.Type().Field(i).Tag.Get("parquet"), ",")
			if x, ok := rowValueTS(v.Field(i), slices.Contains(tag[1:], "optional"), slices.Contains(tag[1:], "timestamp(microsecond)")); ok {
				out[tag[0]] = x
			}
		}
		return out, true
	case reflect.Slice:
		out := []any{}
		for i := range v.Len() {
			x, _ := rowValueTS(v.Index(i), false, false)
			out = append(out, x)
		}
		return out, true
	case reflect.Map:
		out := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			x, _ := rowValueTS(it.Value(), false, false)
			out[it.Key().String()] = x
		}
		return out, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int32, reflect.Int64:
		if ts {
			return time.UnixMicro(v.Int()).UTC().Format(forensics.TimeLayout), true
		}
		return float64(v.Int()), true
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float64:
		return v.Float(), true
	}
	panic("rowValue: unhandled " + v.Type().String())
}

func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return dropZeroTimes(out)
}

// dropZeroTimes removes the zero instant, which JSON writes and Parquet
// stores as null (no time known), and cuts times to the microseconds
// Parquet keeps.
func dropZeroTimes(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == "0001-01-01T00:00:00.000000000Z" {
				delete(v, k)
				continue
			}
			// TimeLayout ends in nine fraction digits and Z, whatever the
			// year (time.Parse takes no years beyond 9999 or before 0):
			// the last three digits go.
			if s, ok := x.(string); ok && (k == "time" || k == "start" || k == "end") && len(s) > 11 && s[len(s)-11] == '.' {
				v[k] = s[:len(s)-4] + "000Z"
				continue
			}
			v[k] = dropZeroTimes(x)
		}
	case []any:
		for i := range v {
			v[i] = dropZeroTimes(v[i])
		}
	}
	return v
}

func testMeta() Meta {
	return Meta{
		Tool:      forensics.ToolInfo{Name: "tracehop", Version: "test", Commit: "abc123"},
		Inputs:    []forensics.Input{{Path: "logs/a.log", Size: 10, SHA256: strings.Repeat("ab", 32), Records: 3}},
		Databases: []enrich.DatabaseInfo{{Name: "embedded-asn", Type: "GeoLite2-ASN", Build: "2025-01-01", SHA256: strings.Repeat("cd", 32)}},
		Params:    map[string]string{"tz": "UTC"},
	}
}

// readTable reads every file the manifest lists, in manifest order.
func readTable[R any](t *testing.T, dir string, m *Manifest) []R {
	t.Helper()
	var out []R
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
			t.Errorf("%s: manifest size/hash do not match the file", f.Path)
		}
		rows, err := parquet.Read[R](bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if int64(len(rows)) != f.Rows {
			t.Errorf("%s: %d rows, manifest says %d", f.Path, len(rows), f.Rows)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"tracehop.table", "tracehop.tool", "tracehop.inputs", "tracehop.databases"} {
			if v, ok := pf.Lookup(k); !ok || v == "" {
				t.Errorf("%s: no %s metadata", f.Path, k)
			}
		}
		if v, _ := pf.Lookup("tracehop.inputs"); !strings.Contains(v, strings.Repeat("ab", 32)) {
			t.Errorf("%s: tracehop.inputs lacks the input's SHA-256: %s", f.Path, v)
		}
		out = append(out, rows...)
	}
	return out
}

// writeEvents writes events into a new table and reads its rows back, in
// manifest order, with the manifest.
func writeEvents(t *testing.T, events []forensics.Event) ([]eventRow, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	w, err := NewEvents(dir, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := w.Add(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return readTable[eventRow](t, dir, m), m
}

// TestRoundTrip writes records with every field set (and one with none),
// reads the files back and compares each row with the record's JSON
// form, column by column.
func TestRoundTrip(t *testing.T) {
	var events []forensics.Event
	var flows []forensics.Flow
	var sessions []forensics.Session
	for seed := range 3 {
		var e forensics.Event
		fill(reflect.ValueOf(&e).Elem(), "event", seed)
		events = append(events, e)
		var f forensics.Flow
		fill(reflect.ValueOf(&f).Elem(), "flow", seed)
		flows = append(flows, f)
		var s forensics.Session
		fill(reflect.ValueOf(&s).Elem(), "session", seed)
		sessions = append(sessions, s)
	}
	// A record with only the required fields, and no time.
	events = append(events, forensics.Event{ID: "ev-empty", SourceKind: "web"})
	flows = append(flows, forensics.Flow{ID: "fl-empty", Proto: "tcp", SrcIP: netip.MustParseAddr("::1"), DstIP: netip.MustParseAddr("::2")})
	sessions = append(sessions, forensics.Session{ID: "se-empty", Kind: "web", SrcIP: netip.MustParseAddr("192.0.2.1")})

	t.Run("events", func(t *testing.T) {
		roundTrip[forensics.Event, eventRow](t, events, func(dir string) (tableWriter[forensics.Event], error) { return NewEvents(dir, testMeta()) })
	})
	t.Run("flows", func(t *testing.T) {
		roundTrip[forensics.Flow, flowRow](t, flows, func(dir string) (tableWriter[forensics.Flow], error) { return NewFlows(dir, testMeta()) })
	})
	t.Run("sessions", func(t *testing.T) {
		roundTrip[forensics.Session, sessionRow](t, sessions, func(dir string) (tableWriter[forensics.Session], error) { return NewSessions(dir, testMeta()) })
	})
}

// tableWriter is what Events, Flows and Sessions have in common.
type tableWriter[T any] interface {
	Add(*T) error
	Close() (*Manifest, error)
}

// roundTrip writes records (three filled ones, seeds 0-2, then one
// without a time) into a new table, reads it back as rows of type R and
// compares each row with its record's JSON, column by column, and the
// partitions with what the times give.
func roundTrip[T, R any](t *testing.T, records []T, open func(dir string) (tableWriter[T], error)) {
	t.Helper()
	dir := t.TempDir()
	w, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []any
	for i := range records {
		if err := w.Add(&records[i]); err != nil {
			t.Fatal(err)
		}
		want = append(want, jsonValue(t, &records[i]))
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, r := range readTable[R](t, dir, m) {
		v, _ := rowValue(reflect.ValueOf(r), false)
		got = append(got, v)
	}
	// fill gives seeds 0 and 2 the 24th and seed 1 the 25th: the day seen
	// again gets a second part file, listed before the 25th.
	want = reorder(want, []int{0, 2, 1, 3})
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			gj, _ := json.Marshal(got[i])
			wj, _ := json.Marshal(want[i])
			t.Errorf("row %d:\n got %s\nwant %s", i, gj, wj)
		}
	}
	var dates []string
	for _, f := range m.Files {
		dates = append(dates, f.Date)
	}
	if want := []string{"2025-06-24", "2025-06-24", "2025-06-25", NullPartition}; !slices.Equal(dates, want) {
		t.Errorf("partitions %v, want %v", dates, want)
	}
}

// reorder is want in the order the manifest lists the files (by path):
// the two parts of the 24th, then the 25th, then the null partition.
func reorder(want []any, idx []int) []any {
	out := make([]any, len(idx))
	for i, j := range idx {
		out[i] = want[j]
	}
	return out
}

// TestRowsCoverRecords: every JSON field of the records, at every level,
// has a column of the same name, and no column is extra.
func TestRowsCoverRecords(t *testing.T) {
	pairs := []struct{ record, row reflect.Type }{
		{reflect.TypeFor[forensics.Event](), reflect.TypeFor[eventRow]()},
		{reflect.TypeFor[forensics.Flow](), reflect.TypeFor[flowRow]()},
		{reflect.TypeFor[forensics.Session](), reflect.TypeFor[sessionRow]()},
	}
	for _, p := range pairs {
		if got, want := names(p.row, "parquet"), names(p.record, "json"); !slices.Equal(got, want) {
			t.Errorf("%s columns:\n got %v\nwant %v", p.row, got, want)
		}
	}
}

// names lists the field names of rt by tag, nested ones as a.b.
func names(rt reflect.Type, tag string) []string {
	var out []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		if rt == typeSources {
			rt = reflect.TypeFor[enrich.Source]()
		}
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == typeAddr || rt == typePrefix || rt == typeFTime || rt == typeTime {
			return
		}
		for f := range rt.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
			if name == "" || name == "-" {
				continue
			}
			out = append(out, prefix+name)
			walk(f.Type, prefix+name+".")
		}
	}
	walk(rt, "")
	slices.Sort(out)
	return out
}

// TestReproducible: the same rows give the same bytes, file for file.
func TestReproducible(t *testing.T) {
	write := func(dir string) {
		w, err := NewEvents(dir, testMeta())
		if err != nil {
			t.Fatal(err)
		}
		for seed := range 50 {
			var e forensics.Event
			fill(reflect.ValueOf(&e).Elem(), "event", seed/25)
			if err := w.Add(&e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	a, b := t.TempDir(), t.TempDir()
	write(a)
	write(b)
	sums := func(dir string) map[string]string {
		out := map[string]string{}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
			return nil
		})
		return out
	}
	sa, sb := sums(a), sums(b)
	if len(sa) != 4 || !reflect.DeepEqual(sa, sb) { // 2 parts, SHA256SUMS, manifest
		t.Errorf("two runs differ or files missing:\n%v\n%v", sa, sb)
	}
	sumsFile, err := os.ReadFile(filepath.Join(a, FileSums))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sumsFile)), "\n") {
		sum, name, _ := strings.Cut(line, "  ")
		if sa[filepath.FromSlash(name)] != sum {
			t.Errorf("SHA256SUMS line %q does not match the file", line)
		}
	}
}

// TestRefusesNonEmptyDir: rows of two runs never mix in one table.
func TestRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEvents(dir, testMeta()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a not-empty error", err)
	}
	// A table cut short (Abort) has no manifest.
	dir = filepath.Join(t.TempDir(), "new")
	w, err := NewEvents(dir, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(&forensics.Event{ID: "ev-1", SourceKind: "web"}); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := os.Stat(filepath.Join(dir, FileManifest)); !os.IsNotExist(err) {
		t.Errorf("aborted table has a manifest: %v", err)
	}
}

// TestInvalidUTF8: evidence strings that are not UTF-8 are stored as the
// JSON output has them (U+FFFD per bad byte): Parquet STRING columns must
// be UTF-8, and readers such as DuckDB refuse a file that breaks this.
func TestInvalidUTF8(t *testing.T) {
	e := forensics.Event{
		ID: "ev-1", SourceKind: "web", Time: forensics.NewTime(time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)),
		UserAgent: "a\xffb\xc3", Path: "/ok/é", Indicators: map[string]string{"k\xfe": "v\xff", "ok": "fine"},
		Flags: []string{"fine", "\xff\xfe"}, SrcGeo: &enrich.Record{IP: netip.MustParseAddr("192.0.2.7"), Class: "public", City: "M\xfcnchen", Sources: enrich.MakeSources([]enrich.Source{{DB: "d", Fields: []string{"x\xff"}}})},
	}
	rows, _ := writeEvents(t, []forensics.Event{e})
	got, _ := rowValue(reflect.ValueOf(rows[0]), false)
	if want := jsonValue(t, &e); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if val(rows[0].UserAgent) != "a\uFFFDb\uFFFD" {
		t.Errorf("user_agent %q", val(rows[0].UserAgent))
	}
}

// FuzzEventRoundTrip: for any evidence strings and numbers, the event read
// back from its Parquet file equals its JSON form, column by column.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("Mozilla/5.0 \"x\"", "/a?b=c", "k", "v", int64(200), uint16(443), int64(1752451200))
	f.Add("\xff\xfe\x00\x1b[31m", "\u202e", "", "\xc3", int64(-1), uint16(0), int64(0))
	f.Add("", "", "", "", int64(123456789), uint16(1), int64(-2e11))  // year -4400
	f.Add("", "", "", "", int64(999999999), uint16(1), int64(2.9e11)) // year 11000
	f.Fuzz(func(t *testing.T, ua, path, key, val string, n int64, port uint16, unix int64) {
		e := forensics.Event{
			ID: "ev-" + key, SourceKind: "web", TimeRaw: val, UserAgent: ua, Path: path, Bytes: n, Status: int(n % 1000),
			SrcPort: port, SrcIP: netip.AddrFrom4([4]byte{byte(port), 0, 2, 1}), Flags: []string{ua, val},
			Indicators: map[string]string{key: val},
			ProxyChain: []forensics.ProxyHop{{IP: path, Trusted: n%2 == 0}},
			Evidence:   forensics.EvidenceRef{File: path, SHA256: key, Line: uint64(port), Offset: n},
		}
		// Any seconds value maps into about ±9,500 years around 1970, so
		// the mutator reaches far times (forged logs do) as easily as near.
		if unix != 0 {
			e.Time = forensics.NewTime(time.Unix(unix%3e11, n%1e9))
		}
		rows, _ := writeEvents(t, []forensics.Event{e})
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		got, _ := rowValue(reflect.ValueOf(rows[0]), false)
		if want := jsonValue(t, &e); !reflect.DeepEqual(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
}

// TestFarTimes: times a forged log can carry, outside the 1677-2262 range
// of int64 nanoseconds, are stored exactly (to the microsecond) in their
// own day's partition.
func TestFarTimes(t *testing.T) {
	times := []time.Time{
		time.Date(1500, 3, 1, 12, 0, 0, 123456000, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	var events []forensics.Event
	for i, tm := range times {
		events = append(events, forensics.Event{ID: fmt.Sprint("ev-", i), SourceKind: "web", Time: forensics.NewTime(tm)})
	}
	rows, m := writeEvents(t, events)
	for i, r := range rows {
		if r.Time == nil || !time.UnixMicro(*r.Time).Equal(times[i]) || m.Files[i].Date != times[i].Format(time.DateOnly) {
			t.Errorf("row %d: %v in %s, want %v", i, time.UnixMicro(*r.Time).UTC(), m.Files[i].Date, times[i])
		}
	}
}

// TestVerify: an intact table passes; each kind of tampering fails its
// check, and a file that is not Parquet at all (manifest made to match)
// is reported, never a panic.
func TestVerify(t *testing.T) {
	write := func(t *testing.T) (string, *Manifest) {
		dir := filepath.Join(t.TempDir(), "table")
		w, err := NewEvents(dir, testMeta())
		if err != nil {
			t.Fatal(err)
		}
		for seed := range 3 {
			var e forensics.Event
			fill(reflect.ValueOf(&e).Elem(), "event", seed)
			if err := w.Add(&e); err != nil {
				t.Fatal(err)
			}
		}
		m, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		return dir, m
	}
	failed := func(t *testing.T, dir string) []string {
		t.Helper()
		if !IsTable(dir) {
			t.Fatal("not recognised as a table")
		}
		checks, err := Verify(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range checks {
			if !c.OK {
				out = append(out, c.File+": "+c.Detail)
			}
		}
		return out
	}
	rewriteManifest := func(t *testing.T, dir string, m *Manifest) {
		js, _ := json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, FileManifest), append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("intact", func(t *testing.T) {
		dir, _ := write(t)
		if f := failed(t, dir); len(f) > 0 {
			t.Errorf("intact table fails: %v", f)
		}
	})
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, dir string, m *Manifest)
		want   string
	}{
		{"byte changed", func(t *testing.T, dir string, m *Manifest) {
			p := filepath.Join(dir, m.Files[0].Path)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		}, "changed"},
		{"file added", func(t *testing.T, dir string, m *Manifest) {
			os.WriteFile(filepath.Join(dir, filepath.Dir(m.Files[0].Path), "part-00009.parquet"), []byte("x"), 0o644)
		}, "not in the manifest"},
		{"file removed", func(t *testing.T, dir string, m *Manifest) {
			os.Remove(filepath.Join(dir, m.Files[0].Path))
		}, "no such file"},
		{"rows edited", func(t *testing.T, dir string, m *Manifest) {
			m.Rows++
			rewriteManifest(t, dir, m)
		}, "the manifest says"},
		{"sums edited", func(t *testing.T, dir string, m *Manifest) {
			os.WriteFile(filepath.Join(dir, FileSums), []byte("x  y\n"), 0o644)
		}, "differs"},
		{"not parquet", func(t *testing.T, dir string, m *Manifest) {
			junk := []byte("PAR1 this is not a parquet file PAR1")
			p := filepath.Join(dir, m.Files[0].Path)
			os.WriteFile(p, junk, 0o644)
			sum := sha256.Sum256(junk)
			m.Files[0].Size, m.Files[0].SHA256 = int64(len(junk)), hex.EncodeToString(sum[:])
			rewriteManifest(t, dir, m)
		}, "not a readable Parquet file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, m := write(t)
			c.tamper(t, dir, m)
			f := failed(t, dir)
			if !strings.Contains(strings.Join(f, "\n"), c.want) {
				t.Errorf("failures %q, want one with %q", f, c.want)
			}
		})
	}
}

// TestReadSessions: sessions read back from their table equal the
// originals (times to the microsecond), and a table that fails
// verification or holds another record kind is refused.
func TestReadSessions(t *testing.T) {
	var sessions []forensics.Session
	for seed := range 3 {
		var s forensics.Session
		fill(reflect.ValueOf(&s).Elem(), "session", seed)
		sessions = append(sessions, s)
	}
	sessions = append(sessions, forensics.Session{ID: "se-empty", Kind: "web", SrcIP: netip.MustParseAddr("192.0.2.1")})
	dir := filepath.Join(t.TempDir(), "sessions")
	w, err := NewSessions(dir, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	for i := range sessions {
		if err := w.Add(&sessions[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []any
	m, err := ReadSessions(dir, func(s *forensics.Session) error {
		got = append(got, jsonValue(t, s))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].SHA256 != strings.Repeat("ab", 32) {
		t.Errorf("manifest inputs %+v", m.Inputs)
	}
	var want []any
	for i := range sessions {
		want = append(want, jsonValue(t, &sessions[i]))
	}
	want = reorder(want, []int{0, 2, 1, 3}) // manifest (partition) order
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("read back:\n got %s\nwant %s", gj, wj)
	}

	events := filepath.Join(t.TempDir(), "events")
	ew, err := NewEvents(events, testMeta())
	if err != nil {
		t.Fatal(err)
	}
	ew.Add(&forensics.Event{ID: "ev-1", SourceKind: "web"})
	ew.Close()
	if _, err := ReadSessions(events, func(*forensics.Session) error { return nil }); err == nil || !strings.Contains(err.Error(), "not sessions") {
		t.Errorf("events table read as sessions: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "extra"), nil, 0o644)
	if _, err := ReadSessions(dir, func(*forensics.Session) error { return nil }); err == nil || !strings.Contains(err.Error(), "fails verification") {
		t.Errorf("tampered table read: %v", err)
	}
}

// FuzzReadSessions: a sessions table whose Parquet file is replaced by
// arbitrary bytes, its manifest and SHA256SUMS forged to match (what a
// tampered table handed over with a fresh manifest looks like), is read
// back with an error or with sessions, never a panic or a hang.
func FuzzReadSessions(f *testing.F) {
	dir := f.TempDir()
	var seed []byte
	{
		w, err := NewSessions(filepath.Join(dir, "seed"), testMeta())
		if err != nil {
			f.Fatal(err)
		}
		var s forensics.Session
		fill(reflect.ValueOf(&s).Elem(), "session", 0)
		w.Add(&s)
		m, err := w.Close()
		if err != nil {
			f.Fatal(err)
		}
		if seed, err = os.ReadFile(filepath.Join(dir, "seed", m.Files[0].Path)); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), "t")
		part := "date=2025-06-24/part-00000.parquet"
		if err := os.MkdirAll(filepath.Join(dir, "date=2025-06-24"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, part), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		// The row count the footer claims, if it has one, so that the
		// forged manifest passes verification and the rows are read.
		var rows int64
		func() {
			defer func() { recover() }()
			if pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data))); err == nil {
				rows = pf.NumRows()
			}
		}()
		m := Manifest{Schema: ManifestSchema, Table: "sessions", Inputs: []forensics.Input{}, Rows: rows,
			Files: []File{{Path: part, Date: "2025-06-24", Rows: rows, Size: int64(len(data)), SHA256: hexSum}}}
		js, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(dir, FileManifest), js, 0o644)
		os.WriteFile(filepath.Join(dir, FileSums), []byte(hexSum+"  "+part+"\n"), 0o644)
		n := 0
		ReadSessions(dir, func(*forensics.Session) error {
			n++
			return nil
		})
	})
}

// zeroSome clears, at random, fields reachable from v (pointers, slices,
// maps and scalars alike), so that rows mix nulls and values in every
// column.
func zeroSome(v reflect.Value, r *rand.Rand) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			zeroSome(v.Elem(), r)
		}
	case reflect.Struct:
		if v.Type() == typeFTime || v.Type() == typeAddr || v.Type() == typePrefix {
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			// Only what JSON may omit: a field it always writes is never
			// empty in a real record.
			tag := v.Type().Field(i).Tag.Get("json")
			if r.IntN(3) == 0 && (strings.Contains(tag, "omitempty") || strings.Contains(tag, "omitzero")) {
				f.SetZero()
				continue
			}
			zeroSome(f, r)
		}
	case reflect.Slice:
		for i := range v.Len() {
			zeroSome(v.Index(i), r)
		}
	}
}

// TestManyRowsMixedNulls: thousands of rows in one file, every column a
// random mix of values and nulls, read back equal to their JSON. One
// write of many rows is where parquet-go v0.32's value-typed optional
// fields lost nulls at the end of a batch (the sample case's case-file
// export showed three referrers as "" instead of null).
func TestManyRowsMixedNulls(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var events []forensics.Event
	for i := range 3000 {
		var e forensics.Event
		fill(reflect.ValueOf(&e).Elem(), "event", 0)
		zeroSome(reflect.ValueOf(&e).Elem(), r)
		e.ID = fmt.Sprintf("ev-%05d", i)
		e.Time = forensics.NewTime(time.Date(2025, 6, 24, 0, 0, i, 0, time.UTC))
		events = append(events, e)
	}
	rows, _ := writeEvents(t, events)
	bad := 0
	for i := range events {
		got, _ := rowValue(reflect.ValueOf(rows[i]), false)
		if want := jsonValue(t, &events[i]); !reflect.DeepEqual(got, want) {
			if bad < 3 {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				t.Errorf("row %d:\n got %s\nwant %s", i, gj, wj)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ", bad, len(events))
	}
}

// TestOptionalRuns: the referrer column of the sample case's case-file
// export for 2025-07-11 (x: a referrer, .: none), 463 rows in one write.
// With value-typed optional fields parquet-go v0.32 read the last three
// nulls back as "".
func TestOptionalRuns(t *testing.T) {
	const pattern = "xxxxxxxxx.....................xxxx............................................................................................................................................................................................................................................................................................x......x..............xx..xxxxxxxxxxxx.....xxxxx....................xxxxxxxxxx......xxxxxxxxx........xx..xxxx......xxxxx...xxxxxxxxxxx..xxxxxx..."
	day := time.Date(2025, 7, 11, 0, 0, 0, 0, time.UTC)
	var events []forensics.Event
	for i, c := range pattern {
		e := forensics.Event{ID: fmt.Sprintf("ev-%03d", i), SourceKind: "web", Time: forensics.NewTime(day.Add(time.Duration(i) * time.Second))}
		if c == 'x' {
			e.Referrer, e.Status, e.UserAgent = "https://www.victimshop.example/", 200, "ua"
		}
		events = append(events, e)
	}
	rows, _ := writeEvents(t, events)
	for i, r := range rows {
		if want := pattern[i] == 'x'; (r.Referrer != nil) != want || (r.Status != nil) != want || (r.UserAgent != nil) != want {
			t.Errorf("row %d: referrer %v, status %v, user_agent %v; want present=%v", i, r.Referrer != nil, r.Status != nil, r.UserAgent != nil, want)
		}
	}
}

// TestOptionalColumnsArePointers: no row type has a value-typed optional
// field (see TestOptionalRuns); lists and pointers only.
func TestOptionalColumnsArePointers(t *testing.T) {
	var walk func(rt reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for f := range rt.Fields() {
			tag := strings.Split(f.Tag.Get("parquet"), ",")
			if slices.Contains(tag[1:], "optional") && f.Type.Kind() != reflect.Pointer && f.Type.Kind() != reflect.Slice {
				t.Errorf("%s.%s: optional column of value type %s", rt.Name(), f.Name, f.Type)
			}
			walk(f.Type)
		}
	}
	for _, rt := range []reflect.Type{reflect.TypeFor[eventRow](), reflect.TypeFor[flowRow](), reflect.TypeFor[sessionRow]()} {
		walk(rt)
	}
}
