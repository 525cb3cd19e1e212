package logs

import (
	"net/netip"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestResolveChain(t *testing.T) {
	lb := prefixes("10.0.0.0/8", "2001:db8:ffff::/48")
	cases := []struct {
		name    string
		peer    string
		claims  []string
		trust   []netip.Prefix
		client  string // "" = unknown
		trusted []bool // per chain entry, peer last
		ips     []string
	}{
		{
			name: "no proxy trusted: the peer is the client, all claims unverified",
			peer: "203.0.113.9", claims: []string{"198.51.100.1"}, trust: nil,
			client: "203.0.113.9", trusted: []bool{false, true}, ips: []string{"198.51.100.1", "203.0.113.9"},
		},
		{
			name: "trusted load balancer: the rightmost untrusted entry is the client",
			peer: "10.0.0.2", claims: []string{"198.51.100.1"}, trust: lb,
			client: "198.51.100.1", trusted: []bool{false, true},
		},
		{
			name: "spoofed left-most entry stays an unverified claim",
			peer: "10.0.0.2", claims: []string{"1.1.1.1", "198.51.100.1"}, trust: lb,
			client: "198.51.100.1", trusted: []bool{false, false, true},
		},
		{
			name: "spoofed entry inside a trusted range left of the client is not trusted",
			peer: "10.0.0.2", claims: []string{"10.9.9.9", "198.51.100.1", "10.0.0.3"}, trust: lb,
			client: "198.51.100.1", trusted: []bool{false, false, true, true},
		},
		{
			name: "trusted chain of two proxies",
			peer: "10.0.0.2", claims: []string{"203.0.113.5", "10.1.1.1", "10.2.2.2"}, trust: lb,
			client: "203.0.113.5", trusted: []bool{false, true, true, true},
		},
		{
			name: "every hop trusted: the leftmost is the origin",
			peer: "10.0.0.2", claims: []string{"10.5.5.5", "10.1.1.1"}, trust: lb,
			client: "10.5.5.5", trusted: []bool{true, true, true},
		},
		{
			name: "IPv6 with brackets and port, IPv4 with port",
			peer: "2001:db8:ffff::1", claims: []string{"[2001:db8:cafe::17]:4711", "192.0.2.60:8080"}, trust: lb,
			client: "192.0.2.60", trusted: []bool{false, false, true},
			ips: []string{"2001:db8:cafe::17", "192.0.2.60", "2001:db8:ffff::1"},
		},
		{
			name: "bare IPv6 claim",
			peer: "10.0.0.2", claims: []string{"2001:db8::dead:beef"}, trust: lb,
			client: "2001:db8::dead:beef", trusted: []bool{false, true},
		},
		{
			name: "unknown where the client should be leaves it unknown",
			peer: "10.0.0.2", claims: []string{"198.51.100.1", "unknown"}, trust: lb,
			client: "", trusted: []bool{false, false, true}, ips: []string{"198.51.100.1", "unknown", "10.0.0.2"},
		},
		{
			name: "RFC 7239 obfuscated identifier",
			peer: "10.0.0.2", claims: []string{"_hidden", "10.1.1.1"}, trust: lb,
			client: "", trusted: []bool{false, true, true}, ips: []string{"_hidden", "10.1.1.1", "10.0.0.2"},
		},
		{
			name: "garbage claim behind an untrusted peer changes nothing",
			peer: "203.0.113.9", claims: []string{"<script>"}, trust: lb,
			client: "203.0.113.9", trusted: []bool{false, true},
		},
		{
			name: "IPv4-mapped IPv6 is unmapped",
			peer: "10.0.0.2", claims: []string{"::ffff:198.51.100.7"}, trust: lb,
			client: "198.51.100.7", trusted: []bool{false, true}, ips: []string{"198.51.100.7", "10.0.0.2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, chain, _ := ResolveChain(netip.MustParseAddr(c.peer), c.claims, c.trust, 32)
			if c.client == "" {
				if client.IsValid() {
					t.Errorf("client %v, want unknown", client)
				}
			} else if client != netip.MustParseAddr(c.client) {
				t.Errorf("client %v, want %s", client, c.client)
			}
			if len(chain) != len(c.trusted) {
				t.Fatalf("chain %+v", chain)
			}
			for i, h := range chain {
				if h.Trusted != c.trusted[i] {
					t.Errorf("hop %d %+v trusted=%v, want %v", i, h, h.Trusted, c.trusted[i])
				}
				if c.ips != nil && h.IP != c.ips[i] {
					t.Errorf("hop %d ip %q, want %q", i, h.IP, c.ips[i])
				}
			}
		})
	}
}

func TestSplitForwarded(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"rfc7239 example", `for="_gazonk"`, []string{"_gazonk"}},
		{"ipv6 quoted with port", `For="[2001:db8:cafe::17]:4711"`, []string{"[2001:db8:cafe::17]:4711"}},
		{"pairs and list", `for=192.0.2.60;proto=http;by=203.0.113.43, for=198.51.100.17`, []string{"192.0.2.60", "198.51.100.17"}},
		{"unknown", `for=unknown, for=192.0.2.1`, []string{"unknown", "192.0.2.1"}},
		{"no for", `by=203.0.113.43;proto=https`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := splitForwarded(c.in)
			if len(got) != len(c.want) {
				t.Fatalf("%q → %q", c.in, got)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%q → %q", c.in, got)
				}
			}
		})
	}
}

