package campaign

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// attributes interned in the value table.
const (
	attrNone uint8 = iota
	attrCredential
	attrTokenKeyID
	attrFingerprint
	attrPrefix
	attrASN
	attrTemplate
	attrUserAgent
	attrJA3
	attrJA4
	attrHASSH
	attrCountry
	attrASOrg
	attrPath
	attrCount
)

var attrNames = [attrCount]string{"", "credential", "token_key_id", "fingerprint", "prefix", "asn",
	"seq_template", "user_agent", "ja3", "ja4", "hassh", "country", "as_org", "path_template"}

type valKey struct {
	attr uint8
	s    string
}

// rec is the compact form of one session kept for grouping: value IDs
// instead of strings so that ten million sessions fit in memory.
type rec struct {
	id                   string
	ip                   netip.Addr
	start, end           int64
	hours                []forensics.HourCount
	tmpls                []uint32
	seqFirst, seqLast    int64
	beaconPeriod         float32
	beaconScore          float32
	events               int32
	objects              int32
	failures             int32
	notFound             int32
	probes               int32
	seqRun               int32
	hourEvents           int32
	asn                  uint32
	cred, kid, fp        uint32
	prefix, seqTmpl, asv uint32
	ua, ja3, ja4, hassh  uint32
	country, asOrg       uint32
	peak                 int16
	flags                uint8
}

const (
	flagCrawler uint8 = 1 << iota
	flagHosting
	flagAnonymizer
)

// Stats counts what grouping did, including the caps it hit.
type Stats struct {
	Sessions       int
	Values         int
	Hubs           int
	CandidatePairs int64
	AdmittedEdges  int64
	WindowedBlocks int
	BridgesSkipped int
	Components     int
}

// Builder groups sessions into campaigns incrementally: Add keeps only a
// compact form of each session, so callers can stream sessions that do
// not fit in memory as full records. A Builder is not safe for concurrent
// use.
type Builder struct {
	opts  Options
	recs  []rec
	index map[valKey]uint32
	vals  []valKey // value ID -> value; ID 0 is "none"
	count []int32  // sessions per value
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts Options) *Builder {
	return &Builder{
		opts:  opts.withDefaults(),
		index: make(map[valKey]uint32),
		vals:  []valKey{{}},
		count: []int32{0},
	}
}

func (b *Builder) intern(attr uint8, s string) uint32 {
	if s == "" {
		return 0
	}
	k := valKey{attr, s}
	if id, ok := b.index[k]; ok {
		return id
	}
	id := uint32(len(b.vals))
	// Keep a private copy so a caller's large backing buffer is not retained.
	k.s = strings.Clone(s)
	b.index[k] = id
	b.vals = append(b.vals, k)
	b.count = append(b.count, 0)
	return id
}

func (b *Builder) internCounted(attr uint8, s string) uint32 {
	id := b.intern(attr, s)
	if id != 0 {
		b.count[id]++
	}
	return id
}

// FingerprintTuple is the medium-rule value of a session: its JA4, JA3 and
// HASSH with the exact user agent, "" when none is known.
func FingerprintTuple(ind *forensics.Indicators) string {
	var parts []string
	if ind.JA4 != "" {
		parts = append(parts, "ja4="+ind.JA4)
	}
	if ind.JA3 != "" {
		parts = append(parts, "ja3="+ind.JA3)
	}
	if ind.HASSH != "" {
		parts = append(parts, "hassh="+ind.HASSH)
	}
	if ind.UserAgent != "" {
		parts = append(parts, "ua="+ind.UserAgent)
	}
	return strings.Join(parts, "|")
}

