package session

import (
	"strconv"
	"strings"
)

// Placeholders that replace identifiers in path templates.
const (
	phNumber = "{n}"
	phUUID   = "{uuid}"
	phHex    = "{hex}"
	phEmail  = "{email}"
)

// seqParams are query parameters whose numeric values are sequential reads
// (pagination or object numbers).
var seqParams = [...]string{"page", "p", "offset", "start", "id", "user_id", "uid", "after", "since_id"}

// objectParams are query parameters whose values name an object touched.
var objectParams = [...]string{"id", "user", "user_id", "uid", "account", "email", "order", "order_id"}

// PathInfo is what a request path tells about the session: its template
// with identifiers replaced, the identifiers themselves (objects), and the
// sequential number read, if any.
type PathInfo struct {
	Template string
	Objects  []string
	Seq      int64
	HasSeq   bool
}

// ParsePath templates a request path: numeric, UUID, long hexadecimal and
// e-mail-like segments become {n}, {uuid}, {hex} and {email}; the query
// string is dropped from the template but its object and page parameters
// are kept. The last numeric segment (or page/offset parameter) is the
// sequential number used by the work hand-over rule.
func ParsePath(p string) PathInfo {
	var info PathInfo
	if len(p) > 4096 {
		p = p[:4096]
	}
	path, query, _ := strings.Cut(p, "?")
	path, _, _ = strings.Cut(path, "#")
	var b strings.Builder
	b.Grow(len(path))
	segs := strings.Split(path, "/")
	if len(segs) > 64 {
		segs = segs[:64]
	}
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		ph := classify(s)
		if ph == "" {
			b.WriteString(s)
			continue
		}
		b.WriteString(ph)
		info.Objects = append(info.Objects, ph+s)
		if ph == phNumber {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				info.Seq, info.HasSeq = n, true
			}
		}
	}
	info.Template = b.String()
	if query == "" {
		return info
	}
	params := strings.Split(query, "&")
	if len(params) > 64 {
		params = params[:64]
	}
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(k)
		if v == "" {
			continue
		}
		for _, sp := range seqParams {
			if k == sp {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && !info.HasSeq {
					info.Seq, info.HasSeq = n, true
					info.Template += "?" + k + "=" + phNumber
				}
			}
		}
		for _, op := range objectParams {
			if k == op {
				info.Objects = append(info.Objects, k+"="+v)
			}
		}
	}
	return info
}

// classify returns the placeholder for an identifier segment, or "".
func classify(s string) string {
	if s == "" {
		return ""
	}
	if strings.IndexByte(s, '@') > 0 && strings.IndexByte(s, '.') > 0 {
		return phEmail
	}
	digits, hex, other := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
			hex++
		case c == '-':
		default:
			other++
		}
	}
	if other > 0 {
		return ""
	}
	if digits == len(s) {
		return phNumber
	}
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		return phUUID
	}
	if strings.IndexByte(s, '-') < 0 && len(s) >= 8 && digits > 0 {
		return phHex
	}
	return ""
}
