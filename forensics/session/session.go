package session

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Options tune sessionization. Every value is recorded in the bundle via
// Params.
type Options struct {
	// Gap is the idle time that ends a session (--session-gap).
	Gap time.Duration
	// MaxObjects caps the distinct objects remembered per session; the
	// count saturates there (flagged "objects_capped").
	MaxObjects int
	// MaxTemplates caps the path templates kept per session.
	MaxTemplates int
	// MaxEvidence caps the evidence references kept per session.
	MaxEvidence int
	// SeqMaxStep is the largest forward step between two reads that still
	// counts as sequential (pagination, object enumeration).
	SeqMaxStep int64
	// BeaconMinEvents is the fewest events a beacon score is computed on.
	BeaconMinEvents int
	// CrawlerTokens are lower-case user-agent substrings of benign crawlers.
	CrawlerTokens []string
	// ProbePaths are lower-case path prefixes of well-known scanner probes.
	ProbePaths []string
}

// DefaultOptions returns the defaults of the issue: a 30-minute idle gap.
func DefaultOptions() Options {
	return Options{
		Gap:             30 * time.Minute,
		MaxObjects:      10000,
		MaxTemplates:    20,
		MaxEvidence:     10,
		SeqMaxStep:      5,
		BeaconMinEvents: 6,
		CrawlerTokens: []string{"googlebot", "bingbot", "yandexbot", "baiduspider", "duckduckbot",
			"applebot", "slurp", "ahrefsbot", "semrushbot", "petalbot", "mj12bot", "dotbot",
			"facebookexternalhit", "crawler", "spider"},
		ProbePaths: []string{"/.env", "/.git", "/wp-login.php", "/wp-admin", "/xmlrpc.php",
			"/phpmyadmin", "/pma", "/cgi-bin/", "/actuator", "/server-status", "/.aws",
			"/vendor/phpunit", "/boaform", "/hnap1", "/etc/passwd", "/config.json",
			"/.ds_store", "/owa/", "/solr/", "/console", "/shell", "/manager/html"},
	}
}

// Params returns every threshold and gap used, for the bundle.
func (o Options) Params() map[string]string {
	return map[string]string{
		"gap":               o.Gap.String(),
		"max_objects":       strconv.Itoa(o.MaxObjects),
		"max_templates":     strconv.Itoa(o.MaxTemplates),
		"max_evidence":      strconv.Itoa(o.MaxEvidence),
		"seq_max_step":      strconv.FormatInt(o.SeqMaxStep, 10),
		"beacon_min_events": strconv.Itoa(o.BeaconMinEvents),
		"crawler_tokens":    strings.Join(o.CrawlerTokens, ","),
		"probe_paths":       strings.Join(o.ProbePaths, ","),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Gap <= 0 {
		o.Gap = d.Gap
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = d.MaxObjects
	}
	if o.MaxTemplates <= 0 {
		o.MaxTemplates = d.MaxTemplates
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = d.MaxEvidence
	}
	if o.SeqMaxStep <= 0 {
		o.SeqMaxStep = d.SeqMaxStep
	}
	if o.BeaconMinEvents < 3 {
		o.BeaconMinEvents = d.BeaconMinEvents
	}
	if o.CrawlerTokens == nil {
		o.CrawlerTokens = d.CrawlerTokens
	}
	if o.ProbePaths == nil {
		o.ProbePaths = d.ProbePaths
	}
	return o
}

// Build groups events and flows into sessions. Events from one actor
// address (Event.Actor) with the same user agent and credential form a
// session until an idle gap of opts.Gap; flows group by source address and
// fingerprint (JA4, JA3, HASSH or HTTP user agent) the same way. The
// output is sorted by start time, then ID, whatever the input order.
// Build holds every record; Stream is the same grouping over records that
// arrive in order, in memory bounded by the sessions open at a time.
func Build(events []forensics.Event, flows []forensics.Flow, opts Options) []forensics.Session {
	return build(events, flows, opts, false)
}

func build(events []forensics.Event, flows []forensics.Flow, opts Options, noSweep bool) []forensics.Session {
	out := make([]forensics.Session, 0, 16)
	st := NewStream(opts, func(s *forensics.Session) { out = append(out, *s) })
	st.noSweep = noSweep
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := &events[a], &events[b]
		return CompareEvents(ea.Time.Time, ea.ID, ea.Evidence.Offset, eb.Time.Time, eb.ID, eb.Evidence.Offset)
	})
	for _, i := range idx {
		it := EventItem(&events[i])
		st.Add(&it)
	}
	idx = slices.Grow(idx[:0], len(flows))[:len(flows)]
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		fa, fb := &flows[a], &flows[b]
		return CompareFlows(fa.Start.Time, fa.ID, fb.Start.Time, fb.ID)
	})
	for _, i := range idx {
		it := FlowItem(&flows[i])
		st.Add(&it)
	}
	st.Close()
	slices.SortFunc(out, CompareSessions)
	return out
}

