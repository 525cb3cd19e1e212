package logs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// sshdParser reads syslog lines (RFC 3164, RFC 5424, ISO-timestamped
// rsyslog and journald short-iso exports) and turns sshd messages that
// name a remote address into events. Lines of other programs and sshd
// messages without an address are counted as ignored.
type sshdParser struct {
	lastMonth int
	yearAdd   int
	rec       webRec
}

var errNoSyslog = errors.New("not a syslog line")

// syslogHeader splits a syslog line into time, host, program and message.
func (p *sshdParser) syslogHeader(st *state, s string) (t time.Time, raw string, assumed bool, prog, msg string, err error) {
	if strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		if end < 0 || end > 4 {
			return t, "", false, "", "", errNoSyslog
		}
		s = s[end+1:]
		if strings.HasPrefix(s, "1 ") { // RFC 5424
			f := strings.SplitN(s[2:], " ", 6)
			if len(f) < 6 {
				return t, "", false, "", "", errNoSyslog
			}
			var ok bool
			if t, assumed, ok = parseISOTime(f[0], st.opts.TZ); !ok {
				return t, "", false, "", "", fmt.Errorf("%w %q", errBadTime, clip(f[0]))
			}
			msg = f[5]
			if strings.HasPrefix(msg, "[") { // structured data
				if i := strings.Index(msg, "] "); i >= 0 {
					msg = msg[i+2:]
				}
			} else if strings.HasPrefix(msg, "- ") {
				msg = msg[2:]
			}
			msg = strings.TrimPrefix(msg, "\ufeff")
			return t, f[0], assumed, f[2], msg, nil
		}
	}
	var rest string
	if len(s) >= 15 && s[3] == ' ' && parseMonth(s[:3]) != 0 {
		raw = s[:15]
		mo := parseMonth(s[:3])
		d, ok1 := digits(strings.TrimSpace(s[4:6]))
		h, ok2 := digits(s[7:9])
		mi, ok3 := digits(s[10:12])
		sec, ok4 := digits(s[13:15])
		if !ok1 || !ok2 || !ok3 || !ok4 || s[9] != ':' || s[12] != ':' {
			return t, "", false, "", "", fmt.Errorf("%w %q", errBadTime, raw)
		}
		year := st.opts.Year
		if year != 0 {
			// A log that runs from December into January moves on a year.
			if p.lastMonth == 12 && mo == 1 {
				p.yearAdd++
			}
			p.lastMonth = mo
			year += p.yearAdd
		}
		if !validDate(max(year, 4), mo, d, h, mi, sec) {
			return t, "", false, "", "", fmt.Errorf("%w %q", errBadTime, raw)
		}
		t = time.Date(year, time.Month(mo), d, h, mi, sec, 0, st.opts.TZ)
		assumed = true
		rest = s[15:]
	} else if sp := strings.IndexByte(s, ' '); sp >= 19 {
		var ok bool
		if t, assumed, ok = parseISOTime(s[:sp], st.opts.TZ); !ok {
			return t, "", false, "", "", errNoSyslog
		}
		raw = s[:sp]
		rest = s[sp:]
	} else {
		return t, "", false, "", "", errNoSyslog
	}
	rest = strings.TrimLeft(rest, " ")
	// host
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return t, "", false, "", "", errors.New("no host and program")
	}
	rest = rest[sp+1:]
	colon := strings.Index(rest, ": ")
	if colon < 0 {
		if strings.HasSuffix(rest, ":") {
			colon = len(rest) - 1
		} else {
			return t, "", false, "", "", errors.New("no program tag")
		}
	}
	prog = rest[:colon]
	if i := strings.IndexByte(prog, '['); i >= 0 {
		prog = prog[:i]
	}
	if colon+2 <= len(rest) {
		msg = rest[colon+2:]
	}
	return t, raw, assumed, prog, msg, nil
}

