package casefile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Test records built from a seed: a few dozen addresses in a few ASNs and
// countries, credentials and user agents drawn from small sets so filters
// have something to find, plus IPv6 and records without enrichment.

var (
	testBase = time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	testUAs  = []string{"Mozilla/5.0 (X11; Linux x86_64)", "python-requests/2.31.0", "curl/8.5.0", "Go-http-client/1.1", ""}
	testCred = []string{"k2019-legacy", "k2024-prod", "k2024-ci", "", "", ""}
)

type testGeo struct {
	recs map[netip.Addr]*enrich.Record
}

func newTestGeo(r *rand.Rand, addrs []netip.Addr) *testGeo {
	g := &testGeo{recs: map[netip.Addr]*enrich.Record{}}
	ccs := []string{"KR", "US", "NL", "RU", "CN", ""}
	asns := []uint32{4766, 37963, 16509, 14061, 0}
	for _, a := range addrs {
		if r.IntN(8) == 0 {
			continue // unenriched
		}
		lat := r.Float64()*180 - 90
		g.recs[a] = &enrich.Record{
			IP: a, Class: "public", Country: ccs[r.IntN(len(ccs))], ASN: asns[r.IntN(len(asns))],
			Lat: &lat, Sources: enrich.MakeSources([]enrich.Source{{DB: "GeoLite2-City-Test", Type: "GeoIP2-City", Build: "2025-06-01", SHA256: "ab12"}}),
		}
	}
	return g
}

func testAddrs(r *rand.Rand, n int) []netip.Addr {
	out := make([]netip.Addr, 0, n)
	for i := range n {
		if i%7 == 6 {
			var b [16]byte
			b[0], b[1], b[15] = 0x20, 0x01, byte(r.IntN(256))
			b[7] = byte(r.IntN(4))
			out = append(out, netip.AddrFrom16(b))
			continue
		}
		out = append(out, netip.AddrFrom4([4]byte{byte(10 + r.IntN(3)*60), byte(r.IntN(3)), byte(r.IntN(4)), byte(r.IntN(256))}))
	}
	return out
}

// testBatch makes one input's worth of records.
func testBatch(seed uint64, nEvents, nFlows int) *Batch {
	r := rand.New(rand.NewPCG(seed, 42))
	addrs := testAddrs(r, 40)
	geo := newTestGeo(r, addrs)
	sum := sha256.Sum256([]byte(fmt.Sprint("input", seed)))
	sha := hex.EncodeToString(sum[:])
	name := fmt.Sprintf("input-%d.log", seed)
	b := &Batch{
		Input:    forensics.Input{Path: name, Size: int64(nEvents * 200), SHA256: sha, Kind: "combined", Records: int64(nEvents + nFlows), Malformed: 1},
		AddedAt:  testBase.Add(time.Duration(seed) * time.Hour),
		AddedBy:  "tester",
		Problems: []forensics.Problem{{File: name, Line: 3, Reason: "bad line"}},
		Caps:     []forensics.CapHit{{Cap: "line_length", File: name, Count: 1}},
	}
	for i := range nEvents {
		src := addrs[r.IntN(len(addrs))]
		e := forensics.Event{
			ID:         forensics.HashID("ev", sha, fmt.Sprint(i)),
			Time:       forensics.NewTime(testBase.Add(time.Duration(r.IntN(120*24*3600)) * time.Second)),
			SourceKind: "combined",
			SrcIP:      src,
			Method:     "GET",
			Path:       fmt.Sprintf("/api/v1/items/%d", r.IntN(1000)),
			Status:     200,
			Bytes:      int64(r.IntN(5000)),
			UserAgent:  testUAs[r.IntN(len(testUAs))],
			Credential: testCred[r.IntN(len(testCred))],
			SrcGeo:     geo.recs[src],
			Evidence:   forensics.EvidenceRef{File: name, SHA256: sha, Line: uint64(i + 1), Offset: int64(i * 200)},
		}
		if r.IntN(5) == 0 {
			e.ClientIP = addrs[r.IntN(len(addrs))]
			e.SrcGeo = geo.recs[e.ClientIP]
			e.ProxyChain = []forensics.ProxyHop{{IP: e.ClientIP.String()}, {IP: src.String(), Trusted: true}}
		}
		b.Events = append(b.Events, e)
	}
	for i := range nFlows {
		src, dst := addrs[r.IntN(len(addrs))], addrs[r.IntN(len(addrs))]
		start := testBase.Add(time.Duration(r.IntN(120*24*3600)) * time.Second)
		fl := forensics.Flow{
			ID: forensics.HashID("fl", sha, fmt.Sprint(i)), Proto: "tcp",
			SrcIP: src, SrcPort: uint16(1024 + r.IntN(60000)), DstIP: dst, DstPort: 443,
			Start: forensics.NewTime(start), End: forensics.NewTime(start.Add(time.Duration(r.IntN(600)) * time.Second)),
			PktsOut: 10, PktsIn: 12, BytesOut: 1000, BytesIn: 20000, State: "established",
			SrcGeo: geo.recs[src], DstGeo: geo.recs[dst],
			Evidence: forensics.EvidenceRef{File: name, SHA256: sha, Packet: uint64(i + 1), Offset: int64(24 + i*100)},
		}
		if r.IntN(3) == 0 {
			fl.HTTP = &forensics.HTTPMeta{Method: "GET", Host: "victim.example", Path: "/", UserAgent: testUAs[r.IntN(len(testUAs))]}
		}
		b.Flows = append(b.Flows, fl)
	}
	return b
}