// CompareEvents is the order events are grouped in: time, ID, then byte
// offset. Stream needs them in this order (ties in input order).
func CompareEvents(ta time.Time, ida string, offa int64, tb time.Time, idb string, offb int64) int {
	return cmp.Or(ta.Compare(tb), strings.Compare(ida, idb), cmp.Compare(offa, offb))
}

// CompareFlows is the order flows are grouped in: start time, then ID.
func CompareFlows(ta time.Time, ida string, tb time.Time, idb string) int {
	return cmp.Or(ta.Compare(tb), strings.Compare(ida, idb))
}

// CompareSessions is the output order of sessions: start time, then ID.
func CompareSessions(a, b forensics.Session) int {
	return cmp.Or(a.Start.Compare(b.Start.Time), strings.Compare(a.ID, b.ID))
}

// Item is what grouping reads of one event or flow: its key, time,
// evidence and the values that become indicators. It is small and
// self-contained, so that callers can sort and spill items instead of
// whole records (see forensics/analyze).
type Item struct {
	Flow bool // a flow; otherwise an event
	// Time is the event time or the flow start; End the flow end.
	Time, End time.Time
	ID        string
	Evidence  forensics.EvidenceRef
	// IP is the event's actor or the flow's source; Kind the event's
	// source kind ("web" when it had none).
	IP   netip.Addr
	Kind string
	// Events group by UserAgent and Credential, flows by Fingerprint.
	UserAgent, Credential, Fingerprint string
	Method, Path, User, Action         string
	Status                             int
	Bytes                              int64
	// KeyID is the first token key id among the event's indicators,
	// Issuer its JWT issuer; JA3, JA4 and HASSH the fingerprints.
	KeyID, Issuer, JA3, JA4, HASSH string
	// Geo is the enrichment of IP at Time, when known (see Stream.Geo).
	Geo *enrich.Record
}

// EventItem is what grouping reads of e.
func EventItem(e *forensics.Event) Item {
	it := Item{
		Time: e.Time.Time, ID: e.ID, Evidence: e.Evidence, IP: e.Actor(), Kind: e.SourceKind,
		UserAgent: e.UserAgent, Credential: eventCredential(e),
		Method: e.Method, Path: e.Path, User: e.User, Action: e.Action,
		Status: e.Status, Bytes: max(e.Bytes, 0), Geo: e.SrcGeo,
	}
	if it.Kind == "" {
		it.Kind = "web"
	}
	for _, k := range [...]string{"jwt_kid", "kid", "token_kid", "key_id"} {
		if v := e.Indicators[k]; v != "" {
			it.KeyID = v
			break
		}
	}
	it.Issuer = e.Indicators["jwt_iss"]
	it.JA3, it.JA4, it.HASSH = e.Indicators["ja3"], e.Indicators["ja4"], e.Indicators["hassh"]
	return it
}

// FlowItem is what grouping reads of f.
func FlowItem(f *forensics.Flow) Item {
	it := Item{
		Flow: true, Time: f.Start.Time, End: f.End.Time, ID: f.ID, Evidence: f.Evidence, IP: f.SrcIP,
		Kind: "flow", Fingerprint: flowFingerprint(f),
		Bytes: int64(min(f.BytesOut+f.BytesIn, math.MaxInt64/4)), Geo: f.SrcGeo,
	}
	if f.TLS != nil {
		it.JA4, it.JA3 = f.TLS.JA4, f.TLS.JA3Hash
	}
	if f.SSH != nil {
		it.HASSH = f.SSH.HASSH
	}
	if f.HTTP != nil {
		it.UserAgent, it.Method, it.Path = f.HTTP.UserAgent, f.HTTP.Method, f.HTTP.Path
	}
	return it
}

type eventKey struct {
	ip         netip.Addr
	kind       string
	userAgent  string
	credential string
}

func eventCredential(e *forensics.Event) string {
	if e.Credential != "" {
		return e.Credential
	}
	for _, k := range [...]string{"session_token_hash", "session_hash", "token_hash"} {
		if v := e.Indicators[k]; v != "" {
			return v
		}
	}
	return ""
}

type flowKey struct {
	ip          netip.Addr
	fingerprint string
}

