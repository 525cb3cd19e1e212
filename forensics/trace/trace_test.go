package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

var t0 = time.Date(2025, 7, 8, 2, 10, 0, 0, time.UTC)

func flow(src, dst string, dport uint16, start time.Time, d time.Duration) forensics.Flow {
	return forensics.Flow{
		ID: fmt.Sprintf("%s>%s@%d", src, dst, start.UnixNano()), Proto: "tcp",
		SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), DstPort: dport,
		Start: forensics.NewTime(start), End: forensics.NewTime(start.Add(d)),
	}
}

func offsets(ms ...int) []time.Time {
	var ts []time.Time
	for _, m := range ms {
		ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
	}
	return ts
}

func TestCorrelate(t *testing.T) {
	p := func(ts []time.Time, shift time.Duration) []forensics.Period {
		var ps []forensics.Period
		for _, x := range ts {
			ps = append(ps, forensics.Period{Start: forensics.NewTime(x.Add(shift)), End: forensics.NewTime(x.Add(shift + 100*time.Millisecond))})
		}
		return ps
	}
	a := offsets(0, 2100, 5300, 7000, 11000, 12600)
	tests := []struct {
		name  string
		b     []forensics.Period
		coinc int
		ratio float64
	}{
		{"same rhythm 30 ms later", p(a, 30*time.Millisecond), 6, 1},
		{"same rhythm 200 ms later", p(a, 200*time.Millisecond), 0, 0},
		{"other rhythm", p(offsets(900, 3000, 6100, 9000, 10200), 0), 0, 0},
		{"half shared", p(offsets(0, 2100, 5300, 8000, 9500, 14000), 50*time.Millisecond), 3, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Correlate(p(a, 0), tc.b, 80*time.Millisecond)
			if c.Coincidences != tc.coinc || c.Ratio != tc.ratio {
				t.Errorf("got %+v, want %d coincidences ratio %v", c, tc.coinc, tc.ratio)
			}
		})
	}
}

func TestRelayPairs(t *testing.T) {
	const o, r, tg, u = "203.0.113.10", "198.51.100.20", "192.0.2.80", "203.0.113.77"
	var flows []forensics.Flow
	for _, x := range offsets(1000, 3500, 4200, 8800, 10100, 13900, 15000, 19500) {
		flows = append(flows, flow(o, r, 3128, x, 150*time.Millisecond))
		flows = append(flows, flow(r, tg, 443, x.Add(25*time.Millisecond), 150*time.Millisecond))
	}
	for _, x := range offsets(2200, 6000, 7300, 11900, 17000, 18200) {
		flows = append(flows, flow(u, r, 3128, x, 120*time.Millisecond))
	}
	chains := Build(nil, flows, nil, DefaultOptions())
	if len(chains) != 1 {
		t.Fatalf("chains %d, want 1: %+v", len(chains), chains)
	}
	ch := chains[0]
	var ips []string
	for _, h := range ch.Hops {
		ips = append(ips, h.Role+" "+h.IP.String())
	}
	if want := []string{"origin " + o, "relay " + r, "target " + tg}; !slices.Equal(ips, want) {
		t.Errorf("hops %v, want %v", ips, want)
	}
	l := ch.Links[1]
	if l.Method != MethodOnOff || !l.Verified || l.Coincidences != 8 || l.Score != 1 || l.IdlePeriods != 7 {
		t.Errorf("link %+v", l)
	}
	if ch.Hops[1].Ports[0] != 3128 || ch.Hops[2].Ports[0] != 443 {
		t.Errorf("ports %v %v", ch.Hops[1].Ports, ch.Hops[2].Ports)
	}
	// Input order does not matter.
	slices.Reverse(flows)
	again := Build(nil, flows, nil, DefaultOptions())
	if len(again) != 1 || again[0].ID != ch.ID {
		t.Errorf("reversed input gave %+v", again)
	}
}

