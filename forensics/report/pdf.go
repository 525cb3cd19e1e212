package report

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// pdfFontGz is Tracehop Sans KR: NanumGothic (SIL OFL 1.1) subset to
// Latin, punctuation, arrows and Hangul and renamed (make pdffont).
//
//go:embed assets/tracehop-sans-kr.ttf.gz
var pdfFontGz []byte

// pdfCovered lists the code points the embedded font was subset to (keep
// in step with PDFFONT_UNICODES in mk/report.mk). Anything else is printed
// as a ‹U+XXXX› marker: fpdf indexes its width table by rune and would
// otherwise print blanks or fail.
var pdfCovered = [][2]rune{
	{0x20, 0x7e}, {0xa0, 0x17f}, {0x2010, 0x2027}, {0x2030, 0x205e}, {0x2190, 0x2195},
	{0x2212, 0x2212}, {0x2022, 0x2022}, {0x2026, 0x2026}, {0x20ac, 0x20ac},
	{0x1100, 0x11ff}, {0x3130, 0x318f}, {0xac00, 0xd7a3},
}

func covered(r rune) bool {
	for _, rg := range pdfCovered {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// pdfText makes a string printable in the PDF: controls, bidi characters
// and invalid bytes become visible markers (as in the HTML), uncovered
// characters become ‹U+XXXX›, and very long values are cut.
func pdfText(s string) string {
	var sb strings.Builder
	n := 0
	for _, sg := range visible(s) {
		text := sg.Text
		if sg.Ctl {
			text = strings.NewReplacer("⟨", "‹", "⟩", "›").Replace(text)
		}
		for _, r := range text {
			if n >= maxPDFCell {
				sb.WriteString("… (cut; full value in report.json)")
				return sb.String()
			}
			n++
			if covered(r) {
				sb.WriteRune(r)
			} else {
				fmt.Fprintf(&sb, "‹U+%04X›", r)
			}
		}
	}
	return sb.String()
}

// maxPDFCell bounds one value in the PDF; report.json keeps it whole.
const maxPDFCell = 600

// PDF page geometry, mm.
const (
	pdfMargin = 15.0
	pdfPageW  = 210.0
	pdfPageH  = 297.0
	pdfBottom = 18.0
	pdfWidth  = pdfPageW - 2*pdfMargin
	pdfFont   = "tracehopsans"
)

type pdfR struct {
	f *fpdf.Fpdf
}

func renderPDF(b *bundle, v *view) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pdf: %v", r)
		}
	}()
	zr, err := gzip.NewReader(bytes.NewReader(pdfFontGz))
	if err != nil {
		return fmt.Errorf("pdf font: %w", err)
	}
	font, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("pdf font: %w", err)
	}
	digest := v.digest

	f := fpdf.New("P", "mm", "A4", "")
	// Reproducible bytes: sorted catalog and a fixed date (the PDF's own
	// dates are not the report time; that lives in manifest.json).
	f.SetCatalogSort(true)
	fixed := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	f.SetCreationDate(fixed)
	f.SetModificationDate(fixed)
	f.SetProducer("tracehop", false)
	f.SetCreator(toolString(v.Case.Tool), true)
	f.SetTitle(pdfText("tracehop evidence report "+v.CaseID), true)
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfBottom)
	f.AddUTF8FontFromBytes(pdfFont, "", font)
	f.AliasNbPages("{nb}")
	caseID := pdfText(clip(v.CaseID, 40))
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont(pdfFont, "", 6.5)
		f.SetTextColor(90, 100, 110)
		left := "tracehop evidence report"
		if caseID != "" {
			left += " · case " + caseID
		}
		f.CellFormat(pdfWidth/2, 3.5, left, "", 0, "L", false, 0, "")
		f.CellFormat(pdfWidth/2, 3.5, fmt.Sprintf("page %d of {nb}", f.PageNo()), "", 1, "R", false, 0, "")
		f.CellFormat(pdfWidth, 3.5, "report.json SHA-256 "+digest+" (listed in manifest.json)", "", 0, "L", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	figs, err := v.figures()
	if err != nil {
		return err
	}
	r := &pdfR{f: f}
	f.AddPage()
	for i, s := range v.sections(figs) {
		r.section(i, s)
	}
	if err := f.Error(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return err
	}
	return b.add(FileReportPDF, buf.Bytes())
}

