package logs

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// parseAddrPort reads an address as logs write it: "192.0.2.1",
// "192.0.2.1:8080", "[2001:db8::1]:443", "2001:db8::1", with optional
// surrounding quotes. IPv4-mapped IPv6 addresses are unmapped: a
// dual-stack socket's "::ffff:192.0.2.1" is the IPv4 client.
func parseAddrPort(s string) (netip.Addr, uint16, bool) {
	if a, ok := parseIPv4(s); ok {
		// The usual case, nothing to trim or split.
		return a, 0, true
	}
	s = trimAddr(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, 0, false
	}
	var port uint16
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, 0, false
		}
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return netip.Addr{}, 0, false
			}
			p, ok := parsePort(rest[1:])
			if !ok {
				return netip.Addr{}, 0, false
			}
			port = p
		}
		s = s[1:end]
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.LastIndexByte(s, ':') == i {
		// One colon: IPv4 with a port.
		p, ok := parsePort(s[i+1:])
		if !ok {
			return netip.Addr{}, 0, false
		}
		port = p
		s = s[:i]
	}
	if a, ok := parseIPv4(s); ok {
		return a, port, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	return a.Unmap().WithZone(""), port, true
}

// parseIPv4 reads a dotted quad as netip.ParseAddr does (four decimal
// fields up to 255, no leading zeros) at a fifth of its cost: nearly every
// address of a log is one. ok is false for anything else, left to
// netip.ParseAddr.
func parseIPv4(s string) (netip.Addr, bool) {
	var ip [4]byte
	field, i := 0, 0
	for ; field < 4; field++ {
		if field > 0 {
			if i >= len(s) || s[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && i-start < 4 && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if n := i - start; n == 0 || n > 3 || v > 255 || (n > 1 && s[start] == '0') {
			return netip.Addr{}, false
		}
		ip[field] = byte(v)
	}
	if i != len(s) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// trimAddr is strings.Trim(s, " \t\"") without building the cut set on
// every call: it runs once per line.
func trimAddr(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '"') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '"') {
		s = s[:len(s)-1]
	}
	return s
}

func parseAddr(s string) (netip.Addr, bool) {
	a, _, ok := parseAddrPort(s)
	return a, ok
}

func parsePort(s string) (uint16, bool) {
	n, ok := digits(s)
	if !ok || n > 65535 || len(s) > 5 {
		return 0, false
	}
	return uint16(n), true
}

// splitXFF splits an X-Forwarded-For value into its entries, left (the
// claimed origin) to right (the proxy nearest the server).
func splitXFF(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" || v == "-" {
		return nil
	}
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.Trim(part, " \t\"")
		if part == "" {
			continue
		}
		out = append(out, part)
	}
	return out
}

// splitForwarded extracts the for= identifiers of an RFC 7239 Forwarded
// value, left to right: addresses (quoted, bracketed, with ports),
// "unknown" and obfuscated identifiers ("_hidden").
func splitForwarded(v string) []string {
	var out []string
	for elem := range strings.SplitSeq(v, ",") {
		for pair := range strings.SplitSeq(elem, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
			}
			if val != "" {
				out = append(out, val)
			}
		}
	}
	return out
}

func trusted(a netip.Addr, trust []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trust {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ResolveChain walks a forwarded-for chain right to left from the socket
// peer through the trusted proxies. claims are the header entries, left
// (claimed origin) to right (nearest proxy). The first address that is not
// inside a trusted range is the client; the entries to its left are
// unverified claims (Trusted false). An "unknown" or obfuscated identifier
// (RFC 7239) where the client should be leaves the client unknown (invalid
// Addr). The returned chain lists every claim and then the peer, at most
// maxChain entries (the rightmost are kept: they decide the walk).
func ResolveChain(peer netip.Addr, claims []string, trust []netip.Prefix, maxChain int) (client netip.Addr, chain []forensics.ProxyHop, truncated bool) {
	if len(claims) == 0 {
		return peer, nil, false
	}
	if maxChain > 1 && len(claims) > maxChain-1 {
		claims = claims[len(claims)-(maxChain-1):]
		truncated = true
	}
	addrs := make([]netip.Addr, len(claims))
	for i, c := range claims {
		addrs[i], _ = parseAddr(c)
	}
	// idx is the index of the client in claims; len(claims) is the peer.
	idx := len(claims)
	client = peer
	if trusted(peer, trust) {
		idx = -1
		for i := len(claims) - 1; i >= 0; i-- {
			if !addrs[i].IsValid() || !trusted(addrs[i], trust) {
				idx = i
				break
			}
		}
		if idx < 0 {
			// Every hop is a trusted proxy: the leftmost one originated it.
			idx = 0
		}
		client = addrs[idx]
	}
	chain = make([]forensics.ProxyHop, 0, len(claims)+1)
	for i, c := range claims {
		ip := c
		if addrs[i].IsValid() {
			ip = addrs[i].String()
		} else if len(ip) > 64 {
			ip = ip[:64]
		}
		chain = append(chain, forensics.ProxyHop{IP: ip, Trusted: i >= idx && trusted(addrs[i], trust)})
	}
	chain = append(chain, forensics.ProxyHop{IP: peer.String(), Trusted: true})
	if !peer.IsValid() {
		chain[len(chain)-1].IP = "unknown"
	}
	return client, chain, truncated
}

// applyProxy fills ClientIP and ProxyChain from whichever forwarding
// header the record had: Forwarded, else X-Forwarded-For, else X-Real-IP.
func (st *state) applyProxy(ev *forensics.Event, xff, fwd, realIP string) {
	var claims []string
	switch {
	case fwd != "" && fwd != "-":
		claims = splitForwarded(fwd)
	case xff != "" && xff != "-":
		claims = splitXFF(xff)
	case realIP != "" && realIP != "-":
		claims = splitXFF(realIP)
	}
	if len(claims) > 4*st.opts.MaxChain {
		claims = claims[len(claims)-4*st.opts.MaxChain:]
	}
	client, chain, trunc := ResolveChain(ev.SrcIP, claims, st.opts.TrustProxy, st.opts.MaxChain)
	ev.ClientIP = client
	ev.ProxyChain = chain
	if trunc {
		st.capHit("proxy_chain_entries")
		ev.Flags = append(ev.Flags, "proxy_chain_truncated")
	}
	if !client.IsValid() && ev.SrcIP.IsValid() {
		ev.Flags = append(ev.Flags, "client_unknown")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