// testDerived groups a case's events into per-source sessions and puts
// every other session with a credential into one campaign: enough
// structure to test storage and the campaign filter.
func testDerived(c *forensics.Case) *Derived {
	bySrc := map[netip.Addr]*forensics.Session{}
	var order []netip.Addr
	for _, e := range c.Events {
		a := e.Actor()
		s, ok := bySrc[a]
		if !ok {
			s = &forensics.Session{ID: forensics.HashID("se", a.String()), Kind: "web", SrcIP: a, Start: e.Time, End: e.Time, SrcGeo: e.SrcGeo}
			bySrc[a] = s
			order = append(order, a)
		}
		if e.Time.Before(s.Start.Time) {
			s.Start = e.Time
		}
		if e.Time.After(s.End.Time) {
			s.End = e.Time
		}
		s.Events++
		s.Bytes += e.Bytes
		if s.Indicators.Credential == "" {
			s.Indicators.Credential = e.Credential
		}
		if s.Indicators.UserAgent == "" {
			s.Indicators.UserAgent = e.UserAgent
		}
		s.Evidence = append(s.Evidence, e.Evidence)
	}
	for _, fl := range c.Flows {
		a := fl.SrcIP
		if s, ok := bySrc[a]; ok {
			s.Evidence = append(s.Evidence, fl.Evidence)
		}
	}
	d := &Derived{}
	camp := forensics.Campaign{ID: "ca-test", Score: 1.5, Label: "test"}
	for i, a := range order {
		s := bySrc[a]
		d.Sessions = append(d.Sessions, *s)
		if s.Indicators.Credential != "" && i%2 == 0 {
			camp.Sessions = append(camp.Sessions, s.ID)
			camp.IPs = append(camp.IPs, a.String())
		}
	}
	camp.Links = []forensics.Link{{Rule: "same_credential", Attribute: "credential", Value: "k2019-legacy", Weight: 3, Sessions: camp.Sessions}}
	ch := forensics.Chain{ID: "ch-1", Hops: []forensics.Hop{{IP: order[0], Role: "origin"}, {IP: order[1], Role: "target"}}}
	camp.Hops = []forensics.Chain{ch}
	d.Campaigns = []forensics.Campaign{camp}
	d.Chains = []forensics.Chain{ch}
	d.Databases = []enrich.DatabaseInfo{{Name: "GeoLite2-City-Test", Type: "GeoIP2-City", Build: "2025-06-01", SHA256: "ab12"}}
	return d
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