func (r *pdfR) section(i int, s section) {
	f := r.f
	title := s.Title
	if i > 0 {
		title = fmt.Sprintf("%d. %s", i, s.Title)
		if f.GetY() > pdfPageH-pdfBottom-40 {
			f.AddPage()
		}
		f.Ln(4)
	}
	f.Bookmark(title, 0, -1)
	size := 14.0
	if i == 0 {
		size = 20
	}
	f.SetFont(pdfFont, "", size)
	f.SetTextColor(10, 30, 60)
	f.MultiCell(0, size*0.5, title, "", "L", false)
	f.SetTextColor(0, 0, 0)
	y := f.GetY() + 0.8
	f.SetDrawColor(27, 31, 36)
	f.SetLineWidth(0.4)
	f.Line(pdfMargin, y, pdfPageW-pdfMargin, y)
	f.SetLineWidth(0.2)
	f.Ln(2.5)
	for _, b := range s.Blocks {
		r.block(b)
	}
	if i == 0 {
		// The cover stands alone.
		f.AddPage()
	}
}

func (r *pdfR) block(b block) {
	f := r.f
	switch b.Kind {
	case blockPara:
		f.SetFont(pdfFont, "", 9)
		f.MultiCell(0, 4.3, pdfText(b.Text), "", "L", false)
		f.Ln(1.5)
	case blockNote:
		f.SetFont(pdfFont, "", 8)
		f.SetTextColor(90, 100, 110)
		f.MultiCell(0, 3.8, pdfText(b.Text), "", "L", false)
		f.SetTextColor(0, 0, 0)
		f.Ln(1.5)
	case blockHeading:
		if f.GetY() > pdfPageH-pdfBottom-25 {
			f.AddPage()
		}
		f.Ln(1.5)
		f.SetFont(pdfFont, "", 11)
		f.SetTextColor(10, 30, 60)
		f.MultiCell(0, 5, pdfText(b.Text), "", "L", false)
		f.SetTextColor(0, 0, 0)
		f.Ln(0.5)
	case blockKV:
		t := &table{}
		for _, kv := range b.KV {
			t.Rows = append(t.Rows, []string{kv[0], kv[1]})
		}
		r.table(t, []float64{45, pdfWidth - 45}, 8)
	case blockTable:
		r.table(b.Table, nil, 6.5)
	case blockMap, blockTimeline:
		r.figure(b.Fig)
	}
}

// table draws t with wrapped cells, repeating the header on each page.
func (r *pdfR) table(t *table, widths []float64, size float64) {
	f := r.f
	f.SetFont(pdfFont, "", size)
	lineH := size * 0.42
	ncol := len(t.Header)
	for _, row := range t.Rows {
		ncol = max(ncol, len(row))
	}
	if ncol == 0 {
		return
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return pdfText(row[i])
		}
		return ""
	}
	if widths == nil {
		widths = r.columnWidths(t, ncol, cell)
	}
	drawRow := func(row []string, header bool) {
		lines := make([][]string, ncol)
		n := 1
		for i := range ncol {
			lines[i] = f.SplitText(cell(row, i), widths[i])
			n = max(n, len(lines[i]))
		}
		// A row never runs longer than most of a page.
		maxLines := int((pdfPageH - pdfBottom - 2*pdfMargin - 20) / lineH)
		if n > maxLines {
			n = maxLines
		}
		h := float64(n)*lineH + 1.2
		if f.GetY()+h > pdfPageH-pdfBottom {
			f.AddPage()
			if !header && len(t.Header) > 0 {
				r.headerRow(t.Header, widths, lineH, ncol, cell)
			}
		}
		x, y := pdfMargin, f.GetY()
		for i := range ncol {
			if header {
				f.SetFillColor(238, 241, 244)
				f.Rect(x, y, widths[i], h, "FD")
			} else {
				f.Rect(x, y, widths[i], h, "D")
			}
			for k, line := range lines[i] {
				if k == n {
					break
				}
				f.Text(x+0.8, y+0.6+lineH*float64(k+1)-lineH*0.22, line)
			}
			x += widths[i]
		}
		f.SetXY(pdfMargin, y+h)
	}
	f.SetDrawColor(200, 207, 214)
	f.SetLineWidth(0.15)
	if len(t.Header) > 0 {
		if f.GetY()+3*lineH > pdfPageH-pdfBottom {
			f.AddPage()
		}
		drawRow(t.Header, true)
	}
	for _, row := range t.Rows {
		drawRow(row, false)
	}
	if t.Cut > 0 {
		f.SetFont(pdfFont, "", 7.5)
		f.MultiCell(0, 3.5, fmt.Sprintf("%d more rows are in the CSV files and report.json.", t.Cut), "", "L", false)
	}
	f.Ln(2.5)
}

