package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

var t0 = time.Date(2025, 6, 2, 3, 0, 0, 0, time.UTC) // a Monday

// mk builds a session with the given address and start; mods adjust it.
func mk(id, ip string, start time.Time, mods ...func(*forensics.Session)) forensics.Session {
	s := forensics.Session{
		ID: id, Kind: "web", SrcIP: netip.MustParseAddr(ip),
		Start: forensics.NewTime(start), End: forensics.NewTime(start.Add(10 * time.Minute)),
		Events: 10,
	}
	s.Indicators.Prefix = ""
	for _, m := range mods {
		m(&s)
	}
	return s
}

func cred(v string) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.Credential = v }
}
func ua(v string) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.UserAgent = v }
}
func kid(v string) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.TokenKeyID = v }
}
func asn(n uint32) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.ASN = n }
}
func hours(h ...forensics.HourCount) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.HourOfWeek = h }
}
func beacon(period, score float64) func(*forensics.Session) {
	return func(s *forensics.Session) { s.Indicators.BeaconPeriod, s.Indicators.BeaconScore = period, score }
}
func seq(tmpl string, first, last int64) func(*forensics.Session) {
	return func(s *forensics.Session) {
		s.Indicators.SeqTemplate, s.Indicators.FirstObject, s.Indicators.LastObject = tmpl, first, last
		s.Indicators.SeqRun = int(last - first + 1)
	}
}
func crawler(s *forensics.Session) { s.Indicators.Crawler = true }
func geo(cc string, asn uint32, hosting bool) func(*forensics.Session) {
	return func(s *forensics.Session) {
		s.SrcGeo = &enrich.Record{IP: s.SrcIP, Country: cc, ASN: asn, ASOrg: fmt.Sprintf("Org %d", asn)}
		if hosting {
			s.SrcGeo.Anonymous = &enrich.Anonymous{Hosting: true}
			s.Indicators.Hosting = true
		}
		s.Indicators.Country, s.Indicators.ASN = cc, asn
	}
}

func allOpts() Options {
	o := DefaultOptions()
	o.IncludeOrdinary = true
	return o
}

// joined reports whether sessions a and b ended in one campaign.
func joined(cs []forensics.Campaign, a, b string) bool {
	for _, c := range cs {
		if slices.Contains(c.Sessions, a) && slices.Contains(c.Sessions, b) {
			return true
		}
	}
	return false
}

func rules(cs []forensics.Campaign) []string {
	var r []string
	for _, c := range cs {
		for _, l := range c.Links {
			r = append(r, l.Rule)
		}
	}
	slices.Sort(r)
	return slices.Compact(r)
}

var (
	prof  = hours(forensics.HourCount{Hour: 3, Count: 8}, forensics.HourCount{Hour: 4, Count: 2})
	prof2 = hours(forensics.HourCount{Hour: 3, Count: 7}, forensics.HourCount{Hour: 4, Count: 3})
	profX = hours(forensics.HourCount{Hour: 100, Count: 10})
)

