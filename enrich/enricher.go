package enrich

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options choose the databases and how lookups behave. The zero value
// uses the embedded default data only.
type Options struct {
	// Paths are --geoip arguments in lookup order: database files, or
	// directories of dated builds (snapshots) of one or more databases.
	Paths []string
	// Home is the investigator's country (ISO 3166-1 alpha-2); when set,
	// every record with a known country says whether it is foreign.
	Home string
	// NoEmbedded leaves the embedded default data out.
	NoEmbedded bool
	// UseEnv also consults $TRACEHOP_GEOIP (a path list) and the user
	// data dir ($XDG_DATA_HOME/tracehop/geoip), after Paths.
	UseEnv bool
	// Getenv reads the environment when UseEnv is set (nil: os.Getenv).
	Getenv func(string) string
	// Mappings read vendor schemas; nil means DefaultMappings().
	Mappings []Mapping
	// CacheSize bounds the (address, snapshot) lookup cache in records;
	// 0 means DefaultCacheSize, negative disables the cache.
	CacheSize int
}

// DefaultCacheSize is the lookup cache bound when Options.CacheSize is 0.
// A cached record with its sources takes about 700 bytes, plus 32 bytes
// of lock-free table per record (4 MB for the default).
const DefaultCacheSize = 1 << 17

// EnvGeoIP names the environment variable holding extra database paths.
const EnvGeoIP = "TRACEHOP_GEOIP"

// slot is one place in the lookup order: a single database, or a set of
// dated builds of one database (a snapshot set) of which each lookup uses
// the build that fits its time.
type slot struct {
	builds []*database // oldest first
	dir    string      // snapshot directory; "" for a single file or embedded data
}

// Enricher answers lookups from the databases in lookup order. It is safe
// for concurrent use; records it returns share their pointer fields (Lat,
// Lon, Anonymous, Foreign) and slices with the cache, so callers must not
// write through them.
type Enricher struct {
	slots   []slot
	home    string
	hosting *hostingList
	// eras: the sorted distinct build times (Unix seconds) of snapshot
	// sets with several builds; sel[k][s] is the build slot s uses when a
	// lookup time falls in era k (after k of those build times).
	bounds []int64
	sel    [][]int32
	after  [][]bool
	dated  bool // some slot is a snapshot directory: distances are recorded

	cache     *cache
	fieldSets sync.Map // field -> []string, for partial contributions
	// byID[db.id] is the build a compact source list names; sets holds
	// the shared source descriptions (see Sources).
	byID []*database
	sets setTable

	trueV, falseV bool
	hostingOnly   Anonymous
	errs          atomic.Uint64
}

// New opens the databases in lookup order: Paths, then (with UseEnv)
// $TRACEHOP_GEOIP and the user data dir, then the embedded default unless
// NoEmbedded. A file that cannot be read or is not a MaxMind DB is an
// error naming the file.
func New(opts Options) (*Enricher, error) {
	e := &Enricher{home: strings.ToUpper(opts.Home), trueV: true}
	e.hostingOnly = Anonymous{Hosting: true}
	mappings := opts.Mappings
	if mappings == nil {
		mappings = DefaultMappings()
	}
	for _, m := range mappings {
		if _, err := compileMapping(m.Name, m.Fields); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	fail := func(err error) (*Enricher, error) {
		e.Close()
		return nil, err
	}
	for _, p := range opts.Paths {
		if err := e.addPath(p, mappings, seen, true); err != nil {
			return fail(err)
		}
	}
	if opts.UseEnv {
		getenv := opts.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		for _, p := range filepath.SplitList(getenv(EnvGeoIP)) {
			if p == "" {
				continue
			}
			if err := e.addPath(p, mappings, seen, true); err != nil {
				return fail(fmt.Errorf("$%s: %w", EnvGeoIP, err))
			}
		}
		if dir := UserDataDir(getenv); dir != "" {
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				if err := e.addPath(dir, mappings, seen, false); err != nil {
					return fail(fmt.Errorf("user data dir: %w", err))
				}
			}
		}
	}
	if !opts.NoEmbedded {
		dbs, hl, err := openEmbedded()
		if err != nil {
			return fail(err)
		}
		for _, db := range dbs {
			if seen[db.info.SHA256] {
				db.close()
				continue
			}
			seen[db.info.SHA256] = true
			e.slots = append(e.slots, slot{builds: []*database{db}})
		}
		e.hosting = hl
	}
	e.planEras()
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 0 {
		e.cache = newCache(size)
	}
	return e, nil
}

