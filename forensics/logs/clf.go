package logs

import (
	"errors"
	"strings"
	"time"
)

// clfParser reads the NCSA Common and Combined log formats of Apache and
// nginx, the vhost_combined variant ("host:port " first), and the address
// lists some nginx setups log first ("$http_x_forwarded_for $remote_addr",
// as in the filebeat nginx samples): the last address is the socket peer
// and the ones before it are forwarded-for claims. A third quoted field
// after the user agent is read as X-Forwarded-For (nginx's stock "main"
// format). Hand-written byte scanning: this is the hot path.
type clfParser struct {
	vhost bool
	rec   webRec
	// lastTime is the last [time] parsed: lines come in time order and
	// most share their second with the line before.
	lastRaw  string
	lastTime time.Time
}

var (
	errNoCLFTime  = errors.New("no [time] field")
	errBadCLFTime = errors.New("bad [time] field")
	errNoRequest  = errors.New("no quoted request")
	errNoStatus   = errors.New("no status and size")
)

func (p *clfParser) parse(st *state, s string) error {
	r := &p.rec
	r.reset()
	lb := indexTimeOpen(s)
	if lb < 0 {
		return errNoCLFTime
	}
	prefix := s[:lb]
	// ident and user are the last two space-separated tokens.
	sp := strings.LastIndexByte(prefix, ' ')
	if sp < 0 {
		return errors.New("no ident and user fields")
	}
	r.user = prefix[sp+1:]
	prefix = prefix[:sp]
	sp = strings.LastIndexByte(prefix, ' ')
	if sp < 0 {
		return errors.New("no ident field")
	}
	ident := prefix[sp+1:]
	addrs := prefix[:sp]
	if ident != "-" {
		r.indicator("ident", ident)
	}
	if err := p.addresses(r, addrs); err != nil {
		return err
	}
	rb := strings.IndexByte(s[lb+2:], ']')
	if rb < 0 {
		return errNoCLFTime
	}
	r.time = s[lb+2 : lb+2+rb]
	if r.time != p.lastRaw || p.lastRaw == "" {
		t, ok := parseCLFTime(r.time)
		if !ok {
			return errBadCLFTime
		}
		p.lastRaw, p.lastTime = r.time, t
	}
	r.parsed, r.hasParsed = p.lastTime, true
	i := lb + 2 + rb + 1
	if i+1 >= len(s) || s[i] != ' ' || s[i+1] != '"' {
		if st.truncated {
			return p.finish(st)
		}
		return errNoRequest
	}
	req, next, ok := scanQuoted(s, i+1)
	r.request = req
	if !ok {
		if st.truncated {
			return p.finish(st)
		}
		return errors.New("unterminated request")
	}
	i = next
	// status and size
	var tok string
	tok, i = nextToken(s, i)
	if tok == "" {
		if st.truncated {
			return p.finish(st)
		}
		return errNoStatus
	}
	r.status = tok
	tok, i = nextToken(s, i)
	if tok == "" && !st.truncated {
		return errNoStatus
	}
	r.bytes = tok
	// optional quoted fields: referrer, user agent, forwarded-for, extras
	n := 0
	unterminated := false
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		var v string
		if s[i] == '"' {
			var ok bool
			v, i, ok = scanQuoted(s, i)
			if !ok && !st.truncated {
				// The evidence itself is cut (seen in real logs): keep
				// what is there and say so.
				unterminated = true
			}
		} else {
			v, i = nextToken(s, i)
		}
		switch n {
		case 0:
			r.referrer = v
		case 1:
			r.userAgent = v
		case 2:
			if isAddrList(v) {
				r.xff = v
			} else {
				r.indicator("extra", v)
			}
		default:
			if n < 8 {
				r.indicator("extra"+itoa(n-2), v)
			}
		}
		n++
	}
	if unterminated {
		p.rec.flags = append(p.rec.flags, "unterminated_quote")
	}
	return p.finish(st)
}

func (p *clfParser) finish(st *state) error {
	kind := "web"
	return st.buildEmit(&p.rec, kind)
}

// indexTimeOpen is strings.Index(s, " ["), searching for the rarer '['
// (most lines have one, the time's) rather than for every space.
func indexTimeOpen(s string) int {
	for from := 1; from < len(s); {
		k := strings.IndexByte(s[from:], '[')
		if k < 0 {
			return -1
		}
		if s[from+k-1] == ' ' {
			return from + k - 1
		}
		from += k + 1
	}
	return -1
}

// addresses reads the part before ident: "addr", "vhost:port addr", or a
// list of addresses (optionally quoted, comma separated) ending in the
// socket peer.
func (p *clfParser) addresses(r *webRec, a string) error {
	if a == "" {
		return errors.New("no remote address")
	}
	if p.vhost {
		sp := strings.IndexByte(a, ' ')
		if sp < 0 {
			return errors.New("no virtual host field")
		}
		host := a[:sp]
		if h, port, ok := strings.Cut(host, ":"); ok && !strings.Contains(port, ":") {
			r.host, r.dstPort = h, port
		} else {
			r.host = host
		}
		a = a[sp+1:]
	}
	if !hasListByte(a) {
		r.src = a
		return nil
	}
	// A list: the last entry is the peer.
	last := strings.LastIndexAny(a, " ,\"")
	peer := a[last+1:]
	claims := strings.TrimRight(a[:last+1], " ,\"")
	if !p.vhost && !strings.ContainsAny(a, ",\"") {
		// "host addr" without vhost mode: a vhost when the first token
		// is not an address.
		if _, ok := parseAddr(claims); !ok {
			r.host = claims
			if h, port, ok := strings.Cut(claims, ":"); ok && !strings.Contains(port, ":") {
				r.host, r.dstPort = h, port
			}
			r.src = peer
			return nil
		}
	}
	r.src = peer
	r.xff = strings.Trim(claims, "\" ")
	return nil
}

// hasListByte reports a space, comma or quote in a: one pass over the
// address instead of three IndexByte calls, on every line.
func hasListByte(a string) bool {
	for i := 0; i < len(a); i++ {
		if c := a[i]; c == ' ' || c == ',' || c == '"' {
			return true
		}
	}
	return false
}

func isAddrList(v string) bool {
	if v == "" || v == "-" {
		return false
	}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "unknown" || part == "-" {
			continue
		}
		if _, ok := parseAddr(part); !ok {
			return false
		}
	}
	return true
}

// scanQuoted returns the raw content of the quoted field at s[i] == '"'
// and the index after its closing quote. The closing quote is one not
// escaped by a backslash and followed by a space or the end of the line,
// so Apache's \" and stray quotes in scanner garbage do not end it early.
// ok is false when the field is unterminated (the rest is returned).
func scanQuoted(s string, i int) (string, int, bool) {
	start := i + 1
	j := start
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return s[start:], len(s), false
		}
		j += k
		bs := 0
		for b := j - 1; b >= start && s[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 && (j+1 == len(s) || s[j+1] == ' ') {
			return s[start:j], j + 1, true
		}
		j++
	}
}

// nextToken returns the next space-separated token from i.
func nextToken(s string, i int) (string, int) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	start := i
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return s[start:i], i
}
