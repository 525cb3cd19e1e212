package logs

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// Detect names the format of a log from its first bytes (a few KiB are
// plenty), or returns "" when it recognizes none. Header directives
// decide at once; otherwise the first non-empty, non-comment line does.
// When that line is not recognized (a line cut by rotation, often after
// a hole of NULs, or garbage an attacker wrote first), the next lines
// vote, and a format recognized in at least half of them wins: one bad
// line must not hide a whole log. It is pure and cheap so evidence
// sniffing can call it on every input.
func Detect(head []byte) string {
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	head = bytes.TrimLeft(head, "\x00")
	const sample = 8
	var votes []string // detected format of each sampled line ("" none)
	for len(head) > 0 && len(votes) < sample {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s := string(line)
		if strings.HasPrefix(s, "#") {
			switch {
			case strings.HasPrefix(s, "#fields\t") || strings.HasPrefix(s, "#separator "):
				return FormatZeekTSV
			case strings.HasPrefix(s, "#Fields:"):
				if strings.Contains(s, "x-edge-location") {
					return FormatCloudFront
				}
				return FormatW3C
			}
			continue
		}
		f := detectLine(s)
		if len(votes) == 0 && f != "" {
			return f
		}
		votes = append(votes, f)
	}
	if len(votes) < 2 {
		return ""
	}
	// The first line was not recognized: the rest vote.
	rest := votes[1:]
	best, bestN := "", 0
	for i, f := range rest {
		if f == "" || slices.Contains(rest[:i], f) {
			continue
		}
		if n := countOf(rest, f); n > bestN {
			best, bestN = f, n
		}
	}
	if bestN*2 < len(rest) {
		return ""
	}
	return best
}

func countOf(fs []string, f string) int {
	n := 0
	for _, g := range fs {
		if g == f {
			n++
		}
	}
	return n
}

// detectLine names the format of one log line, or "".
func detectLine(first string) string {
	switch {
	case first[0] == '{':
		switch {
		case strings.Contains(first, `"event_type"`):
			return FormatSuricataEVE
		case strings.Contains(first, `"id.orig_h"`) || (strings.Contains(first, `"uid"`) && strings.Contains(first, `"orig_h"`)):
			return FormatZeekJSON
		}
		return FormatJSONL
	case looksCSVFlowHeader(first):
		return flowCSVKind(first)
	case looksSyslog(first):
		return FormatSSHD
	case looksALB(first):
		if _, _, ok := parseISOTime(firstField(first), time.UTC); ok {
			return FormatELB
		}
		return FormatALB
	}
	return detectCLF(first)
}

func firstField(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

func looksCSVFlowHeader(s string) bool {
	l := strings.ToLower(s)
	return strings.Count(l, ",") >= 3 && ((strings.HasPrefix(l, "ts,te,") || strings.Contains(l, "srcaddr") && strings.Contains(l, "dstaddr")) ||
		strings.Contains(l, ",sa,da,") || strings.Contains(l, "saddr") && strings.Contains(l, "daddr"))
}

func flowCSVKind(s string) string {
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "ts,te,") || strings.Contains(l, ",sa,da,") || strings.Contains(l, "firstseen") {
		return FormatNfdumpCSV
	}
	return FormatArgusCSV
}

// looksSyslog: "Mmm dd hh:mm:ss host prog[pid]: ", "<PRI>...", or an ISO
// timestamp followed by host and "prog[pid]: ".
func looksSyslog(s string) bool {
	if strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		return end > 1 && end <= 4
	}
	if len(s) > 16 && s[3] == ' ' && parseMonth(s[:3]) != 0 && s[9] == ':' && s[12] == ':' {
		return true
	}
	sp := strings.IndexByte(s, ' ')
	if sp >= 19 {
		if _, _, ok := parseISOTime(s[:sp], time.UTC); ok {
			rest := s[sp+1:]
			// host then "tag: " or "tag[pid]: "
			if h := strings.IndexByte(rest, ' '); h > 0 {
				tag := rest[h+1:]
				c := strings.Index(tag, ": ")
				return c > 0 && !strings.Contains(tag[:c], " ")
			}
		}
	}
	return false
}

func looksALB(s string) bool {
	f := firstField(s)
	switch f {
	case "http", "https", "h2", "grpcs", "ws", "wss":
		if len(s) <= len(f)+1 {
			return false
		}
		rest := s[len(f)+1:]
		_, _, ok := parseISOTime(firstField(rest), time.UTC)
		return ok
	}
	if _, _, ok := parseISOTime(f, time.UTC); ok && strings.Count(s, "\"") >= 4 {
		rest := strings.Fields(s)
		return len(rest) > 12 && strings.Contains(rest[2], ":")
	}
	return false
}

// detectCLF recognizes Common / Combined / vhost_combined by structure.
func detectCLF(s string) string {
	lb := strings.Index(s, " [")
	if lb < 0 {
		return ""
	}
	rb := strings.IndexByte(s[lb:], ']')
	if rb < 0 {
		return ""
	}
	if _, ok := parseCLFTime(s[lb+2 : lb+rb]); !ok {
		return ""
	}
	prefix := strings.Fields(s[:lb])
	after := s[lb+rb+1:]
	quotes := strings.Count(after, "\"")
	vhost := false
	if len(prefix) == 4 && !strings.ContainsAny(s[:lb], ",\"") {
		if _, ok := parseAddr(prefix[0]); !ok {
			if _, ok := parseAddr(prefix[1]); ok {
				vhost = true
			}
		}
	}
	switch {
	case vhost:
		return FormatVhostCombined
	case quotes >= 6:
		return FormatCombined
	case quotes >= 2:
		return FormatCommon
	}
	return ""
}
