package campaign

import (
	"cmp"
	"encoding/binary"
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
	attrCountry
	attrPath
	attrCount
)

var attrNames = [attrCount]string{"", "credential", "token_key_id", "fingerprint", "prefix", "asn",
	"seq_template", "country", "path_template"}

type valKey struct {
	attr uint8
	s    string
}

// rec is the compact form of one session kept for grouping: value IDs
// instead of strings so that ten million sessions fit in memory (about
// 150 bytes each, plus the ID).
type rec struct {
	id           string
	ip           [16]byte // see addr
	start, end   int64
	beaconPeriod float32
	beaconScore  float32
	events       int32
	objects      int32
	failures     int32
	notFound     int32
	probes       int32
	hourEvents   int32
	asn          uint32
	cred, kid    uint32
	fp, prefix   uint32
	asv, country uint32
	prof         uint32 // interned hour-of-week profile, 0 = none
	seq          uint32 // index in Builder.seqs, 0 = no sequential read
	tmpls        [2]uint32
	peak         int16
	flags        uint8
}

// seqInfo is the sequential read of a session (few sessions have one, so
// it lives beside the records).
type seqInfo struct {
	first, last int64
	tmpl        uint32
	run         int32
}

// addr returns the session's source address.
func (r *rec) addr() netip.Addr {
	switch {
	case r.flags&flagIPValid == 0:
		return netip.Addr{}
	case r.flags&flagIPv4 != 0:
		return netip.AddrFrom4([4]byte(r.ip[12:]))
	}
	return netip.AddrFrom16(r.ip)
}

const (
	flagCrawler uint8 = 1 << iota
	flagHosting
	flagAnonymizer
	flagForeign // enrich marked the address foreign (used when Options.Home is empty)
	flagIPValid
	flagIPv4
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
	opts     Options
	recs     []rec
	strIndex [attrCount]map[string]uint32
	pfxIndex map[netip.Prefix]uint32
	asnIndex map[uint32]uint32
	vals     []valKey // value ID -> value; ID 0 is "none"
	count    []int32  // sessions per value
	asOrg    map[uint32]string
	profIdx  map[string]uint32
	profiles [][]forensics.HourCount // profile ID -> sorted bins; 0 is empty
	seqs     []seqInfo               // 0 is "none"
	buf      []byte
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts Options) *Builder {
	b := &Builder{
		opts:     opts.withDefaults(),
		pfxIndex: make(map[netip.Prefix]uint32),
		asnIndex: make(map[uint32]uint32),
		vals:     []valKey{{}},
		count:    []int32{0},
		asOrg:    make(map[uint32]string),
		profIdx:  make(map[string]uint32),
		profiles: [][]forensics.HourCount{nil},
		seqs:     []seqInfo{{}},
	}
	for i := range b.strIndex {
		b.strIndex[i] = make(map[string]uint32)
	}
	return b
}

func (b *Builder) newValue(attr uint8, s string) uint32 {
	id := uint32(len(b.vals))
	b.vals = append(b.vals, valKey{attr, s})
	b.count = append(b.count, 0)
	return id
}

// internBytes interns a value given as bytes; the map lookup with
// string(k) does not allocate.
func (b *Builder) internBytes(attr uint8, k []byte, counted bool) uint32 {
	if len(k) == 0 {
		return 0
	}
	id, ok := b.strIndex[attr][string(k)]
	if !ok {
		s := string(k)
		id = b.newValue(attr, s)
		b.strIndex[attr][s] = id
	}
	if counted {
		b.count[id]++
	}
	return id
}

func (b *Builder) intern(attr uint8, s string, counted bool) uint32 {
	if s == "" {
		return 0
	}
	id, ok := b.strIndex[attr][s]
	if !ok {
		// A private copy, so a caller's large backing buffer is not retained.
		s = strings.Clone(s)
		id = b.newValue(attr, s)
		b.strIndex[attr][s] = id
	}
	if counted {
		b.count[id]++
	}
	return id
}

// FingerprintTuple is the medium-rule value of a session: its JA4, JA3 and
// HASSH with the exact user agent, "" when none is known.
func FingerprintTuple(ind *forensics.Indicators) string {
	return string(appendTuple(nil, ind))
}

// appendTuple writes "ja4=…|ja3=…|hassh=…|ua=…" (parts present only).
// The user agent, last, is written as it is; the fingerprints, which a
// log may carry as any text, have '%' and '|' escaped (%25, %7C: real
// fingerprints hold neither), so that a '|' in evidence can neither
// make two different tuples equal nor forge a part (parseTuple).
func appendTuple(buf []byte, ind *forensics.Indicators) []byte {
	for _, kv := range [...]struct{ k, v string }{{"ja4=", ind.JA4}, {"ja3=", ind.JA3}, {"hassh=", ind.HASSH}, {"ua=", ind.UserAgent}} {
		if kv.v == "" {
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, '|')
		}
		buf = append(buf, kv.k...)
		if kv.k == "ua=" {
			buf = append(buf, kv.v...)
			continue
		}
		for i := 0; i < len(kv.v); i++ {
			switch c := kv.v[i]; c {
			case '%':
				buf = append(buf, "%25"...)
			case '|':
				buf = append(buf, "%7C"...)
			default:
				buf = append(buf, c)
			}
		}
	}
	return buf
}