// Add records one session.
func (b *Builder) Add(s *forensics.Session) {
	ind := &s.Indicators
	r := rec{
		id:           s.ID,
		ip:           s.SrcIP,
		start:        s.Start.UnixNano(),
		end:          s.End.UnixNano(),
		hours:        ind.HourOfWeek,
		seqFirst:     ind.FirstObject,
		seqLast:      ind.LastObject,
		beaconPeriod: float32(ind.BeaconPeriod),
		beaconScore:  float32(ind.BeaconScore),
		events:       int32(min(s.Events, 1<<30)),
		objects:      int32(min(ind.Objects, 1<<30)),
		failures:     int32(min(ind.Failures, 1<<30)),
		notFound:     int32(min(ind.NotFound, 1<<30)),
		probes:       int32(min(ind.ProbeHits, 1<<30)),
		seqRun:       int32(min(ind.SeqRun, 1<<30)),
		asn:          ind.ASN,
		peak:         -1,
	}
	if r.end < r.start {
		r.end = r.start
	}
	byHour := func(x, y forensics.HourCount) int { return cmp.Compare(x.Hour, y.Hour) }
	if !slices.IsSortedFunc(r.hours, byHour) {
		r.hours = slices.Clone(r.hours)
		slices.SortFunc(r.hours, byHour)
	}
	r.cred = b.internCounted(attrCredential, ind.Credential)
	r.kid = b.internCounted(attrTokenKeyID, ind.TokenKeyID)
	r.fp = b.internCounted(attrFingerprint, FingerprintTuple(ind))
	prefix := ind.Prefix
	if prefix == "" && s.SrcIP.IsValid() {
		bits := 48
		if s.SrcIP.Unmap().Is4() {
			bits = 24
		}
		if p, err := s.SrcIP.Unmap().Prefix(bits); err == nil {
			prefix = p.String()
		}
	}
	r.prefix = b.internCounted(attrPrefix, prefix)
	if ind.ASN != 0 {
		r.asv = b.internCounted(attrASN, formatASN(ind.ASN))
	}
	if ind.SeqRun > 0 {
		r.seqTmpl = b.intern(attrTemplate, ind.SeqTemplate)
	}
	r.ua = b.intern(attrUserAgent, ind.UserAgent)
	r.ja3 = b.intern(attrJA3, ind.JA3)
	r.ja4 = b.intern(attrJA4, ind.JA4)
	r.hassh = b.intern(attrHASSH, ind.HASSH)
	country := ind.Country
	if country == "" && s.SrcGeo != nil {
		country = s.SrcGeo.Country
	}
	r.country = b.intern(attrCountry, country)
	if s.SrcGeo != nil {
		r.asOrg = b.intern(attrASOrg, s.SrcGeo.ASOrg)
		if r.asn == 0 && s.SrcGeo.ASN != 0 {
			r.asn = s.SrcGeo.ASN
			r.asv = b.internCounted(attrASN, formatASN(r.asn))
		}
	}
	for i, t := range ind.PathTemplates {
		if i == 4 {
			break
		}
		r.tmpls = append(r.tmpls, b.intern(attrPath, t))
	}
	if ind.Crawler {
		r.flags |= flagCrawler
	}
	if ind.Hosting || (s.SrcGeo != nil && s.SrcGeo.Anonymous != nil && s.SrcGeo.Anonymous.Hosting) {
		r.flags |= flagHosting
	}
	if ind.Anonymizer {
		r.flags |= flagAnonymizer
	}
	best := 0
	for _, h := range r.hours {
		r.hourEvents += int32(min(h.Count, 1<<20))
		if h.Count > best && h.Hour >= 0 && h.Hour < 168 {
			best, r.peak = h.Count, int16(h.Hour)
		}
	}
	b.recs = append(b.recs, r)
}

func formatASN(asn uint32) string { return "AS" + itoa(int64(asn)) }

// Build groups sessions into campaigns. The output is sorted by score
// (highest first), then ID, and is identical whatever the input order.
func Build(sessions []forensics.Session, opts Options) []forensics.Campaign {
	cs, _ := BuildStats(sessions, opts)
	return cs
}

// BuildStats is Build that also returns what grouping did.
func BuildStats(sessions []forensics.Session, opts Options) ([]forensics.Campaign, Stats) {
	b := NewBuilder(opts)
	b.recs = make([]rec, 0, len(sessions))
	for i := range sessions {
		b.Add(&sessions[i])
	}
	return b.Finish()
}

// Finish groups the sessions added so far and returns the campaigns.
func (b *Builder) Finish() ([]forensics.Campaign, Stats) {
	g := b.group()
	return g.campaigns(), g.stats
}

// grouping is the state of one Finish.
type grouping struct {
	b      *Builder
	opts   Options
	recs   []rec
	weight []float32 // per value: class weight after the hub guard
	class  []uint8   // per value: 0 none, 1 weak, 2 medium, 3 strong
	hub    []bool
	creds  []int32 // per value: distinct credentials
	parent []int32
	edges  []edge
	stats  Stats
}

type edge struct {
	a, b int32
	w    float32
}

func (b *Builder) group() *grouping {
	g := &grouping{b: b, opts: b.opts}
	// Union-find runs over sessions sorted by ID: deterministic roots.
	recs := b.recs
	slices.SortFunc(recs, func(x, y rec) int {
		if c := strings.Compare(x.id, y.id); c != 0 {
			return c
		}
		return cmp.Compare(x.start, y.start)
	})
	g.recs = recs
	g.stats.Sessions = len(recs)
	g.stats.Values = len(b.vals) - 1
	g.classify()
	g.parent = make([]int32, len(recs))
	for i := range g.parent {
		g.parent[i] = int32(i)
	}
	g.candidates()
	g.handover()
	return g
}

