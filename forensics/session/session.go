package session

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

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
func Build(events []forensics.Event, flows []forensics.Flow, opts Options) []forensics.Session {
	opts = opts.withDefaults()
	out := make([]forensics.Session, 0, 16)
	out = buildEvents(events, opts, out)
	out = buildFlows(flows, opts, out)
	slices.SortFunc(out, func(a, b forensics.Session) int {
		if c := a.Start.Compare(b.Start.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
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

func buildEvents(events []forensics.Event, opts Options, out []forensics.Session) []forensics.Session {
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := &events[a], &events[b]
		if c := ea.Time.Compare(eb.Time.Time); c != 0 {
			return c
		}
		if c := strings.Compare(ea.ID, eb.ID); c != 0 {
			return c
		}
		return cmp.Compare(ea.Evidence.Offset, eb.Evidence.Offset)
	})
	open := make(map[eventKey]*builder)
	for _, i := range idx {
		e := &events[i]
		ip := e.Actor()
		if !ip.IsValid() {
			continue
		}
		kind := e.SourceKind
		if kind == "" {
			kind = "web"
		}
		k := eventKey{ip: ip, kind: kind, userAgent: e.UserAgent, credential: eventCredential(e)}
		b := open[k]
		if b != nil && e.Time.Sub(b.last) > opts.Gap {
			out = append(out, b.finish(opts))
			b = nil
		}
		if b == nil {
			b = newBuilder(kind, ip, e.Time.Time, opts)
			b.s.Indicators.UserAgent = e.UserAgent
			b.s.Indicators.Credential = k.credential
			b.s.SrcGeo = e.SrcGeo
			open[k] = b
		}
		b.addEvent(e, opts)
	}
	return flush(open, opts, out)
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

func buildFlows(flows []forensics.Flow, opts Options, out []forensics.Session) []forensics.Session {
	idx := make([]int, len(flows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		fa, fb := &flows[a], &flows[b]
		if c := fa.Start.Compare(fb.Start.Time); c != 0 {
			return c
		}
		return strings.Compare(fa.ID, fb.ID)
	})
	open := make(map[flowKey]*builder)
	for _, i := range idx {
		f := &flows[i]
		if !f.SrcIP.IsValid() {
			continue
		}
		k := flowKey{ip: f.SrcIP, fingerprint: flowFingerprint(f)}
		b := open[k]
		if b != nil && f.Start.Sub(b.last) > opts.Gap {
			out = append(out, b.finish(opts))
			b = nil
		}
		if b == nil {
			b = newBuilder("flow", f.SrcIP, f.Start.Time, opts)
			b.key = k.fingerprint
			b.s.SrcGeo = f.SrcGeo
			open[k] = b
		}
		b.addFlow(f, opts)
	}
	return flush(open, opts, out)
}

func flush[K comparable](open map[K]*builder, opts Options, out []forensics.Session) []forensics.Session {
	// Map order is random; Build sorts the result, so appending in map
	// order is fine.
	for _, b := range open {
		out = append(out, b.finish(opts))
	}
	return out
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
	hours    [168]int
	users    map[string]struct{}
	seqLast  int64
	seqHas   bool
	seqTmpl  string
	seqSteps int
	seqFirst int64
}

func newBuilder(kind string, ip netip.Addr, start time.Time, opts Options) *builder {
	b := &builder{last: start}
	b.s.Kind = kind
	b.s.SrcIP = ip
	b.s.Start = forensics.NewTime(start)
	return b
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
	b.hours[how]++
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
	lp := strings.ToLower(path)
	for _, p := range opts.ProbePaths {
		if strings.HasPrefix(lp, p) || strings.Contains(lp, "/../") {
			b.s.Indicators.ProbeHits++
			break
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

func (b *builder) addEvent(e *forensics.Event, opts Options) {
	b.touch(e.Time.Time, e.Evidence, opts)
	ind := &b.s.Indicators
	b.s.Bytes += max(e.Bytes, 0)
	if e.Method != "" {
		if ind.Methods == nil {
			ind.Methods = make(map[string]int)
		}
		if len(ind.Methods) < 32 {
			ind.Methods[e.Method]++
		}
	}
	if e.Status > 0 {
		if ind.Statuses == nil {
			ind.Statuses = make(map[string]int)
		}
		if len(ind.Statuses) < 64 {
			ind.Statuses[strconv.Itoa(e.Status)]++
		}
		switch e.Status {
		case 401, 403:
			ind.Failures++
		case 404:
			ind.NotFound++
		}
	}
	switch e.Action {
	case "auth_failure", "login_failure", "failed_password", "invalid_user", "failure":
		ind.Failures++
	}
	if e.User != "" {
		if b.users == nil {
			b.users = make(map[string]struct{})
		}
		if len(b.users) < opts.MaxObjects {
			b.users[e.User] = struct{}{}
		}
		b.addObject("user="+e.User, opts)
	}
	for _, k := range [...]string{"jwt_kid", "kid", "token_kid", "key_id"} {
		if v := e.Indicators[k]; v != "" && ind.TokenKeyID == "" {
			ind.TokenKeyID = v
		}
	}
	if v := e.Indicators["jwt_iss"]; v != "" && len(ind.Extra) < 8 && !slices.Contains(ind.Extra, "iss="+v) {
		ind.Extra = append(ind.Extra, "iss="+v)
	}
	for _, k := range [...]string{"ja3", "ja4", "hassh"} {
		v := e.Indicators[k]
		switch {
		case v == "":
		case k == "ja3" && ind.JA3 == "":
			ind.JA3 = v
		case k == "ja4" && ind.JA4 == "":
			ind.JA4 = v
		case k == "hassh" && ind.HASSH == "":
			ind.HASSH = v
		}
	}
	b.addPath(e.Path, opts)
}

func (b *builder) addFlow(f *forensics.Flow, opts Options) {
	b.touch(f.Start.Time, f.Evidence, opts)
	if f.End.After(b.last) {
		b.last = f.End.Time
	}
	ind := &b.s.Indicators
	b.s.Bytes += int64(min(f.BytesOut+f.BytesIn, math.MaxInt64/4))
	if f.TLS != nil {
		if ind.JA4 == "" {
			ind.JA4 = f.TLS.JA4
		}
		if ind.JA3 == "" {
			ind.JA3 = f.TLS.JA3Hash
		}
	}
	if f.SSH != nil && ind.HASSH == "" {
		ind.HASSH = f.SSH.HASSH
	}
	if f.HTTP != nil {
		if ind.UserAgent == "" {
			ind.UserAgent = f.HTTP.UserAgent
		}
		if f.HTTP.Method != "" {
			if ind.Methods == nil {
				ind.Methods = make(map[string]int)
			}
			if len(ind.Methods) < 32 {
				ind.Methods[f.HTTP.Method]++
			}
		}
		b.addPath(f.HTTP.Path, opts)
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
			ind.HourOfWeek = append(ind.HourOfWeek, forensics.HourCount{Hour: h, Count: n})
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