// unescapeTuple undoes appendTuple's escapes in one pass.
func unescapeTuple(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case strings.HasPrefix(v[i:], "%25"):
			b.WriteByte('%')
			i += 2
		case strings.HasPrefix(v[i:], "%7C"):
			b.WriteByte('|')
			i += 2
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// parseTuple calls part with each key (ja4, ja3, hassh, ua) and value of
// a tuple appendTuple wrote, in order.
func parseTuple(s string, part func(k, v string)) {
	for s != "" {
		if v, ok := strings.CutPrefix(s, "ua="); ok {
			part("ua", v) // the rest, '|' and all
			return
		}
		p, rest, _ := strings.Cut(s, "|")
		k, v, _ := strings.Cut(p, "=")
		part(k, unescapeTuple(v))
		s = rest
	}
}

// Add records one session. It keeps no reference to s.
func (b *Builder) Add(s *forensics.Session) {
	ind := &s.Indicators
	r := rec{
		id:           s.ID,
		start:        s.Start.UnixNano(),
		end:          s.End.UnixNano(),
		beaconPeriod: float32(ind.BeaconPeriod),
		beaconScore:  float32(ind.BeaconScore),
		events:       int32(min(max(s.Events, 0), 1<<30)),
		objects:      int32(min(max(ind.Objects, 0), 1<<30)),
		failures:     int32(min(max(ind.Failures, 0), 1<<30)),
		notFound:     int32(min(max(ind.NotFound, 0), 1<<30)),
		probes:       int32(min(max(ind.ProbeHits, 0), 1<<30)),
		asn:          ind.ASN,
		peak:         -1,
	}
	if r.end < r.start {
		r.end = r.start
	}
	if ip := s.SrcIP.Unmap(); ip.IsValid() {
		r.ip = ip.As16()
		r.flags |= flagIPValid
		if ip.Is4() {
			r.flags |= flagIPv4
		}
	}
	r.cred = b.intern(attrCredential, ind.Credential, true)
	r.kid = b.intern(attrTokenKeyID, ind.TokenKeyID, true)
	b.buf = appendTuple(b.buf[:0], ind)
	r.fp = b.internBytes(attrFingerprint, b.buf, true)
	if ip := s.SrcIP.Unmap(); ip.IsValid() {
		bits := 48
		if ip.Is4() {
			bits = 24
		}
		if p, err := ip.Prefix(bits); err == nil {
			id, ok := b.pfxIndex[p]
			if !ok {
				id = b.newValue(attrPrefix, p.String())
				b.pfxIndex[p] = id
			}
			b.count[id]++
			r.prefix = id
		}
	}
	country := ind.Country
	if s.SrcGeo != nil {
		if country == "" {
			country = s.SrcGeo.Country
		}
		if r.asn == 0 {
			r.asn = s.SrcGeo.ASN
		}
		if s.SrcGeo.Foreign != nil && *s.SrcGeo.Foreign {
			r.flags |= flagForeign
		}
		if s.SrcGeo.ASOrg != "" && r.asn != 0 {
			if _, ok := b.asOrg[r.asn]; !ok {
				b.asOrg[r.asn] = strings.Clone(s.SrcGeo.ASOrg)
			}
		}
		if a := s.SrcGeo.Anonymous; a != nil {
			if a.Hosting {
				r.flags |= flagHosting
			}
			if a.VPN || a.Tor || a.Proxy || a.ResidentialProxy {
				r.flags |= flagAnonymizer
			}
		}
	}
	if r.asn != 0 {
		id, ok := b.asnIndex[r.asn]
		if !ok {
			id = b.newValue(attrASN, "AS"+itoa(int64(r.asn)))
			b.asnIndex[r.asn] = id
		}
		b.count[id]++
		r.asv = id
	}
	r.country = b.intern(attrCountry, country, false)
	if ind.SeqRun > 0 && ind.SeqTemplate != "" {
		r.seq = uint32(len(b.seqs))
		b.seqs = append(b.seqs, seqInfo{first: ind.FirstObject, last: ind.LastObject,
			tmpl: b.intern(attrTemplate, ind.SeqTemplate, false), run: int32(min(ind.SeqRun, 1<<30))})
	}
	for i, t := range ind.PathTemplates {
		if i == len(r.tmpls) {
			break
		}
		r.tmpls[i] = b.intern(attrPath, t, false)
	}
	if ind.Crawler {
		r.flags |= flagCrawler
	}
	if ind.Hosting {
		r.flags |= flagHosting
	}
	if ind.Anonymizer {
		r.flags |= flagAnonymizer
	}
	r.prof, r.peak, r.hourEvents = b.profile(ind.HourOfWeek)
	b.recs = append(b.recs, r)
}

// profile interns an hour-of-week profile: sessions mostly repeat a few
// shapes, so one copy serves many.
func (b *Builder) profile(h []forensics.HourCount) (id uint32, peak int16, events int32) {
	if len(h) == 0 {
		return 0, -1, 0
	}
	byHour := func(x, y forensics.HourCount) int { return cmp.Compare(x.Hour, y.Hour) }
	if !slices.IsSortedFunc(h, byHour) {
		h = slices.Clone(h)
		slices.SortFunc(h, byHour)
	}
	buf := b.buf[:0]
	best := 0
	peak = -1
	for _, x := range h {
		if x.Hour < 0 || x.Hour >= 168 || x.Count <= 0 {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(x.Hour))
		buf = binary.AppendUvarint(buf, uint64(x.Count))
		events += int32(min(x.Count, 1<<20))
		if x.Count > best {
			best, peak = x.Count, int16(x.Hour)
		}
	}
	b.buf = buf
	if len(buf) == 0 {
		return 0, -1, 0
	}
	id, ok := b.profIdx[string(buf)]
	if !ok {
		id = uint32(len(b.profiles))
		var clean []forensics.HourCount
		for _, x := range h {
			if x.Hour >= 0 && x.Hour < 168 && x.Count > 0 {
				clean = append(clean, x)
			}
		}
		b.profiles = append(b.profiles, clean)
		b.profIdx[string(buf)] = id
	}
	return id, peak, events
}

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
	scoreW [len(scoreComponents)]float64
	extra  int // edges admitted inside an existing component
}

