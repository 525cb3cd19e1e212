package hive

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// The row types mirror the JSON records of DESIGN §4 column for column:
// the same names, nested objects as groups (STRUCT in DuckDB and Spark),
// arrays as lists and objects keyed by data as maps. A field the JSON
// omits when empty is optional here and null when empty, so "unknown" is
// never read as zero. Addresses are strings in their canonical text
// form; times are UTC timestamps in microseconds: Spark refuses
// nanosecond Parquet timestamps, and int64 nanoseconds overflow outside
// 1677-2262, a range a forged log time can leave (the JSON output keeps
// all nine digits, events their time_raw). TestRowsCoverRecords
// fails when a record gains a JSON field that has no column.
//
// Every optional column is a pointer (nil: null). parquet-go v0.32 writes
// value-typed optional fields through a null bitmap whose run detection
// can take the nulls at the end of a 64-row word for values: in the sample
// case's case-file export three referrers came back as "" instead of null
// (TestOptionalRuns). Its pointer path checks each row.

type eventRow struct {
	ID         string             `parquet:"id"`
	Time       *int64             `parquet:"time,optional,timestamp(microsecond)"`
	TimeRaw    *string            `parquet:"time_raw,optional"`
	SourceKind string             `parquet:"source_kind"`
	SrcIP      *string            `parquet:"src_ip,optional"`
	SrcPort    *uint16            `parquet:"src_port,optional"`
	ClientIP   *string            `parquet:"client_ip,optional"`
	ProxyChain []proxyHopRow      `parquet:"proxy_chain,optional,list"`
	DstIP      *string            `parquet:"dst_ip,optional"`
	DstPort    *uint16            `parquet:"dst_port,optional"`
	Method     *string            `parquet:"method,optional"`
	Host       *string            `parquet:"host,optional"`
	Path       *string            `parquet:"path,optional"`
	Status     *int32             `parquet:"status,optional"`
	Bytes      *int64             `parquet:"bytes,optional"`
	UserAgent  *string            `parquet:"user_agent,optional"`
	Referrer   *string            `parquet:"referrer,optional"`
	User       *string            `parquet:"user,optional"`
	Credential *string            `parquet:"credential,optional"`
	Action     *string            `parquet:"action,optional"`
	Indicators *map[string]string `parquet:"indicators,optional"`
	Flags      []string           `parquet:"flags,optional,list"`
	SrcGeo     *geoRow            `parquet:"src_geo,optional"`
	Evidence   evidenceRow        `parquet:"evidence"`
}

type proxyHopRow struct {
	IP      string `parquet:"ip"`
	Trusted bool   `parquet:"trusted"`
}

type evidenceRow struct {
	File   string  `parquet:"file"`
	SHA256 string  `parquet:"sha256"`
	Packet *uint64 `parquet:"packet,optional"`
	Line   *uint64 `parquet:"line,optional"`
	Offset int64   `parquet:"offset"`
}

type flowRow struct {
	ID          string      `parquet:"id"`
	CommunityID *string     `parquet:"community_id,optional"`
	Proto       string      `parquet:"proto"`
	SrcIP       string      `parquet:"src_ip"`
	SrcPort     uint16      `parquet:"src_port"`
	DstIP       string      `parquet:"dst_ip"`
	DstPort     uint16      `parquet:"dst_port"`
	Start       *int64      `parquet:"start,optional,timestamp(microsecond)"`
	End         *int64      `parquet:"end,optional,timestamp(microsecond)"`
	PktsOut     uint64      `parquet:"pkts_out"`
	PktsIn      uint64      `parquet:"pkts_in"`
	BytesOut    uint64      `parquet:"bytes_out"`
	BytesIn     uint64      `parquet:"bytes_in"`
	State       *string     `parquet:"state,optional"`
	Tunnel      *string     `parquet:"tunnel,optional"`
	VLAN        []uint16    `parquet:"vlan,optional,list"`
	HTTP        *httpRow    `parquet:"http,optional"`
	TLS         *tlsRow     `parquet:"tls,optional"`
	SSH         *sshRow     `parquet:"ssh,optional"`
	DNS         *dnsRow     `parquet:"dns,optional"`
	SrcGeo      *geoRow     `parquet:"src_geo,optional"`
	DstGeo      *geoRow     `parquet:"dst_geo,optional"`
	Evidence    evidenceRow `parquet:"evidence"`
	Activity    []periodRow `parquet:"activity,optional,list"`
}

