package logs

import (
	"errors"
	"strings"
)

// albParser reads AWS Application Load Balancer access logs and classic
// ELB access logs (the same layout without the leading type field).
type albParser struct {
	toks []string
	rec  webRec
}

// splitQuotedFields splits on spaces, keeping "quoted fields" whole
// (quotes removed).
func splitQuotedFields(dst []string, s string, max int) []string {
	i := 0
	for i < len(s) && len(dst) < max {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '"' {
			v, next, _ := scanQuoted(s, i)
			dst = append(dst, v)
			i = next
			continue
		}
		var v string
		v, i = nextToken(s, i)
		dst = append(dst, v)
	}
	return dst
}

func (p *albParser) parse(st *state, s string) error {
	p.toks = splitQuotedFields(p.toks[:0], s, 40)
	t := p.toks
	if len(t) > 0 {
		if _, _, ok := parseISOTime(t[0], st.opts.TZ); !ok {
			t = t[1:] // ALB: drop the type field
			if len(p.toks) > 0 {
				p.rec.reset()
				p.rec.indicator("alb_type", p.toks[0])
			}
		} else {
			p.rec.reset()
		}
	}
	if len(t) < 13 {
		if !st.truncated {
			return errors.New("load balancer record has too few fields")
		}
		// A line cut at the cap keeps what it has, but only if it is a
		// record at all: one overlong token is not.
		if len(t) == 0 {
			return errors.New("load balancer record cut before its fields")
		}
		if _, _, ok := parseISOTime(t[0], st.opts.TZ); !ok {
			return errors.New("load balancer record cut before its fields")
		}
		for len(t) < 13 {
			t = append(t, "")
		}
	}
	r := &p.rec
	r.time = t[0]
	r.indicator("elb", t[1])
	r.src = t[2]
	r.indicator("target", t[3])
	r.status = t[7]
	r.indicator("target_status", t[8])
	r.bytes = t[10]
	r.request = t[11]
	r.userAgent = t[12]
	if len(t) > 14 {
		r.indicator("tls_cipher", t[13])
		r.indicator("tls_version", t[14])
	}
	if len(t) > 16 {
		r.indicator("trace_id", t[16])
	}
	if len(t) > 17 {
		r.host = t[17]
	}
	// ALB logs absolute URLs: "GET https://host:443/path HTTP/1.1".
	if m, target, proto, ok := splitRequest(r.request); ok {
		if _, rest, ok := strings.Cut(target, "://"); ok {
			host, path, _ := strings.Cut(rest, "/")
			if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
				host = h
			}
			if r.host == "" || r.host == "-" {
				r.host = host
			}
			r.method, r.path = m, "/"+path
			if proto != "" && proto != "HTTP/1.1" {
				r.indicator("http_version", proto)
			}
			r.request = ""
		}
	}
	return st.buildEmit(r, "web")
}
