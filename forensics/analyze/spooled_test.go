package analyze

import (
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// TestRunSpooledMatchesRun: the Case of RunSpooled, its events and
// sessions read back from the spools, is Run's byte for byte (JSON of the
// whole Case), with
// chunks small enough to spill and merge many runs, and as large as
// analyze uses; reading the spool twice gives the same events.
func TestRunSpooledMatchesRun(t *testing.T) {
	enr := homeEnricher(t)
	js := func(v any) string { return mustJSON(t, v) }
	for name, inputs := range matchCases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			opts, want, runErr := runMatchCase(t, name, inputs, enr)
			if len(want.Events) == 0 && !strings.HasPrefix(name, "relay") {
				t.Fatal("no events: the case tests little")
			}
			for _, chunk := range []int{5, SpooledEventsChunk} {
				got, err := runSpooled(ctx, opts, chunk, chunk)
				if (err == nil) != (runErr == nil) {
					t.Errorf("chunk %d: error %v, Run's %v", chunk, err, runErr)
				}
				if len(got.Events) != 0 || got.NumEvents() != len(want.Events) {
					t.Fatalf("chunk %d: %d events held, %d stored; want 0 and %d", chunk, len(got.Events), got.NumEvents(), len(want.Events))
				}
				var first string
				for pass := range 2 {
					var evs []forensics.Event
					if err := got.EachEvent(func(e *forensics.Event) error {
						evs = append(evs, *e)
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					if pass == 0 {
						first = js(evs)
					} else if js(evs) != first {
						t.Errorf("chunk %d: a second read gives other events", chunk)
					}
				}
				if len(got.Flows) != 0 || got.NumFlows() != len(want.Flows) {
					t.Fatalf("chunk %d: %d flows held, %d stored; want 0 and %d", chunk, len(got.Flows), got.NumFlows(), len(want.Flows))
				}
				if len(got.Sessions) != 0 || got.NumSessions() != len(want.Sessions) {
					t.Fatalf("chunk %d: %d sessions held, %d stored; want 0 and %d", chunk, len(got.Sessions), got.NumSessions(), len(want.Sessions))
				}
				holdRecords(t, got)
				if d := firstDiff(js(got), js(want)); d != "" {
					t.Errorf("chunk %d: cases differ: %s", chunk, d)
				}
				for i := range got.Sessions {
					if g, w := got.Sessions[i].SrcGeo, want.Sessions[i].SrcGeo; (g == nil) != (w == nil) {
						t.Fatalf("chunk %d: session %s: geo %v, want %v", chunk, got.Sessions[i].ID, g, w)
					}
				}
			}
		})
	}
}

