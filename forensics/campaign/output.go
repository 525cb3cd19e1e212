package campaign

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// campaigns turns the components into campaign records.
func (g *grouping) campaigns() []forensics.Campaign {
	n := len(g.recs)
	// Counting sort by root: members of a component end up together, in
	// index (session ID) order, in linear time.
	root := make([]int32, n)
	start := make([]int32, n+1)
	for i := range root {
		root[i] = g.find(int32(i))
		start[root[i]+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	order := make([]int32, n)
	fill := slices.Clone(start[:n])
	for i := range root {
		order[fill[root[i]]] = int32(i)
		fill[root[i]]++
	}
	fill = nil
	// Edges likewise by the root of their first end, then sorted within
	// each component.
	byRoot := make([]edge, len(g.edges))
	estart := make([]int32, n+1)
	for _, e := range g.edges {
		estart[root[e.a]+1]++
	}
	for i := 1; i <= n; i++ {
		estart[i] += estart[i-1]
	}
	efill := slices.Clone(estart[:n])
	for _, e := range g.edges {
		byRoot[efill[root[e.a]]] = e
		efill[root[e.a]]++
	}
	efill, g.edges = nil, nil
	for r := 0; r < n; r++ {
		if estart[r+1]-estart[r] > 1 {
			slices.SortFunc(byRoot[estart[r]:estart[r+1]], func(x, y edge) int {
				if c := cmp.Compare(x.a, y.a); c != 0 {
					return c
				}
				if c := cmp.Compare(x.b, y.b); c != 0 {
					return c
				}
				return cmp.Compare(y.w, x.w)
			})
		}
	}
	estart = nil
	edges := byRoot
	edges = slices.CompactFunc(edges, func(x, y edge) bool { return x.a == y.a && x.b == y.b })
	var out []forensics.Campaign
	ei := 0
	for i := 0; i < n; {
		j := i + 1
		for j < n && root[order[j]] == root[order[i]] {
			j++
		}
		members := order[i:j]
		k := ei
		for k < len(edges) && root[edges[k].a] == root[members[0]] {
			k++
		}
		compEdges := edges[ei:k]
		ei = k
		i = j
		g.stats.Components++
		comps, score := g.score(members)
		crawler := g.recs[members[0]].flags&flagCrawler != 0
		label := LabelOrdinary
		switch {
		case crawler:
			label = LabelCrawler
		case score >= g.opts.AttackScore-eps:
			label = LabelAttack
		}
		if len(members) < g.opts.MinSessions && (crawler || score < g.opts.SingletonScore-eps) {
			continue
		}
		if label == LabelOrdinary && !g.opts.IncludeOrdinary {
			continue
		}
		c := g.campaign(members, compEdges)
		c.Score, c.Label = score, label
		c.ScoreComponents = make(map[string]float64, len(comps))
		for k, name := range scoreComponents {
			c.ScoreComponents[name] = comps[k]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b forensics.Campaign) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// score computes the triage components of a group of sessions.
func (g *grouping) score(members []int32) ([len(scoreComponents)]float64, float64) {
	var known, foreign, hosted, objects, events, failures, scan int64
	var beacon float64
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range members {
		r := &g.recs[m]
		if r.country != 0 {
			known++
			switch {
			case g.opts.Home != "":
				if !strings.EqualFold(g.b.vals[r.country].s, g.opts.Home) {
					foreign++
				}
			case r.flags&flagForeign != 0:
				foreign++
			}
		}
		if r.flags&(flagHosting|flagAnonymizer) != 0 {
			hosted++
		}
		objects += int64(r.objects)
		events += int64(r.events)
		failures += int64(r.failures)
		scan += int64(r.notFound) + int64(r.probes)
		beacon += float64(r.beaconScore)
		first, last = min(first, r.start), max(last, r.end)
	}
	nm := float64(len(members))
	ratio := func(a, b int64) float64 {
		if b <= 0 {
			return 0
		}
		return min(1, float64(a)/float64(b))
	}
	// in the order of scoreComponents
	c := [len(scoreComponents)]float64{
		ratio(foreign, known),
		ratio(hosted, int64(len(members))),
		min(1, float64(objects)/nm/g.opts.EnumObjects),
		ratio(failures, events),
		ratio(scan, events),
		min(1, beacon/nm),
		min(1, float64(last-first)/float64(g.opts.FullDuration)),
	}
	var sum, wsum float64
	for k := range scoreComponents {
		c[k] = round3(c[k])
		w := g.scoreW[k]
		sum += w * c[k]
		wsum += w
	}
	if wsum == 0 {
		return c, 0
	}
	return c, round3(sum / wsum)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

type linkKey struct {
	rule, attr, value string
}

type linkAgg struct {
	c        contrib
	members  []int32
	edgeRefs int
}

// campaign builds the record of one component.
func (g *grouping) campaign(members []int32, edges []edge) forensics.Campaign {
	var c forensics.Campaign
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = g.recs[m].id
	}
	c.ID = forensics.HashID("cmp", ids...)
	c.Sessions = ids
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	countries := map[string]int{}
	asns := map[uint32]*forensics.ASNCount{}
	ips := make([]string, 0, len(members))
	indic := map[string]map[string]struct{}{}
	addStr := func(k, v string) {
		if v == "" {
			return
		}
		if indic[k] == nil {
			indic[k] = map[string]struct{}{}
		}
		if len(indic[k]) < 20 {
			indic[k][v] = struct{}{}
		}
	}
	addInd := func(k string, v uint32) {
		if v != 0 {
			addStr(k, g.b.vals[v].s)
		}
	}
	for _, m := range members {
		r := &g.recs[m]
		first, last = min(first, r.start), max(last, r.end)
		c.Events += int(r.events)
		if ip := addrString(r); ip != "" {
			ips = append(ips, ip)
		}
		if r.country != 0 {
			countries[g.b.vals[r.country].s]++
		}
		if r.asn != 0 {
			a := asns[r.asn]
			if a == nil {
				a = &forensics.ASNCount{ASN: r.asn}
				asns[r.asn] = a
			}
			a.Sessions++
			if a.Org == "" {
				a.Org = g.b.asOrg[r.asn]
			}
		}
		addInd("credential", r.cred)
		addInd("token_key_id", r.kid)
		if r.fp != 0 {
			parseTuple(g.b.vals[r.fp].s, func(k, v string) {
				if k == "ua" {
					k = "user_agent"
				}
				addStr(k, v)
			})
		}
		for _, t := range r.tmpls {
			addInd("path_template", t)
		}
	}
	c.FirstSeen = forensics.NewTime(time.Unix(0, first))
	c.LastSeen = forensics.NewTime(time.Unix(0, last))
	slices.Sort(ips)
	c.IPs = slices.Compact(ips)
	if len(countries) > 0 {
		c.Countries = countries
	}
	for _, a := range asns {
		c.ASNs = append(c.ASNs, *a)
	}
	slices.SortFunc(c.ASNs, func(x, y forensics.ASNCount) int {
		if d := cmp.Compare(y.Sessions, x.Sessions); d != 0 {
			return d
		}
		return cmp.Compare(x.ASN, y.ASN)
	})
	if len(indic) > 0 {
		c.Indicators = map[string][]string{}
		for k, set := range indic {
			vs := make([]string, 0, len(set))
			for v := range set {
				vs = append(vs, v)
			}
			slices.Sort(vs)
			c.Indicators[k] = vs
		}
	}
	g.explain(&c, members, edges)
	return c
}

// explain fills the links, the spanning tree of members and the bridges.
func (g *grouping) explain(c *forensics.Campaign, members []int32, edges []edge) {
	if len(edges) == 0 {
		if len(members) > 0 {
			r := &g.recs[members[0]]
			c.Members = []forensics.Member{{Session: r.id, IP: addrString(r)}}
		}
		return
	}
	aggs := map[linkKey]*linkAgg{}
	edgeLinks := make([][]linkKey, len(edges))
	var cs []contrib
	for i, e := range edges {
		cs = cs[:0]
		g.pairWeight(e.a, e.b, &cs)
		for _, x := range cs {
			k := linkKey{x.rule, x.attr, x.value}
			a := aggs[k]
			if a == nil {
				a = &linkAgg{c: x}
				aggs[k] = a
			}
			a.members = append(a.members, e.a, e.b)
			a.edgeRefs++
			edgeLinks[i] = append(edgeLinks[i], k)
		}
	}
	keys := make([]linkKey, 0, len(aggs))
	for k := range aggs {
		keys = append(keys, k)
	}
	// Strongest links first, then by rule and value: the order a reader
	// wants and a stable one.
	slices.SortFunc(keys, func(x, y linkKey) int {
		if d := cmp.Compare(aggs[y].c.w, aggs[x].c.w); d != 0 {
			return d
		}
		if d := strings.Compare(x.rule, y.rule); d != 0 {
			return d
		}
		if d := strings.Compare(x.attr, y.attr); d != 0 {
			return d
		}
		return strings.Compare(x.value, y.value)
	})
	linkID := map[linkKey]string{}
	for _, k := range keys {
		a := aggs[k]
		slices.Sort(a.members)
		a.members = slices.Compact(a.members)
		l := forensics.Link{
			ID:        forensics.HashID("lnk", c.ID, k.rule, k.attr, k.value),
			Rule:      k.rule,
			Class:     className(a.c.class),
			Attribute: k.attr,
			Value:     k.value,
			Weight:    a.c.w,
			Reason:    g.reason(a.c),
		}
		ips := make([]string, 0, len(a.members))
		for _, m := range a.members {
			l.Sessions = append(l.Sessions, g.recs[m].id)
			if s := addrString(&g.recs[m]); s != "" {
				ips = append(ips, s)
			}
		}
		slices.Sort(ips)
		l.IPs = slices.Compact(ips)
		linkID[k] = l.ID
		c.Links = append(c.Links, l)
	}
	g.tree(c, members, edges, edgeLinks, linkID)
	g.bridges(c, members, edges, keys, linkID)
}

func addrString(r *rec) string {
	a := r.addr()
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func className(c uint8) string {
	switch c {
	case 3:
		return ClassStrong
	case 2:
		return ClassMedium
	case 1:
		return ClassWeak
	}
	return ""
}

func local(members []int32, x int32) int {
	i, _ := slices.BinarySearch(members, x)
	return i
}

// tree builds the maximum spanning tree (Kruskal: strongest edges first,
// ties by session order) and roots it at the earliest session.
func (g *grouping) tree(c *forensics.Campaign, members []int32, edges []edge, edgeLinks [][]linkKey, linkID map[linkKey]string) {
	n := len(members)
	order := make([]int, len(edges))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(edges[y].w, edges[x].w) })
	uf := make([]int, n)
	for i := range uf {
		uf[i] = i
	}
	find := func(x int) int {
		for uf[x] != x {
			uf[x] = uf[uf[x]]
			x = uf[x]
		}
		return x
	}
	type adj struct{ to, edge int }
	nb := make([][]adj, n)
	for _, ei := range order {
		e := edges[ei]
		a, b := local(members, e.a), local(members, e.b)
		ra, rb := find(a), find(b)
		if ra == rb {
			continue
		}
		uf[max(ra, rb)] = min(ra, rb)
		nb[a] = append(nb[a], adj{b, ei})
		nb[b] = append(nb[b], adj{a, ei})
	}
	rootPos := 0
	for i := 1; i < n; i++ {
		ri, rr := &g.recs[members[i]], &g.recs[members[rootPos]]
		if ri.start < rr.start {
			rootPos = i
		}
	}
	c.Members = make([]forensics.Member, n)
	seen := make([]bool, n)
	weakest := make([]float64, n)
	queue := []int{rootPos}
	seen[rootPos] = true
	weakest[rootPos] = math.Inf(1)
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, a := range nb[x] {
			if seen[a.to] {
				continue
			}
			seen[a.to] = true
			e := edges[a.edge]
			m := &c.Members[a.to]
			m.Via = g.recs[members[x]].id
			m.Weight = round3(float64(e.w))
			for _, k := range edgeLinks[a.edge] {
				m.Links = append(m.Links, linkID[k])
			}
			weakest[a.to] = min(weakest[x], m.Weight)
			m.Weakest = weakest[a.to]
			queue = append(queue, a.to)
		}
	}
	for i, mi := range members {
		c.Members[i].Session = g.recs[mi].id
		c.Members[i].IP = addrString(&g.recs[mi])
	}
}

// bridges finds the links whose removal splits the campaign: without the
// link, each edge is re-scored and the members re-joined.
func (g *grouping) bridges(c *forensics.Campaign, members []int32, edges []edge, keys []linkKey, linkID map[linkKey]string) {
	if len(keys)*len(edges) > g.opts.MaxBridgeWork {
		g.stats.BridgesSkipped++
		return
	}
	type part struct {
		key   int
		w     float64
		infra bool
	}
	keyIdx := make(map[linkKey]int, len(keys))
	for i, k := range keys {
		keyIdx[k] = i
	}
	parts := make([][]part, len(edges))
	var cs []contrib
	for i, e := range edges {
		cs = cs[:0]
		g.pairWeight(e.a, e.b, &cs)
		for _, x := range cs {
			parts[i] = append(parts[i], part{keyIdx[linkKey{x.rule, x.attr, x.value}], x.w, x.infra})
		}
	}
	n := len(members)
	uf := make([]int, n)
	for li, k := range keys {
		for i := range uf {
			uf[i] = i
		}
		find := func(x int) int {
			for uf[x] != x {
				uf[x] = uf[uf[x]]
				x = uf[x]
			}
			return x
		}
		comps := n
		for i, e := range edges {
			var sum, infra float64
			non := false
			for _, p := range parts[i] {
				if p.key == li {
					continue
				}
				if p.infra {
					infra += p.w
				} else {
					sum += p.w
					non = true
				}
			}
			if !non || sum+min(infra, g.opts.InfraCap) < g.opts.Threshold-eps {
				continue
			}
			a, b := find(local(members, e.a)), find(local(members, e.b))
			if a != b {
				uf[max(a, b)] = min(a, b)
				comps--
			}
		}
		if comps > 1 {
			c.Bridges = append(c.Bridges, linkID[k])
		}
	}
	slices.Sort(c.Bridges)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// reason is the sentence an analyst reads out for a link.
func (g *grouping) reason(x contrib) string {
	demoted := ""
	if x.vid != 0 && x.rule != RuleHandover && x.rule != RuleCrawler && g.hub[x.vid] {
		demoted = " (common: " + strconv.Itoa(int(g.b.count[x.vid])) + " sessions, " +
			strconv.Itoa(int(g.creds[x.vid])) + " credentials; demoted one class)"
	}
	window := durationWords(g.opts.InfraWindow)
	switch x.rule {
	case RuleCredential:
		return "shared credential " + trunc(x.value, 64) + demoted
	case RuleTokenKeyID:
		return "shared token key id " + trunc(x.value, 64) + demoted
	case RuleHandover:
		return "work hand-over: a sequential read of " + trunc(x.value, 64) + " stopped and continued from another address within " +
			durationWords(g.opts.HandoverWindow)
	case RuleCrawler:
		ua := strings.TrimPrefix(x.value, "ua=")
		return "same declared crawler user agent " + strconv.Quote(trunc(ua, 120))
	case RuleFingerprint:
		rare := "rare "
		if demoted != "" {
			rare = ""
		}
		if ua, ok := strings.CutPrefix(x.value, "ua="); ok && !strings.Contains(x.value, "|") {
			return rare + "user agent " + strconv.Quote(trunc(ua, 120)) + demoted
		}
		return rare + "fingerprint tuple " + trunc(x.value, 160) + demoted
	case RulePrefix:
		return "same network " + x.value + " within " + window + demoted
	case RuleASN:
		return "same autonomous system " + x.value + " within " + window + demoted
	case RuleHourProfile:
		return "same hour-of-week profile, cosine ≥ " + strconv.FormatFloat(g.opts.ProfileCosine, 'f', -1, 64) + " (" + x.value + ")"
	case RuleBeacon:
		return "same beacon period ≈" + x.value + " s, beacon score ≥ " + strconv.FormatFloat(g.opts.BeaconMinScore, 'f', -1, 64)
	}
	return x.rule + " " + x.value
}

func durationWords(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	case d >= time.Second && d%time.Second == 0 && d < time.Hour:
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	return d.String()
}
