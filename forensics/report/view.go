package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// view is what every renderer reads: the case plus the cover fields and
// the derived tables (IPs, relays), computed once and sorted.
type view struct {
	Case         *forensics.Case
	CaseID       string
	Examiner     string
	Organisation string
	TLP          string
	Inputs       []InputCheck
	Signer       *Signer
	IPs          []IPRow
	Relays       []Relay
	Links        []LinkRow
	Custody      []forensics.CustodyEntry

	// events and sessions are what the report needs of the case's
	// events and sessions, read once: they may be on disk
	// (Case.EventStore, Case.SessionStore).
	events   eventFacts
	sessions sessionFacts
	flows    flowFacts

	// digest is the SHA-256 of report.json (writeReportJSON), set
	// before any other rendering runs.
	digest string
}

// IPRow is one distinct address of the case with its enrichment and how
// many records name it: a row of ips.csv and of the report's IP table.
type IPRow struct {
	IP        netip.Addr     `json:"ip"`
	Geo       *enrich.Record `json:"geo,omitempty"`
	Sessions  int            `json:"sessions"`
	Events    int            `json:"events"`
	Flows     int            `json:"flows"`
	Campaigns []string       `json:"campaigns,omitempty"`
	Roles     []string       `json:"roles,omitempty"`
}

// Relay is a proxy or relay hop with what a provider needs to answer a
// preservation request: address, ports, UTC times to the second, protocol
// and the destination it forwarded to.
type Relay struct {
	IP          netip.Addr     `json:"ip"`
	Role        string         `json:"role"`
	Ports       []uint16       `json:"ports,omitempty"`
	FirstSeen   forensics.Time `json:"first_seen"`
	LastSeen    forensics.Time `json:"last_seen"`
	Protocol    string         `json:"protocol,omitempty"`
	Destination string         `json:"destination,omitempty"`
	Chain       string         `json:"chain"`
	Verified    bool           `json:"verified"`
	Geo         *enrich.Record `json:"geo,omitempty"`
}

// LinkRow is one link of one campaign: a row of the full link table.
type LinkRow struct {
	Campaign string `json:"campaign"`
	forensics.Link
}

func newView(c *forensics.Case, opts Options, inputs []InputCheck, signer *Signer) (*view, error) {
	facts, err := readEventFacts(c)
	if err != nil {
		return nil, err
	}
	sf, err := readSessionFacts(c)
	if err != nil {
		return nil, err
	}
	ff, err := readFlowFacts(c)
	if err != nil {
		return nil, err
	}
	v := &view{
		Case:         c,
		CaseID:       cmp.Or(opts.CaseID, c.ID),
		Examiner:     cmp.Or(opts.Examiner, c.Examiner),
		Organisation: opts.Organisation,
		TLP:          normTLP(opts.TLP),
		Inputs:       inputs,
		Signer:       signer,
		Custody:      opts.Custody,
		events:       facts,
		sessions:     sf,
		flows:        ff,
	}
	v.IPs = collectIPs(c, &sf.perIP, &facts.perIP, &ff.perIP)
	v.Relays = collectRelays(c, ff.protos)
	for _, cp := range c.Campaigns {
		for _, l := range cp.Links {
			v.Links = append(v.Links, LinkRow{Campaign: cp.ID, Link: l})
		}
	}
	return v, nil
}

// ipCounts counts records per address (the event's actor, the
// session's source) with the richest enrichment among them, in the order
// addresses were first seen.
type ipCounts struct {
	ips   map[netip.Addr]*ipCount
	order []netip.Addr
}

type ipCount struct {
	n   int
	geo *enrich.Record
}

func (m *ipCounts) add(ip netip.Addr, geo *enrich.Record) {
	if !ip.IsValid() {
		return
	}
	if m.ips == nil {
		m.ips = map[netip.Addr]*ipCount{}
	}
	r := m.ips[ip]
	if r == nil {
		r = &ipCount{}
		m.ips[ip] = r
		m.order = append(m.order, ip)
	}
	r.n++
	r.geo = richer(r.geo, geo)
}

// eventFacts is what the report reads of the events: per address their
// count and richest enrichment, the earliest and latest time, and the
// forwarded-for entries beyond the trusted proxies.
type eventFacts struct {
	perIP       ipCounts
	first, last forensics.Time
	claims      int
}