// UserDataDir is where `tracehop db import` keeps databases:
// $XDG_DATA_HOME/tracehop/geoip, else ~/.local/share/tracehop/geoip
// (%LOCALAPPDATA%\tracehop\geoip on Windows). getenv nil means os.Getenv.
func UserDataDir(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tracehop", "geoip")
	}
	if d := getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "tracehop", "geoip")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "tracehop", "geoip")
	}
	return ""
}

// addPath adds a file as one slot, or a directory as one snapshot set per
// database kind found in it.
func (e *Enricher) addPath(p string, mappings []Mapping, seen map[string]bool, mustHave bool) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("geoip %s: %w", p, err)
	}
	if !st.IsDir() {
		db, err := openFile(p, mappings)
		if err != nil {
			return err
		}
		if seen[db.info.SHA256] {
			return db.close()
		}
		seen[db.info.SHA256] = true
		e.slots = append(e.slots, slot{builds: []*database{db}})
		return nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("geoip %s: %w", p, err)
	}
	var dbs []*database
	for _, ent := range ents { // ReadDir sorts by name
		if ent.IsDir() || !strings.EqualFold(filepath.Ext(ent.Name()), ".mmdb") {
			continue
		}
		db, err := openFile(filepath.Join(p, ent.Name()), mappings)
		if err != nil {
			for _, d := range dbs {
				d.close()
			}
			return err
		}
		if seen[db.info.SHA256] {
			db.close()
			continue
		}
		seen[db.info.SHA256] = true
		dbs = append(dbs, db)
	}
	if len(dbs) == 0 {
		if mustHave {
			return fmt.Errorf("geoip %s: no .mmdb files in directory", p)
		}
		return nil
	}
	// One snapshot set per kind of database: same type, same reading.
	groupKey := func(db *database) string {
		return db.info.Type + "\x00" + db.info.Mapping
	}
	slices.SortStableFunc(dbs, func(a, b *database) int {
		return cmp.Or(strings.Compare(groupKey(a), groupKey(b)),
			a.build.Compare(b.build), strings.Compare(a.info.SHA256, b.info.SHA256))
	})
	for i := 0; i < len(dbs); {
		j := i + 1
		for j < len(dbs) && groupKey(dbs[j]) == groupKey(dbs[i]) {
			j++
		}
		s := slot{builds: dbs[i:j:j], dir: p}
		for _, db := range s.builds {
			db.info.Snapshot = p
		}
		e.slots = append(e.slots, s)
		i = j
	}
	return nil
}

// planEras precomputes which build of every snapshot set answers for a
// lookup time, so a lookup only binary-searches the build times. The
// build times of every snapshot directory are era bounds, so within one
// era each set's choice, and whether that build postdates the lookup
// time, is fixed.
func (e *Enricher) planEras() {
	for _, s := range e.slots {
		for _, db := range s.builds {
			db.id = len(e.byID)
			e.byID = append(e.byID, db)
		}
	}
	for _, s := range e.slots {
		if s.dir == "" {
			continue
		}
		e.dated = true
		for _, db := range s.builds {
			e.bounds = append(e.bounds, db.build.Unix())
		}
	}
	slices.Sort(e.bounds)
	e.bounds = slices.Compact(e.bounds)
	e.sel = make([][]int32, len(e.bounds)+1)
	e.after = make([][]bool, len(e.bounds)+1)
	for k := range e.sel {
		row := make([]int32, len(e.slots))
		aft := make([]bool, len(e.slots))
		for si, s := range e.slots {
			pick, found := 0, false
			if k > 0 {
				t := e.bounds[k-1]
				for bi, db := range s.builds {
					if db.build.Unix() <= t {
						pick, found = bi, true
					}
				}
			}
			// Without a build on or before the time, the oldest one
			// after it answers, flagged.
			row[si], aft[si] = int32(pick), !found && s.dir != ""
		}
		e.sel[k], e.after[k] = row, aft
	}
}