// mustJSON is v's JSON; a value that does not encode fails the test.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// holdRecords reads a Case's stored events and sessions into its slices
// and releases the stores.
func holdRecords(t *testing.T, c *forensics.Case) {
	t.Helper()
	var fls []forensics.Flow
	var evs []forensics.Event
	var ss []forensics.Session
	if err := c.EachFlow(func(f *forensics.Flow) error { fls = append(fls, *f); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.EachEvent(func(e *forensics.Event) error { evs = append(evs, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.EachSession(func(s *forensics.Session) error { ss = append(ss, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := Release(c); err != nil {
		t.Error(err)
	}
	c.Flows, c.Events, c.Sessions, c.FlowStore, c.EventStore, c.SessionStore = fls, evs, ss, nil, nil, nil
}

// eventBinCases are events with every field set, empty, or at its
// limits, and strings that are not UTF-8.
func eventBinCases() []forensics.Event {
	full := forensics.Event{
		ID: "ev-0123456789abcdef", Time: forensics.NewTime(time.Date(2025, 7, 14, 3, 4, 5, 123456789, time.UTC)),
		TimeRaw: "14/Jul/2025:12:04:05 +0900", SourceKind: "web",
		SrcIP: netip.MustParseAddr("10.0.0.2"), SrcPort: 65535, ClientIP: netip.MustParseAddr("2001:db8::1%eth0"),
		ProxyChain: []forensics.ProxyHop{{IP: "203.0.113.7", Trusted: false}, {IP: "unknown"}, {IP: "10.0.0.2", Trusted: true}},
		DstIP:      netip.MustParseAddr("::ffff:192.0.2.80"), DstPort: 443,
		Method: "GET", Host: "shop.example", Path: "/a?b=\xff\xfe", Status: -1, Bytes: math.MaxInt64,
		UserAgent: "Mozilla/5.0 \"x\" \x1b[31m", Referrer: "-", User: "u\x00ser", Credential: "key-7", Action: "accepted",
		Indicators: map[string]string{"jwt.kid": "k1", "": "empty key", "tls": ""},
		Flags:      []string{"line_truncated", "tz_assumed:UTC"},
		Evidence:   forensics.EvidenceRef{File: "logs/a.log", SHA256: "ab", Packet: math.MaxUint64, Line: 1, Offset: math.MinInt64},
	}
	return []forensics.Event{
		full,
		{},
		{ID: "x", Time: forensics.NewTime(time.Unix(-62135596800, 0)), Evidence: forensics.EvidenceRef{Offset: -1}},
		{Time: forensics.NewTime(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)), Status: math.MinInt32, Bytes: math.MinInt64},
	}
}

// TestEventBinRoundTrip: every event comes back from appendEventBin as
// it went in (SrcGeo aside: spooled events carry none), and every field
// of Event is set in the first case, so a field the codec does not know
// fails here.
func TestEventBinRoundTrip(t *testing.T) {
	cases := eventBinCases()
	v := reflect.ValueOf(cases[0])
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; name != "SrcGeo" && v.Field(i).IsZero() {
			t.Errorf("field %s is not set in the test event: add it to appendEventBin and decodeEventBin", name)
		}
	}
	for i, e := range cases {
		var got forensics.Event
		if err := decodeEventBin(appendEventBin(nil, &e), &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("case %d: got %+v\nwant %+v", i, got, e)
		}
	}
	// Cut encodings fail, never panic.
	b := appendEventBin(nil, &cases[0])
	for n := range len(b) {
		var got forensics.Event
		if err := decodeEventBin(b[:n], &got); err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(b))
		}
	}
}

// FuzzEventBin: decoding arbitrary bytes fails or succeeds without a
// panic, and what decodes encodes back to the same bytes (the encoding
// has one form per event, maps aside).
func FuzzEventBin(f *testing.F) {
	for _, e := range eventBinCases() {
		f.Add(appendEventBin(nil, &e))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e forensics.Event
		if decodeEventBin(b, &e) != nil {
			return
		}
		var back forensics.Event
		if err := decodeEventBin(appendEventBin(nil, &e), &back); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", back, e)
		}
	})
}

// sessionBinCases are sessions with every field set, and empty.
func sessionBinCases() []forensics.Session {
	full := forensics.Session{
		ID: "se-1", Kind: "web", SrcIP: netip.MustParseAddr("2001:db8::7%eth0"),
		Start: forensics.NewTime(time.Date(2025, 7, 14, 3, 4, 5, 6, time.UTC)), End: forensics.NewTime(time.Date(2025, 7, 14, 4, 0, 0, 0, time.UTC)),
		Events: 12, Bytes: math.MaxInt64,
		Indicators: forensics.Indicators{
			Credential: "key-7", TokenKeyID: "kid", User: "u\xff", UserAgent: "UA|x", JA3: "771,1", JA4: "t13d", HASSH: "h",
			PathTemplates: []string{"/a/{n}", ""}, Methods: map[string]int{"GET": 3, "OTHER": -1}, Statuses: map[string]int{"200": 9},
			Objects: 4, FirstObject: -5, LastObject: math.MaxInt64, SeqTemplate: "/a/{n}", SeqRun: 3, Prefix: "2001:db8::/48",
			ASN: math.MaxUint32, Country: "KR", Hosting: true, Anonymizer: true, Crawler: true, Failures: 1, NotFound: 2, ProbeHits: 3,
			HourOfWeek: []forensics.HourCount{{Hour: 0, Count: 1}, {Hour: 167, Count: 9}}, BeaconPeriod: 60.5, BeaconScore: math.Inf(1),
			Extra: []string{"note"},
		},
		SrcGeo:   &enrich.Record{Country: "KR"},
		Evidence: []forensics.EvidenceRef{{File: "a.log", SHA256: "ab", Line: 3, Offset: 10}, {File: "b.pcap", Packet: math.MaxUint64, Offset: -1}},
	}
	return []forensics.Session{full, {}, {ID: "x", Start: forensics.NewTime(time.Unix(-62135596800, 0))}}
}

// TestSessionBinRoundTrip: a session comes back from appendSessionBin
// as it went in (SrcGeo as whether it was set), and every field of
// Session and Indicators is set in the first case, so a field the codec
// does not know fails here.
func TestSessionBinRoundTrip(t *testing.T) {
	cases := sessionBinCases()
	for _, v := range []reflect.Value{reflect.ValueOf(cases[0]), reflect.ValueOf(cases[0].Indicators)} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("field %s is not set in the test session: add it to appendSessionBin and decodeSessionBin", v.Type().Field(i).Name)
			}
		}
	}
	for i, s := range cases {
		var got forensics.Session
		geo, err := decodeSessionBin(appendSessionBin(nil, &s), &got)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if geo != (s.SrcGeo != nil) {
			t.Errorf("case %d: geo %v", i, geo)
		}
		s.SrcGeo = nil
		if !reflect.DeepEqual(got, s) {
			t.Errorf("case %d: got %+v\nwant %+v", i, got, s)
		}
	}
	b := appendSessionBin(nil, &cases[0])
	for n := range len(b) {
		var got forensics.Session
		if _, err := decodeSessionBin(b[:n], &got); err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(b))
		}
	}
}

