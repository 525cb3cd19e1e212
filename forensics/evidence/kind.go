package evidence

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"regexp"
	"strings"
)

// Kind names what an input holds. The names are the values --input-format
// accepts.
type Kind string

// Kinds detected from content. Formats that only the log parser knows
// (w3c, alb, cloudfront, ...) come back as KindText and are refined there.
const (
	KindUnknown     Kind = ""
	KindPCAP        Kind = "pcap"
	KindPCAPNG      Kind = "pcapng"
	KindCombined    Kind = "combined"
	KindCommon      Kind = "common"
	KindJSONLines   Kind = "jsonl"
	KindSSHD        Kind = "sshd"
	KindZeekTSV     Kind = "zeek-tsv"
	KindZeekJSON    Kind = "zeek-json"
	KindSuricataEVE Kind = "suricata-eve"
	KindNfdumpCSV   Kind = "nfdump-csv"
	KindArgusCSV    Kind = "argus-csv"
	// KindText is readable text in no format this package knows.
	KindText Kind = "text"
	// KindEmpty is an input with no content at all: evidence of nothing,
	// read as zero records rather than refused.
	KindEmpty Kind = "empty"
)

// IsCapture reports whether k is a packet capture format.
func (k Kind) IsCapture() bool { return k == KindPCAP || k == KindPCAPNG }

// Encodings a file may be wrapped in.
const (
	EncodingNone = ""
	EncodingGzip = "gzip"
	EncodingZstd = "zstd"
)

// sniffEncoding looks at the raw first bytes for a compression wrapper.
func sniffEncoding(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return EncodingGzip
	case len(head) >= 4 && binary.LittleEndian.Uint32(head) == 0xFD2FB528:
		return EncodingZstd
	}
	return EncodingNone
}

var (
	// host ident user [time] "request" status bytes
	// (nginx behind proxies may log "a, b, c" as the remote address)
	reCommon = regexp.MustCompile(`^\S+(?:, \S+)* \S+ .*?\[[^\]]{10,40}\] "(?:[^"\\]|\\.)*" \d{3} (?:\d+|-)`)
	// ... followed by "referrer" "user agent"
	reCombined = regexp.MustCompile(`^\S+(?:, \S+)* \S+ .*?\[[^\]]{10,40}\] "(?:[^"\\]|\\.)*" \d{3} (?:\d+|-) "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*"`)
	reSSHD     = regexp.MustCompile(`\bsshd(?:-session)?\[\d+\]:`)
)

// Detect names the kind of a (decompressed) stream from its first bytes.
// It looks at magic numbers first, then at up to the first eight non-empty
// lines, and returns KindText for readable text it cannot name and
// KindUnknown for anything else.
func Detect(head []byte) Kind {
	if len(head) >= 4 {
		switch binary.LittleEndian.Uint32(head) {
		case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
			return KindPCAP
		case 0x0a0d0d0a:
			return KindPCAPNG
		}
	}
	// A log truncated in place by copytruncate rotation starts with a
	// hole of NULs and a cut line; the lines after it decide.
	text := bytes.TrimLeft(head, "\x00")
	lines := firstLines(text, 8)
	if len(lines) == 0 || !looksText(text) {
		return KindUnknown
	}
	for _, l := range lines {
		// Zeek writes #separator first; copies may carry a banner above it.
		if strings.HasPrefix(l, "#separator") || strings.HasPrefix(l, "#fields\t") {
			return KindZeekTSV
		}
	}
	first := lines[0]
	// JSON lines win on a majority, so that one cut or garbage line
	// before them does not hide a whole log.
	var objs []string
	for _, l := range lines {
		if strings.HasPrefix(l, "{") {
			objs = append(objs, l)
		}
	}
	switch {
	case len(objs) > 0 && (strings.HasPrefix(first, "{") || len(objs) >= (len(lines)+1)/2):
		return detectJSON(objs)
	case isNfdumpHeader(first):
		return KindNfdumpCSV
	case isArgusHeader(first):
		return KindArgusCSV
	}
	var combined, common, sshd int
	for _, l := range lines {
		switch {
		case reCombined.MatchString(l):
			combined++
		case reCommon.MatchString(l):
			common++
		case reSSHD.MatchString(l):
			sshd++
		}
	}
	switch n := len(lines); {
	case combined > 0 && combined+common >= (n+1)/2:
		return KindCombined
	case common > 0 && common >= (n+1)/2:
		return KindCommon
	case sshd > 0:
		// auth logs mix sshd with sudo, cron, ...: one sshd line is enough.
		return KindSSHD
	}
	return KindText
}

func detectJSON(lines []string) Kind {
	var obj map[string]json.RawMessage
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			continue // the head may cut the last line
		}
		_, uid := obj["uid"]
		_, orig := obj["id.orig_h"]
		if uid && orig {
			return KindZeekJSON
		}
		if _, ok := obj["event_type"]; ok {
			if _, ok := obj["src_ip"]; ok {
				return KindSuricataEVE
			}
		}
		return KindJSONLines
	}
	return KindText
}

func isNfdumpHeader(l string) bool {
	return strings.HasPrefix(l, "ts,te,td,sa,da,sp,dp,pr") || strings.HasPrefix(l, "firstSeen,lastSeen,duration,srcAddr")
}

func isArgusHeader(l string) bool {
	return strings.Contains(l, "SrcAddr") && strings.Contains(l, "DstAddr") && (strings.Contains(l, "StartTime") || strings.Contains(l, "Proto"))
}

func firstLines(head []byte, n int) []string {
	var out []string
	for len(head) > 0 && len(out) < n {
		i := bytes.IndexByte(head, '\n')
		var line []byte
		if i < 0 {
			line, head = head, nil
		} else {
			line, head = head[:i], head[i+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		out = append(out, string(line))
	}
	return out
}

// looksText rejects binary data: NULs or many control bytes.
func looksText(b []byte) bool {
	if len(b) > 4096 {
		b = b[:4096]
	}
	bad := 0
	for _, c := range b {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			bad++
		}
	}
	return bad*20 < len(b)+1
}
