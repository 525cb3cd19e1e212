package report

import (
	"net/netip"
	"testing"

	"github.com/tracehop/tracehop/enrich"
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
	for _, r := range relaysOf(t, c) {
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

// TestRelayLinks: a relay row is verified as the last link naming its
// address says, http when any of them is a forwarded-for link, and a
// chain carried by several campaigns gives its rows once.
func TestRelayLinks(t *testing.T) {
	x, a, y := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("192.0.2.2")
	ch := forensics.Chain{ID: "ch-1",
		Hops: []forensics.Hop{{IP: x, Role: "origin"}, {IP: a, Role: "proxy"}, {IP: y, Role: "relay"}},
		Links: []forensics.HopLink{
			{From: x.String(), To: a.String(), Method: "xff", Verified: true},
			{From: a.String(), To: y.String(), Method: "timing", Verified: false},
			{From: y.String(), To: "198.51.100.1", Method: "timing", Verified: true},
		}}
	c := &forensics.Case{Chains: []forensics.Chain{ch},
		Campaigns: []forensics.Campaign{{ID: "c-1", Hops: []forensics.Chain{ch}}, {ID: "c-2", Hops: []forensics.Chain{ch}}}}
	rs := relaysOf(t, c)
	if len(rs) != 2 {
		t.Fatalf("%d relay rows, want 2: %+v", len(rs), rs)
	}
	for _, r := range rs {
		switch r.IP {
		case a:
			if r.Verified || r.Protocol != "http" || r.Destination != y.String() {
				t.Errorf("proxy row %+v", r)
			}
		case y:
			if !r.Verified || r.Protocol != "" {
				t.Errorf("relay row %+v", r)
			}
		}
	}
}

// TestMapCapped: a case with more positioned addresses than the map
// draws keeps the relays first and says how many it drew.
func TestMapCapped(t *testing.T) {
	lat, lon := 37.5, 127.0
	v := &view{Case: &forensics.Case{}}
	for i := range maxMapCircles + 500 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		row := IPRow{IP: ip, Geo: &enrich.Record{Country: "KR", Lat: &lat, Lon: &lon, AccuracyKM: 50}}
		if i == maxMapCircles+400 {
			row.Roles = []string{"relay"}
		}
		v.IPs = append(v.IPs, row)
	}
	f, err := v.figures()
	if err != nil {
		t.Fatal(err)
	}
	if f.MapPoints != maxMapCircles+500 || f.MapDrawn != maxMapCircles || len(f.Map.Circles) != maxMapCircles {
		t.Fatalf("points %d, drawn %d, circles %d", f.MapPoints, f.MapDrawn, len(f.Map.Circles))
	}
	if f.Map.Circles[0].Class != "relay" {
		t.Errorf("first circle %+v, want the relay", f.Map.Circles[0])
	}
}

// relaysOf is the relay rows of c, as newView collects them.
func relaysOf(t *testing.T, c *forensics.Case) []Relay {
	t.Helper()
	ff, err := readFlowFacts(c)
	if err != nil {
		t.Fatal(err)
	}
	return collectRelays(c, ff.protos)
}