func flowFingerprint(f *forensics.Flow) string {
	switch {
	case f.TLS != nil && f.TLS.JA4 != "":
		return "ja4:" + f.TLS.JA4
	case f.TLS != nil && f.TLS.JA3Hash != "":
		return "ja3:" + f.TLS.JA3Hash
	case f.SSH != nil && f.SSH.HASSH != "":
		return "hassh:" + f.SSH.HASSH
	case f.HTTP != nil && f.HTTP.UserAgent != "":
		return "ua:" + f.HTTP.UserAgent
	}
	return ""
}

// Stream groups items into sessions as they arrive: all events first, in
// CompareEvents order, then all flows, in CompareFlows order (ties in
// input order). A session is handed to emit once it ends: when an item
// of its key comes after the idle gap, when the items' time has moved a
// gap past its last one (so memory holds only the sessions open at a
// time), or at Close. Sessions are emitted out of output order; sort
// them with CompareSessions.
type Stream struct {
	opts   Options
	emit   func(*forensics.Session)
	events map[eventKey]*builder
	flows  map[flowKey]*builder
	// Times of the last sweep for ended sessions, per family: flows
	// start over from the earliest time after the events.
	sweptEvents, sweptFlows time.Time
	noSweep                 bool // tests: end sessions only by their keys
	// Geo, when set, enriches a new session's address as of its start
	// when its first item has no Geo (items read back from a spill).
	Geo func(ip netip.Addr, at time.Time) *enrich.Record
}

// NewStream returns a stream handing each finished session to emit;
// the session is emit's to keep.
func NewStream(opts Options, emit func(*forensics.Session)) *Stream {
	return &Stream{opts: opts.withDefaults(), emit: emit, events: map[eventKey]*builder{}, flows: map[flowKey]*builder{}}
}

// Add groups the next item.
func (st *Stream) Add(it *Item) {
	if !it.IP.IsValid() {
		return
	}
	if it.Flow {
		sweep(st, st.flows, &st.sweptFlows, it.Time)
		k := flowKey{ip: it.IP, fingerprint: it.Fingerprint}
		b := st.flows[k]
		if b != nil && it.Time.Sub(b.last) > st.opts.Gap {
			st.finish(b)
			b = nil
		}
		if b == nil {
			b = st.newBuilder(it)
			b.key = k.fingerprint
			st.flows[k] = b
		}
		b.add(it, st.opts)
		return
	}
	sweep(st, st.events, &st.sweptEvents, it.Time)
	k := eventKey{ip: it.IP, kind: it.Kind, userAgent: it.UserAgent, credential: it.Credential}
	b := st.events[k]
	if b != nil && it.Time.Sub(b.last) > st.opts.Gap {
		st.finish(b)
		b = nil
	}
	if b == nil {
		b = st.newBuilder(it)
		b.s.Indicators.UserAgent = it.UserAgent
		b.s.Indicators.Credential = it.Credential
		st.events[k] = b
	}
	b.add(it, st.opts)
}

func (st *Stream) newBuilder(it *Item) *builder {
	b := &builder{last: it.Time}
	b.s.Kind = it.Kind
	b.s.SrcIP = it.IP
	b.s.Start = forensics.NewTime(it.Time)
	b.s.SrcGeo = it.Geo
	if b.s.SrcGeo == nil && st.Geo != nil {
		b.s.SrcGeo = st.Geo(it.IP, it.Time)
	}
	return b
}

// sweep ends the open sessions of one family whose last item lies more
// than a gap before now: every later item of the family is at least as
// late, so each would end at its key's next item anyway. It runs once per
// gap of item time, so its cost is one pass over the open sessions per
// gap.
func sweep[K comparable](st *Stream, open map[K]*builder, swept *time.Time, now time.Time) {
	if st.noSweep || now.Sub(*swept) <= st.opts.Gap {
		return
	}
	*swept = now
	for k, b := range open {
		if now.Sub(b.last) > st.opts.Gap {
			st.finish(b)
			delete(open, k)
		}
	}
}

func (st *Stream) finish(b *builder) {
	s := b.finish(st.opts)
	st.emit(&s)
}

// Close ends every open session.
func (st *Stream) Close() {
	for _, b := range st.events {
		st.finish(b)
	}
	for _, b := range st.flows {
		st.finish(b)
	}
	clear(st.events)
	clear(st.flows)
}

// builder accumulates one open session.
type builder struct {
	s        forensics.Session
	key      string
	last     time.Time
	times    []time.Time
	objects  map[string]struct{}
	capped   bool
	tmpls    map[string]struct{}
	hours    [168]uint32 // saturating: a third of the size of ints per open session
	users    map[string]struct{}
	seqLast  int64
	seqHas   bool
	seqTmpl  string
	seqSteps int
	seqFirst int64
}

