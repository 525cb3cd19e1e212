package logs

import (
	"errors"
	"fmt"
	"strings"
)

// customParser matches lines against a compiled nginx log_format or Apache
// LogFormat: literals must appear as written, each variable takes the
// text up to the next literal.
type customParser struct {
	toks []customTok
	rec  webRec
	kind string
}

type customTok struct {
	lit    string // literal text, or "" for a variable
	name   string // variable name (nginx spelling)
	quoted bool   // variable sits between double quotes
}

// nginxTargets maps nginx variable names to normalized fields.
var nginxTargets = map[string]int{
	"remote_addr": fSrc, "realip_remote_addr": fSrc, "remote_port": fSrcPort, "server_addr": fDst, "server_port": fDstPort,
	"time_local": fTime, "time_iso8601": fTime, "msec": fTime, "request": fRequest, "request_method": fMethod,
	"request_uri": fPath, "uri": fPath, "document_uri": fPath, "args": fQuery, "query_string": fQuery, "status": fStatus,
	"body_bytes_sent": fBytes, "bytes_sent": fBytes, "http_referer": fReferrer, "http_user_agent": fUA, "remote_user": fUser,
	"host": fHost, "http_host": fHost, "server_name": fHost, "http_x_forwarded_for": fXFF, "http_forwarded": fForwarded,
	"http_x_real_ip": fRealIP, "http_authorization": fAuth, "http_x_api_key": fCredential,
}

// nginxIndicators are kept under a shorter name.
var nginxIndicators = map[string]string{
	"ssl_protocol": "tls_version", "ssl_cipher": "tls_cipher", "ssl_server_name": "sni", "request_time": "request_time",
	"upstream_addr": "upstream_addr", "upstream_response_time": "upstream_response_time", "request_id": "request_id",
	"server_protocol": "http_version", "ident": "ident",
}

// apacheVar maps an Apache LogFormat directive to an nginx variable name.
func apacheVar(directive byte, arg string) (string, error) {
	switch directive {
	case 'h', 'a':
		return "remote_addr", nil
	case 'l':
		return "ident", nil
	case 'u':
		return "remote_user", nil
	case 't':
		return "time_local", nil
	case 'r':
		return "request", nil
	case 's':
		return "status", nil
	case 'b', 'B':
		return "body_bytes_sent", nil
	case 'O':
		return "bytes_sent", nil
	case 'I':
		return "bytes_received", nil
	case 'v':
		return "server_name", nil
	case 'V':
		return "host", nil
	case 'p':
		return "server_port", nil
	case 'A':
		return "server_addr", nil
	case 'D':
		return "request_time_us", nil
	case 'T':
		return "request_time", nil
	case 'U':
		return "uri", nil
	case 'q':
		return "query_string", nil
	case 'm':
		return "request_method", nil
	case 'H':
		return "server_protocol", nil
	case 'L':
		return "request_id", nil
	case 'i':
		return "http_" + strings.ReplaceAll(strings.ToLower(arg), "-", "_"), nil
	case 'e', 'n', 'o', 'C', 'P', 'k', 'f', 'R', 'X', 'S':
		if arg != "" {
			return strings.ToLower(string(directive) + "_" + arg), nil
		}
		return "apache_" + string(directive), nil
	}
	return "", fmt.Errorf("unsupported LogFormat directive %%%c", directive)
}