// classify assigns each value its class and weight, demoting hubs.
func (g *grouping) classify() {
	n := len(g.b.vals)
	g.weight = make([]float32, n)
	g.class = make([]uint8, n)
	g.hub = make([]bool, n)
	g.creds = make([]int32, n)
	// Distinct credentials per value: sort (value, credential) pairs.
	pairs := make([]uint64, 0, len(g.recs)*2)
	for i := range g.recs {
		r := &g.recs[i]
		if r.cred == 0 {
			continue
		}
		for _, v := range [...]uint32{r.kid, r.fp, r.prefix, r.asv} {
			if v != 0 {
				pairs = append(pairs, uint64(v)<<32|uint64(r.cred))
			}
		}
	}
	slices.Sort(pairs)
	for i, p := range pairs {
		if i > 0 && pairs[i-1] == p {
			continue
		}
		g.creds[p>>32]++
	}
	pairs = nil
	limit := max(float64(g.opts.HubMinSessions), g.opts.HubShare*float64(len(g.recs)))
	for id := 1; id < n; id++ {
		var base uint8
		switch g.b.vals[id].attr {
		case attrCredential, attrTokenKeyID:
			base = 3
		case attrFingerprint:
			base = 2
		case attrPrefix, attrASN:
			base = 1
		default:
			continue
		}
		if float64(g.b.count[id]) > limit || int(g.creds[id]) > g.opts.HubCredentials {
			g.hub[id] = true
			g.stats.Hubs++
			base--
		}
		g.class[id] = base
		g.weight[id] = float32(g.classWeight(base))
	}
}

func (g *grouping) classWeight(c uint8) float64 {
	switch c {
	case 3:
		return g.opts.StrongWeight
	case 2:
		return g.opts.MediumWeight
	case 1:
		return g.opts.WeakWeight
	}
	return 0
}

func (g *grouping) find(x int32) int32 {
	for g.parent[x] != x {
		g.parent[x] = g.parent[g.parent[x]]
		x = g.parent[x]
	}
	return x
}

func (g *grouping) union(a, b int32) {
	ra, rb := g.find(a), g.find(b)
	switch {
	case ra == rb:
	case ra < rb:
		g.parent[rb] = ra
	default:
		g.parent[ra] = rb
	}
}

func (g *grouping) admit(a, b int32, w float64) {
	if a > b {
		a, b = b, a
	}
	g.edges = append(g.edges, edge{a, b, float32(w)})
	g.stats.AdmittedEdges++
	g.union(a, b)
}