// era returns the era of a lookup time (zero time: the newest builds).
func (e *Enricher) era(at time.Time) int {
	if at.IsZero() {
		return len(e.bounds)
	}
	if len(e.bounds) == 0 {
		return 0
	}
	t := at.Unix()
	n, _ := slices.BinarySearch(e.bounds, t+1) // count of bounds <= t
	return n
}

// Era numbers the periods between the build times of the snapshot sets
// in use: lookups at two times of one era are answered by the same
// builds (so a record may be reused between them if their snapshot
// distances, whole days, also agree). Without snapshot sets every time
// is in one era.
func (e *Enricher) Era(at time.Time) int { return e.era(at) }

// eraDay returns the era of a lookup time and, when snapshot distances
// are recorded, its day since the Unix epoch (else noDay).
func (e *Enricher) eraDay(at time.Time) (int, int32) {
	day := int32(noDay)
	if e.dated && !at.IsZero() {
		day = int32(floorDiv(at.Unix(), 86400))
	}
	return e.era(at), day
}

// noDay marks a lookup without a time (no snapshot distance).
const noDay = -1 << 31

// Databases lists every database build in lookup order (within a
// snapshot set, oldest build first), then the embedded hosting-ASN list:
// the list every report cites.
func (e *Enricher) Databases() []DatabaseInfo {
	var out []DatabaseInfo
	for _, s := range e.slots {
		for _, db := range s.builds {
			out = append(out, db.info)
		}
	}
	if e.hosting != nil {
		out = append(out, e.hosting.info)
	}
	return out
}

// LookupErrors counts database records that could not be decoded since
// New (a damaged database); those lookups answered without that source.
func (e *Enricher) LookupErrors() uint64 { return e.errs.Load() }

// Close releases the databases.
func (e *Enricher) Close() error {
	var errs []error
	for _, s := range e.slots {
		for _, db := range s.builds {
			errs = append(errs, db.close())
		}
	}
	e.slots = nil
	return errors.Join(errs...)
}

// Lookup enriches ip as of time at: for snapshot sets, the newest build
// made on or before at (else the oldest after it, flagged); zero at means
// the newest builds. Results are cached by (address, snapshot).
func (e *Enricher) Lookup(ip netip.Addr, at time.Time) (out Record) {
	if e.cache == nil {
		e.lookupInPlace(&out, ip, at)
	} else {
		// Copied straight into the result: a named result is not copied
		// again on return, and 344 bytes are a third of a hit's time.
		out = *e.shared(ip, at)
	}
	out.IP = ip
	return out
}

// lookupInPlace is Lookup without a cache: the record is built in out,
// and nothing is allocated (the sources are compact, see Sources).
func (e *Enricher) lookupInPlace(out *Record, ip netip.Addr, at time.Time) {
	era, day := e.eraDay(at)
	var hb [8]hit
	var p probe
	hits, n, hostingASN := e.resolve(&p, out, ip.WithZone(""), era, hb[:0])
	if n > 0 {
		e.fillSources(out, p.addr, hits, day, e.after[era], hostingASN)
	}
}

// LookupShared is Lookup without the copy: the record may be the cached
// one, shared by every caller, and must be treated as read-only. Stages
// that attach the same address to many records use it so that they all
// point at one record instead of holding a copy each.
func (e *Enricher) LookupShared(ip netip.Addr, at time.Time) *Record {
	r := e.shared(ip, at)
	if r.IP != ip {
		c := *r
		c.IP = ip
		return &c
	}
	return r
}

// shared returns the record for ip (zone dropped) as of at, from the
// cache when it has it; r.IP is the zone-less address.
func (e *Enricher) shared(ip netip.Addr, at time.Time) *Record {
	era, day := e.eraDay(at)
	key := ip.WithZone("")
	if e.cache == nil {
		return &e.lookup(key, era, day).rec
	}
	k := makeCacheKey(key, int32(era), day)
	if r := e.cache.get(&k); r != nil {
		return r
	}
	h := e.lookup(key, era, day)
	h.key = k
	e.cache.put(h)
	return &h.rec
}

// hit is one database's answer during a lookup.
type hit struct {
	slot   int
	db     *database
	a      *answer
	prefix netip.Prefix
	used   field
}