func TestRules(t *testing.T) {
	later := t0.Add(48 * time.Hour)
	tests := []struct {
		name     string
		a, b     forensics.Session
		join     bool
		wantRule string
	}{
		{"credential fires", mk("a", "198.51.100.1", t0, cred("key-alpha")), mk("b", "203.0.113.9", later, cred("key-alpha")), true, RuleCredential},
		{"credential differs", mk("a", "198.51.100.1", t0, cred("key-alpha")), mk("b", "203.0.113.9", later, cred("key-beta")), false, ""},
		{"token key id fires", mk("a", "198.51.100.1", t0, kid("kid-7")), mk("b", "203.0.113.9", later, kid("kid-7")), true, RuleTokenKeyID},
		{"token key id differs", mk("a", "198.51.100.1", t0, kid("kid-7")), mk("b", "203.0.113.9", later, kid("kid-8")), false, ""},
		{"declared crawlers join", mk("a", "66.249.66.1", t0, ua("Googlebot/2.1"), crawler), mk("b", "66.249.70.9", later, ua("Googlebot/2.1"), crawler), true, RuleCrawler},
		{"crawlers with other agents", mk("a", "66.249.66.1", t0, ua("Googlebot/2.1"), crawler), mk("b", "40.77.167.1", later, ua("bingbot/2.0"), crawler), false, ""},
		{"handover fires", mk("a", "198.51.100.1", t0, seq("/api/users/{n}", 100, 150)),
			mk("b", "203.0.113.9", t0.Add(10*time.Minute+20*time.Second), seq("/api/users/{n}", 151, 200)), true, RuleHandover},
		{"handover too late", mk("a", "198.51.100.1", t0, seq("/api/users/{n}", 100, 150)),
			mk("b", "203.0.113.9", t0.Add(12*time.Minute), seq("/api/users/{n}", 151, 200)), false, ""},
		{"handover not continuing", mk("a", "198.51.100.1", t0, seq("/api/users/{n}", 100, 150)),
			mk("b", "203.0.113.9", t0.Add(10*time.Minute+20*time.Second), seq("/api/users/{n}", 400, 450)), false, ""},
		{"handover other template", mk("a", "198.51.100.1", t0, seq("/api/users/{n}", 100, 150)),
			mk("b", "203.0.113.9", t0.Add(10*time.Minute+20*time.Second), seq("/api/orders/{n}", 151, 200)), false, ""},
		{"rare user agent alone is not enough", mk("a", "198.51.100.1", t0, ua("X/1")), mk("b", "203.0.113.9", later, ua("X/1")), false, ""},
		{"rare user agent with profile and beacon", mk("a", "198.51.100.1", t0, ua("X/1"), prof, beacon(300, 0.9)),
			mk("b", "203.0.113.9", later, ua("X/1"), prof2, beacon(310, 0.8)), true, RuleFingerprint},
		{"rare user agent with profile and network", mk("a", "198.51.100.1", t0, ua("X/1"), prof),
			mk("b", "198.51.100.77", later, ua("X/1"), prof2), true, RulePrefix},
		{"infrastructure capped", mk("a", "198.51.100.1", t0, ua("X/1"), asn(64500)),
			mk("b", "198.51.100.77", later, ua("X/1"), asn(64500)), false, ""},
		{"network outside window", mk("a", "198.51.100.1", t0, ua("X/1"), prof),
			mk("b", "198.51.100.77", t0.Add(8*24*time.Hour), ua("X/1"), prof2), false, ""},
		{"asn within window", mk("a", "198.51.100.1", t0, ua("X/1"), prof, asn(64500)),
			mk("b", "203.0.113.9", later, ua("X/1"), prof2, asn(64500)), true, RuleASN},
		{"profile not similar", mk("a", "198.51.100.1", t0, ua("X/1"), prof, beacon(300, 0.9)),
			mk("b", "203.0.113.9", later, ua("X/1"), profX, beacon(300, 0.9)), false, ""},
		{"beacon period differs", mk("a", "198.51.100.1", t0, ua("X/1"), prof, beacon(300, 0.9)),
			mk("b", "203.0.113.9", later, ua("X/1"), prof2, beacon(400, 0.9)), false, ""},
		{"beacon score too low", mk("a", "198.51.100.1", t0, ua("X/1"), prof, beacon(300, 0.9)),
			mk("b", "203.0.113.9", later, ua("X/1"), prof2, beacon(300, 0.5)), false, ""},
		{"crawler never merged with others", mk("a", "198.51.100.1", t0, cred("key-alpha"), crawler),
			mk("b", "203.0.113.9", later, cred("key-alpha")), false, ""},
		{"weak links alone never merge", mk("a", "198.51.100.1", t0, prof, beacon(300, 0.9), asn(1)),
			mk("b", "198.51.100.2", later, prof2, beacon(300, 0.9), asn(1)), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := Build([]forensics.Session{tc.a, tc.b}, allOpts())
			if got := joined(cs, "a", "b"); got != tc.join {
				t.Fatalf("joined = %v, want %v; campaigns %+v", got, tc.join, cs)
			}
			if tc.wantRule != "" && !slices.Contains(rules(cs), tc.wantRule) {
				t.Errorf("rules %v, want %s", rules(cs), tc.wantRule)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	ss := []forensics.Session{
		mk("a", "198.51.100.1", t0, cred("key-alpha"), ua("Scraper/2.1")),
		mk("b", "203.0.113.9", t0.Add(time.Hour), cred("key-alpha"), ua("Scraper/2.1")),
	}
	cs := Build(ss, allOpts())
	if len(cs) != 1 {
		t.Fatalf("campaigns %d, want 1", len(cs))
	}
	var reasons []string
	for _, l := range cs[0].Links {
		reasons = append(reasons, l.Reason)
	}
	for _, want := range []string{"shared credential key-alpha", `rare user agent "Scraper/2.1"`} {
		if !slices.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
	if got := cs[0].Links[0].Rule; got != RuleCredential {
		t.Errorf("first link %s, want strongest (credential) first", got)
	}
}

// TestHubGuard: a popular app's user agent, shared by thousands of
// customers with the same daily rhythm, must not link them.
func TestHubGuard(t *testing.T) {
	var ss []forensics.Session
	for i := range 3000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		s := mk(fmt.Sprintf("c%04d", i), ip.String(), t0.Add(time.Duration(i)*time.Minute),
			cred(fmt.Sprintf("cust-%d", i)), ua("AcmeShop/5.2 (iPhone; iOS 17.5)"), prof, beacon(60, 0.9), asn(4766))
		ss = append(ss, s)
	}
	cs, st := BuildStats(ss, allOpts())
	if st.Hubs == 0 {
		t.Fatal("no hub value detected")
	}
	for _, c := range cs {
		if len(c.IPs) > 1 {
			t.Fatalf("customers linked: campaign %s has %d IPs via %+v", c.ID, len(c.IPs), c.Links)
		}
	}
	// The same user agent shared by a few sessions is rare and does link.
	few := []forensics.Session{
		mk("a", "198.51.100.1", t0, ua("AcmeShop/5.2 (iPhone; iOS 17.5)"), prof, beacon(60, 0.9)),
		mk("b", "203.0.113.2", t0.Add(time.Hour), ua("AcmeShop/5.2 (iPhone; iOS 17.5)"), prof2, beacon(60, 0.9)),
	}
	if !joined(Build(few, allOpts()), "a", "b") {
		t.Error("rare user agent did not link when it is not a hub")
	}
}

func TestHubCredentialsDemoteTokenKeyID(t *testing.T) {
	var ss []forensics.Session
	for i := range 25 {
		ss = append(ss, mk(fmt.Sprintf("s%02d", i), fmt.Sprintf("192.0.2.%d", i+1), t0.Add(time.Duration(i)*time.Hour),
			kid("service-signing-key-1"), cred(fmt.Sprintf("user-%d", i))))
	}
	for _, c := range Build(ss, allOpts()) {
		if len(c.Sessions) > 1 {
			t.Fatalf("token key id shared by 25 credentials linked %d sessions", len(c.Sessions))
		}
	}
}

func TestTreeAndBridges(t *testing.T) {
	ss := []forensics.Session{
		mk("a", "198.51.100.1", t0, cred("k1")),
		mk("b", "198.51.100.2", t0.Add(time.Hour), cred("k1"), kid("kid-b")),
		mk("c", "203.0.113.3", t0.Add(2*time.Hour), kid("kid-b")),
	}
	cs := Build(ss, allOpts())
	if len(cs) != 1 || len(cs[0].Sessions) != 3 {
		t.Fatalf("campaigns %+v", cs)
	}
	c := cs[0]
	if len(c.Bridges) != 2 {
		t.Errorf("bridges %v, want both links", c.Bridges)
	}
	if c.Members[0].Via != "" || c.Members[1].Via != "a" || c.Members[2].Via != "b" {
		t.Errorf("tree %+v", c.Members)
	}
	if c.Members[2].Weakest != 3 {
		t.Errorf("weakest %v", c.Members[2].Weakest)
	}
	// A cycle (a and c also share a rare user agent and rhythm) leaves no
	// bridge.
	ss[0] = mk("a", "198.51.100.1", t0, cred("k1"), ua("X/1"), prof, beacon(300, 0.9))
	ss[2] = mk("c", "203.0.113.3", t0.Add(2*time.Hour), kid("kid-b"), ua("X/1"), prof2, beacon(300, 0.9))
	cs = Build(ss, allOpts())
	if len(cs) != 1 || len(cs[0].Bridges) != 0 {
		t.Errorf("bridges %v, want none", cs[0].Bridges)
	}
}

func TestScoreAndLabels(t *testing.T) {
	o := DefaultOptions()
	o.Home = "KR"
	var ss []forensics.Session
	for i := range 4 {
		ss = append(ss, mk(fmt.Sprintf("atk%d", i), fmt.Sprintf("45.33.%d.1", i), t0.Add(time.Duration(i)*24*time.Hour),
			cred("key-stolen"), geo([]string{"NL", "US", "SG", "DE"}[i], 63949, true),
			func(s *forensics.Session) { s.Indicators.Objects = 40 }))
	}
	// customers at home with their own key: ordinary, not a campaign
	ss = append(ss, mk("cust1", "211.234.1.1", t0, cred("key-cust"), geo("KR", 4766, false)),
		mk("cust2", "211.234.9.1", t0.Add(time.Hour), cred("key-cust"), geo("KR", 4766, false)))
	// crawlers
	ss = append(ss, mk("bot1", "66.249.66.1", t0, ua("Googlebot/2.1 (+http://www.google.com/bot.html)"), crawler, prof, beacon(30, 0.9)),
		mk("bot2", "66.249.66.2", t0.Add(time.Hour), ua("Googlebot/2.1 (+http://www.google.com/bot.html)"), crawler, prof2, beacon(30, 0.9)))
	cs := Build(ss, o)
	if len(cs) != 2 {
		t.Fatalf("campaigns %d, want attack and crawler: %+v", len(cs), cs)
	}
	if cs[0].Label != LabelAttack || len(cs[0].Sessions) != 4 {
		t.Errorf("first campaign %s with %d sessions", cs[0].Label, len(cs[0].Sessions))
	}
	if cs[0].ScoreComponents["foreign"] != 1 || cs[0].ScoreComponents["hosting"] != 1 || cs[0].ScoreComponents["enumeration"] != 1 {
		t.Errorf("components %v", cs[0].ScoreComponents)
	}
	if cs[1].Label != LabelCrawler {
		t.Errorf("second campaign %s, want crawler", cs[1].Label)
	}
	if len(cs[0].ASNs) != 1 || cs[0].ASNs[0].Sessions != 4 || cs[0].Countries["NL"] != 1 {
		t.Errorf("asns %v countries %v", cs[0].ASNs, cs[0].Countries)
	}
}

// randomSessions makes a mixed population with a few linked groups.
func randomSessions(r *rand.Rand, n int) []forensics.Session {
	uas := []string{"Mozilla/5.0 Chrome/126", "Mozilla/5.0 Safari/17", "AcmeShop/5.2", "curl/8.4.0", "Rare/0.1"}
	var ss []forensics.Session
	for i := range n {
		s := mk(fmt.Sprintf("s%05d", i), fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(8), r.IntN(250)+1),
			t0.Add(time.Duration(r.IntN(90*24))*time.Hour), ua(uas[r.IntN(len(uas))]), asn(uint32(64500+r.IntN(5))),
			hours(forensics.HourCount{Hour: r.IntN(4), Count: 5}), beacon(float64(60*(1+r.IntN(3))), 0.5+r.Float64()/2))
		if r.IntN(3) == 0 {
			s.Indicators.Credential = fmt.Sprintf("key-%d", r.IntN(n/4+1))
		}
		ss = append(ss, s)
	}
	return ss
}

func TestDeterministicShuffled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ss := randomSessions(r, 1500)
	o := allOpts()
	o.BlockSize = 32 // exercise the blocked path
	want, _ := json.Marshal(Build(ss, o))
	for i := range 3 {
		sh := slices.Clone(ss)
		r.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		got, _ := json.Marshal(Build(sh, o))
		if !bytes.Equal(got, want) {
			t.Fatalf("shuffle %d changed the output (%d vs %d bytes)", i, len(got), len(want))
		}
	}
	if !strings.Contains(string(want), `"rule":"credential"`) {
		t.Error("population produced no credential links")
	}
}

func TestParamsCoverOptions(t *testing.T) {
	p := DefaultOptions().Params()
	for _, k := range []string{"threshold", "hub_share", "handover_window", "score_weight.foreign"} {
		if p[k] == "" {
			t.Errorf("params lack %s", k)
		}
	}
}

// TestFingerprintTupleNotForged: a '|' in a user agent or a logged
// fingerprint neither forges another indicator in the campaign's
// summary nor makes two different fingerprint tuples one.
func TestFingerprintTupleNotForged(t *testing.T) {
	ja3 := func(v string) func(*forensics.Session) {
		return func(s *forensics.Session) { s.Indicators.JA3 = v }
	}
	ss := []forensics.Session{
		mk("a", "198.51.100.1", t0, cred("key-alpha"), ua("x|credential=admin|ja4=forged"), ja3("771,4865|ua=y%")),
		mk("b", "203.0.113.9", t0.Add(time.Hour), cred("key-alpha"), ua("x|credential=admin|ja4=forged"), ja3("771,4865|ua=y%")),
	}
	cs := Build(ss, allOpts())
	if len(cs) != 1 {
		t.Fatalf("campaigns %d, want 1", len(cs))
	}
	ind := cs[0].Indicators
	if got := ind["credential"]; !slices.Equal(got, []string{"key-alpha"}) {
		t.Errorf("credential indicators %q, want only key-alpha", got)
	}
	if got := ind["ja4"]; len(got) != 0 {
		t.Errorf("ja4 indicators %q, want none", got)
	}
	if got := ind["user_agent"]; !slices.Equal(got, []string{"x|credential=admin|ja4=forged"}) {
		t.Errorf("user agents %q", got)
	}
	if got := ind["ja3"]; !slices.Equal(got, []string{"771,4865|ua=y%"}) {
		t.Errorf("ja3 %q", got)
	}
	// JA3 "a|ua=b" alone and JA3 "a" with user agent "b" are two tuples.
	x := FingerprintTuple(&forensics.Indicators{JA3: "a|ua=b"})
	y := FingerprintTuple(&forensics.Indicators{JA3: "a", UserAgent: "b"})
	if x == y {
		t.Errorf("tuples collide: %q", x)
	}
	for _, in := range []forensics.Indicators{{JA4: "t13d%7C", JA3: "%|%25", HASSH: "h", UserAgent: "u|%7C"}, {UserAgent: "ua=|ja3="}, {JA3: "|"}} {
		var got forensics.Indicators
		parseTuple(FingerprintTuple(&in), func(k, v string) {
			switch k {
			case "ja4":
				got.JA4 = v
			case "ja3":
				got.JA3 = v
			case "hassh":
				got.HASSH = v
			case "ua":
				got.UserAgent = v
			}
		})
		if got.JA4 != in.JA4 || got.JA3 != in.JA3 || got.HASSH != in.HASSH || got.UserAgent != in.UserAgent {
			t.Errorf("tuple of %+v parses back as %+v", in, got)
		}
	}
}

// TestHandoverEdgesBounded: sessions that all hand a sequential read
// over to all others (one template, half reading objects 1-3 and ending
// together, half reading 4-6 from a second later) join, but the edges
// inside the joined component stay within the extra-edge budget instead
// of BlockSize per session.
func TestHandoverEdgesBounded(t *testing.T) {
	const n = 12000
	var ss []forensics.Session
	for i := range n {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		s := mk(fmt.Sprintf("s%05d", i), ip, t0, seq("/api/v1/items/{n}", 1, 3))
		s.End = forensics.NewTime(t0.Add(time.Minute))
		if i%2 == 1 {
			s = mk(fmt.Sprintf("s%05d", i), ip, t0.Add(time.Minute+time.Second), seq("/api/v1/items/{n}", 4, 6))
		}
		ss = append(ss, s)
	}
	_, st := BuildStats(ss, allOpts())
	if budget := int64(n/4 + 4096 + n); st.AdmittedEdges > budget {
		t.Errorf("%d edges admitted, want at most %d (sessions plus the extra-edge budget)", st.AdmittedEdges, budget)
	}
	if st.AdmittedEdges < n/2 {
		t.Errorf("%d edges admitted: the hand-overs did not link", st.AdmittedEdges)
	}
}