// candidates walks the inverted index of credential, token key id and
// fingerprint values. A value that alone reaches the threshold joins its
// sessions in time order; a weaker one proposes the pairs among its
// sessions, each scored on every rule.
func (g *grouping) candidates() {
	post := g.postings()
	for v := 1; v < len(post.start)-1; v++ {
		p := post.list[post.start[v]:post.start[v+1]]
		if len(p) < 2 || g.class[v] < 2 {
			continue
		}
		slices.SortFunc(p, func(x, y int32) int {
			if c := cmp.Compare(g.recs[x].start, g.recs[y].start); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		if float64(g.weight[v]) >= g.opts.Threshold {
			for i := 1; i < len(p); i++ {
				j := i - 1
				if !g.compatible(p[j], p[i]) {
					j = g.lastCompatible(p[:i], p[i])
				}
				if j >= 0 {
					w, _ := g.pairWeight(p[j], p[i], nil)
					g.admit(p[j], p[i], max(w, float64(g.weight[v])))
				}
			}
			continue
		}
		g.block(p)
	}
}

// compatible reports whether two sessions may be linked at all: a benign
// crawler is never merged with anything that is not a crawler.
func (g *grouping) compatible(a, b int32) bool {
	return g.recs[a].flags&flagCrawler == g.recs[b].flags&flagCrawler
}

func (g *grouping) lastCompatible(p []int32, x int32) int {
	for j := len(p) - 1; j >= 0; j-- {
		if g.compatible(p[j], x) {
			return j
		}
	}
	return -1
}

// block compares the sessions of one posting list pairwise, splitting
// large lists so that the work stays bounded.
func (g *grouping) block(p []int32) {
	bs := g.opts.BlockSize
	if len(p) <= bs {
		for i := 0; i < len(p); i++ {
			for j := i + 1; j < len(p); j++ {
				g.tryPair(p[i], p[j])
			}
		}
		return
	}
	// Split by network, ASN and peak hour: a pair that needs more than the
	// shared value must share one of these (infrastructure or timing).
	for _, key := range [...]func(r *rec) uint32{
		func(r *rec) uint32 { return r.prefix },
		func(r *rec) uint32 { return r.asv },
		func(r *rec) uint32 { return uint32(r.peak + 1) },
		func(r *rec) uint32 { return uint32(r.beaconPeriod/10) + 1 },
	} {
		sub := slices.Clone(p)
		slices.SortStableFunc(sub, func(x, y int32) int { return cmp.Compare(key(&g.recs[x]), key(&g.recs[y])) })
		for i := 0; i < len(sub); {
			j := i + 1
			k := key(&g.recs[sub[i]])
			for j < len(sub) && key(&g.recs[sub[j]]) == k {
				j++
			}
			if k != 0 && j-i > 1 {
				s := sub[i:j]
				if len(s) > bs {
					g.stats.WindowedBlocks++
				}
				for x := 0; x < len(s); x++ {
					for y := x + 1; y < len(s) && y <= x+bs; y++ {
						g.tryPair(s[x], s[y])
					}
				}
			}
			i = j
		}
	}
}

func (g *grouping) tryPair(a, b int32) {
	g.stats.CandidatePairs++
	if !g.compatible(a, b) {
		return
	}
	if g.find(a) == g.find(b) {
		// Already joined: an extra edge would only add explanation, and
		// costs memory on big components. Keep it only when it is cheap.
		if len(g.edges) > 4*len(g.recs)+1024 {
			return
		}
	}
	w, ok := g.pairWeight(a, b, nil)
	if ok {
		g.admit(a, b, w)
	}
}

// handover finds sessions that continue another's sequential read within
// the hand-over window. Sessions are bucketed by the template read and
// swept in time order.
func (g *grouping) handover() {
	var cand []int32
	for i := range g.recs {
		r := &g.recs[i]
		if r.seqTmpl != 0 && int(r.seqRun) >= g.opts.HandoverMinRun {
			cand = append(cand, int32(i))
		}
	}
	slices.SortFunc(cand, func(x, y int32) int {
		rx, ry := &g.recs[x], &g.recs[y]
		if c := cmp.Compare(rx.seqTmpl, ry.seqTmpl); c != 0 {
			return c
		}
		if c := cmp.Compare(rx.start, ry.start); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	win := int64(g.opts.HandoverWindow)
	for i := 0; i < len(cand); {
		j := i + 1
		for j < len(cand) && g.recs[cand[j]].seqTmpl == g.recs[cand[i]].seqTmpl {
			j++
		}
		bucket := cand[i:j]
		for _, a := range bucket {
			ra := &g.recs[a]
			// first session starting at or after a's end
			k, _ := slices.BinarySearchFunc(bucket, ra.end, func(x int32, t int64) int { return cmp.Compare(g.recs[x].start, t) })
			for n := 0; k < len(bucket) && n < g.opts.BlockSize; k, n = k+1, n+1 {
				rb := &g.recs[bucket[k]]
				if rb.start-ra.end > win {
					break
				}
				if g.handoverOK(ra, rb) && g.compatible(a, bucket[k]) {
					w, ok := g.pairWeight(a, bucket[k], nil)
					if ok {
						g.admit(a, bucket[k], w)
					}
				}
			}
		}
		i = j
	}
}

func (g *grouping) handoverOK(a, b *rec) bool {
	if a.seqTmpl == 0 || a.seqTmpl != b.seqTmpl || a.ip == b.ip {
		return false
	}
	if int(a.seqRun) < g.opts.HandoverMinRun || int(b.seqRun) < g.opts.HandoverMinRun {
		return false
	}
	gap := b.start - a.end
	if gap < 0 || gap > int64(g.opts.HandoverWindow) {
		return false
	}
	step := b.seqFirst - a.seqLast
	return step >= 1 && step <= g.opts.HandoverMaxStep
}

// postings is a compressed inverted index: list[start[v]:start[v+1]] are
// the sessions holding value v.
type postings struct {
	start []int32
	list  []int32
}

func (g *grouping) postings() postings {
	n := len(g.b.vals)
	start := make([]int32, n+1)
	for i := range g.recs {
		r := &g.recs[i]
		for _, v := range [...]uint32{r.cred, r.kid, r.fp} {
			if v != 0 {
				start[v+1]++
			}
		}
	}
	for v := 1; v <= n; v++ {
		start[v] += start[v-1]
	}
	list := make([]int32, start[n])
	fill := slices.Clone(start[:n])
	for i := range g.recs {
		r := &g.recs[i]
		for _, v := range [...]uint32{r.cred, r.kid, r.fp} {
			if v != 0 {
				list[fill[v]] = int32(i)
				fill[v]++
			}
		}
	}
	return postings{start: start, list: list}
}

func itoa(v int64) string {
	var buf [20]byte
	i := len(buf)
	neg := v < 0
	if neg {
		v = -v
	}
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