// head is a record with the cache key it is stored under: what a lookup
// allocates (once; its sources need no memory of their own), immutable
// once published.
type head struct {
	key cacheKey
	rec Record
}

// lookup builds the record of ip (zone-less) with its IP set, in a new
// allocation.
func (e *Enricher) lookup(ip netip.Addr, era int, day int32) *head {
	h := &head{}
	var hb [8]hit
	var p probe
	hits, n, hostingASN := e.resolve(&p, &h.rec, ip, era, hb[:0])
	if n > 0 {
		e.fillSources(&h.rec, p.addr, hits, day, e.after[era], hostingASN)
	}
	return h
}

// resolve classifies ip (zone-less), sets r's IP and merged answers, and
// returns the databases' answers (appended to hits), how many sources
// the record will list and whether the ASN is on the hosting list.
func (e *Enricher) resolve(p *probe, r *Record, ip netip.Addr, era int, hits []hit) ([]hit, int, bool) {
	if !e.begin(p, r, ip, era) {
		return hits, 0, false
	}
	walkAll(p.ws[:p.nw])
	e.fetch(p)
	return e.answer(p, r, hits)
}

// fetch takes the decoded records p's finished searches found from the
// databases' answer caches, every search's before any is read, so that
// their cache misses overlap; answer then takes them from the probe
// instead of hashing the offsets again.
func (e *Enricher) fetch(p *probe) {
	for w := range p.ws[:p.nw] {
		if off, found, err := p.ws[w].result(); found && err == nil {
			si := p.wslot[w]
			if a := e.slots[si].builds[p.row[si]].slotOf(off).Load(); a != nil && a.off == off {
				p.ans[w] = a
			}
		}
	}
}

// probe is one lookup between its start and its answer: the address the
// databases are asked and its IPv4 searches, which walk the jump tables
// and trees of every database that has the fast path (in the order of
// the slots, wslot naming each one's slot).
type probe struct {
	addr  netip.Addr
	row   []int32
	ws    [maxWalks]walk4
	wslot [maxWalks]int
	// ans[w], when set, is the decoded answer search w found (LookupBatch
	// reads it while overlapping the searches' cache misses).
	ans [maxWalks]*answer
	nw  int
}

// maxWalks bounds the IPv4 searches of one lookup; slots beyond it are
// searched by the library.
const maxWalks = 8

// begin classifies ip (zone-less) into r and starts p's searches; false
// when no database is asked (a local address, or no databases).
func (e *Enricher) begin(p *probe, r *Record, ip netip.Addr, era int) bool {
	r.IP = ip
	class, emb, embedding := classify(ip)
	r.Class, r.EmbeddedIPv4, r.Embedding = class, emb, embedding
	if isLocalClass(class) || len(e.slots) == 0 {
		return false
	}
	p.addr = ip
	if emb.IsValid() {
		p.addr = emb
	}
	p.row = e.sel[era]
	p.nw = 0
	if p.addr.Is4() {
		a4 := p.addr.As4()
		ip32 := binary.BigEndian.Uint32(a4[:])
		for si := range e.slots {
			if db := e.slots[si].builds[p.row[si]]; db.v4 != nil && p.nw < maxWalks {
				p.ws[p.nw].start(db.v4, ip32)
				p.wslot[p.nw] = si
				p.ans[p.nw] = nil
				p.nw++
			}
		}
	}
	return true
}

