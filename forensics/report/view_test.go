package report

import (
	"net/netip"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// TestRelayProtocols: a relay row without an HTTP link names the transport
// protocols of the flows touching its address, sorted, whether the
// address is their source or destination; campaign chains count too.
func TestRelayProtocols(t *testing.T) {
	a, b, x, y := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.9"),
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c := &forensics.Case{
		Flows: []forensics.Flow{
			{SrcIP: x, DstIP: a, Proto: "udp"},
			{SrcIP: a, DstIP: y, Proto: "tcp"},
			{SrcIP: y, DstIP: a, Proto: "tcp"},
			{SrcIP: x, DstIP: y, Proto: "icmp"},
			{SrcIP: b, DstIP: b, Proto: "tcp"},
		},
		Chains: []forensics.Chain{{ID: "ch-1", Hops: []forensics.Hop{{IP: x, Role: "origin"}, {IP: a, Role: "relay"}, {IP: y, Role: "target"}}}},
		Campaigns: []forensics.Campaign{{ID: "c-1", Hops: []forensics.Chain{
			{ID: "ch-2", Hops: []forensics.Hop{{IP: b, Role: "proxy"}, {IP: netip.MustParseAddr("192.0.2.99"), Role: "relay"}}},
		}}},
	}
	got := map[netip.Addr]string{}
	for _, r := range collectRelays(c) {
		got[r.IP] = r.Protocol
	}
	want := map[netip.Addr]string{a: "tcp,udp", b: "tcp", netip.MustParseAddr("192.0.2.99"): ""}
	if len(got) != len(want) {
		t.Fatalf("relays %v, want %v", got, want)
	}
	for ip, p := range want {
		if got[ip] != p {
			t.Errorf("%s: protocol %q, want %q", ip, got[ip], p)
		}
	}
}