func TestRelayTimingFallback(t *testing.T) {
	// One long tunnel each side, no per-packet activity: paired on timing
	// only and not verified; a tunnel at another time is not paired.
	flows := []forensics.Flow{
		flow("203.0.113.10", "198.51.100.20", 22, t0, 10*time.Minute),
		flow("198.51.100.20", "192.0.2.80", 443, t0.Add(40*time.Millisecond), 10*time.Minute),
		flow("203.0.113.77", "198.51.100.20", 22, t0.Add(time.Minute), 3*time.Minute),
	}
	chains := Build(nil, flows, nil, DefaultOptions())
	if len(chains) != 1 || chains[0].Hops[0].IP.String() != "203.0.113.10" {
		t.Fatalf("chains %+v", chains)
	}
	if l := chains[0].Links[1]; l.Method != MethodTiming || l.Verified {
		t.Errorf("link %+v", l)
	}
	// Short single flows (a DNS lookup by a server while a client's
	// request is served) are never paired on timing alone.
	short := []forensics.Flow{
		flow("203.0.113.10", "192.0.2.80", 443, t0, 300*time.Millisecond),
		flow("192.0.2.80", "192.0.2.53", 53, t0.Add(100*time.Millisecond), 20*time.Millisecond),
	}
	if got := Build(nil, short, nil, DefaultOptions()); len(got) != 0 {
		t.Errorf("short flows paired: %+v", got)
	}
}

func TestXFFChains(t *testing.T) {
	ev := func(sec int, chain ...forensics.ProxyHop) forensics.Event {
		return forensics.Event{ID: fmt.Sprint(sec), Time: forensics.NewTime(t0.Add(time.Duration(sec) * time.Second)),
			SrcIP: netip.MustParseAddr(chain[len(chain)-1].IP), ClientIP: netip.MustParseAddr("198.51.100.7"),
			DstIP: netip.MustParseAddr("192.0.2.1"), DstPort: 443, ProxyChain: chain,
			Evidence: forensics.EvidenceRef{File: "a.log", Line: uint64(sec + 1)}}
	}
	chain := []forensics.ProxyHop{{IP: "10.9.9.9"}, {IP: "198.51.100.7"}, {IP: "10.0.0.5", Trusted: true}}
	evs := []forensics.Event{ev(1, chain...), ev(5, chain...), ev(9, forensics.ProxyHop{IP: "198.51.100.7"})}
	chains := Build(evs, nil, nil, DefaultOptions())
	if len(chains) != 1 {
		t.Fatalf("chains %d", len(chains))
	}
	ch := chains[0]
	if len(ch.Hops) != 4 || ch.Hops[0].Role != RoleOrigin || ch.Hops[1].Role != RoleProxy || ch.Hops[2].Role != RoleProxy || ch.Hops[3].Role != RoleTarget {
		t.Errorf("hops %+v", ch.Hops)
	}
	if ch.Links[0].Verified || ch.Links[1].Verified != true || ch.Links[0].Method != MethodXFF {
		t.Errorf("links %+v", ch.Links)
	}
	if !ch.Hops[0].FirstSeen.Equal(t0.Add(time.Second)) || !ch.Hops[0].LastSeen.Equal(t0.Add(5*time.Second)) || len(ch.Evidence) != 2 {
		t.Errorf("seen %v %v evidence %d", ch.Hops[0].FirstSeen, ch.Hops[0].LastSeen, len(ch.Evidence))
	}
	cs := []forensics.Campaign{{ID: "c1", IPs: []string{"198.51.100.7"}}, {ID: "c2", IPs: []string{"192.0.2.200"}}}
	Build(evs, nil, cs, DefaultOptions())
	if len(cs[0].Hops) != 1 || len(cs[1].Hops) != 0 {
		t.Errorf("campaign hops %d %d", len(cs[0].Hops), len(cs[1].Hops))
	}
}