func (p *sshdParser) parse(st *state, s string) error {
	t, raw, assumed, prog, msg, err := p.syslogHeader(st, s)
	if err != nil {
		return err
	}
	if prog != "sshd" && prog != "sshd-session" && prog != "sshd-auth" && !strings.HasPrefix(prog, "sshd@") {
		return errIgnore
	}
	r := &p.rec
	r.reset()
	action, ok := sshdMessage(r, msg)
	if !ok {
		return errIgnore
	}
	ev := st.newEvent("ssh")
	st.setTime(&ev, t, raw, assumed)
	if st.opts.Year == 0 && len(raw) == 15 {
		ev.Flags = append(ev.Flags, "year_unknown")
	}
	a, port, okA := parseAddrPort(r.src)
	if !okA {
		// sshd logs a host name when UseDNS is on.
		r.indicator("src_host", r.src)
		ev.Flags = append(ev.Flags, "src_not_ip")
	} else {
		ev.SrcIP, ev.SrcPort = a, port
	}
	if pt, okP := parsePort(r.srcPort); okP {
		ev.SrcPort = pt
	}
	if d, dp, okD := parseAddrPort(r.dst); okD {
		ev.DstIP, ev.DstPort = d, dp
	}
	if pt, okP := parsePort(r.dstPort); okP {
		ev.DstPort = pt
	}
	ev.ClientIP = ev.SrcIP
	ev.Action = action
	ev.User = st.cut(&ev, "user", r.user)
	ev.Credential = st.cut(&ev, "credential", r.credential)
	if len(r.indicators) > 0 {
		ev.Indicators = make(map[string]string, len(r.indicators))
		for _, kv := range r.indicators {
			ev.Indicators[kv[0]] = st.cutIndicator(&ev, kv[0], kv[1])
		}
	}
	st.emit(ev)
	return nil
}