type httpRow struct {
	Method    *string `parquet:"method,optional"`
	Host      *string `parquet:"host,optional"`
	Path      *string `parquet:"path,optional"`
	UserAgent *string `parquet:"user_agent,optional"`
	XFF       *string `parquet:"xff,optional"`
}

type tlsRow struct {
	Version  *string  `parquet:"version,optional"`
	SNI      *string  `parquet:"sni,optional"`
	ALPN     []string `parquet:"alpn,optional,list"`
	JA3      *string  `parquet:"ja3,optional"`
	JA3Hash  *string  `parquet:"ja3_hash,optional"`
	JA3S     *string  `parquet:"ja3s,optional"`
	JA3SHash *string  `parquet:"ja3s_hash,optional"`
	JA4      *string  `parquet:"ja4,optional"`
}

type sshRow struct {
	Client      *string `parquet:"client,optional"`
	Server      *string `parquet:"server,optional"`
	HASSH       *string `parquet:"hassh,optional"`
	HASSHServer *string `parquet:"hassh_server,optional"`
}

type dnsRow struct {
	Query   *string  `parquet:"query,optional"`
	QType   *string  `parquet:"qtype,optional"`
	RCode   *string  `parquet:"rcode,optional"`
	Answers []string `parquet:"answers,optional,list"`
}

// periodRow's times are required: optional ones inside a list element
// read back as null with parquet-go v0.32 (TestRoundTrip).
type periodRow struct {
	Start int64 `parquet:"start,timestamp(microsecond)"`
	End   int64 `parquet:"end,timestamp(microsecond)"`
}

type sessionRow struct {
	ID         string        `parquet:"id"`
	Kind       string        `parquet:"kind"`
	SrcIP      *string       `parquet:"src_ip,optional"`
	Start      *int64        `parquet:"start,optional,timestamp(microsecond)"`
	End        *int64        `parquet:"end,optional,timestamp(microsecond)"`
	Events     int64         `parquet:"events"`
	Bytes      int64         `parquet:"bytes"`
	Indicators indicatorsRow `parquet:"indicators"`
	SrcGeo     *geoRow       `parquet:"src_geo,optional"`
	Evidence   []evidenceRow `parquet:"evidence,optional,list"`
}

type indicatorsRow struct {
	Credential    *string           `parquet:"credential,optional"`
	TokenKeyID    *string           `parquet:"token_key_id,optional"`
	User          *string           `parquet:"user,optional"`
	UserAgent     *string           `parquet:"user_agent,optional"`
	JA3           *string           `parquet:"ja3,optional"`
	JA4           *string           `parquet:"ja4,optional"`
	HASSH         *string           `parquet:"hassh,optional"`
	PathTemplates []string          `parquet:"path_template,optional,list"`
	Methods       *map[string]int64 `parquet:"methods,optional"`
	Statuses      *map[string]int64 `parquet:"statuses,optional"`
	Objects       *int64            `parquet:"objects,optional"`
	FirstObject   *int64            `parquet:"first_object,optional"`
	LastObject    *int64            `parquet:"last_object,optional"`
	SeqTemplate   *string           `parquet:"seq_template,optional"`
	SeqRun        *int64            `parquet:"seq_run,optional"`
	Prefix        *string           `parquet:"prefix,optional"`
	ASN           *uint32           `parquet:"asn,optional"`
	Country       *string           `parquet:"country,optional"`
	Hosting       *bool             `parquet:"hosting,optional"`
	Anonymizer    *bool             `parquet:"anonymizer,optional"`
	Crawler       *bool             `parquet:"crawler,optional"`
	Failures      *int64            `parquet:"failures,optional"`
	NotFound      *int64            `parquet:"not_found,optional"`
	ProbeHits     *int64            `parquet:"probe_hits,optional"`
	HourOfWeek    []hourCountRow    `parquet:"hour_of_week,optional,list"`
	BeaconPeriod  *float64          `parquet:"beacon_period_s,optional"`
	BeaconScore   *float64          `parquet:"beacon_score,optional"`
	Extra         []string          `parquet:"extra,optional,list"`
}