func (b *builder) touch(t time.Time, ev forensics.EvidenceRef, opts Options) {
	if t.After(b.last) {
		b.last = t
	}
	b.s.Events++
	if len(b.s.Evidence) < opts.MaxEvidence {
		b.s.Evidence = append(b.s.Evidence, ev)
	}
	how := (int(t.UTC().Weekday())+6)%7*24 + t.UTC().Hour()
	if b.hours[how] < math.MaxUint32 {
		b.hours[how]++
	}
	// Beacon scoring needs the arrival times; a session longer than this
	// is scored on its first part, which is enough to see a period.
	if len(b.times) < 4096 {
		b.times = append(b.times, t)
	}
}

func (b *builder) addObject(o string, opts Options) {
	if b.objects == nil {
		b.objects = make(map[string]struct{})
	}
	if len(b.objects) >= opts.MaxObjects {
		if _, ok := b.objects[o]; !ok {
			b.capped = true
		}
		return
	}
	b.objects[o] = struct{}{}
}

func (b *builder) addTemplate(t string, opts Options) {
	if b.tmpls == nil {
		b.tmpls = make(map[string]struct{})
	}
	if len(b.tmpls) < opts.MaxTemplates {
		b.tmpls[t] = struct{}{}
	}
}

func (b *builder) addPath(path string, opts Options) {
	if path == "" {
		return
	}
	pi := ParsePath(path)
	b.addTemplate(pi.Template, opts)
	for _, o := range pi.Objects {
		b.addObject(o, opts)
	}
	if len(opts.ProbePaths) > 0 {
		// A traversal counts as a probe when probes are looked for at all.
		lp := strings.ToLower(path)
		if strings.Contains(lp, "/../") || slices.ContainsFunc(opts.ProbePaths, func(p string) bool { return strings.HasPrefix(lp, p) }) {
			b.s.Indicators.ProbeHits++
		}
	}
	if !pi.HasSeq {
		return
	}
	switch {
	case !b.seqHas:
		b.seqHas, b.seqFirst, b.seqLast, b.seqTmpl = true, pi.Seq, pi.Seq, pi.Template
	case pi.Template == b.seqTmpl && pi.Seq > b.seqLast && pi.Seq-b.seqLast <= opts.SeqMaxStep:
		b.seqSteps++
		b.seqLast = pi.Seq
	case pi.Template == b.seqTmpl && pi.Seq == b.seqLast:
		// a retry of the same object
	case b.seqSteps == 0:
		// no run yet: restart it here
		b.seqFirst, b.seqLast, b.seqTmpl = pi.Seq, pi.Seq, pi.Template
	}
}

// add takes one item into the session: what events and flows share
// (evidence, bytes, the first fingerprints, methods, paths), then what
// only events carry (statuses, failures, users, token claims) or only
// flows (a user agent from their HTTP request: events have theirs in the
// session key).
func (b *builder) add(it *Item, opts Options) {
	b.touch(it.Time, it.Evidence, opts)
	if it.Flow && it.End.After(b.last) {
		b.last = it.End
	}
	ind := &b.s.Indicators
	b.s.Bytes += it.Bytes
	for _, f := range [...]struct {
		dst *string
		v   string
	}{{&ind.JA3, it.JA3}, {&ind.JA4, it.JA4}, {&ind.HASSH, it.HASSH}} {
		if *f.dst == "" {
			*f.dst = f.v
		}
	}
	if it.Method != "" {
		if ind.Methods == nil {
			ind.Methods = make(map[string]int)
		}
		ind.Methods[methodKey(it.Method)]++
	}
	if it.Flow {
		if ind.UserAgent == "" {
			ind.UserAgent = it.UserAgent
		}
	} else {
		b.addEventOnly(it, opts)
	}
	b.addPath(it.Path, opts)
}

func (b *builder) addEventOnly(it *Item, opts Options) {
	ind := &b.s.Indicators
	if it.Status > 0 {
		if ind.Statuses == nil {
			ind.Statuses = make(map[string]int)
		}
		if len(ind.Statuses) < 64 {
			ind.Statuses[strconv.Itoa(it.Status)]++
		}
		switch it.Status {
		case 401, 403:
			ind.Failures++
		case 404:
			ind.NotFound++
		}
	}
	switch it.Action {
	case "auth_failure", "login_failure", "failed_password", "invalid_user", "failure":
		ind.Failures++
	}
	if it.User != "" {
		if b.users == nil {
			b.users = make(map[string]struct{})
		}
		if len(b.users) < opts.MaxObjects {
			b.users[it.User] = struct{}{}
		}
		b.addObject("user="+it.User, opts)
	}
	if ind.TokenKeyID == "" {
		ind.TokenKeyID = it.KeyID
	}
	if v := it.Issuer; v != "" && len(ind.Extra) < 8 && !slices.Contains(ind.Extra, "iss="+v) {
		ind.Extra = append(ind.Extra, "iss="+v)
	}
}

