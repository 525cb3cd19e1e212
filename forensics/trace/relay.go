package trace

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// relayFlow is what relay pairing reads of a flow: about a third of a
// Flow, and none of its strings beyond the evidence, so that the flows
// through relays can be held.
type relayFlow struct {
	src, dst       netip.Addr
	start, end     time.Time
	activity       []forensics.Period
	dstPort        uint16
	srcGeo, dstGeo *enrich.Record
	evidence       forensics.EvidenceRef
}

// group is the traffic between a relay and one peer in one direction.
type group struct {
	peer    netip.Addr
	flows   []*relayFlow
	periods []span // merged ON periods, sorted
	first   time.Time
	last    time.Time
}

type span struct{ start, end time.Time }

// Correlation is the outcome of comparing two ON/OFF series.
type Correlation struct {
	Coincidences int
	OnA, OnB     int // ON periods of each side
	IdleA, IdleB int // OFF periods of each side
	Ratio        float64
}

// Correlate compares two sorted series of ON periods the Zhang–Paxson
// way: each OFF→ON transition of a is matched with at most one of b lying
// within delta; the ratio is the matches over the smaller number of ON
// periods.
func Correlate(a, b []forensics.Period, delta time.Duration) Correlation {
	return correlate(toSpans(a), toSpans(b), delta)
}

func toSpans(ps []forensics.Period) []span {
	s := make([]span, len(ps))
	for i, p := range ps {
		s[i] = span{p.Start.Time, p.End.Time}
	}
	return s
}

func correlate(a, b []span, delta time.Duration) Correlation {
	c := Correlation{OnA: len(a), OnB: len(b), IdleA: max(len(a)-1, 0), IdleB: max(len(b)-1, 0)}
	j := 0
	for _, x := range a {
		for j < len(b) && b[j].start.Before(x.start.Add(-delta)) {
			j++
		}
		if j < len(b) && !b[j].start.After(x.start.Add(delta)) {
			c.Coincidences++
			j++
		}
	}
	if n := min(len(a), len(b)); n > 0 {
		c.Ratio = float64(c.Coincidences) / float64(n)
	}
	return c
}

// merge turns flows into ON periods: each flow's Activity (or its whole
// span when the reader tracked none), joined when the gap is below idle.
func merge(flows []*relayFlow, idle time.Duration, maxPeriods int) (periods []span, capped bool) {
	var raw []span
	for _, f := range flows {
		if len(f.activity) > 0 {
			for _, p := range f.activity {
				raw = append(raw, span{p.Start.Time, tmax(p.End.Time, p.Start.Time)})
			}
			continue
		}
		raw = append(raw, span{f.start, tmax(f.end, f.start)})
	}
	slices.SortFunc(raw, func(x, y span) int { return cmp.Or(x.start.Compare(y.start), x.end.Compare(y.end)) })
	out := raw[:0]
	for _, s := range raw {
		if n := len(out); n > 0 && s.start.Sub(out[n-1].end) < idle {
			out[n-1].end = tmax(out[n-1].end, s.end)
			continue
		}
		if len(out) >= maxPeriods {
			return out, true
		}
		out = append(out, s)
	}
	return out, false
}

// groups gathers flows by peer; capped counts the groups whose ON
// periods were cut at opts.MaxPeriods.
func groups(flows []*relayFlow, peer func(*relayFlow) netip.Addr, opts Options, capped *int) []*group {
	by := map[netip.Addr]*group{}
	for _, f := range flows {
		p := peer(f)
		g := by[p]
		if g == nil {
			g = &group{peer: p, first: f.start, last: f.end}
			by[p] = g
		}
		g.flows = append(g.flows, f)
		g.first = tmin(g.first, f.start)
		g.last = tmax(g.last, tmax(f.end, f.start))
	}
	out := make([]*group, 0, len(by))
	for _, g := range by {
		var cut bool
		if g.periods, cut = merge(g.flows, opts.Idle, opts.MaxPeriods); cut {
			*capped++
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return a.peer.Compare(b.peer) })
	return out
}

