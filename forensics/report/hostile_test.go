package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHostileStrings: the payloads reach every format as data. CSV cells
// are neutralized, JSON keeps them raw, HTML and the drawings escape them
// and show control characters as markers.
func TestHostileStrings(t *testing.T) {
	dir, _ := writeTestBundle(t, testCase(true), Options{})
	files := readDir(t, dir)

	t.Run("csv", func(t *testing.T) {
		seen := 0
		for name, data := range files {
			if filepath.Ext(name) != ".csv" {
				continue
			}
			r := csv.NewReader(bytes.NewReader(data))
			r.FieldsPerRecord = -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i, row := range rows {
				for j, cell := range row {
					if cell == "" {
						continue
					}
					switch cell[0] {
					case '=', '@', '\t', '\r', 0:
						t.Errorf("%s row %d col %d: formula cell %q", name, i, j, cell)
					case '+', '-':
						if _, err := strconv.ParseFloat(cell, 64); err != nil {
							t.Errorf("%s row %d col %d: formula cell %q", name, i, j, cell)
						}
					}
					if strings.HasPrefix(cell, "'=HYPERLINK(") || strings.HasPrefix(cell, "'+cmd|") || strings.HasPrefix(cell, "'@SUM") {
						seen++
					}
				}
			}
		}
		if seen == 0 {
			t.Errorf("no neutralized payload found in any CSV: the test case does not reach the CSVs")
		}
	})

	t.Run("json raw", func(t *testing.T) {
		var doc Document
		if err := json.Unmarshal(files[FileReportJSON], &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Case.Campaigns[0].Label != strings.Join(hostile, " ") {
			t.Errorf("campaign label not kept raw: %q", doc.Case.Campaigns[0].Label)
		}
		if !bytes.Contains(files[FileReportJSON], []byte(`<script>alert(1)</script>`)) {
			t.Errorf("report.json escapes HTML: it must stay the raw evidential form")
		}
		if doc.Case.Events[0].Path != hostile[0] {
			t.Errorf("event path %q", doc.Case.Events[0].Path)
		}
	})

	t.Run("html bytes", func(t *testing.T) {
		h := string(files[FileReportHTML])
		for _, bad := range []string{"<script>alert", "<img", "<svg onload", "</script><script>", "\u202e", "\u2066", "\x1b", "\r"} {
			if strings.Contains(h, bad) {
				t.Errorf("report.html contains raw %q", bad)
			}
		}
		if strings.Count(h, "<script>") != 1 {
			t.Errorf("report.html has %d script elements, want 1", strings.Count(h, "<script>"))
		}
		if !strings.Contains(h, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("payload not shown escaped")
		}
	})

	t.Run("stix", func(t *testing.T) {
		for _, e := range checkSTIX(t, files[FileSTIX]) {
			t.Error(e)
		}
	})
}

func TestVisible(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "abc 김지우", "abc 김지우"},
		{"bidi", "a\u202eb", "a⟨U+202E⟩b"},
		{"isolate", "\u2066x\u2069", "⟨U+2066⟩x⟨U+2069⟩"},
		{"escape", "\x1b[31m", "⟨ESC⟩[31m"},
		{"c1", "\u009b", "⟨U+009B⟩"},
		{"zero width", "a\u200bb\ufeff", "a⟨U+200B⟩b⟨U+FEFF⟩"},
		{"invalid utf8", "a\xffb", "a⟨0xFF⟩b"},
		{"newline tab", "a\nb\tc\r", "a⟨LF⟩b⟨TAB⟩c⟨CR⟩"},
		{"nul", "\x00", "⟨U+0000⟩"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := visibleString(tc.in); got != tc.want {
				t.Errorf("visibleString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzVisible(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("\xf0\x9f\x99")
	f.Fuzz(func(t *testing.T, s string) {
		v := visibleString(s)
		for _, r := range v {
			if _, ctl := controlName(r); ctl {
				t.Fatalf("control %U survives in %q", r, v)
			}
		}
		p := pdfText(s)
		for _, r := range p {
			if !covered(r) {
				t.Fatalf("uncovered %U in pdf text %q", r, p)
			}
		}
	})
}

// FuzzVerify: whatever the bundle files contain, Verify never panics and
// never passes a bundle whose bytes were changed.
func FuzzVerify(f *testing.F) {
	f.Add(0, 0, byte(1))
	f.Add(3, 100, byte(0x80))
	base := f.TempDir()
	src := filepath.Join(base, "src")
	if _, err := WriteBundle(t0ctx(), testCase(false), Options{OutDir: src, ReportTime: pinned, Formats: []string{"json", "csv"}}); err != nil {
		f.Fatal(err)
	}
	orig := map[string][]byte{}
	ents, _ := os.ReadDir(src)
	var names []string
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		orig[e.Name()] = b
		names = append(names, e.Name())
	}
	f.Fuzz(func(t *testing.T, file, pos int, x byte) {
		if x == 0 || len(names) == 0 {
			return
		}
		name := names[abs(file)%len(names)]
		data := bytes.Clone(orig[name])
		pos = abs(pos) % len(data)
		data[pos] ^= x
		dir := t.TempDir()
		for n, b := range orig {
			os.WriteFile(filepath.Join(dir, n), b, 0o644)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		res, err := Verify(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() {
			t.Fatalf("byte %d of %s changed (^%#x), verify passed", pos, name, x)
		}
	})
}

func abs(i int) int {
	if i < 0 {
		if i == -i { // min int
			return 0
		}
		return -i
	}
	return i
}

// FuzzRender: any text in the case renders in every format without a
// panic, the HTML keeps its single script, and verify passes.
func FuzzRender(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[(i+1)%len(hostile)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		c := testCase(false)
		c.ID, c.Examiner = a, b
		c.Campaigns[0].Label = a + b
		c.Campaigns[0].Links[0].Reason = b
		c.Events[0].UserAgent, c.Events[0].Path = a, b
		c.Sessions[0].Indicators.UserAgent = b
		c.Inputs[1].Path = a
		c.Problems[0].Reason = b
		dir := filepath.Join(t.TempDir(), "out")
		// The PDF is left out for speed: its text goes through pdfText, which
		// FuzzVisible covers.
		if _, err := WriteBundle(t0ctx(), c, Options{OutDir: dir, ReportTime: pinned, Organisation: a, Formats: []string{"html", "json", "csv", "stix"}}); err != nil {
			t.Fatal(err)
		}
		h, _ := os.ReadFile(filepath.Join(dir, FileReportHTML))
		if n := bytes.Count(h, []byte("<script")); n != 1 {
			t.Fatalf("%d script tags", n)
		}
		if res, err := Verify(dir, ""); err != nil || !res.OK() {
			t.Fatalf("verify: %v %+v", err, res.Failures())
		}
	})
}