// finish computes the derived indicators and the session ID.
func (b *builder) finish(opts Options) forensics.Session {
	s := b.s
	s.End = forensics.NewTime(b.last)
	ind := &s.Indicators
	ind.Objects = len(b.objects)
	if b.capped {
		ind.Extra = append(ind.Extra, "objects_capped")
	}
	if len(b.users) == 1 {
		for u := range b.users {
			ind.User = u
		}
	}
	if len(b.tmpls) > 0 {
		ind.PathTemplates = make([]string, 0, len(b.tmpls))
		for t := range b.tmpls {
			ind.PathTemplates = append(ind.PathTemplates, t)
		}
		slices.Sort(ind.PathTemplates)
	}
	if b.seqHas && b.seqSteps > 0 {
		ind.FirstObject, ind.LastObject = b.seqFirst, b.seqLast
		ind.SeqTemplate, ind.SeqRun = b.seqTmpl, b.seqSteps+1
	}
	ind.Prefix = Prefix(s.SrcIP)
	if g := s.SrcGeo; g != nil {
		ind.ASN = g.ASN
		ind.Country = g.Country
		if g.Anonymous != nil {
			ind.Hosting = g.Anonymous.Hosting
			ind.Anonymizer = g.Anonymous.VPN || g.Anonymous.Tor || g.Anonymous.Proxy || g.Anonymous.ResidentialProxy
		}
	}
	if ua := strings.ToLower(ind.UserAgent); ua != "" {
		for _, t := range opts.CrawlerTokens {
			if strings.Contains(ua, t) {
				ind.Crawler = true
				break
			}
		}
	}
	for h, n := range b.hours {
		if n > 0 {
			ind.HourOfWeek = append(ind.HourOfWeek, forensics.HourCount{Hour: h, Count: int(n)})
		}
	}
	if len(b.times) >= opts.BeaconMinEvents {
		ind.BeaconPeriod, ind.BeaconScore = Beacon(b.times)
	}
	s.ID = forensics.HashID("ses", s.Kind, s.SrcIP.String(), ind.UserAgent, ind.Credential, b.key, s.Start.String())
	return s
}

// Prefix returns the /24 of an IPv4 address or the /48 of an IPv6 address
// (IPv4-mapped addresses count as IPv4).
func Prefix(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// Beacon scores the regularity of arrival times the way RITA does: the
// median inter-arrival interval is the period; the score averages the
// Bowley skew of the intervals (symmetry), their median absolute deviation
// relative to the median (dispersion) and how many intervals were seen
// (up to 10 counts fully). Times must be sorted. It returns 0, 0 for fewer
// than three times or a zero median.
func Beacon(times []time.Time) (period, score float64) {
	if len(times) < 3 {
		return 0, 0
	}
	iv := make([]float64, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		iv = append(iv, times[i].Sub(times[i-1]).Seconds())
	}
	slices.Sort(iv)
	q := func(f float64) float64 { return iv[int(f*float64(len(iv)-1)+0.5)] }
	q1, med, q3 := q(0.25), q(0.5), q(0.75)
	if med <= 0 {
		return 0, 0
	}
	skew := 0.0
	if q3-q1 > 0 {
		skew = math.Abs((q3 + q1 - 2*med) / (q3 - q1))
	}
	dev := make([]float64, len(iv))
	for i, v := range iv {
		dev[i] = math.Abs(v - med)
	}
	slices.Sort(dev)
	mad := dev[len(dev)/2]
	madScore := max(0, 1-mad/med)
	countScore := min(1, float64(len(iv))/10)
	score = ((1 - skew) + madScore + countScore) / 3
	return round3(med), round3(score)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// methodKey is the key a request method is counted under in a session's
// methods: itself when it is a registered HTTP method (RFC 9110 and the
// WebDAV set), else "OTHER". The method of each event stays as logged;
// the session counts only a closed set, because every distinct key
// becomes a column of the sessions CSV, and a log can name any method.
func methodKey(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "PRI":
		return m
	}
	return "OTHER"
}