// TestProxyHeadersInLogs runs the three forwarding headers through real
// parsers with --trust-proxy.
func TestProxyHeadersInLogs(t *testing.T) {
	opts := DefaultOptions()
	opts.TrustProxy = prefixes("10.0.0.0/8")
	cases := []struct {
		name, line, format, client string
		chainLen                   int
	}{
		{"nginx main format trailing XFF", `10.0.0.2 - - [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" "6.6.6.6, 198.51.100.1"`, FormatCombined, "198.51.100.1", 3},
		{"json Forwarded", `{"time":"2025-06-24T00:00:00Z","remote_addr":"10.0.0.2","http_forwarded":"for=\"[2001:db8::1]:443\";proto=https"}`, FormatJSONL, "2001:db8::1", 2},
		{"json X-Real-IP", `{"time":"2025-06-24T00:00:00Z","remote_addr":"10.0.0.2","x_real_ip":"198.51.100.2"}`, FormatJSONL, "198.51.100.2", 2},
		{"json XFF array", `{"time":"2025-06-24T00:00:00Z","remote_addr":"10.0.0.2","xff":["198.51.100.3","10.0.0.9"]}`, FormatJSONL, "198.51.100.3", 3},
		{"filebeat list before the peer", `"10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a HTTP/1.1" 200 1 "-" "Amazon CloudFront"`, FormatCombined, "204.246.1.1", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := one(t, c.line, c.format, opts)
			if e.ClientIP != netip.MustParseAddr(c.client) || len(e.ProxyChain) != c.chainLen {
				t.Errorf("client %v chain %+v", e.ClientIP, e.ProxyChain)
			}
			if e.Actor() != e.ClientIP {
				t.Errorf("actor %v", e.Actor())
			}
		})
	}
	_ = forensics.ProxyHop{}
}

func TestParseIPv4MatchesNetip(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "192.0.2.1", "10.0.0.255",
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.02.3.4", "1.2.3.004", "1..2.3",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.1000", "1.2.3.", ".1.2.3", "", "a.b.c.d",
		"1.2.3.4%eth0", "::ffff:1.2.3.4", "2001:db8::1", "0000.1.2.3", "1.2.3.0x1",
	} {
		a, ok := parseIPv4(s)
		want, err := netip.ParseAddr(s)
		if ok && (err != nil || a != want) {
			t.Errorf("parseIPv4(%q) = %v, netip.ParseAddr: %v, %v", s, a, want, err)
		}
		if !ok && err == nil && want.Is4() {
			t.Errorf("parseIPv4(%q) refused an address netip reads as %v", s, want)
		}
	}
}
