package report

import "testing"

// TestTerminalSafeAndCSVCell: what a terminal line and a CSV cell make of
// control, invisible and formula-starting text.
func TestTerminalSafeAndCSVCell(t *testing.T) {
	for _, c := range []struct{ in, term, cell string }{
		{"plain é 中", "plain é 中", "plain é 中"},
		{"", "", ""},
		{"\x1b[31mred", `\x1b[31mred`, `\x1b[31mred`},
		{"a\u009bb", `a\x9bb`, `a\x9bb`},
		{"\u202eexe.gnp", `\u202eexe.gnp`, `\u202eexe.gnp`},
		{"tag\U000E0041", `tag\U000e0041`, `tag\U000e0041`},
		{"bad \ufffd", `bad \ufffd`, `bad \ufffd`},
		{"two\nlines\r\ttab", `two\x0alines\x0d\x09tab`, `two\x0alines\x0d\x09tab`},
		{"=1+1", "=1+1", "'=1+1"},
		{"+cmd", "+cmd", "'+cmd"},
		{"-3", "-3", "-3"},
		{"@SUM(A1)", "@SUM(A1)", "'@SUM(A1)"},
		{"\t=1+1", `\x09=1+1`, `\x09=1+1`},
		{"\x00=1", `\x00=1`, `\x00=1`},
	} {
		if got := TerminalSafe(c.in); got != c.term {
			t.Errorf("TerminalSafe(%q) = %q, want %q", c.in, got, c.term)
		}
		if got := CSVCell(c.in); got != c.cell {
			t.Errorf("CSVCell(%q) = %q, want %q", c.in, got, c.cell)
		}
		if got := string(appendCSVCell(nil, []byte(c.in))); got != string(appendCSVField(nil, []byte(c.cell))) {
			t.Errorf("appendCSVCell(%q) = %q, want the field of %q", c.in, got, c.cell)
		}
	}
}
