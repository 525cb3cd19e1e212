package report

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian: apt-get install poppler-utils)", name)
	}
	return p
}

// TestPDFWithPoppler: every page renders to a non-blank image, and the
// text layer carries the section headings, the input hashes, Hangul and
// the footer.
func TestPDFWithPoppler(t *testing.T) {
	pdftotext := needTool(t, "pdftotext")
	pdftoppm := needTool(t, "pdftoppm")
	dir, _ := writeTestBundle(t, testCase(false), Options{Formats: []string{"pdf"}})
	pdf := filepath.Join(dir, FileReportPDF)

	out, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{
		"Evidence report", "1. Scope", "2. Summary of findings", "3. Evidence received", "4. Tools and reference data",
		"5. Method", "6. Map", "7. Timeline (UTC)", "8. Campaigns", "9. Relays", "10. Limitations",
		"Appendix A: link table", "Appendix D: custody log",
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		"김지우", "67%", "report.json SHA-256", "page 1 of",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}

	pngDir := t.TempDir()
	if out, err := exec.Command(pdftoppm, "-r", "30", "-png", pdf, filepath.Join(pngDir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(pngDir, "p-*.png"))
	if len(pages) < 4 {
		t.Fatalf("%d pages rendered", len(pages))
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if dark := inkShare(img); dark < 0.002 {
			t.Errorf("%s is blank (%.4f of pixels inked)", filepath.Base(p), dark)
		}
	}
}

// inkShare is the share of pixels that are not near-white.
func inkShare(img image.Image) float64 {
	b := img.Bounds()
	n, ink := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			n++
			if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(n)
}

func TestPDFHostileAndEmpty(t *testing.T) {
	for _, hostileText := range []bool{true, false} {
		c := testCase(hostileText)
		if !hostileText {
			c.Flows, c.Events, c.Sessions, c.Campaigns, c.Chains, c.Inputs, c.Problems, c.Caps, c.Databases = nil, nil, nil, nil, nil, nil, nil, nil, nil
		}
		// Characters outside the font and astral ones must not break fpdf.
		c.Examiner += " 中文 🙂 \U0010FFFF \xff"
		dir, _ := writeTestBundle(t, c, Options{Formats: []string{"pdf"}})
		data, err := os.ReadFile(filepath.Join(dir, FileReportPDF))
		if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
			t.Fatalf("no PDF: %v", err)
		}
		if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
			out, err := exec.Command(pdftotext, filepath.Join(dir, FileReportPDF), "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			if !strings.Contains(string(out), "U+1F642") || !strings.Contains(string(out), "U+4E2D") {
				t.Errorf("uncovered characters not shown as markers")
			}
			if hostileText && !strings.Contains(string(out), "U+202E") {
				t.Errorf("bidi override not shown as a marker")
			}
		}
	}
}