type hourCountRow struct {
	Hour  int32 `parquet:"h"`
	Count int64 `parquet:"n"`
}

// geoRow is the ip record of DESIGN §4 (enrich.Record).
type geoRow struct {
	IP                *string       `parquet:"ip,optional"`
	Class             *string       `parquet:"class,optional"`
	EmbeddedIPv4      *string       `parquet:"embedded_ipv4,optional"`
	Embedding         *string       `parquet:"embedding,optional"`
	Country           *string       `parquet:"country,optional"`
	CountryName       *string       `parquet:"country_name,optional"`
	RegisteredCountry *string       `parquet:"registered_country,optional"`
	Subdivision       *string       `parquet:"subdivision,optional"`
	City              *string       `parquet:"city,optional"`
	Lat               *float64      `parquet:"lat,optional"`
	Lon               *float64      `parquet:"lon,optional"`
	AccuracyKM        *uint16       `parquet:"accuracy_km,optional"`
	ASN               *uint32       `parquet:"asn,optional"`
	ASOrg             *string       `parquet:"as_org,optional"`
	ISP               *string       `parquet:"isp,optional"`
	ConnectionType    *string       `parquet:"connection_type,optional"`
	Domain            *string       `parquet:"domain,optional"`
	Network           *string       `parquet:"network,optional"`
	Anonymous         *anonymousRow `parquet:"anonymous,optional"`
	Anycast           *bool         `parquet:"anycast,optional"`
	Foreign           *bool         `parquet:"foreign,optional"`
	Sources           []sourceRow   `parquet:"sources,optional,list"`
}

type anonymousRow struct {
	VPN              *bool `parquet:"vpn,optional"`
	Tor              *bool `parquet:"tor,optional"`
	Hosting          *bool `parquet:"hosting,optional"`
	Proxy            *bool `parquet:"proxy,optional"`
	ResidentialProxy *bool `parquet:"residential_proxy,optional"`
}