func (r *pdfR) headerRow(h []string, widths []float64, lineH float64, ncol int, cell func([]string, int) string) {
	f := r.f
	x, y := pdfMargin, f.GetY()
	n := 1
	lines := make([][]string, ncol)
	for i := range ncol {
		lines[i] = f.SplitText(cell(h, i), widths[i])
		n = max(n, len(lines[i]))
	}
	hh := float64(n)*lineH + 1.2
	for i := range ncol {
		f.SetFillColor(238, 241, 244)
		f.Rect(x, y, widths[i], hh, "FD")
		for k, line := range lines[i] {
			f.Text(x+0.8, y+0.6+lineH*float64(k+1)-lineH*0.22, line)
		}
		x += widths[i]
	}
	f.SetXY(pdfMargin, y+hh)
}

// figure draws a map or timeline as vector graphics at page width.
func (r *pdfR) figure(fig *figure) {
	if fig == nil {
		return
	}
	f := r.f
	k := pdfWidth / fig.W
	h := fig.H * k
	if f.GetY()+h > pdfPageH-pdfBottom {
		f.AddPage()
	}
	x0, y0 := pdfMargin, f.GetY()
	P := func(p pt) fpdf.PointType { return fpdf.PointType{X: x0 + p.X*k, Y: y0 + p.Y*k} }
	f.SetDrawColor(208, 215, 222)
	f.SetLineWidth(0.2)
	f.Rect(x0, y0, pdfWidth, h, "D")
	f.ClipRect(x0, y0, pdfWidth, h, false)

	f.SetDrawColor(184, 192, 200)
	f.SetLineWidth(0.08)
	fills := map[string][3]int{"act1": {253, 226, 200}, "act2": {249, 184, 131}, "act3": {239, 138, 71}, "act4": {212, 88, 28}}
	for _, poly := range fig.Polys {
		c, ok := fills[poly.Class]
		if !ok {
			c = [3]int{227, 231, 235}
		}
		f.SetFillColor(c[0], c[1], c[2])
		for _, ring := range poly.Rings {
			pts := make([]fpdf.PointType, len(ring))
			for i, p := range ring {
				pts[i] = P(p)
			}
			f.Polygon(pts, "FD")
		}
	}
	for _, l := range fig.Lines {
		switch l.Class {
		case "hop":
			f.SetDrawColor(209, 73, 91)
			f.SetLineWidth(0.5)
			f.SetDashPattern([]float64{1.5, 0.8}, 0)
		default:
			f.SetDrawColor(225, 229, 234)
			f.SetLineWidth(0.15)
		}
		for i := 1; i < len(l.Points); i++ {
			a, b := P(l.Points[i-1]), P(l.Points[i])
			f.Line(a.X, a.Y, b.X, b.Y)
		}
		f.SetDashPattern(nil, 0)
	}
	for _, c := range fig.Circles {
		rgb := map[string][3]int{"src": {11, 92, 173}, "campaign": {200, 87, 27}, "relay": {164, 36, 59}, "target": {46, 139, 87}}[c.Class]
		p := P(pt{c.X, c.Y})
		f.SetFillColor(rgb[0], rgb[1], rgb[2])
		f.SetDrawColor(rgb[0], rgb[1], rgb[2])
		f.SetAlpha(0.25, "Normal")
		f.Circle(p.X, p.Y, c.R*k, "F")
		f.SetAlpha(1, "Normal")
		f.SetLineWidth(0.25)
		f.Circle(p.X, p.Y, c.R*k, "D")
	}
	f.SetFillColor(11, 92, 173)
	for _, rc := range fig.Rects {
		p := P(pt{rc.X, rc.Y})
		f.Rect(p.X, p.Y, math.Max(rc.W*k, 0.3), rc.H*k, "F")
	}
	for _, t := range fig.Texts {
		size := 20.0
		if t.Class == "axis" {
			size = 18
		}
		f.SetFont(pdfFont, "", size*k*72/25.4)
		if t.Class == "axis" {
			f.SetTextColor(91, 101, 112)
		}
		s := pdfText(t.Text)
		w := f.GetStringWidth(s)
		p := P(pt{t.X, t.Y})
		switch t.Anchor {
		case "middle":
			p.X -= w / 2
		case "end":
			p.X -= w
		}
		f.Text(p.X, p.Y, s)
		f.SetTextColor(0, 0, 0)
	}
	f.ClipEnd()
	f.SetXY(pdfMargin, y0+h+2)
}

