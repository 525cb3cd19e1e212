package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// webRec is a log record as text fields, before normalization. Every web
// format (CLF, custom, W3C, ALB, CloudFront, JSON) fills one and build
// turns it into an Event, so the rules for time, addresses, proxies and
// credentials live in one place.
type webRec struct {
	time       string
	src        string
	srcPort    string
	dst        string
	dstPort    string
	method     string
	host       string
	path       string
	query      string
	request    string
	status     string
	bytes      string
	userAgent  string
	referrer   string
	user       string
	credential string
	action     string
	xff        string
	forwarded  string
	realIP     string
	auth       string
	clientIP   string
	indicators [][2]string
	flags      []string
	// parsed is the time when the parser already parsed it (CLF).
	parsed    time.Time
	hasParsed bool
}

func (r *webRec) reset() {
	ind, fl := r.indicators[:0], r.flags[:0]
	*r = webRec{}
	r.indicators, r.flags = ind, fl
}

func (r *webRec) indicator(k, v string) {
	if v == "" || v == "-" {
		return
	}
	r.indicators = append(r.indicators, [2]string{k, v})
}

// dash maps the "-" and "(empty)" placeholders to "".
func dash(s string) string {
	if s == "-" || s == "(empty)" {
		return ""
	}
	return s
}

// buildEmit builds the event of a record and emits it.
func (st *state) buildEmit(r *webRec, kind string) error {
	ev := st.slot()
	if err := st.build(r, kind, ev); err != nil {
		return err
	}
	st.emitSlot(ev)
	return nil
}