type sourceRow struct {
	DB                   string   `parquet:"db"`
	Type                 string   `parquet:"type"`
	Build                string   `parquet:"build"`
	SHA256               string   `parquet:"sha256"`
	Network              *string  `parquet:"network,optional"`
	Fields               []string `parquet:"fields,optional,list"`
	SnapshotDistanceDays *int64   `parquet:"snapshot_distance_days,optional"`
	AfterEvent           *bool    `parquet:"after_event,optional"`
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// opt is v as an optional column: nil (null) for the zero value, which
// the JSON output omits.
func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// val is the value of an optional column, the zero value for null.
func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// optStr is an optional string column, made valid UTF-8 (str).
func optStr(s string) *string {
	if s == "" {
		return nil
	}
	s = str(s)
	return &s
}

func optAddr(a netip.Addr) *string {
	if !a.IsValid() {
		return nil
	}
	s := a.String()
	return &s
}

func optPrefix(p netip.Prefix) *string {
	if !p.IsValid() {
		return nil
	}
	s := p.String()
	return &s
}

// micros is t in microseconds since the epoch, nil (null) for the zero
// instant. Computed here, not by parquet-go from a time.Time: v0.32 goes
// through int64 nanoseconds and wraps outside 1677-2262 (TestFarTimes).
func micros(t forensics.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func evidenceOf(r forensics.EvidenceRef) evidenceRow {
	return evidenceRow{File: str(r.File), SHA256: str(r.SHA256), Packet: opt(r.Packet), Line: opt(r.Line), Offset: r.Offset}
}

// memoSize bounds the converted ip records kept per table.
const memoSize = 1 << 16

// geoOf converts an ip record; records shared by many rows (the
// enricher's cache) are converted once per table through memo.
func geoOf(r *enrich.Record, memo map[*enrich.Record]*geoRow) *geoRow {
	if r == nil {
		return nil
	}
	if g, ok := memo[r]; ok {
		return g
	}
	g := &geoRow{
		IP: optAddr(r.IP), Class: optStr(r.Class), EmbeddedIPv4: optAddr(r.EmbeddedIPv4), Embedding: optStr(r.Embedding),
		Country: optStr(r.Country), CountryName: optStr(r.CountryName), RegisteredCountry: optStr(r.RegisteredCountry),
		Subdivision: optStr(r.Subdivision), City: optStr(r.City), Lat: r.Lat, Lon: r.Lon, AccuracyKM: opt(r.AccuracyKM),
		ASN: opt(r.ASN), ASOrg: optStr(r.ASOrg), ISP: optStr(r.ISP), ConnectionType: optStr(r.ConnectionType), Domain: optStr(r.Domain),
		Network: optPrefix(r.Network), Anycast: opt(r.Anycast), Foreign: r.Foreign,
	}
	if a := r.Anonymous; a != nil {
		g.Anonymous = &anonymousRow{VPN: opt(a.VPN), Tor: opt(a.Tor), Hosting: opt(a.Hosting), Proxy: opt(a.Proxy), ResidentialProxy: opt(a.ResidentialProxy)}
	}
	for _, s := range r.Sources.All() {
		row := sourceRow{DB: str(s.DB), Type: str(s.Type), Build: str(s.Build), SHA256: str(s.SHA256),
			Network: optPrefix(s.Network), Fields: strs(s.Fields), AfterEvent: opt(s.AfterEvent)}
		if d := s.SnapshotDistanceDays; d != nil {
			v := int64(*d)
			row.SnapshotDistanceDays = &v
		}
		g.Sources = append(g.Sources, row)
	}
	if memo != nil {
		if len(memo) >= memoSize {
			// Records decoded from a spool are one per row, not shared:
			// a bounded memo keeps memory flat for them.
			clear(memo)
		}
		memo[r] = g
	}
	return g
}

func eventOf(e *forensics.Event, memo map[*enrich.Record]*geoRow) eventRow {
	row := eventRow{
		ID: str(e.ID), Time: micros(e.Time), TimeRaw: optStr(e.TimeRaw), SourceKind: str(e.SourceKind),
		SrcIP: optAddr(e.SrcIP), SrcPort: opt(e.SrcPort), ClientIP: optAddr(e.ClientIP),
		DstIP: optAddr(e.DstIP), DstPort: opt(e.DstPort), Method: optStr(e.Method), Host: optStr(e.Host), Path: optStr(e.Path),
		Status: opt(int32(e.Status)), Bytes: opt(e.Bytes), UserAgent: optStr(e.UserAgent), Referrer: optStr(e.Referrer),
		User: optStr(e.User), Credential: optStr(e.Credential), Action: optStr(e.Action), Indicators: strMap(e.Indicators),
		Flags: strs(e.Flags), SrcGeo: geoOf(e.SrcGeo, memo), Evidence: evidenceOf(e.Evidence),
	}
	for _, h := range e.ProxyChain {
		row.ProxyChain = append(row.ProxyChain, proxyHopRow{IP: str(h.IP), Trusted: h.Trusted})
	}
	return row
}

func flowOf(f *forensics.Flow, memo map[*enrich.Record]*geoRow) flowRow {
	row := flowRow{
		ID: str(f.ID), CommunityID: optStr(f.CommunityID), Proto: str(f.Proto),
		SrcIP: addr(f.SrcIP), SrcPort: f.SrcPort, DstIP: addr(f.DstIP), DstPort: f.DstPort,
		Start: micros(f.Start), End: micros(f.End),
		PktsOut: f.PktsOut, PktsIn: f.PktsIn, BytesOut: f.BytesOut, BytesIn: f.BytesIn,
		State: optStr(f.State), Tunnel: optStr(f.Tunnel), VLAN: f.VLAN,
		SrcGeo: geoOf(f.SrcGeo, memo), DstGeo: geoOf(f.DstGeo, memo), Evidence: evidenceOf(f.Evidence),
	}
	if h := f.HTTP; h != nil {
		row.HTTP = &httpRow{Method: optStr(h.Method), Host: optStr(h.Host), Path: optStr(h.Path), UserAgent: optStr(h.UserAgent), XFF: optStr(h.XFF)}
	}
	if t := f.TLS; t != nil {
		row.TLS = &tlsRow{Version: optStr(t.Version), SNI: optStr(t.SNI), ALPN: strs(t.ALPN), JA3: optStr(t.JA3), JA3Hash: optStr(t.JA3Hash),
			JA3S: optStr(t.JA3S), JA3SHash: optStr(t.JA3SHash), JA4: optStr(t.JA4)}
	}
	if s := f.SSH; s != nil {
		row.SSH = &sshRow{Client: optStr(s.Client), Server: optStr(s.Server), HASSH: optStr(s.HASSH), HASSHServer: optStr(s.HASSHServer)}
	}
	if d := f.DNS; d != nil {
		row.DNS = &dnsRow{Query: optStr(d.Query), QType: optStr(d.QType), RCode: optStr(d.RCode), Answers: strs(d.Answers)}
	}
	for _, p := range f.Activity {
		row.Activity = append(row.Activity, periodRow{Start: p.Start.UnixMicro(), End: p.End.UnixMicro()})
	}
	return row
}

func sessionOf(s *forensics.Session, memo map[*enrich.Record]*geoRow) sessionRow {
	in := &s.Indicators
	row := sessionRow{
		ID: str(s.ID), Kind: str(s.Kind), SrcIP: optAddr(s.SrcIP), Start: micros(s.Start), End: micros(s.End),
		Events: int64(s.Events), Bytes: s.Bytes, SrcGeo: geoOf(s.SrcGeo, memo),
		Indicators: indicatorsRow{
			Credential: optStr(in.Credential), TokenKeyID: optStr(in.TokenKeyID), User: optStr(in.User), UserAgent: optStr(in.UserAgent),
			JA3: optStr(in.JA3), JA4: optStr(in.JA4), HASSH: optStr(in.HASSH), PathTemplates: strs(in.PathTemplates),
			Methods: counts(in.Methods), Statuses: counts(in.Statuses), Objects: opt(int64(in.Objects)),
			FirstObject: opt(in.FirstObject), LastObject: opt(in.LastObject), SeqTemplate: optStr(in.SeqTemplate),
			SeqRun: opt(int64(in.SeqRun)), Prefix: optStr(in.Prefix), ASN: opt(in.ASN), Country: optStr(in.Country),
			Hosting: opt(in.Hosting), Anonymizer: opt(in.Anonymizer), Crawler: opt(in.Crawler),
			Failures: opt(int64(in.Failures)), NotFound: opt(int64(in.NotFound)), ProbeHits: opt(int64(in.ProbeHits)),
			BeaconPeriod: opt(in.BeaconPeriod), BeaconScore: opt(in.BeaconScore), Extra: strs(in.Extra),
		},
	}
	for _, h := range in.HourOfWeek {
		row.Indicators.HourOfWeek = append(row.Indicators.HourOfWeek, hourCountRow{Hour: int32(h.Hour), Count: int64(h.Count)})
	}
	for _, r := range s.Evidence {
		row.Evidence = append(row.Evidence, evidenceOf(r))
	}
	return row
}

func counts(m map[string]int) *map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[str(k)] = int64(v)
	}
	return &out
}

