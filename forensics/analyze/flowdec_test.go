package analyze

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// checkFlowLine is checkLine for flow lines.
func checkFlowLine(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	return checkLine(t, line, decodeFlowLineKnown)
}

// flowLine is a flow as a case stores it, with its enrichment.
func flowLine(t testing.TB, f *forensics.Flow) []byte {
	src, err := forensics.AppendRecordJSON(nil, f.SrcGeo)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := forensics.AppendRecordJSON(nil, f.DstGeo)
	if err != nil {
		t.Fatal(err)
	}
	return append(forensics.AppendFlowJSONGeo(nil, f, src, dst), '\n')
}

// TestDecodeFlowLine: every flow of the sample captures and hostile flows
// decode as json.Unmarshal decodes them, and the fast path takes the
// ordinary ones (else it would save nothing).
func TestDecodeFlowLine(t *testing.T) {
	enr, err := enrich.New(enrich.Options{Home: "KR"})
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	opts := DefaultOptions()
	opts.Inputs = []string{filepath.Join("..", "..", "testdata", "demo", "edge.pcap"), filepath.Join("..", "..", "testdata", "relay")}
	opts.Enricher, opts.Home = enr, "KR"
	c, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	for i := range c.Flows {
		if checkFlowLine(t, flowLine(t, &c.Flows[i])) {
			fast++
		}
	}
	if len(c.Flows) < 20 || fast != len(c.Flows) {
		t.Errorf("fast path took %d of %d sample flows", fast, len(c.Flows))
	}
	for _, f := range hostileFlows() {
		if !checkFlowLine(t, flowLine(t, &f)) {
			t.Errorf("fast path refused %+v", f)
		}
	}
}

func hostileFlows() []forensics.Flow {
	t0 := time.Date(2025, 6, 24, 1, 2, 3, 456789000, time.UTC)
	var out []forensics.Flow
	for _, s := range []string{"", "plain", "quote \" back \\ slash /", "ctl \x00\x01\x1f\x7f", "bad \xff\xfe utf8",
		"\u2028\u2029 <&>", "emoji 😀 and ﷽", "tab\tnl\ncr\r"} {
		out = append(out, forensics.Flow{ID: "f-" + s, CommunityID: s, Proto: s,
			SrcIP: netip.MustParseAddr("2001:db8::1"), SrcPort: 65535, DstIP: netip.MustParseAddr("192.0.2.1"), DstPort: 1,
			Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(time.Hour)),
			PktsOut: 1<<64 - 1, PktsIn: 1, BytesOut: 1 << 63, BytesIn: 0, State: s, Tunnel: s, VLAN: []uint16{1, 4095},
			HTTP:     &forensics.HTTPMeta{Method: s, Host: s, Path: s, UserAgent: s, XFF: s},
			TLS:      &forensics.TLSMeta{Version: s, SNI: s, ALPN: []string{s, "h2"}, JA3: s, JA4: s},
			SSH:      &forensics.SSHMeta{Client: s, HASSH: s},
			DNS:      &forensics.DNSMeta{Query: s, Answers: []string{s}},
			SrcGeo:   &enrich.Record{IP: netip.MustParseAddr("2001:db8::1"), Class: "documentation", ASOrg: s},
			DstGeo:   &enrich.Record{IP: netip.MustParseAddr("192.0.2.1"), City: s, Lat: new(-33.5), Lon: new(1e-7)},
			Evidence: forensics.EvidenceRef{File: s, SHA256: "ff", Packet: 1 << 60, Offset: -5},
			Activity: []forensics.Period{{Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(time.Second))}, {}},
		})
	}
	return append(out, forensics.Flow{})
}

// FuzzDecodeFlowLine: on encoded flows with arbitrary strings, and on
// arbitrary bytes, the fast decoder never disagrees with json.Unmarshal.
func FuzzDecodeFlowLine(f *testing.F) {
	for _, fl := range hostileFlows() {
		f.Add(flowLine(f, &fl), "s", uint64(1))
	}
	f.Add([]byte(`{"id":"a","id":"b"}`), "", uint64(0))
	f.Add([]byte(`{"src_geo": null,"tls":null,"vlan":[1],"activity":[]}`), "", uint64(0))
	f.Fuzz(func(t *testing.T, raw []byte, s string, n uint64) {
		checkFlowLine(t, raw)
		fl := hostileFlows()[0]
		fl.ID, fl.Proto, fl.PktsIn, fl.BytesIn = s, string(raw), n, n
		fl.HTTP.UserAgent, fl.TLS.SNI, fl.DNS.Answers = s, string(raw), []string{s}
		fl.SrcGeo.ASOrg = s
		fl.Evidence.Packet = n
		checkFlowLine(t, flowLine(t, &fl))
	})
}

// BenchmarkDecodeStored: one stored line per op, decoded as a case
// rebuild decodes it (its enrichment interned, so known after the first
// line of each address).
func BenchmarkDecodeStored(b *testing.B) {
	b.Run("event", func(b *testing.B) {
		e := hostileEvents()[1]
		geo := &enrich.Record{IP: netip.MustParseAddr("53.34.239.72"), Class: "public", Country: "DE", ASN: 31399, ASOrg: "Mercedes-Benz Group AG",
			Sources: enrich.MakeSources([]enrich.Source{{DB: "dbip-country.mmdb", Type: "country ipvAll", Build: "2026-06-01T20:32:58Z", SHA256: strings.Repeat("4e", 32), Fields: []string{"country"}}})}
		js, err := forensics.AppendRecordJSON(nil, geo)
		if err != nil {
			b.Fatal(err)
		}
		line := forensics.AppendEventJSONGeo(nil, &e, js)
		var geos geoTable
		var se spoolEvent
		for b.Loop() {
			if !decodeEventLineKnown(line, &se, geos.known) {
				b.Fatal("refused")
			}
			if _, err := geos.intern(se.SrcGeo); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Flows with every kind of metadata (whose nested objects still go
	// through encoding/json), and without any, as most of a capture's are;
	// "-json" is what every stored flow cost before decodeFlowLineKnown.
	full := hostileFlows()[1]
	bare := full
	bare.VLAN, bare.HTTP, bare.TLS, bare.SSH, bare.DNS, bare.Activity = nil, nil, nil, nil, nil, nil
	for _, c := range []struct {
		name string
		fl   forensics.Flow
	}{{"flow-metadata", full}, {"flow-bare", bare}} {
		line := flowLine(b, &c.fl)
		intern := func(geos *geoTable, sf *spoolFlow) {
			if _, err := geos.intern(sf.SrcGeo); err != nil {
				b.Fatal(err)
			}
			if _, err := geos.intern(sf.DstGeo); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name+"-json", func(b *testing.B) {
			var geos geoTable
			for b.Loop() {
				var sf spoolFlow
				if err := json.Unmarshal(line, &sf); err != nil {
					b.Fatal(err)
				}
				intern(&geos, &sf)
			}
		})
		b.Run(c.name, func(b *testing.B) {
			var geos geoTable
			var sf spoolFlow
			for b.Loop() {
				if !decodeFlowLineKnown(line, &sf, geos.known) {
					b.Fatal("refused")
				}
				intern(&geos, &sf)
			}
		})
	}
}