type edge struct {
	a, b int32
	w    float32
}

func (b *Builder) group() *grouping {
	g := &grouping{b: b, opts: b.opts}
	for k, name := range scoreComponents {
		g.scoreW[k] = b.opts.ScoreWeights[name]
	}
	// Union-find runs over sessions sorted by ID: deterministic roots.
	sortRecs(b.recs)
	g.recs = b.recs
	g.stats.Sessions = len(g.recs)
	g.stats.Values = len(b.vals) - 1
	post := g.postings()
	g.classify(post)
	g.parent = make([]int32, len(g.recs))
	for i := range g.parent {
		g.parent[i] = int32(i)
	}
	g.candidates(post)
	g.handover()
	return g
}

// classify assigns each value its class and weight, demoting hubs.
func (g *grouping) classify(post postings) {
	n := len(g.b.vals)
	g.weight = make([]float32, n)
	g.class = make([]uint8, n)
	g.hub = make([]bool, n)
	g.creds = make([]int32, n)
	// Distinct credentials per value: walk each credential's sessions and
	// count a value once per credential.
	lastCred := make([]uint32, n)
	for v := 1; v < n; v++ {
		if g.b.vals[v].attr != attrCredential {
			continue
		}
		for _, x := range post.list[post.start[v]:post.start[v+1]] {
			r := &g.recs[x]
			for _, u := range [...]uint32{r.kid, r.fp, r.prefix, r.asv} {
				if u != 0 && lastCred[u] != uint32(v) {
					lastCred[u] = uint32(v)
					g.creds[u]++
				}
			}
		}
	}
	lastCred = nil
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
func (g *grouping) candidates(post postings) {
	for v := 1; v < len(post.start)-1; v++ {
		p := post.list[post.start[v]:post.start[v+1]]
		if len(p) < 2 || (g.class[v] < 2 && g.b.vals[v].attr != attrFingerprint) {
			continue
		}
		slices.SortFunc(p, func(x, y int32) int {
			if c := cmp.Compare(g.recs[x].start, g.recs[y].start); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		if g.b.vals[v].attr == attrFingerprint {
			// Declared crawlers with one user agent are one operator:
			// chain them, and compare the others as usual.
			var crawlers []int32
			rest := make([]int32, 0, len(p))
			for _, x := range p {
				if g.recs[x].flags&flagCrawler != 0 {
					crawlers = append(crawlers, x)
				} else {
					rest = append(rest, x)
				}
			}
			for i := 1; i < len(crawlers); i++ {
				w, _ := g.pairWeight(crawlers[i-1], crawlers[i], nil)
				g.admit(crawlers[i-1], crawlers[i], w)
			}
			p = rest
			if len(p) < 2 {
				continue
			}
		}
		if g.class[v] < 2 {
			continue
		}
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
	if !g.compatible(a, b) || !g.room(a, b) {
		return
	}
	w, ok := g.pairWeight(a, b, nil)
	if ok {
		g.admit(a, b, w)
	}
}

// room reports whether an edge between a and b may still be weighed:
// always when it would join two components; when they are already
// joined, the edge only adds explanation (cycles, so fewer bridges) and
// costs memory on big components, so such edges stay within a budget
// proportional to the input (counted here).
func (g *grouping) room(a, b int32) bool {
	if g.find(a) != g.find(b) {
		return true
	}
	if g.extra >= len(g.recs)/4+4096 {
		return false
	}
	g.extra++
	return true
}

// handover finds sessions that continue another's sequential read within
// the hand-over window. Sessions are bucketed by the template read and
// swept in time order.
func (g *grouping) handover() {
	var cand []int32
	for i := range g.recs {
		r := &g.recs[i]
		if r.seq != 0 && int(g.b.seqs[r.seq].run) >= g.opts.HandoverMinRun {
			cand = append(cand, int32(i))
		}
	}
	slices.SortFunc(cand, func(x, y int32) int {
		rx, ry := &g.recs[x], &g.recs[y]
		if c := cmp.Compare(g.b.seqs[rx.seq].tmpl, g.b.seqs[ry.seq].tmpl); c != 0 {
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
		for j < len(cand) && g.b.seqs[g.recs[cand[j]].seq].tmpl == g.b.seqs[g.recs[cand[i]].seq].tmpl {
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
				// The budget of tryPair: a bucket of hand-overs can offer
				// BlockSize edges per session, most inside one component.
				if g.handoverOK(ra, rb) && g.compatible(a, bucket[k]) && g.room(a, bucket[k]) {
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
	if a.seq == 0 || b.seq == 0 || (a.ip == b.ip && a.flags&flagIPValid != 0) {
		return false
	}
	sa, sb := &g.b.seqs[a.seq], &g.b.seqs[b.seq]
	if sa.tmpl == 0 || sa.tmpl != sb.tmpl {
		return false
	}
	if int(sa.run) < g.opts.HandoverMinRun || int(sb.run) < g.opts.HandoverMinRun {
		return false
	}
	gap := b.start - a.end
	if gap < 0 || gap > int64(g.opts.HandoverWindow) {
		return false
	}
	step := sb.first - sa.last
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

// sortRecs sorts records by session ID (then start) without moving the
// large records more than once: a permutation is sorted on a 64-bit key
// taken after the IDs' common prefix, then applied in place by cycles.
func sortRecs(recs []rec) {
	n := len(recs)
	if n < 2 {
		return
	}
	common := len(recs[0].id)
	for i := 1; i < n && common > 0; i++ {
		id := recs[i].id
		k := 0
		for k < common && k < len(id) && id[k] == recs[0].id[k] {
			k++
		}
		common = k
	}
	type keyed struct {
		key uint64
		idx int32
	}
	ks := make([]keyed, n)
	for i := range recs {
		var k [8]byte
		copy(k[:], recs[i].id[min(common, len(recs[i].id)):])
		ks[i] = keyed{binary.BigEndian.Uint64(k[:]), int32(i)}
	}
	// LSD radix sort on the key (16-bit digits), then the rare runs of
	// equal keys by the full ID.
	tmp := make([]keyed, n)
	var counts [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(counts[:])
		for _, k := range ks {
			counts[(k.key>>shift)&0xffff]++
		}
		sum := 0
		for d, c := range counts {
			counts[d] = sum
			sum += c
		}
		for _, k := range ks {
			d := (k.key >> shift) & 0xffff
			tmp[counts[d]] = k
			counts[d]++
		}
		ks, tmp = tmp, ks
	}
	tmp = nil
	for i := 0; i < n; {
		j := i + 1
		for j < n && ks[j].key == ks[i].key {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(ks[i:j], func(x, y keyed) int {
				rx, ry := &recs[x.idx], &recs[y.idx]
				if c := strings.Compare(rx.id, ry.id); c != 0 {
					return c
				}
				if c := cmp.Compare(rx.start, ry.start); c != 0 {
					return c
				}
				return cmp.Compare(x.idx, y.idx)
			})
		}
		i = j
	}
	// ks[i].idx is the record that belongs at i; follow the cycles.
	perm := make([]int32, n)
	for i := range ks {
		perm[i] = ks[i].idx
	}
	ks = nil
	for i := range perm {
		if perm[i] < 0 || int(perm[i]) == i {
			continue
		}
		tmp := recs[i]
		j := i
		for {
			k := int(perm[j])
			perm[j] = -1
			if k == i {
				recs[j] = tmp
				break
			}
			recs[j] = recs[k]
			j = k
		}
	}
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
