package trace

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Hop roles and link methods.
const (
	RoleOrigin = "origin"
	RoleProxy  = "proxy"
	RoleRelay  = "relay"
	RoleTarget = "target"

	MethodXFF    = "xff"
	MethodFlow   = "flow"
	MethodOnOff  = "onoff"
	MethodTiming = "timing"
)

// Options tune chain building; Params records them in the bundle.
type Options struct {
	// Idle ends an ON period (Zhang–Paxson T_idle).
	Idle time.Duration
	// Delta is how close two OFF→ON transitions must be to coincide.
	Delta time.Duration
	// MinRatio is the coincidence ratio (coincidences over the smaller
	// number of ON periods) that pairs an inbound and an outbound flow.
	MinRatio float64
	// MinCoincidences is the fewest coincidences that verify a pairing;
	// with fewer ON periods a pairing rests on timing only (unverified).
	MinCoincidences int
	// TimingSlack is how close starts and ends of single-period flows
	// must be for a timing-only pairing.
	TimingSlack time.Duration
	// TimingMinDuration is how long single-period flows must last for a
	// timing-only pairing: matching starts and ends of short flows are
	// too likely by chance.
	TimingMinDuration time.Duration
	// MaxPairs bounds the inbound × outbound groups compared per relay.
	MaxPairs int
	// MaxPeriods bounds the ON periods kept per group.
	MaxPeriods int
	// MaxEvidence bounds the evidence references kept per chain.
	MaxEvidence int
	// MaxChains bounds the distinct forwarded-for paths traced: a spoofed
	// X-Forwarded-For on every request would otherwise make one chain per
	// line, held until the end. Paths past it (in time order) are counted.
	MaxChains int
	// MaxRelayFlows bounds the flows through relays held for pairing: a
	// capture in which every address both sends and receives would
	// otherwise be held whole. Flows past it (in time order) are counted.
	MaxRelayFlows int
	// Lookup, when set, enriches hops the records do not carry a record
	// for (XFF claims); nil uses only what the records carry.
	Lookup func(ip netip.Addr, at time.Time) *enrich.Record
}

// DefaultOptions returns the Zhang–Paxson defaults of the issue.
func DefaultOptions() Options {
	return Options{
		Idle:              500 * time.Millisecond,
		Delta:             80 * time.Millisecond,
		MinRatio:          0.3,
		MinCoincidences:   3,
		TimingSlack:       time.Second,
		TimingMinDuration: 10 * time.Second,
		MaxPairs:          10000,
		MaxPeriods:        100000,
		MaxEvidence:       10,
		MaxChains:         100000,
		MaxRelayFlows:     1000000,
	}
}

