package report

import (
	"fmt"
	"strings"
	"unicode"
)

// TerminalSafe makes evidence text safe to print on a terminal: control
// characters (ESC sequences, CR, BEL...), bidirectional overrides and
// other invisible format characters are shown as \x.., \u.... or
// \U........ escapes, so an attacker's string can neither move the
// cursor nor reorder text.
func TerminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteString(`\ufffd`)
		case !needsEscape(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r) // \u with five digits would read as four and one
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