// answer reads the answers of p's finished searches (and asks the
// library for the other slots), merges them into r and returns them
// (appended to hits), how many sources r will list and whether its ASN
// is on the hosting list.
func (e *Enricher) answer(p *probe, r *Record, hits []hit) ([]hit, int, bool) {
	addr := p.addr
	wi := 0
	for si := range e.slots {
		s := &e.slots[si]
		db := s.builds[p.row[si]]
		if db.info.IPVersion == 4 && !addr.Is4() {
			continue
		}
		var a *answer
		var prefix netip.Prefix
		if wi < p.nw && p.wslot[wi] == si {
			w := &p.ws[wi]
			wi++
			off, found, err := w.result()
			if err != nil {
				e.errs.Add(1)
				continue
			}
			if !found {
				continue
			}
			if a = p.ans[wi-1]; a == nil {
				if a, err = db.answerAt(off, nil); err != nil {
					e.errs.Add(1)
					continue
				}
			}
			prefix = w.prefix()
		} else {
			res := db.reader.Lookup(addr)
			if err := res.Err(); err != nil {
				e.errs.Add(1)
				continue
			}
			if !res.Found() {
				continue
			}
			var err error
			if a, err = db.lookupAnswer(res); err != nil {
				e.errs.Add(1)
				continue
			}
			prefix = res.Prefix()
		}
		if a.mask == 0 {
			continue
		}
		hits = append(hits, hit{slot: si, db: db, a: a, prefix: prefix})
	}
	e.merge(r, hits)
	hostingASN := r.ASN != 0 && e.hosting != nil && e.hosting.has(r.ASN)
	n := 0
	for i := range hits {
		if hits[i].used != 0 {
			n++
		}
	}
	if hostingASN {
		n++
	}
	return hits, n, hostingASN
}

// merge chooses, field by field, the most specific answer: the geographic
// fields come from the source with the finest level (city over
// subdivision over country), ties going to the earlier source in lookup
// order, and gaps are filled only from sources agreeing on the country;
// every other field comes from the first source that has it (for the ASN,
// the first that also names the organisation); anonymizer flags are the
// union of all sources.
func (e *Enricher) merge(r *Record, hits []hit) {
	geo := -1
	for i := range hits {
		if hits[i].a.mask&geoFields != 0 && (geo < 0 || hits[i].a.level > hits[geo].a.level) {
			geo = i
		}
	}
	if geo >= 0 {
		w := hits[geo].a
		r.Country = w.country
		hits[geo].used |= w.mask & fCountry
		takeGeo(r, &hits[geo])
		for i := range hits {
			if a := hits[i].a; i != geo && a.mask&geoFields != 0 && (a.country == "" || a.country == w.country) {
				takeGeo(r, &hits[i])
			}
		}
	}
	asn := -1
	for i := range hits {
		a := hits[i].a
		if a.mask&fASN == 0 {
			continue
		}
		if asn < 0 || (hits[asn].a.mask&fASOrg == 0 && a.mask&fASOrg != 0) {
			asn = i
		}
	}
	if asn >= 0 {
		a := hits[asn].a
		r.ASN, r.ASOrg = a.asn, a.asOrg
		hits[asn].used |= a.mask & (fASN | fASOrg)
	}
	var anonSrc int
	for i := range hits {
		a := hits[i].a
		if r.RegisteredCountry == "" && a.mask&fRegisteredCountry != 0 {
			r.RegisteredCountry = a.registeredCountry
			hits[i].used |= fRegisteredCountry
		}
		if r.ISP == "" && a.mask&fISP != 0 {
			r.ISP = a.isp
			hits[i].used |= fISP
		}
		if r.ConnectionType == "" && a.mask&fConnectionType != 0 {
			r.ConnectionType = a.connectionType
			hits[i].used |= fConnectionType
		}
		if !r.Anycast && a.mask&fAnycast != 0 {
			r.Anycast = true
			hits[i].used |= fAnycast
		}
		if r.Domain == "" && a.mask&fDomain != 0 {
			r.Domain = a.domain
			hits[i].used |= fDomain
		}
		if a.mask&fAnonymous != 0 {
			hits[i].used |= fAnonymous
			if anonSrc == 0 {
				r.Anonymous = a.anonymous
			} else {
				u := *r.Anonymous
				u.VPN = u.VPN || a.anonymous.VPN
				u.Tor = u.Tor || a.anonymous.Tor
				u.Hosting = u.Hosting || a.anonymous.Hosting
				u.Proxy = u.Proxy || a.anonymous.Proxy
				u.ResidentialProxy = u.ResidentialProxy || a.anonymous.ResidentialProxy
				r.Anonymous = &u
			}
			anonSrc++
		}
	}
	if e.home != "" && r.Country != "" {
		if r.Country != e.home {
			r.Foreign = &e.trueV
		} else {
			r.Foreign = &e.falseV
		}
	}
}