// readEventFacts reads the case's events once.
func readEventFacts(c *forensics.Case) (eventFacts, error) {
	var f eventFacts
	err := c.EachEvent(func(e *forensics.Event) error {
		f.perIP.add(e.Actor(), e.SrcGeo)
		f.first, f.last = widen(f.first, f.last, e.Time)
		for _, h := range e.ProxyChain {
			if !h.Trusted {
				f.claims++
			}
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("read events: %w", err)
	}
	return f, nil
}

// flowFacts is what the report reads of the flows: per address (source
// and destination) their count and richest enrichment, the earliest and
// latest time, and the transport protocols of the flows touching each
// relay or proxy hop of the case's chains (relayProtos).
type flowFacts struct {
	perIP       ipCounts
	first, last forensics.Time
	protos      map[netip.Addr]string
}

// readFlowFacts reads the case's flows once.
func readFlowFacts(c *forensics.Case) (flowFacts, error) {
	var f flowFacts
	sets := relayHops(c)
	err := c.EachFlow(func(fl *forensics.Flow) error {
		f.perIP.add(fl.SrcIP, fl.SrcGeo)
		f.perIP.add(fl.DstIP, fl.DstGeo)
		f.first, f.last = widen(f.first, f.last, fl.Start)
		f.first, f.last = widen(f.first, f.last, fl.End)
		for _, ip := range [...]netip.Addr{fl.SrcIP, fl.DstIP} {
			if ps, ok := sets[ip]; ok && !slices.Contains(ps, fl.Proto) {
				sets[ip] = append(ps, fl.Proto)
			}
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("read flows: %w", err)
	}
	f.protos = make(map[netip.Addr]string, len(sets))
	for ip, ps := range sets {
		slices.Sort(ps)
		f.protos[ip] = strings.Join(ps, ",")
	}
	return f, nil
}

// sessionFacts is what the report reads of the sessions: per source
// address their count and richest enrichment, their span, how many
// distinct sources they have, the sessions of campaigns by ID (their
// tables and timeline lanes), and the count and span of the others (the
// timeline's last lane, drawn from a second read).
type sessionFacts struct {
	perIP                 ipCounts
	first, last           forensics.Time
	sources               int
	members               map[string]*forensics.Session
	others                int
	otherFirst, otherLast forensics.Time
	othersSorted          bool // the others came in (start, ID) order
}

// readSessionFacts reads the case's sessions once.
func readSessionFacts(c *forensics.Case) (sessionFacts, error) {
	f := sessionFacts{members: map[string]*forensics.Session{}, othersSorted: true}
	var prev forensics.Session // the last of the others, as far as order goes
	for _, cp := range c.Campaigns {
		for _, id := range cp.Sessions {
			f.members[id] = nil
		}
	}
	invalid := false
	err := c.EachSession(func(s *forensics.Session) error {
		f.perIP.add(s.SrcIP, s.SrcGeo)
		invalid = invalid || !s.SrcIP.IsValid()
		f.first, f.last = widen(f.first, f.last, s.Start)
		f.first, f.last = widen(f.first, f.last, s.End)
		if m, ok := f.members[s.ID]; ok {
			if m == nil { // the first of an ID, as a map by ID keeps the last
				cp := *s
				f.members[s.ID] = &cp
			} else {
				*m = *s
			}
			return nil
		}
		if f.others > 0 && compareSessionPtrs(&prev, s) > 0 {
			f.othersSorted = false
		}
		prev.Start, prev.ID = s.Start, s.ID
		f.others++
		f.otherFirst, f.otherLast = widen(f.otherFirst, f.otherLast, s.Start)
		f.otherFirst, f.otherLast = widen(f.otherFirst, f.otherLast, s.End)
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("read sessions: %w", err)
	}
	f.sources = len(f.perIP.ips)
	if invalid {
		f.sources++
	}
	return f, nil
}

// widen extends the span [first, last] to t (zero times are no time).
func widen(first, last, t forensics.Time) (forensics.Time, forensics.Time) {
	if t.IsZero() {
		return first, last
	}
	if first.IsZero() || t.Before(first.Time) {
		first = t
	}
	if last.IsZero() || t.After(last.Time) {
		last = t
	}
	return first, last
}

func normTLP(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.ToLower(s), "tlp:")))
	switch s {
	case "clear", "white":
		return "clear"
	case "green", "amber", "amber+strict", "red":
		return s
	}
	return "amber"
}

// richer prefers the record with more answered fields, so an IP seen both
// bare and enriched shows its enrichment.
func richer(a, b *enrich.Record) *enrich.Record {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	score := func(r *enrich.Record) int {
		n := r.Sources.Len()
		if r.Country != "" {
			n++
		}
		if r.Lat != nil {
			n++
		}
		if r.ASN != 0 {
			n++
		}
		return n
	}
	if score(b) > score(a) {
		return b
	}
	return a
}

func collectIPs(c *forensics.Case, sessions, events, flows *ipCounts) []IPRow {
	rows := map[netip.Addr]*IPRow{}
	get := func(ip netip.Addr, geo *enrich.Record) *IPRow {
		if !ip.IsValid() {
			return nil
		}
		r := rows[ip]
		if r == nil {
			r = &IPRow{IP: ip}
			rows[ip] = r
		}
		r.Geo = richer(r.Geo, geo)
		return r
	}
	// The richest record of the sessions (then events, then flows) of an
	// address is the first of the richest (richer keeps its first
	// argument on a tie), so merging it here gives what merging every
	// record in order would.
	for _, ip := range sessions.order {
		n := sessions.ips[ip]
		get(ip, n.geo).Sessions += n.n
	}
	for _, ip := range events.order {
		n := events.ips[ip]
		get(ip, n.geo).Events += n.n
	}
	for _, ip := range flows.order {
		n := flows.ips[ip]
		get(ip, n.geo).Flows += n.n
	}
	addHops := func(chains []forensics.Chain) {
		for _, ch := range chains {
			for _, h := range ch.Hops {
				if r := get(h.IP, h.Geo); r != nil && h.Role != "" && !slices.Contains(r.Roles, h.Role) {
					r.Roles = append(r.Roles, h.Role)
				}
			}
		}
	}
	addHops(c.Chains)
	for _, cp := range c.Campaigns {
		addHops(cp.Hops)
		for _, s := range cp.IPs {
			if ip, err := netip.ParseAddr(s); err == nil {
				// Made unique below: a scan here cost an address in K
				// campaigns K² (hostile evidence can make K large).
				r := get(ip, nil)
				r.Campaigns = append(r.Campaigns, cp.ID)
			}
		}
	}
	out := make([]IPRow, 0, len(rows))
	for _, r := range rows {
		slices.Sort(r.Campaigns)
		r.Campaigns = slices.Compact(r.Campaigns)
		slices.Sort(r.Roles)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b IPRow) int { return a.IP.Compare(b.IP) })
	return out
}

// collectRelays lists every proxy or relay hop of every chain (case-level
// and per campaign), once per (chain, address).
func collectRelays(c *forensics.Case, protos map[netip.Addr]string) []Relay {
	seen := map[string]bool{}
	var out []Relay
	chainSeen := map[string]bool{}
	// linkOf is, per address of a chain, what its links say: verified as
	// the last link naming it says, http when one is a forwarded-for link.
	type linkFacts struct{ verified, http bool }
	linkOf := map[string]linkFacts{}
	add := func(ch forensics.Chain) {
		// Campaigns carry copies of the case's chains: one pass each.
		if chainSeen[ch.ID] {
			return
		}
		chainSeen[ch.ID] = true
		clear(linkOf)
		for _, l := range ch.Links {
			for _, ip := range [...]string{l.From, l.To} {
				f := linkOf[ip]
				f.verified, f.http = l.Verified, f.http || l.Method == "xff"
				linkOf[ip] = f
			}
		}
		for i, h := range ch.Hops {
			if h.Role != "relay" && h.Role != "proxy" {
				continue
			}
			ip := h.IP.String()
			key := ch.ID + "\x00" + ip
			if seen[key] {
				continue
			}
			seen[key] = true
			r := Relay{IP: h.IP, Role: h.Role, Ports: h.Ports, FirstSeen: h.FirstSeen, LastSeen: h.LastSeen, Chain: ch.ID, Geo: h.Geo}
			if i+1 < len(ch.Hops) {
				next := ch.Hops[i+1]
				r.Destination = next.IP.String()
				if len(next.Ports) > 0 {
					r.Destination = netip.AddrPortFrom(next.IP, next.Ports[0]).String()
				}
			}
			if f, ok := linkOf[ip]; ok {
				r.Verified = f.verified
				if f.http {
					r.Protocol = "http"
				}
			}
			if r.Protocol == "" {
				r.Protocol = protos[h.IP]
			}
			out = append(out, r)
		}
	}
	for _, ch := range c.Chains {
		add(ch)
	}
	for _, cp := range c.Campaigns {
		for _, ch := range cp.Hops {
			add(ch)
		}
	}
	slices.SortFunc(out, func(a, b Relay) int {
		return cmp.Or(a.IP.Compare(b.IP), strings.Compare(a.Chain, b.Chain))
	})
	return out
}

// relayHops is the set of the relay and proxy hop addresses of the
// case's chains, each with no protocol yet: readFlowFacts names the
// transport protocols of the flows touching them in its one pass over
// the flows, so that many hops do not scan every flow once each.
func relayHops(c *forensics.Case) map[netip.Addr][]string {
	sets := map[netip.Addr][]string{}
	note := func(chs []forensics.Chain) {
		for _, ch := range chs {
			for _, h := range ch.Hops {
				if h.Role == "relay" || h.Role == "proxy" {
					sets[h.IP] = nil
				}
			}
		}
	}
	note(c.Chains)
	for _, cp := range c.Campaigns {
		note(cp.Hops)
	}
	return sets
}

// countryList renders a campaign's country counts sorted by count then code.
func countryList(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return cmp.Or(b.v-a.v, strings.Compare(a.k, b.k)) })
	parts := make([]string, len(kvs))
	for i, e := range kvs {
		parts[i] = e.k + " (" + strconv.Itoa(e.v) + ")"
	}
	return strings.Join(parts, ", ")
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fmtFloat is the one number format of the renderers: up to 3 decimals,
// no exponent, no trailing zeros.
func fmtFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
