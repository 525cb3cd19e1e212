package logs

import (
	"strings"
	"testing"
)

// A log whose first line is cut (rotation by copytruncate leaves a hole
// of NULs and half a line) or garbage is still recognized by the lines
// after it; text with one log-like line among others is not a log.
func TestDetectPastABadFirstLine(t *testing.T) {
	combined := `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"` + "\n"
	ecs := `{"@timestamp":"2025-01-01T00:00:00Z","source":{"ip":"1.2.3.4"}}` + "\n"
	alb := `https 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:2817 10.0.0.1:80 0 0 0 200 200 0 57 "GET https://x:443/ HTTP/1.1" "ua" - -` + "\n"
	sshd := "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n"
	for _, c := range []struct{ name, head, want string }{
		{"NUL hole and cut line, then combined", "\x00\x00\x00\x00ial line\" 200 12 \"-\" \"x\"\n" + strings.Repeat(combined, 3), FormatCombined},
		{"garbage, then JSON lines", "garbage{\n" + strings.Repeat(ecs, 3), FormatJSONL},
		{"garbage, then ALB", "%%%\n" + strings.Repeat(alb, 2), FormatALB},
		{"one good line after garbage", "???\n" + combined, FormatCombined},
		{"first line decides when recognized", combined + strings.Repeat("???\n", 5), FormatCombined},
		{"text with one syslog-like line", "notes\nmore notes\n" + sshd + "and more\nthe end\n", ""},
		{"only NULs", "\x00\x00\x00\x00", ""},
		{"garbage only", "???\n!!!\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Detect([]byte(c.head)); got != c.want {
				t.Errorf("Detect = %q, want %q", got, c.want)
			}
		})
	}
}