func compileCustom(format, spec string) (*customParser, error) {
	p := &customParser{kind: "web"}
	spec = strings.ReplaceAll(spec, `\"`, `"`)
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, customTok{lit: lit.String()})
			lit.Reset()
		}
	}
	addVar := func(name string) error {
		if n := len(p.toks); n > 0 && p.toks[n-1].lit == "" && lit.Len() == 0 {
			return fmt.Errorf("log format: variables %s and %s are not separated by text", p.toks[n-1].name, name)
		}
		flush()
		p.toks = append(p.toks, customTok{name: name})
		return nil
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch {
		case format == FormatNginx && c == '$':
			j := i + 1
			braced := j < len(spec) && spec[j] == '{'
			if braced {
				j++
			}
			k := j
			for k < len(spec) && (spec[k] == '_' || spec[k] >= 'a' && spec[k] <= 'z' || spec[k] >= 'A' && spec[k] <= 'Z' || spec[k] >= '0' && spec[k] <= '9') {
				k++
			}
			if k == j {
				lit.WriteByte(c)
				continue
			}
			if err := addVar(strings.ToLower(spec[j:k])); err != nil {
				return nil, err
			}
			if braced && k < len(spec) && spec[k] == '}' {
				k++
			}
			i = k - 1
		case format == FormatApache && c == '%':
			j := i + 1
			if j < len(spec) && spec[j] == '%' {
				lit.WriteByte('%')
				i = j
				continue
			}
			for j < len(spec) && strings.IndexByte("<>!,0123456789", spec[j]) >= 0 {
				j++
			}
			arg := ""
			if j < len(spec) && spec[j] == '{' {
				end := strings.IndexByte(spec[j:], '}')
				if end < 0 {
					return nil, errors.New("log format: unterminated %{")
				}
				arg = spec[j+1 : j+end]
				j += end + 1
			}
			if j >= len(spec) {
				return nil, errors.New("log format: % at end")
			}
			name, err := apacheVar(spec[j], arg)
			if err != nil {
				return nil, err
			}
			if spec[j] == 't' && arg == "" {
				// %t prints its own brackets.
				lit.WriteByte('[')
				if err := addVar(name); err != nil {
					return nil, err
				}
				lit.WriteByte(']')
			} else if err := addVar(name); err != nil {
				return nil, err
			}
			i = j
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	hasVar := false
	for i := range p.toks {
		if p.toks[i].lit != "" {
			continue
		}
		hasVar = true
		if i > 0 && strings.HasSuffix(p.toks[i-1].lit, `"`) {
			p.toks[i].quoted = true
		}
	}
	if !hasVar {
		return nil, errors.New("log format has no variables")
	}
	return p, nil
}

func (p *customParser) parse(st *state, s string) error {
	r := &p.rec
	r.reset()
	pos := 0
	for i, t := range p.toks {
		if t.lit != "" {
			if !strings.HasPrefix(s[pos:], t.lit) {
				if st.truncated {
					break
				}
				return fmt.Errorf("expected %q at byte %d", clip(t.lit), pos)
			}
			pos += len(t.lit)
			continue
		}
		var v string
		if i+1 == len(p.toks) {
			v, pos = s[pos:], len(s)
		} else {
			next := p.toks[i+1].lit
			end := -1
			if t.quoted && strings.HasPrefix(next, `"`) {
				end = quotedEnd(s, pos, next)
			} else {
				end = strings.Index(s[pos:], next)
				if end >= 0 {
					end += pos
				}
			}
			if end < 0 {
				if st.truncated {
					v, pos = s[pos:], len(s)
					p.assign(st, r, t.name, v)
					break
				}
				return fmt.Errorf("no %q after $%s at byte %d", clip(next), t.name, pos)
			}
			v, pos = s[pos:end], end
		}
		p.assign(st, r, t.name, v)
	}
	if pos != len(s) && !st.truncated {
		return fmt.Errorf("%d unexpected bytes at end of line", len(s)-pos)
	}
	return st.buildEmit(r, p.kind)
}

// quotedEnd finds lit (starting with a quote) at or after pos where the
// quote is not escaped by a backslash.
func quotedEnd(s string, pos int, lit string) int {
	j := pos
	for {
		k := strings.Index(s[j:], lit)
		if k < 0 {
			return -1
		}
		j += k
		bs := 0
		for b := j - 1; b >= pos && s[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 {
			return j
		}
		j++
	}
}

func (p *customParser) assign(st *state, r *webRec, name, v string) {
	if e, ok := st.fields.user[name]; ok {
		r.set(int(e.target), v, e.ind)
		return
	}
	if t, ok := nginxTargets[name]; ok {
		if t == fBytes && name == "bytes_sent" && r.bytes != "" {
			return
		}
		r.set(t, v, "")
		return
	}
	if k, ok := nginxIndicators[name]; ok {
		r.indicator(k, v)
		return
	}
	r.indicator(name, v)
}