// Params returns every threshold used, for the bundle.
func (o Options) Params() map[string]string {
	return map[string]string{
		"idle":                o.Idle.String(),
		"delta":               o.Delta.String(),
		"min_ratio":           strconv.FormatFloat(o.MinRatio, 'f', -1, 64),
		"min_coincidences":    strconv.Itoa(o.MinCoincidences),
		"timing_slack":        o.TimingSlack.String(),
		"timing_min_duration": o.TimingMinDuration.String(),
		"max_pairs":           strconv.Itoa(o.MaxPairs),
		"max_periods":         strconv.Itoa(o.MaxPeriods),
		"max_evidence":        strconv.Itoa(o.MaxEvidence),
		"max_chains":          strconv.Itoa(o.MaxChains),
		"max_relay_flows":     strconv.Itoa(o.MaxRelayFlows),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Idle <= 0 {
		o.Idle = d.Idle
	}
	if o.Delta <= 0 {
		o.Delta = d.Delta
	}
	if o.MinRatio <= 0 {
		o.MinRatio = d.MinRatio
	}
	if o.MinCoincidences <= 0 {
		o.MinCoincidences = d.MinCoincidences
	}
	if o.TimingSlack <= 0 {
		o.TimingSlack = d.TimingSlack
	}
	if o.TimingMinDuration <= 0 {
		o.TimingMinDuration = d.TimingMinDuration
	}
	if o.MaxPairs <= 0 {
		o.MaxPairs = d.MaxPairs
	}
	if o.MaxPeriods <= 0 {
		o.MaxPeriods = d.MaxPeriods
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = d.MaxEvidence
	}
	if o.MaxChains <= 0 {
		o.MaxChains = d.MaxChains
	}
	if o.MaxRelayFlows <= 0 {
		o.MaxRelayFlows = d.MaxRelayFlows
	}
	return o
}

// Build returns the hop chains of the records, sorted by first sighting
// then ID, whatever the input order. It also sets each campaign's Hops, in
// place, to the chains with a hop on one of the campaign's IPs (as origin,
// proxy, relay or target), so campaigns carry their hops.
func Build(events []forensics.Event, flows []forensics.Flow, campaigns []forensics.Campaign, opts Options) []forensics.Chain {
	chains, _ := BuildCaps(events, flows, campaigns, opts)
	return chains
}

// BuildCaps is Build with the limits it reached, to be reported with the
// case's: trace.max_pairs counts relays whose inbound × outbound groups
// were not all compared, trace.max_periods groups whose ON periods were
// not all correlated, trace.max_chains events whose forwarded-for path
// was new once MaxChains paths were held (not traced), and
// trace.max_relay_flows flows through relays past MaxRelayFlows (not
// paired).
func BuildCaps(events []forensics.Event, flows []forensics.Flow, campaigns []forensics.Campaign, opts Options) ([]forensics.Chain, []forensics.CapHit) {
	chains, caps, _ := BuildCapsEach(
		func(fn func(*forensics.Event) error) error { return forensics.EachOf(events, fn) },
		func(fn func(*forensics.Flow) error) error { return forensics.EachOf(flows, fn) },
		campaigns, opts)
	return chains, caps
}

// BuildCapsEach is BuildCaps over the events and flows each hands over in
// their order (time, then ID), so that a caller need not hold them:
// behind a CDN every line has a forwarded-for path, and a scan has
// millions of flows. The events are read once, the flows twice, and
// only the flows through a relay are held. Its error is events' or
// flows'.
func BuildCapsEach(events func(fn func(*forensics.Event) error) error, flows func(fn func(*forensics.Flow) error) error, campaigns []forensics.Campaign, opts Options) ([]forensics.Chain, []forensics.CapHit, error) {
	opts = opts.withDefaults()
	chains, untraced, err := xffChains(events, opts)
	if err != nil {
		return nil, nil, err
	}
	var rc relayCaps
	relayed, err := relayFlows(flows, opts, &rc)
	if err != nil {
		return nil, nil, err
	}
	chains = append(chains, relayChains(relayed, opts, &rc)...)
	var caps []forensics.CapHit
	if untraced > 0 {
		caps = append(caps, forensics.CapHit{Cap: "trace.max_chains", Count: untraced})
	}
	if rc.pairs > 0 {
		caps = append(caps, forensics.CapHit{Cap: "trace.max_pairs", Count: int64(rc.pairs)})
	}
	if rc.periods > 0 {
		caps = append(caps, forensics.CapHit{Cap: "trace.max_periods", Count: int64(rc.periods)})
	}
	if rc.flows > 0 {
		caps = append(caps, forensics.CapHit{Cap: "trace.max_relay_flows", Count: rc.flows})
	}
	slices.SortFunc(chains, func(a, b forensics.Chain) int {
		if c := a.Hops[0].FirstSeen.Compare(b.Hops[0].FirstSeen.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	Attach(campaigns, chains)
	return chains, caps, nil
}

// Attach sets each campaign's Hops to the chains that have a hop on one of
// its IPs, in the order of chains. One index of the campaigns' IPs
// serves every hop: a scan of every campaign for every chain cost
// campaigns × chains, which evidence can make large.
func Attach(campaigns []forensics.Campaign, chains []forensics.Chain) {
	byIP := map[string][]int{}
	for i := range campaigns {
		campaigns[i].Hops = nil
		for _, ip := range campaigns[i].IPs {
			if ids := byIP[ip]; len(ids) == 0 || ids[len(ids)-1] != i {
				byIP[ip] = append(ids, i)
			}
		}
	}
	var hit []int
	for _, ch := range chains {
		hit = hit[:0]
		for _, h := range ch.Hops {
			hit = append(hit, byIP[h.IP.String()]...)
		}
		slices.Sort(hit)
		for _, i := range slices.Compact(hit) {
			campaigns[i].Hops = append(campaigns[i].Hops, ch)
		}
	}
}

// Filter keeps the chains with a hop on ip.
func Filter(chains []forensics.Chain, ip netip.Addr) []forensics.Chain {
	var out []forensics.Chain
	for _, ch := range chains {
		if slices.ContainsFunc(ch.Hops, func(h forensics.Hop) bool { return h.IP == ip }) {
			out = append(out, ch)
		}
	}
	return out
}

func chainID(method string, hops []forensics.Hop) string {
	parts := []string{method}
	for _, h := range hops {
		parts = append(parts, h.Role, h.IP.String())
	}
	return forensics.HashID("chn", parts...)
}

func seen(h *forensics.Hop, t time.Time) {
	if h.FirstSeen.IsZero() || t.Before(h.FirstSeen.Time) {
		h.FirstSeen = forensics.NewTime(t)
	}
	if t.After(h.LastSeen.Time) {
		h.LastSeen = forensics.NewTime(t)
	}
}

func addPort(h *forensics.Hop, p uint16) {
	if p == 0 || len(h.Ports) >= 32 {
		return
	}
	i, ok := slices.BinarySearch(h.Ports, p)
	if !ok {
		h.Ports = slices.Insert(h.Ports, i, p)
	}
}

// xffChains groups events by their resolved forwarded-for path and
// target: one chain per distinct path, for the first opts.MaxChains paths
// in the events' order (time, then ID); untraced counts the events of
// later paths. The first paths rather than the busiest: a path's chain is
// then complete or absent, never a count that started late.
func xffChains(events func(fn func(*forensics.Event) error) error, opts Options) (_ []forensics.Chain, untraced int64, _ error) {
	type agg struct {
		chain forensics.Chain
	}
	byKey := map[string]*agg{}
	err := events(func(e *forensics.Event) error {
		if len(e.ProxyChain) < 2 {
			return nil
		}
		var key strings.Builder
		addrs := make([]netip.Addr, 0, len(e.ProxyChain)+1)
		trusted := make([]bool, 0, len(e.ProxyChain)+1)
		for _, p := range e.ProxyChain {
			a, err := netip.ParseAddr(p.IP)
			if err != nil {
				continue
			}
			addrs = append(addrs, a)
			trusted = append(trusted, p.Trusted)
			key.WriteString(a.String())
			key.WriteByte(',')
		}
		if len(addrs) < 2 {
			return nil
		}
		if e.DstIP.IsValid() {
			key.WriteString(">" + e.DstIP.String())
		}
		a := byKey[key.String()]
		if a == nil && len(byKey) >= opts.MaxChains {
			untraced++
			return nil
		}
		if a == nil {
			a = &agg{}
			actor := e.Actor()
			for j, ip := range addrs {
				role := RoleProxy
				if j == 0 {
					role = RoleOrigin
				}
				h := forensics.Hop{IP: ip, Role: role}
				switch {
				case ip == actor && e.SrcGeo != nil:
					h.Geo = e.SrcGeo
				case opts.Lookup != nil:
					h.Geo = opts.Lookup(ip, e.Time.Time)
				}
				a.chain.Hops = append(a.chain.Hops, h)
				if j > 0 {
					a.chain.Links = append(a.chain.Links, forensics.HopLink{
						From: addrs[j-1].String(), To: ip.String(), Method: MethodXFF, Score: 1,
						// A hop is vouched for only by a trusted proxy on its right.
						Verified: trusted[j],
					})
				}
			}
			if e.DstIP.IsValid() {
				h := forensics.Hop{IP: e.DstIP, Role: RoleTarget}
				if opts.Lookup != nil {
					h.Geo = opts.Lookup(e.DstIP, e.Time.Time)
				}
				a.chain.Hops = append(a.chain.Hops, h)
				a.chain.Links = append(a.chain.Links, forensics.HopLink{
					From: addrs[len(addrs)-1].String(), To: e.DstIP.String(), Method: MethodXFF, Score: 1, Verified: true,
				})
			}
			a.chain.ID = chainID(MethodXFF, a.chain.Hops)
			byKey[key.String()] = a
		}
		for j := range a.chain.Hops {
			seen(&a.chain.Hops[j], e.Time.Time)
		}
		if e.DstIP.IsValid() {
			addPort(&a.chain.Hops[len(a.chain.Hops)-1], e.DstPort)
		}
		if len(a.chain.Evidence) < opts.MaxEvidence {
			a.chain.Evidence = append(a.chain.Evidence, e.Evidence)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]forensics.Chain, 0, len(byKey))
	for _, a := range byKey {
		sortEvidence(a.chain.Evidence)
		out = append(out, a.chain)
	}
	return out, untraced, nil
}

func sortEvidence(ev []forensics.EvidenceRef) {
	slices.SortFunc(ev, func(a, b forensics.EvidenceRef) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Packet, b.Packet), cmp.Compare(a.Offset, b.Offset))
	})
}
