package enrich

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, ip, class, embedded string
	}{
		{"public v4", "8.8.8.8", ClassPublic, ""},
		{"rfc1918 10", "10.0.0.1", ClassPrivate, ""},
		{"rfc1918 172.16", "172.16.5.4", ClassPrivate, ""},
		{"not rfc1918 172.32", "172.32.0.1", ClassPublic, ""},
		{"rfc1918 192.168", "192.168.1.1", ClassPrivate, ""},
		{"cgnat", "100.64.1.1", ClassCGNAT, ""},
		{"cgnat top", "100.127.255.255", ClassCGNAT, ""},
		{"not cgnat", "100.128.0.1", ClassPublic, ""},
		{"loopback", "127.0.0.1", ClassLoopback, ""},
		{"link local", "169.254.1.1", ClassLinkLocal, ""},
		{"this network", "0.1.2.3", ClassThisNetwork, ""},
		{"unspecified v4", "0.0.0.0", ClassUnspecified, ""},
		{"ietf protocol", "192.0.0.8", ClassIETFProtocol, ""},
		{"pcp anycast", "192.0.0.9", ClassPublic, ""},
		{"test-net-1", "192.0.2.55", ClassDocumentation, ""},
		{"test-net-2", "198.51.100.1", ClassDocumentation, ""},
		{"test-net-3", "203.0.113.9", ClassDocumentation, ""},
		{"benchmarking", "198.19.0.1", ClassBenchmarking, ""},
		{"6to4 relay anycast", "192.88.99.1", ClassReserved, ""},
		{"multicast v4", "224.0.0.251", ClassMulticast, ""},
		{"reserved v4", "240.0.0.1", ClassReserved, ""},
		{"broadcast", "255.255.255.255", ClassBroadcast, ""},
		{"public v6", "2001:4860:4860::8888", ClassPublic, ""},
		{"unspecified v6", "::", ClassUnspecified, ""},
		{"loopback v6", "::1", ClassLoopback, ""},
		{"link local v6", "fe80::1", ClassLinkLocal, ""},
		{"unique local", "fd12:3456::1", ClassUniqueLocal, ""},
		{"site local", "fec0::1", ClassReserved, ""},
		{"multicast v6", "ff02::1", ClassMulticast, ""},
		{"documentation v6", "2001:db8::1", ClassDocumentation, ""},
		{"documentation 3fff", "3fff:0fff::1", ClassDocumentation, ""},
		{"discard", "100::1", ClassDiscard, ""},
		{"benchmarking v6", "2001:2::1", ClassBenchmarking, ""},
		{"orchid v2", "2001:20::1", ClassPublic, ""},
		{"ietf v6", "2001:100::1", ClassIETFProtocol, ""},
		{"nat64 local", "64:ff9b:1::1", ClassNAT64Local, ""},
		{"unallocated v6", "4000::1", ClassReserved, ""},
		{"ipv4-mapped public", "::ffff:1.1.1.1", ClassPublic, "1.1.1.1"},
		{"ipv4-mapped private", "::ffff:10.1.2.3", ClassPrivate, "10.1.2.3"},
		{"nat64", "64:ff9b::8.8.4.4", ClassPublic, "8.8.4.4"},
		{"6to4", "2002:c000:0204::1", ClassDocumentation, "192.0.2.4"},
		{"6to4 public", "2002:0808:0808::1", ClassPublic, "8.8.8.8"},
		// RFC 4380 section 4 example: client 192.0.2.45 obfuscated as 3fff:fdd2.
		{"teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", ClassDocumentation, "192.0.2.45"},
		{"zero addr", "", ClassInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ip netip.Addr
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			class, emb := Classify(ip)
			if class != tt.class {
				t.Errorf("Classify(%s) class = %q, want %q", tt.ip, class, tt.class)
			}
			want := netip.Addr{}
			if tt.embedded != "" {
				want = netip.MustParseAddr(tt.embedded)
			}
			if emb != want {
				t.Errorf("Classify(%s) embedded = %v, want %v", tt.ip, emb, want)
			}
		})
	}
}

// TestClassifyRoutableIPv6NeverPrivate sweeps global unicast space.
func TestClassifyRoutableIPv6NeverPrivate(t *testing.T) {
	for hi := uint64(0x2000); hi < 0x4000; hi += 7 {
		var b [16]byte
		b[0], b[1] = byte(hi>>8), byte(hi)
		b[15] = 1
		class, _ := Classify(netip.AddrFrom16(b))
		if class == ClassPrivate || class == ClassUniqueLocal || class == ClassLinkLocal {
			t.Fatalf("%v classified %s", netip.AddrFrom16(b), class)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "::ffff:1.1.1.1", "2002:c000:204::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b::1.2.3.4", "fe80::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		class, emb := Classify(ip)
		if class == "" {
			t.Fatalf("%v: empty class", ip)
		}
		if emb.IsValid() && !emb.Is4() {
			t.Fatalf("%v: embedded %v is not IPv4", ip, emb)
		}
		if ip.Is6() && !ip.Is4In6() && class == ClassPrivate && !emb.IsValid() {
			t.Fatalf("%v: IPv6 called private", ip)
		}
	})
}