// relayCaps counts what relayChains left out: relays with more inbound ×
// outbound groups than opts.MaxPairs (the rest not compared), groups
// with more ON periods than opts.MaxPeriods (the rest not correlated),
// and flows through relays past opts.MaxRelayFlows (not held).
type relayCaps struct {
	pairs, periods int
	flows          int64
}

// relayFlows returns what relayChains reads of the flows to or from an
// address that both receives and sends flows, in the order each gives
// them: the flows are read twice (once for the addresses, once for the
// flows), so that only these are held, and at most opts.MaxRelayFlows of
// them (the first; the rest are counted in caps). relayChains gives the
// same chains from them as from all the flows.
func relayFlows(each func(func(*forensics.Flow) error) error, opts Options, caps *relayCaps) ([]relayFlow, error) {
	const recv, send = 1, 2
	seen := map[netip.Addr]uint8{}
	err := each(func(f *forensics.Flow) error {
		if usable(f) {
			seen[f.DstIP] |= recv
			seen[f.SrcIP] |= send
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	relay := func(a netip.Addr) bool { return seen[a] == recv|send }
	var out []relayFlow
	err = each(func(f *forensics.Flow) error {
		if !usable(f) || !(relay(f.DstIP) || relay(f.SrcIP)) {
			return nil
		}
		if len(out) >= opts.MaxRelayFlows {
			caps.flows++
			return nil
		}
		out = append(out, relayFlow{
			src: f.SrcIP, dst: f.DstIP, start: f.Start.Time, end: f.End.Time,
			activity: slices.Clone(f.Activity), dstPort: f.DstPort,
			srcGeo: f.SrcGeo, dstGeo: f.DstGeo, evidence: f.Evidence,
		})
		return nil
	})
	return out, err
}

// usable says whether relayChains counts f: both ends known and apart.
func usable(f *forensics.Flow) bool {
	return f.SrcIP.IsValid() && f.DstIP.IsValid() && f.SrcIP != f.DstIP
}

// relayChains finds addresses that receive flows and send flows, and pairs
// their inbound and outbound traffic by ON/OFF correlation.
func relayChains(flows []relayFlow, opts Options, caps *relayCaps) []forensics.Chain {
	in := map[netip.Addr][]*relayFlow{}
	out := map[netip.Addr][]*relayFlow{}
	for i := range flows {
		f := &flows[i]
		in[f.dst] = append(in[f.dst], f)
		out[f.src] = append(out[f.src], f)
	}
	var relays []netip.Addr
	for r := range in {
		if len(out[r]) > 0 {
			relays = append(relays, r)
		}
	}
	slices.SortFunc(relays, func(a, b netip.Addr) int { return a.Compare(b) })
	var chains []forensics.Chain
	for _, r := range relays {
		ins := groups(in[r], func(f *relayFlow) netip.Addr { return f.src }, opts, &caps.periods)
		outs := groups(out[r], func(f *relayFlow) netip.Addr { return f.dst }, opts, &caps.periods)
		pairs := 0
	pairing:
		for _, gi := range ins {
			for _, gout := range outs {
				if gi.peer == gout.peer {
					continue
				}
				if pairs++; pairs > opts.MaxPairs {
					caps.pairs++
					break pairing
				}
				// time overlap first: cheap, and unrelated traffic at other
				// times never pairs
				if gi.last.Add(opts.Delta).Before(gout.first) || gout.last.Add(opts.Delta).Before(gi.first) {
					continue
				}
				link, ok := pair(gi, gout, opts)
				if ok {
					chains = append(chains, relayChain(r, gi, gout, link, opts))
				}
			}
		}
	}
	return chains
}

// pair decides whether inbound group gi continues as outbound group gout.
func pair(gi, gout *group, opts Options) (forensics.HopLink, bool) {
	c := correlate(gi.periods, gout.periods, opts.Delta)
	link := forensics.HopLink{
		Score:        round3(c.Ratio),
		Coincidences: c.Coincidences,
		IdlePeriods:  min(c.IdleA, c.IdleB),
	}
	if min(c.OnA, c.OnB) >= opts.MinCoincidences {
		link.Method = MethodOnOff
		link.Verified = c.Ratio >= opts.MinRatio && c.Coincidences >= opts.MinCoincidences
		return link, link.Verified
	}
	// Too few ON periods to correlate: pair single spans by timing only
	// (both ends close), never verified.
	if len(gi.periods) != len(gout.periods) {
		return link, false
	}
	for k := range gi.periods {
		a, b := gi.periods[k], gout.periods[k]
		if a.end.Sub(a.start) < opts.TimingMinDuration || b.end.Sub(b.start) < opts.TimingMinDuration ||
			absDur(a.start.Sub(b.start)) > opts.TimingSlack || absDur(a.end.Sub(b.end)) > opts.TimingSlack {
			return link, false
		}
	}
	link.Method = MethodTiming
	link.Score = 0.5
	return link, true
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func relayChain(r netip.Addr, gi, gout *group, link forensics.HopLink, opts Options) forensics.Chain {
	origin := forensics.Hop{IP: gi.peer, Role: RoleOrigin, FirstSeen: forensics.NewTime(gi.first), LastSeen: forensics.NewTime(gi.last)}
	relay := forensics.Hop{IP: r, Role: RoleRelay, FirstSeen: forensics.NewTime(tmin(gi.first, gout.first)), LastSeen: forensics.NewTime(tmax(gi.last, gout.last))}
	target := forensics.Hop{IP: gout.peer, Role: RoleTarget, FirstSeen: forensics.NewTime(gout.first), LastSeen: forensics.NewTime(gout.last)}
	var ev []forensics.EvidenceRef
	for _, f := range gi.flows {
		addPort(&relay, f.dstPort)
		if origin.Geo == nil {
			origin.Geo = f.srcGeo
		}
		if relay.Geo == nil {
			relay.Geo = f.dstGeo
		}
		if len(ev) < opts.MaxEvidence/2 {
			ev = append(ev, f.evidence)
		}
	}
	for _, f := range gout.flows {
		addPort(&target, f.dstPort)
		if target.Geo == nil {
			target.Geo = f.dstGeo
		}
		if relay.Geo == nil {
			relay.Geo = f.srcGeo
		}
		if len(ev) < opts.MaxEvidence {
			ev = append(ev, f.evidence)
		}
	}
	if opts.Lookup != nil {
		for _, h := range []*forensics.Hop{&origin, &relay, &target} {
			if h.Geo == nil {
				h.Geo = opts.Lookup(h.IP, h.FirstSeen.Time)
			}
		}
	}
	sortEvidence(ev)
	ch := forensics.Chain{Hops: []forensics.Hop{origin, relay, target}, Evidence: ev}
	ch.Links = []forensics.HopLink{
		{From: origin.IP.String(), To: r.String(), Method: MethodFlow, Score: 1, Verified: true},
		{From: r.String(), To: target.IP.String(), Method: link.Method, Score: link.Score,
			Coincidences: link.Coincidences, IdlePeriods: link.IdlePeriods, Verified: link.Verified},
	}
	ch.ID = chainID(link.Method, ch.Hops)
	return ch
}

func round3(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}

// String renders a chain on one line for the text output of `trace`:
// hops with country and ASN, and how each link was established.
func String(ch forensics.Chain) string {
	var b strings.Builder
	b.WriteString(ch.ID)
	b.WriteString(": ")
	for i, h := range ch.Hops {
		if i > 0 {
			l := ch.Links[i-1]
			b.WriteString(" --" + l.Method)
			if l.Method == MethodOnOff {
				b.WriteString("(" + fmtFloat(l.Score) + ", " + itoa(l.Coincidences) + " coincidences, " + itoa(l.IdlePeriods) + " idle)")
			}
			if !l.Verified {
				b.WriteString(" unverified")
			}
			b.WriteString("--> ")
		}
		b.WriteString(h.Role + " " + h.IP.String())
		if g := h.Geo; g != nil {
			var tags []string
			if g.Country != "" {
				tags = append(tags, g.Country)
			}
			if g.ASN != 0 {
				tags = append(tags, "AS"+itoa(int(g.ASN)))
			}
			if g.Anonymous != nil && g.Anonymous.Hosting {
				tags = append(tags, "hosting")
			}
			if len(tags) > 0 {
				b.WriteString(" [" + strings.Join(tags, " ") + "]")
			}
		}
	}
	return b.String()
}

func tmax(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func tmin(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
