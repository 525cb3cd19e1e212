package capture

import (
	"bytes"

	"github.com/tracehop/tracehop/forensics"
)

// maxHTTPField caps any one value kept from a request (paths and
// User-Agents can be long; a hostile one must not grow the flow record).
const maxHTTPField = 2048

var httpMethods = [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT"}

// looksHTTPRequest reports whether b starts like an HTTP/1.x request line.
func looksHTTPRequest(b []byte) bool {
	for _, m := range httpMethods {
		if len(b) > len(m) && b[len(m)] == ' ' && string(b[:len(m)]) == m {
			return true
		}
		if len(b) <= len(m) && string(b) == m[:len(b)] && len(b) >= 3 {
			return true // may still become a request; wait for more
		}
	}
	return false
}

// parseHTTPRequest reads the request line and the headers tracehop keeps.
// It needs the whole header block unless final is set (buffer cap or
// stream end), in which case it takes what is there.
func parseHTTPRequest(b []byte, final bool) (*forensics.HTTPMeta, parseStatus) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		end = bytes.Index(b, []byte("\n\n"))
	}
	if end < 0 && !final {
		return nil, needMore
	}
	if end >= 0 {
		b = b[:end]
	}
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	method, after, ok := bytes.Cut(line, []byte(" "))
	if !ok || !looksHTTPRequest(line) {
		return nil, invalid
	}
	target, proto, _ := bytes.Cut(after, []byte(" "))
	if len(proto) > 0 && !bytes.HasPrefix(proto, []byte("HTTP/")) {
		return nil, invalid
	}
	m := &forensics.HTTPMeta{Method: string(method), Path: clip(target)}
	var fwd string
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\n"))
		h = bytes.TrimRight(h, "\r")
		name, val, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			if m.Host == "" {
				m.Host = clip(val)
			}
		case bytes.EqualFold(name, []byte("User-Agent")):
			if m.UserAgent == "" {
				m.UserAgent = clip(val)
			}
		case bytes.EqualFold(name, []byte("X-Forwarded-For")):
			// Several headers are one list (RFC 9110 §5.3).
			if m.XFF != "" {
				m.XFF = clip([]byte(m.XFF + ", " + string(val)))
			} else {
				m.XFF = clip(val)
			}
		case bytes.EqualFold(name, []byte("Forwarded")):
			if fwd == "" {
				fwd = clip(val)
			}
		}
	}
	if m.XFF == "" && fwd != "" {
		m.XFF = forwardedFor(fwd)
	}
	return m, parsed
}

// forwardedFor turns an RFC 7239 Forwarded value into the X-Forwarded-For
// form ("a, b"), keeping the for= parameters in order.
func forwardedFor(v string) string {
	var out []byte
	for _, elem := range bytes.Split([]byte(v), []byte(",")) {
		for _, pair := range bytes.Split(elem, []byte(";")) {
			k, val, ok := bytes.Cut(bytes.TrimSpace(pair), []byte("="))
			if !ok || !bytes.EqualFold(k, []byte("for")) {
				continue
			}
			val = bytes.Trim(val, "\"")
			if len(val) > 0 && val[0] == '[' {
				if i := bytes.IndexByte(val, ']'); i > 0 {
					val = val[1:i]
				}
			} else if i := bytes.IndexByte(val, ':'); i > 0 && bytes.Count(val, []byte(":")) == 1 {
				val = val[:i] // strip a port from an IPv4 node
			}
			if len(out) > 0 {
				out = append(out, ", "...)
			}
			out = append(out, val...)
		}
	}
	return string(out)
}

func clip(b []byte) string {
	if len(b) > maxHTTPField {
		b = b[:maxHTTPField]
	}
	return printable(b)
}