// columnWidths fits a table to the page: each column gets its natural
// width (header and first rows, capped), never less than the longest
// header word; when the sum is too wide, free-text columns give way
// first, so hashes and addresses (Mono columns) stay on one line.
func (r *pdfR) columnWidths(t *table, ncol int, cell func([]string, int) string) []float64 {
	f := r.f
	natural := make([]float64, ncol)
	minw := make([]float64, ncol)
	mono := func(i int) bool { return i < len(t.Mono) && t.Mono[i] }
	for i := range ncol {
		w := f.GetStringWidth(cell(t.Header, i)) + 2
		word := 0.0 // longest word of the cells, so numbers never split
		for j, row := range t.Rows {
			if j == 100 {
				break
			}
			w = max(w, f.GetStringWidth(cell(row, i))+2)
			for wd := range strings.FieldsSeq(cell(row, i)) {
				word = max(word, f.GetStringWidth(wd)+2)
			}
		}
		limit := 60.0
		if mono(i) {
			limit = 90
		}
		hw := 8.0
		for word := range strings.FieldsSeq(cell(t.Header, i)) {
			hw = max(hw, f.GetStringWidth(word)+2)
		}
		minw[i] = max(hw, min(word, 22))
		natural[i] = math.Max(math.Min(w, limit), hw)
	}
	sum, flex := 0.0, 0.0
	for i, w := range natural {
		sum += w
		if !mono(i) {
			flex += w - minw[i]
		}
	}
	widths := slices.Clone(natural)
	switch over := sum - pdfWidth; {
	case over <= 0:
		for i := range widths {
			widths[i] *= pdfWidth / sum
		}
	case flex >= over:
		for i := range widths {
			if !mono(i) && flex > 0 {
				widths[i] -= over * (natural[i] - minw[i]) / flex
			}
		}
	default:
		// Free text at its minimum; the fixed-width columns share the rest.
		fixed, monoSum := 0.0, 0.0
		for i := range widths {
			if mono(i) {
				monoSum += natural[i]
			} else {
				widths[i] = minw[i]
				fixed += minw[i]
			}
		}
		if rest := pdfWidth - fixed; rest > 0 && monoSum > 0 {
			for i := range widths {
				if mono(i) {
					widths[i] = natural[i] * rest / monoSum
				}
			}
		} else {
			total := fixed + monoSum
			for i := range widths {
				widths[i] *= pdfWidth / total
			}
		}
	}
	return widths
}