// TestXFFChainCap: a spoofed X-Forwarded-For per request makes a new path
// per line; past MaxChains paths the first ones (in time order) are kept
// whole, later sightings of them still counted, and the events of new
// paths are reported as trace.max_chains.
func TestXFFChainCap(t *testing.T) {
	ev := func(sec int, origin string) forensics.Event {
		return forensics.Event{ID: fmt.Sprint(sec), Time: forensics.NewTime(t0.Add(time.Duration(sec) * time.Second)),
			SrcIP: netip.MustParseAddr("10.0.0.5"), ClientIP: netip.MustParseAddr(origin),
			ProxyChain: []forensics.ProxyHop{{IP: origin}, {IP: "10.0.0.5"}},
			Evidence:   forensics.EvidenceRef{File: "a.log", Line: uint64(sec + 1)}}
	}
	var evs []forensics.Event
	for i := range 10 {
		evs = append(evs, ev(i, fmt.Sprintf("198.51.100.%d", i)))
	}
	evs = append(evs, ev(20, "198.51.100.1"), ev(21, "198.51.100.7"))
	opts := DefaultOptions()
	opts.MaxChains = 3
	chains, caps := BuildCaps(evs, nil, nil, opts)
	var origins []string
	for _, ch := range chains {
		origins = append(origins, ch.Hops[0].IP.String())
	}
	if want := []string{"198.51.100.0", "198.51.100.1", "198.51.100.2"}; !slices.Equal(origins, want) {
		t.Errorf("origins %v, want %v", origins, want)
	}
	if !chains[1].Hops[0].LastSeen.Equal(t0.Add(20*time.Second)) || len(chains[1].Evidence) != 2 {
		t.Errorf("a kept path's later sighting: last %v, evidence %d", chains[1].Hops[0].LastSeen, len(chains[1].Evidence))
	}
	if want := []forensics.CapHit{{Cap: "trace.max_chains", Count: 8}}; !slices.Equal(caps, want) {
		t.Errorf("caps %+v, want %+v", caps, want)
	}
	if _, caps := BuildCaps(evs, nil, nil, DefaultOptions()); len(caps) != 0 {
		t.Errorf("under the default cap: %+v", caps)
	}
}

// TestAttachMatchesScan: Attach gives each campaign the chains a scan of
// every chain's hops against the campaign's addresses gives, in chain
// order and once each, whether the addresses are sorted or not.
func TestAttachMatchesScan(t *testing.T) {
	ips := []string{"192.0.2.1", "192.0.2.2", "198.51.100.3", "203.0.113.4", "2001:db8::5", "::ffff:192.0.2.1"}
	var chains []forensics.Chain
	for i := range 40 {
		var hops []forensics.Hop
		for j := range 1 + i%4 {
			hops = append(hops, forensics.Hop{IP: netip.MustParseAddr(ips[(i*7+j*3)%len(ips)])})
		}
		chains = append(chains, forensics.Chain{ID: fmt.Sprintf("ch-%02d", i), Hops: hops})
	}
	campaigns := []forensics.Campaign{
		{ID: "a", IPs: []string{"192.0.2.1"}},
		{ID: "b", IPs: []string{"203.0.113.4", "192.0.2.2"}}, // not sorted
		{ID: "c", IPs: []string{"2001:db8::5", "2001:db8::5", "::ffff:192.0.2.1"}},
		{ID: "d", IPs: []string{"10.9.9.9"}},
		{ID: "e"},
	}
	want := make([][]string, len(campaigns))
	for i, c := range campaigns {
		for _, ch := range chains {
			if slices.ContainsFunc(ch.Hops, func(h forensics.Hop) bool { return slices.Contains(c.IPs, h.IP.String()) }) {
				want[i] = append(want[i], ch.ID)
			}
		}
	}
	campaigns[3].Hops = chains[:1] // replaced, not appended to
	Attach(campaigns, chains)
	for i, c := range campaigns {
		var got []string
		for _, ch := range c.Hops {
			got = append(got, ch.ID)
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("campaign %s: chains %v, want %v", c.ID, got, want[i])
		}
	}
	if len(want[0]) == 0 || len(want[2]) == 0 {
		t.Fatal("the case tests little")
	}
}