// str is s as JSON output has it: each byte that is not valid UTF-8
// becomes U+FFFD, as encoding/json writes it. Parquet STRING columns must
// be UTF-8 (DuckDB refuses a file with invalid strings), and evidence
// strings are attacker-written bytes.
func str(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func strs(v []string) []string {
	for i, s := range v {
		if !utf8.ValidString(s) {
			out := make([]string, len(v))
			copy(out, v[:i])
			for j := i; j < len(v); j++ {
				out[j] = str(v[j])
			}
			return out
		}
	}
	return v
}

func strMap(m map[string]string) *map[string]string {
	if len(m) == 0 {
		return nil
	}
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[str(k)] = str(v)
			}
			return &out
		}
	}
	return &m
}

// The inverse conversions read a sessions table back (campaigns from
// session tables, DESIGN §9). Times come back to the microsecond.

func fromMicros(v *int64) forensics.Time {
	if v == nil {
		return forensics.Time{}
	}
	return forensics.NewTime(time.UnixMicro(*v))
}

// parseAddr and parsePrefix read back what optAddr and optPrefix wrote; a
// string that does not parse (a hand-edited file) becomes the zero value.
func parseAddr(s *string) netip.Addr {
	a, _ := netip.ParseAddr(val(s))
	return a
}

func parsePrefix(s *string) netip.Prefix {
	p, _ := netip.ParsePrefix(val(s))
	return p
}