// FuzzSessionBin: arbitrary bytes decode or fail without a panic, and
// what decodes encodes back to the same session.
func FuzzSessionBin(f *testing.F) {
	for _, s := range sessionBinCases() {
		f.Add(appendSessionBin(nil, &s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s forensics.Session
		geo, err := decodeSessionBin(b, &s)
		if err != nil {
			return
		}
		if geo {
			s.SrcGeo = &enrich.Record{}
		}
		var back forensics.Session
		geo2, err := decodeSessionBin(appendSessionBin(nil, &s), &back)
		if err != nil || geo2 != geo {
			t.Fatalf("re-encoded session does not decode: %v", err)
		}
		s.SrcGeo = nil
		if !reflect.DeepEqual(back, s) && !(hasNaN(s) || hasNaN(back)) {
			t.Fatalf("round trip changed the session:\n%+v\n%+v", back, s)
		}
	})
}

func hasNaN(s forensics.Session) bool {
	return math.IsNaN(s.Indicators.BeaconPeriod) || math.IsNaN(s.Indicators.BeaconScore)
}

// flowBinCases are flows with every field and metadata block set, and
// empty.
func flowBinCases() []forensics.Flow {
	t0 := forensics.NewTime(time.Date(2025, 7, 14, 3, 4, 5, 6, time.UTC))
	t1 := forensics.NewTime(time.Date(2025, 7, 14, 4, 0, 0, 999999999, time.UTC))
	full := forensics.Flow{
		ID: "fl-1", CommunityID: "1:abc=", Proto: "tcp",
		SrcIP: netip.MustParseAddr("2001:db8::7%eth0"), SrcPort: 65535, DstIP: netip.MustParseAddr("::ffff:192.0.2.80"), DstPort: 443,
		Start: t0, End: t1, PktsOut: math.MaxUint64, PktsIn: 1, BytesOut: 2, BytesIn: 3,
		State: "established", Tunnel: "gre", VLAN: []uint16{10, 4095},
		HTTP:     &forensics.HTTPMeta{Method: "GET", Host: "h\xff", Path: "/p", UserAgent: "UA \x1b[31m", XFF: "1.2.3.4, unknown"},
		TLS:      &forensics.TLSMeta{Version: "1.3", SNI: "s", ALPN: []string{"h2", ""}, JA3: "771,1", JA3Hash: "a", JA3S: "b", JA3SHash: "c", JA4: "t13d"},
		SSH:      &forensics.SSHMeta{Client: "SSH-2.0-x", Server: "SSH-2.0-y", HASSH: "h", HASSHServer: "hs"},
		DNS:      &forensics.DNSMeta{Query: "a.example", QType: "A", RCode: "NOERROR", Answers: []string{"192.0.2.1"}},
		SrcGeo:   &enrich.Record{Country: "KR"},
		DstGeo:   &enrich.Record{Country: "US"},
		Evidence: forensics.EvidenceRef{File: "a.pcap", SHA256: "ab", Packet: math.MaxUint64, Line: 2, Offset: math.MinInt64},
		Activity: []forensics.Period{{Start: t0, End: t1}, {Start: forensics.NewTime(time.Unix(-62135596800, 0)), End: t1}},
	}
	return []forensics.Flow{full, {}, {ID: "x", HTTP: &forensics.HTTPMeta{}, DNS: &forensics.DNSMeta{}}}
}

// TestFlowBinRoundTrip: a flow comes back from appendFlowBin as it went
// in (its geos aside, looked up again), and every field of Flow and of
// its metadata blocks is set in the first case, so a field the codec
// does not know fails here.
func TestFlowBinRoundTrip(t *testing.T) {
	cases := flowBinCases()
	f0 := cases[0]
	for _, v := range []reflect.Value{reflect.ValueOf(f0), reflect.ValueOf(*f0.HTTP), reflect.ValueOf(*f0.TLS), reflect.ValueOf(*f0.SSH), reflect.ValueOf(*f0.DNS)} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("field %s is not set in the test flow: add it to appendFlowBin and decodeFlowBin", v.Type().Field(i).Name)
			}
		}
	}
	for i, f := range cases {
		var got forensics.Flow
		if err := decodeFlowBin(appendFlowBin(nil, &f), &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		f.SrcGeo, f.DstGeo = nil, nil
		if !reflect.DeepEqual(got, f) {
			t.Errorf("case %d: got %+v\nwant %+v", i, got, f)
		}
	}
	b := appendFlowBin(nil, &cases[0])
	for n := range len(b) {
		var got forensics.Flow
		if err := decodeFlowBin(b[:n], &got); err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(b))
		}
	}
}

// FuzzFlowBin: arbitrary bytes decode or fail without a panic, and what
// decodes encodes back to the same flow.
func FuzzFlowBin(f *testing.F) {
	for _, fl := range flowBinCases() {
		f.Add(appendFlowBin(nil, &fl))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl forensics.Flow
		if decodeFlowBin(b, &fl) != nil {
			return
		}
		var back forensics.Flow
		if err := decodeFlowBin(appendFlowBin(nil, &fl), &back); err != nil {
			t.Fatalf("re-encoded flow does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, fl) {
			t.Fatalf("round trip changed the flow:\n%+v\n%+v", back, fl)
		}
	})
}