// TestRelayCaps: the pairs a relay's groups would need beyond MaxPairs,
// and the ON periods beyond MaxPeriods, are counted as caps, not dropped
// silently; within the limits there is none.
func TestRelayCaps(t *testing.T) {
	const o, r, tg, u = "203.0.113.10", "198.51.100.20", "192.0.2.80", "203.0.113.77"
	var flows []forensics.Flow
	for _, x := range offsets(1000, 3500, 4200, 8800, 10100, 13900, 15000, 19500) {
		flows = append(flows, flow(o, r, 3128, x, 150*time.Millisecond))
		flows = append(flows, flow(r, tg, 443, x.Add(25*time.Millisecond), 150*time.Millisecond))
		flows = append(flows, flow(u, r, 3128, x.Add(900*time.Millisecond), 120*time.Millisecond))
	}
	if _, caps := BuildCaps(nil, flows, nil, DefaultOptions()); len(caps) != 0 {
		t.Errorf("caps %+v within the limits", caps)
	}
	o2 := DefaultOptions()
	o2.MaxPairs, o2.MaxPeriods = 1, 3
	_, caps := BuildCaps(nil, flows, nil, o2)
	want := []forensics.CapHit{{Cap: "trace.max_pairs", Count: 1}, {Cap: "trace.max_periods", Count: 3}}
	if !slices.Equal(caps, want) {
		t.Errorf("caps %+v, want %+v", caps, want)
	}
}

// TestRelayFlows: of a relay's traffic among a scan and flows without
// both ends, relayFlows keeps those to and from the relay, in order, and
// at most MaxRelayFlows of them, counting the rest.
func TestRelayFlows(t *testing.T) {
	const o, r, tg = "203.0.113.10", "198.51.100.20", "192.0.2.80"
	var flows []forensics.Flow
	for i, x := range offsets(1000, 3500, 4200, 8800, 10100, 13900) {
		flows = append(flows, flow(o, r, 3128, x, 150*time.Millisecond))
		flows = append(flows, flow(r, tg, 443, x.Add(25*time.Millisecond), 150*time.Millisecond))
		flows = append(flows, flow("192.0.2.1", fmt.Sprintf("10.0.0.%d", i), 22, x, time.Millisecond)) // a scan
		flows = append(flows, flow(o, o, 80, x, time.Millisecond))                                     // both ends one address
	}
	flows = append(flows, forensics.Flow{ID: "no-dst", SrcIP: netip.MustParseAddr(tg)})
	each := func(fn func(*forensics.Flow) error) error { return forensics.EachOf(flows, fn) }
	var rc relayCaps
	got, err := relayFlows(each, DefaultOptions(), &rc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 || rc.flows != 0 {
		t.Fatalf("%d flows kept (%d over the cap), want the relay's 12", len(got), rc.flows)
	}
	for i, f := range got {
		if f.src.String() != r && f.dst.String() != r || (i > 0 && f.start.Before(got[i-1].start)) {
			t.Errorf("flow %d kept: %s > %s at %v", i, f.src, f.dst, f.start)
		}
	}
	chains, caps := BuildCaps(nil, flows, nil, DefaultOptions())
	if len(chains) != 1 || len(caps) != 0 {
		t.Errorf("chains %v, caps %v: want the relay's one chain", chains, caps)
	}
	opts := DefaultOptions()
	opts.MaxRelayFlows = 5
	if got, _ := relayFlows(each, opts, &rc); len(got) != 5 || !got[4].start.Equal(flows[8].Start.Time) {
		t.Errorf("capped: %d kept", len(got))
	}
	if _, caps := BuildCaps(nil, flows, nil, opts); !slices.Equal(caps, []forensics.CapHit{{Cap: "trace.max_relay_flows", Count: 7}}) {
		t.Errorf("capped: caps %v", caps)
	}
}