// takeGeo fills the geographic fields r still lacks from h's answer.
func takeGeo(r *Record, h *hit) {
	a := h.a
	if a.mask&fCountryName != 0 && r.CountryName == "" {
		r.CountryName = a.countryName
		h.used |= fCountryName
	}
	if a.mask&fSubdivision != 0 && r.Subdivision == "" {
		r.Subdivision = a.subdivision
		h.used |= fSubdivision
	}
	if a.mask&fCity != 0 && r.City == "" {
		r.City = a.city
		h.used |= fCity
	}
	// Coordinates and their accuracy travel together.
	if a.mask&(fLat|fLon) == fLat|fLon && r.Lat == nil {
		r.Lat, r.Lon = a.lat, a.lon
		h.used |= fLat | fLon
		if a.accuracy != 0 {
			r.AccuracyKM = a.accuracy
			h.used |= fAccuracy
		}
	}
}

// fillSources lists the sources that answered (addr looked up), in
// lookup order, and sets Network to the narrowest matched prefix. The
// list is compact (see Sources) unless it is long or a network is not
// addr's own prefix; then it is written out in a new allocation.
func (e *Enricher) fillSources(r *Record, addr netip.Addr, hits []hit, day int32, after []bool, hostingASN bool) {
	hostingAdds := hostingASN && (r.Anonymous == nil || !r.Anonymous.Hosting)
	var k setKey
	var bits [maxCompactSources]uint8
	compact := true
	for i := range hits {
		h := &hits[i]
		if h.used == 0 {
			continue
		}
		if !r.Network.IsValid() || h.prefix.Bits() > r.Network.Bits() {
			r.Network = h.prefix
		}
		if !compact {
			continue
		}
		dated := e.slots[h.slot].dir != "" && day != noDay
		var dist int64
		if dated {
			dist = int64(day) - h.db.day
		}
		if k.n == maxCompactSources || h.db.id >= hostingID || dist != int64(int32(dist)) {
			compact = false
			continue
		}
		if h.prefix.IsValid() {
			if p, _ := addr.Prefix(h.prefix.Bits()); p != h.prefix {
				compact = false
				continue
			}
			bits[k.n] = uint8(h.prefix.Bits() + 1)
		}
		k.words[k.n] = sourceWord(uint16(h.db.id), h.used, dated, dated && after[h.slot], int32(dist))
		k.n++
	}
	if hostingASN {
		if k.n == maxCompactSources {
			compact = false
		} else {
			k.words[k.n] = sourceWord(hostingID, 0, false, false, 0)
			k.n++
		}
		if hostingAdds {
			if r.Anonymous == nil {
				r.Anonymous = &e.hostingOnly
			} else {
				u := *r.Anonymous
				u.Hosting = true
				r.Anonymous = &u
			}
		}
	}
	if compact {
		if k.n > 0 {
			r.Sources = Sources{set: e.sourceSetOf(&k), addr: addr, bits: bits}
		}
		return
	}
	r.Sources = MakeSources(e.sourceList(hits, day, after, hostingASN))
}

// sourceList writes out the sources of a lookup that a compact list
// cannot hold.
func (e *Enricher) sourceList(hits []hit, day int32, after []bool, hostingASN bool) []Source {
	var src []Source
	for i := range hits {
		h := &hits[i]
		if h.used == 0 {
			continue
		}
		info := &h.db.info
		s := Source{DB: info.Name, Type: info.Type, Build: info.Build, SHA256: info.SHA256, Network: h.prefix, Fields: e.fieldNames(h.used)}
		if e.slots[h.slot].dir != "" && day != noDay {
			d := int(int64(day) - h.db.day)
			s.SnapshotDistanceDays = &d
			s.AfterEvent = after[h.slot]
		}
		src = append(src, s)
	}
	if hostingASN {
		hi := &e.hosting.info
		src = append(src, Source{DB: hi.Name, Type: hi.Type, Build: hi.Build, SHA256: hi.SHA256, Fields: e.hosting.fields})
	}
	return src
}

// fieldNames interns the name list of a partial contribution.
func (e *Enricher) fieldNames(mask field) []string {
	if v, ok := e.fieldSets.Load(mask); ok {
		return v.([]string)
	}
	v, _ := e.fieldSets.LoadOrStore(mask, mask.names())
	return v.([]string)
}