// build normalizes a record into *ev, an event of the given source kind.
// The event is built in place (a ReadBatches slot, else st.ev) rather
// than returned: it is large, and each copy showed in the profile of
// `tracehop events`.
func (st *state) build(r *webRec, kind string, ev *forensics.Event) error {
	var spare map[string]string
	if st.emitBatch != nil {
		// A batch slot holds an event its consumer gave back: its map
		// is reused rather than a new one made per record.
		spare = ev.Indicators
	}
	st.initEvent(ev, kind)
	ev.Flags = append(ev.Flags, r.flags...)
	if r.hasParsed {
		st.setTime(ev, r.parsed, r.time, false)
	} else if raw := dash(r.time); raw != "" {
		t, assumed, ok := st.iso.parse(raw, st.opts.TZ)
		if !ok {
			return fmt.Errorf("%w %q", errBadTime, clip(raw))
		}
		st.setTime(ev, t, st.cut(ev, "time_raw", raw), assumed)
	} else {
		ev.Flags = append(ev.Flags, "time_missing")
	}
	if s := dash(r.src); s != "" {
		a, p, ok := parseAddrPort(s)
		if ok {
			ev.SrcIP = a
			if p != 0 {
				ev.SrcPort = p
			}
		} else {
			// A host name (HostnameLookups On) or garbage: kept, not an IP.
			r.indicator("src_host", st.cut(ev, "src_host", s))
			ev.Flags = append(ev.Flags, "src_not_ip")
		}
	}
	if p, ok := parsePort(dash(r.srcPort)); ok {
		ev.SrcPort = p
	}
	if s := dash(r.dst); s != "" {
		if a, p, ok := parseAddrPort(s); ok {
			ev.DstIP, ev.DstPort = a, p
		}
	}
	if p, ok := parsePort(dash(r.dstPort)); ok {
		ev.DstPort = p
	}
	if req := r.request; req != "" && req != "-" {
		m, target, proto, ok := splitRequest(req)
		if ok {
			if r.method == "" {
				r.method = m
			}
			if r.path == "" {
				r.path = target
			}
			if proto != "" && proto != "HTTP/1.1" {
				r.indicator("http_version", proto)
			}
		} else {
			ev.Flags = append(ev.Flags, "request_not_http")
			r.indicator("request", st.cut(ev, "request", req))
		}
	}
	ev.Method = st.cut(ev, "method", dash(r.method))
	ev.Host = st.cut(ev, "host", dash(r.host))
	path := dash(r.path)
	if q := dash(r.query); q != "" && !strings.Contains(path, "?") {
		path += "?" + q
	}
	ev.Path = st.cut(ev, "path", path)
	if s := dash(r.status); s != "" {
		n, ok := digits(s)
		if !ok || n > 999 {
			return fmt.Errorf("bad status %q", clip(s))
		}
		ev.Status = n
	}
	if s := dash(r.bytes); s != "" {
		n, ok := parseCount(s)
		if !ok {
			return fmt.Errorf("bad byte count %q", clip(s))
		}
		ev.Bytes = int64(n)
	}
	ev.UserAgent = st.cut(ev, "user_agent", dash(r.userAgent))
	ev.Referrer = st.cut(ev, "referrer", dash(r.referrer))
	ev.User = st.cut(ev, "user", dash(r.user))
	ev.Action = st.cut(ev, "action", dash(r.action))
	st.credentials(ev, r)
	if c := dash(r.clientIP); c != "" && r.xff == "" && r.forwarded == "" && r.realIP == "" {
		// A client address logged by the server itself (ALB client:port
		// is the socket peer already; JSON client.ip next to source.ip).
		r.realIP = c
	}
	st.applyProxy(ev, r.xff, r.forwarded, r.realIP)
	if len(r.indicators) > 0 {
		if spare != nil {
			clear(spare)
			ev.Indicators = spare
		} else {
			ev.Indicators = make(map[string]string, len(r.indicators))
		}
		for _, kv := range r.indicators {
			ev.Indicators[kv[0]] = st.cutIndicator(ev, kv[0], kv[1])
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func parseCount(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// splitRequest splits an HTTP request line "GET /x HTTP/1.1" (or HTTP/0.9
// "GET /x"). ok is false for anything else: TLS handshakes sent to a
// plain port, binary scanner probes, truncated lines.
func splitRequest(req string) (method, target, proto string, ok bool) {
	sp := strings.IndexByte(req, ' ')
	if sp <= 0 || sp > 32 {
		return "", "", "", false
	}
	method = req[:sp]
	for i := 0; i < len(method); i++ {
		c := method[i]
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return "", "", "", false
		}
	}
	rest := req[sp+1:]
	if last := strings.LastIndexByte(rest, ' '); last >= 0 && strings.HasPrefix(rest[last+1:], "HTTP/") {
		target, proto = rest[:last], rest[last+1:]
	} else if !strings.Contains(rest, " ") {
		target = rest
	} else {
		return "", "", "", false
	}
	if target == "" {
		return "", "", "", false
	}
	return method, target, proto, true
}

// credentials fills User, Credential and JWT indicators. Precedence: an
// explicit credential (key id) field, then a JWT's kid, then the SHA-256
// of a bearer token; a token is never stored in clear.
func (st *state) credentials(ev *forensics.Event, r *webRec) {
	cred := dash(r.credential)
	if cred != "" && looksLikeJWT(cred) {
		r.auth, cred = cred, ""
	}
	if a := dash(r.auth); a != "" {
		scheme, tok, found := strings.Cut(strings.TrimSpace(a), " ")
		if !found {
			tok, scheme = scheme, ""
		}
		tok = strings.TrimSpace(tok)
		switch {
		case strings.EqualFold(scheme, "basic"):
			if u := basicUser(tok); u != "" && ev.User == "" {
				ev.User = st.cut(ev, "user", u)
			}
			if cred == "" {
				cred = "sha256:" + sha256Hex(tok)
			}
		case looksLikeJWT(tok):
			kid := st.jwtIndicators(ev, r, tok)
			if cred == "" {
				if kid != "" {
					cred = "jwt-kid:" + kid
				} else {
					cred = "sha256:" + sha256Hex(tok)
				}
			}
		case tok != "" && cred == "":
			cred = "sha256:" + sha256Hex(tok)
		}
	}
	ev.Credential = st.cut(ev, "credential", cred)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