// sshdMessage recognizes an sshd message. It returns the action and
// whether the message names a remote address.
func sshdMessage(r *webRec, msg string) (string, bool) {
	msg = strings.TrimSpace(msg)
	if m, ok := strings.CutPrefix(msg, "message repeated "); ok {
		n, inner, ok := strings.Cut(m, " times: [ ")
		if !ok {
			return "", false
		}
		r.indicator("repeated", n)
		return sshdMessage(r, strings.TrimSuffix(inner, "]"))
	}
	msg = strings.TrimPrefix(msg, "error: ")
	msg = strings.TrimPrefix(msg, "fatal: ")
	msg = strings.TrimSpace(strings.TrimSuffix(msg, "[preauth]"))
	switch {
	case strings.HasPrefix(msg, "Accepted "), strings.HasPrefix(msg, "Failed "), strings.HasPrefix(msg, "Postponed "):
		// "Accepted publickey for USER from IP port N ssh2: RSA SHA256:..."
		verb, rest, _ := strings.Cut(msg, " ")
		method, rest, ok := strings.Cut(rest, " for ")
		if !ok {
			return "", false
		}
		r.indicator("auth_method", method)
		if u, ok := strings.CutPrefix(rest, "invalid user "); ok {
			rest = u
			r.indicator("invalid_user", "true")
		}
		if !userFromPort(r, rest) {
			return "", false
		}
		if _, key, ok := strings.Cut(rest, "ssh2: "); ok {
			kt, fp, _ := strings.Cut(strings.TrimSpace(key), " ")
			if fp != "" {
				r.indicator("key_type", kt)
				r.indicator("key_fingerprint", fp)
				r.credential = "ssh-key:" + fp
			}
		}
		return strings.ToLower(verb), true
	case strings.HasPrefix(msg, "Invalid user "):
		return "invalid_user", userFromPort(r, msg[len("Invalid user "):])
	case strings.HasPrefix(msg, "maximum authentication attempts exceeded for "):
		rest := strings.TrimPrefix(msg[len("maximum authentication attempts exceeded for "):], "invalid user ")
		return "max_auth_exceeded", userFromPort(r, rest)
	case strings.HasPrefix(msg, "Received disconnect from "):
		// "Received disconnect from IP port N:11: reason" (old: "IP: 11: reason")
		rest := msg[len("Received disconnect from "):]
		var addr, reason string
		if pre, post, ok := strings.Cut(rest, " port "); ok {
			addr = pre
			port, rs, _ := strings.Cut(post, ":")
			r.srcPort, reason = port, rs
		} else {
			// Old format "ADDR: CODE: reason"; an address never holds ": ".
			addr, reason, _ = strings.Cut(rest, ": ")
		}
		r.src = strings.TrimSpace(addr)
		r.indicator("reason", strings.TrimSpace(reason))
		return "disconnected", r.src != ""
	case strings.HasPrefix(msg, "Disconnected from "), strings.HasPrefix(msg, "Connection closed by "), strings.HasPrefix(msg, "Connection reset by "),
		strings.HasPrefix(msg, "Timeout, client not responding from "):
		action := "disconnected"
		var rest string
		switch {
		case strings.HasPrefix(msg, "Connection closed by "):
			action, rest = "closed", msg[len("Connection closed by "):]
		case strings.HasPrefix(msg, "Connection reset by "):
			action, rest = "reset", msg[len("Connection reset by "):]
		case strings.HasPrefix(msg, "Timeout"):
			action, rest = "timeout", msg[len("Timeout, client not responding from "):]
		default:
			rest = msg[len("Disconnected from "):]
		}
		for _, pre := range []string{"authenticating user ", "invalid user ", "user "} {
			if u, ok := strings.CutPrefix(rest, pre); ok {
				if pre == "invalid user " {
					r.indicator("invalid_user", "true")
				}
				// the user name may be empty or contain spaces: the
				// address is the token before " port ".
				if i := strings.LastIndex(u, " port "); i >= 0 {
					head := u[:i]
					sp := strings.LastIndexByte(head, ' ')
					r.user = strings.TrimSpace(head[:max(sp, 0)])
					r.src = head[sp+1:]
					r.srcPort = firstToken(u[i+6:])
					return action, true
				}
				sp := strings.LastIndexByte(u, ' ')
				if sp < 0 {
					return "", false
				}
				r.user, r.src = u[:sp], u[sp+1:]
				return action, true
			}
		}
		addr, port, _ := strings.Cut(rest, " port ")
		r.src = firstToken(addr)
		r.srcPort = firstToken(port)
		return action, r.src != ""
	case strings.HasPrefix(msg, "Did not receive identification string from "):
		rest := msg[len("Did not receive identification string from "):]
		addr, port, _ := strings.Cut(rest, " port ")
		r.src, r.srcPort = firstToken(addr), firstToken(port)
		return "no_identification", true
	case strings.HasPrefix(msg, "Bad protocol version identification "):
		i := strings.LastIndex(msg, " from ")
		if i < 0 {
			return "", false
		}
		addr, port, _ := strings.Cut(msg[i+6:], " port ")
		r.src, r.srcPort = firstToken(addr), firstToken(port)
		return "bad_protocol", true
	case strings.HasPrefix(msg, "Unable to negotiate with "):
		rest := msg[len("Unable to negotiate with "):]
		addr, port, _ := strings.Cut(rest, " port ")
		r.src, r.srcPort = firstToken(addr), strings.TrimSuffix(firstToken(port), ":")
		return "negotiation_failed", true
	case strings.HasPrefix(msg, "Connection from "):
		// "Connection from IP port N on IP port N"
		f := strings.Fields(msg)
		if len(f) >= 4 && f[3] != "" {
			r.src, r.srcPort = f[2], f[4%len(f)]
			if len(f) >= 9 && f[5] == "on" {
				r.dst, r.dstPort = f[6], f[8]
			}
			return "connect", true
		}
		return "", false
	case strings.HasPrefix(msg, "reverse mapping checking getaddrinfo for "):
		rest := msg[len("reverse mapping checking getaddrinfo for "):]
		host, after, ok := strings.Cut(rest, " [")
		ip, _, ok2 := strings.Cut(after, "]")
		if !ok || !ok2 {
			return "", false
		}
		r.src = ip
		r.indicator("rdns", host)
		return "reverse_mapping_failed", true
	case strings.HasPrefix(msg, "Address ") && strings.Contains(msg, " maps to "):
		rest := msg[len("Address "):]
		ip, after, _ := strings.Cut(rest, " maps to ")
		host, _, _ := strings.Cut(after, ",")
		r.src = ip
		r.indicator("rdns", host)
		return "reverse_mapping_failed", true
	case strings.Contains(msg, "authentication failure") && strings.Contains(msg, "rhost="):
		// pam_unix(sshd:auth): authentication failure; ... rhost=IP  user=U
		// PAM 5 more authentication failures; ... rhost=IP
		_, after, _ := strings.Cut(msg, "rhost=")
		r.src = firstToken(after)
		if _, u, ok := strings.Cut(after, "user="); ok {
			r.user = firstToken(u)
		}
		if strings.HasPrefix(msg, "PAM ") {
			n, _, _ := strings.Cut(msg[4:], " ")
			r.indicator("failures", n)
		}
		return "auth_failure", r.src != ""
	}
	return "", false
}

// userFromPort parses "USER from ADDR[ port N][ ...]".
func userFromPort(r *webRec, s string) bool {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		if strings.HasPrefix(s, "from ") {
			i = -1
			s = " " + s
			i = 0
		} else {
			return false
		}
	}
	r.user = s[:i]
	rest := s[i+6:]
	addr, port, _ := strings.Cut(rest, " port ")
	r.src = firstToken(addr)
	r.srcPort = firstToken(port)
	return r.src != ""
}

func firstToken(s string) string {
	s = strings.TrimLeft(s, " ")
	if i := strings.IndexAny(s, " :"); i >= 0 && !(s[i] == ':' && strings.Count(s, ":") > 1) {
		return s[:i]
	}
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