func evidenceFrom(r evidenceRow) forensics.EvidenceRef {
	return forensics.EvidenceRef{File: r.File, SHA256: r.SHA256, Packet: val(r.Packet), Line: val(r.Line), Offset: r.Offset}
}

func geoFrom(g *geoRow) *enrich.Record {
	if g == nil {
		return nil
	}
	r := &enrich.Record{
		IP: parseAddr(g.IP), Class: val(g.Class), EmbeddedIPv4: parseAddr(g.EmbeddedIPv4), Embedding: val(g.Embedding),
		Country: val(g.Country), CountryName: val(g.CountryName), RegisteredCountry: val(g.RegisteredCountry),
		Subdivision: val(g.Subdivision), City: val(g.City), Lat: g.Lat, Lon: g.Lon, AccuracyKM: val(g.AccuracyKM),
		ASN: val(g.ASN), ASOrg: val(g.ASOrg), ISP: val(g.ISP), ConnectionType: val(g.ConnectionType), Domain: val(g.Domain),
		Network: parsePrefix(g.Network), Anycast: val(g.Anycast), Foreign: g.Foreign,
	}
	if a := g.Anonymous; a != nil {
		r.Anonymous = &enrich.Anonymous{VPN: val(a.VPN), Tor: val(a.Tor), Hosting: val(a.Hosting), Proxy: val(a.Proxy), ResidentialProxy: val(a.ResidentialProxy)}
	}
	var list []enrich.Source
	for _, s := range g.Sources {
		src := enrich.Source{DB: s.DB, Type: s.Type, Build: s.Build, SHA256: s.SHA256,
			Network: parsePrefix(s.Network), Fields: s.Fields, AfterEvent: val(s.AfterEvent)}
		if d := s.SnapshotDistanceDays; d != nil {
			v := int(*d)
			src.SnapshotDistanceDays = &v
		}
		list = append(list, src)
	}
	r.Sources = enrich.MakeSources(list)
	return r
}

func sessionFrom(row *sessionRow) forensics.Session {
	in := &row.Indicators
	s := forensics.Session{
		ID: row.ID, Kind: row.Kind, SrcIP: parseAddr(row.SrcIP), Start: fromMicros(row.Start), End: fromMicros(row.End),
		Events: int(row.Events), Bytes: row.Bytes, SrcGeo: geoFrom(row.SrcGeo),
		Indicators: forensics.Indicators{
			Credential: val(in.Credential), TokenKeyID: val(in.TokenKeyID), User: val(in.User), UserAgent: val(in.UserAgent),
			JA3: val(in.JA3), JA4: val(in.JA4), HASSH: val(in.HASSH), PathTemplates: in.PathTemplates,
			Methods: countsFrom(in.Methods), Statuses: countsFrom(in.Statuses), Objects: int(val(in.Objects)),
			FirstObject: val(in.FirstObject), LastObject: val(in.LastObject), SeqTemplate: val(in.SeqTemplate),
			SeqRun: int(val(in.SeqRun)), Prefix: val(in.Prefix), ASN: val(in.ASN), Country: val(in.Country),
			Hosting: val(in.Hosting), Anonymizer: val(in.Anonymizer), Crawler: val(in.Crawler),
			Failures: int(val(in.Failures)), NotFound: int(val(in.NotFound)), ProbeHits: int(val(in.ProbeHits)),
			BeaconPeriod: val(in.BeaconPeriod), BeaconScore: val(in.BeaconScore), Extra: in.Extra,
		},
	}
	for _, h := range in.HourOfWeek {
		s.Indicators.HourOfWeek = append(s.Indicators.HourOfWeek, forensics.HourCount{Hour: int(h.Hour), Count: int(h.Count)})
	}
	for _, r := range row.Evidence {
		s.Evidence = append(s.Evidence, evidenceFrom(r))
	}
	return s
}

func countsFrom(m *map[string]int64) map[string]int {
	if m == nil || len(*m) == 0 {
		return nil
	}
	out := make(map[string]int, len(*m))
	for k, v := range *m {
		out[k] = int(v)
	}
	return out
}
