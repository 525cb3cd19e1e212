package forensics

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tracehop/tracehop/enrich"
)

// stdJSON is a record's line as the commands print it.
func stdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return EscapeInvisibles(buf.Bytes()), err
}

// handJSON is a record's line from the hand-written encoder.
func handJSON(r any) ([]byte, error) {
	var b []byte
	var err error
	switch r := r.(type) {
	case *Event:
		b, err = AppendEventJSON([]byte("prefix"), r)
	case *Flow:
		b, err = AppendFlowJSON([]byte("prefix"), r)
	case *Session:
		var ok bool
		if b, ok = AppendSessionJSON([]byte("prefix"), r); !ok {
			err = errors.New("session not encodable")
		}
	default:
		panic("handJSON: not a record")
	}
	if err != nil {
		if string(b) != "prefix" {
			panic("dst changed on error")
		}
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("prefix")) {
		panic("dst lost")
	}
	return append(b[len("prefix"):], '\n'), nil
}

// checkExact compares the hand-written encoder with encoding/json on r.
func checkExact(t *testing.T, r any) {
	t.Helper()
	want, werr := stdJSON(r)
	got, gerr := handJSON(r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors differ: hand %v, encoding/json %v", gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("hand-written JSON differs:\n got %s\nwant %s", got, want)
	}
	if e, ok := r.(*Event); ok && werr == nil {
		// The stream encoder, reused across every check so that its
		// caches (evidence head, last second) meet hits and misses.
		geo, _ := enrichJSON(e.SrcGeo)
		if got := append(streamEnc.Append(nil, e, geo), '\n'); !bytes.Equal(got, want) {
			t.Fatalf("EventEncoder JSON differs:\n got %s\nwant %s", got, want)
		}
	}
}

var streamEnc EventEncoder

// TestEventEncoderStream: EventEncoder writes what AppendEventJSONGeo
// writes along a stream whose file, SHA-256, second and indicator key
// change or repeat.
func TestEventEncoderStream(t *testing.T) {
	var enc EventEncoder
	r := rand.New(rand.NewPCG(3, 4))
	files := []string{"a.log", "b\".log", "a.log"}
	shas := []string{"", "ff", strings.Repeat("ab", 32)}
	base := time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC).Unix()
	// A fresh encoder has no last key: the empty key is not it.
	first := Event{ID: "ev", Indicators: map[string]string{"": "v"}}
	if got, want := enc.Append(nil, &first, nil), AppendEventJSONGeo(nil, &first, nil); !bytes.Equal(got, want) {
		t.Fatalf("fresh encoder, empty key:\n got %s\nwant %s", got, want)
	}
	for i := range 5000 {
		e := Event{ID: "ev-" + strconv.Itoa(i), SourceKind: "web",
			SrcIP:    netip.AddrFrom4([4]byte{1, 2, 3, byte(i)}),
			Evidence: EvidenceRef{File: files[r.IntN(3)], SHA256: shas[r.IntN(3)], Line: uint64(r.Int64N(1 << 40)), Offset: r.Int64N(1<<50) - 1000}}
		switch r.IntN(4) {
		case 0:
			e.ClientIP = e.SrcIP
		case 1:
			e.ClientIP = netip.MustParseAddr("2001:db8::1")
		}
		switch r.IntN(5) {
		case 0: // zero time
		case 1:
			e.Time = NewTime(time.Unix(maxFastUnix+int64(r.IntN(3)), int64(r.IntN(1e9))))
		default:
			e.Time = NewTime(time.Unix(base+int64(r.IntN(3)), int64(r.IntN(2))*int64(r.IntN(1e9))))
		}
		e.Status, e.Bytes = r.IntN(1000), r.Int64N(1<<62)-(1<<61)
		e.TimeRaw = []string{"", "24/Jun/2025:00:00:00 +0000", "24/Jun/2025:00:00:01 +0000", "q\"\x00\u2028"}[r.IntN(4)]
		// Indicators: none, one (under the last key or another, the
		// empty key too) or two.
		keys := []string{"dataset", "dataset", "", "k\"\u202e", "kid"}
		switch n := r.IntN(4); n {
		case 1, 2:
			e.Indicators = map[string]string{}
			for range n {
				e.Indicators[keys[r.IntN(len(keys))]] = "v" + strconv.Itoa(r.IntN(3))
			}
		}
		want := AppendEventJSONGeo([]byte("x"), &e, nil)
		if got := enc.Append([]byte("x"), &e, nil); !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestAppendUint(t *testing.T) {
	vals := []uint64{0, 1, 9, 10, 99, 100, 65535, 1e9 - 1, 1e9, 1e12 - 1, 1e12, 1e12 + 1, math.MaxUint64}
	for p := uint64(1); p < 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1)
	}
	for _, v := range vals {
		if got, want := string(AppendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("AppendUint(%d) = %s, want %s", v, got, want)
		}
	}
}

// hostileStrings covers every escaping rule of encoding/json.
var hostileStrings = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "caf\u00e9 \u4e2d\u6587 \U0001F600",
	"line\u2028sep\u2029para", "bad utf8 \xff\xfe \xc3\x28 \xe2\x82 \xed\xa0\x80 end\xc3",
	"\ufffd literal replacement", strings.Repeat("é\"", 40),
	"invisible: \u0085 NEL \u009b31m CSI \u202eRLO\u202c \u2066LRI\u2069 zw\u200b\u200d \ufeff bom \u00ad shy \U000E0041 tag \U0001D173",
}

// hostileEvent and hostileFlow put s in every string field and exercise
// every optional part.
func hostileEvent(s string, n int64) Event {
	lat := -33.5
	geo := &enrich.Record{IP: netip.MustParseAddr("fe80::1%" + "eth0"), Class: s, City: s, Lat: &lat,
		Sources: enrich.MakeSources([]enrich.Source{{DB: s, Fields: []string{s}}})}
	return Event{
		ID: s, Time: NewTime(time.Unix(0, n).UTC()), TimeRaw: s, SourceKind: s,
		SrcIP: netip.MustParseAddr("fe80::1").WithZone(s + "x"), SrcPort: uint16(n), ClientIP: netip.MustParseAddr("::ffff:192.0.2.1"),
		ProxyChain: []ProxyHop{{IP: s}, {IP: "x", Trusted: true}}, DstIP: netip.MustParseAddr("2001:db8::1"), DstPort: 65535,
		Method: s, Host: s, Path: s, Status: int(n), Bytes: n, UserAgent: s, Referrer: s, User: s, Credential: s, Action: s,
		Indicators: map[string]string{s: s, "b": "2", "a": s, "\xff": "x", "é": ""}, Flags: []string{s, ""},
		SrcGeo:   geo,
		Evidence: EvidenceRef{File: s, SHA256: s, Packet: uint64(n), Line: uint64(n) * 3, Offset: -n},
	}
}

func hostileFlow(s string, n int64) Flow {
	yes := true
	geo := &enrich.Record{IP: netip.MustParseAddr("192.0.2.7"), Class: s, ASN: 37963, Foreign: &yes,
		Anonymous: &enrich.Anonymous{Tor: true}, Network: netip.MustParsePrefix("192.0.2.0/24")}
	t := NewTime(time.Unix(n, n).UTC())
	return Flow{
		ID: s, CommunityID: s, Proto: s, SrcIP: netip.MustParseAddr("10.0.0.1"), SrcPort: uint16(n), DstIP: netip.MustParseAddr("fe80::9").WithZone(s),
		DstPort: 1, Start: t, End: t, PktsOut: uint64(n), PktsIn: math.MaxUint64, BytesOut: 0, BytesIn: uint64(n),
		State: s, Tunnel: s, VLAN: []uint16{0, 4095, uint16(n)},
		HTTP:     &HTTPMeta{Method: s, Host: s, Path: s, UserAgent: s, XFF: s},
		TLS:      &TLSMeta{Version: s, SNI: s, ALPN: []string{s, "h2"}, JA3: s, JA3Hash: s, JA3S: s, JA3SHash: s, JA4: s},
		SSH:      &SSHMeta{Client: s, Server: s, HASSH: s, HASSHServer: s},
		DNS:      &DNSMeta{Query: s, QType: s, RCode: s, Answers: []string{s}},
		SrcGeo:   geo,
		DstGeo:   geo,
		Evidence: EvidenceRef{File: s, SHA256: s, Offset: n},
		Activity: []Period{{Start: t, End: t}, {}},
	}
}

// sampleRecords are an event and a flow as the parsers make them.
func sampleRecords() (Event, Flow) {
	lat, no := 37.5, false
	geo := &enrich.Record{IP: netip.MustParseAddr("203.0.113.9"), Class: "public", ASN: 4134, ASOrg: "AT&T <Chinanet>", Country: "CN",
		City: "Beijing", Lat: &lat, Lon: &lat, Foreign: &no, Network: netip.MustParsePrefix("203.0.113.0/24"),
		Sources: enrich.MakeSources([]enrich.Source{{DB: "GeoLite2-City", Fields: []string{"country", "city"}}})}
	t := NewTime(time.Date(2025, 6, 24, 0, 3, 35, 123456789, time.UTC))
	ev := Event{
		ID: "ev-0123456789abcdef", Time: t, TimeRaw: "24/Jun/2025:00:03:35 +0000", SourceKind: "web",
		SrcIP: netip.MustParseAddr("10.0.0.2"), SrcPort: 443, ClientIP: netip.MustParseAddr("203.0.113.9"),
		ProxyChain: []ProxyHop{{IP: "203.0.113.9"}, {IP: "10.0.0.2", Trusted: true}},
		DstIP:      netip.MustParseAddr("192.0.2.1"), DstPort: 8443, Method: "GET", Host: "shop.example", Path: "/login?next=%2Fadmin&x=<y>",
		Status: 200, Bytes: 5120, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		Referrer: "-", User: "alice", Credential: "k2019-legacy", Action: "login",
		Indicators: map[string]string{"z": "1", "a": "\t"}, Flags: []string{"tz_assumed:UTC"},
		SrcGeo:   geo,
		Evidence: EvidenceRef{File: "access.log", SHA256: strings.Repeat("ab", 32), Line: 7, Offset: 1234},
	}
	fl := Flow{
		ID: "fl-0123456789abcdef", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", Proto: "tcp",
		SrcIP: netip.MustParseAddr("203.0.113.9"), SrcPort: 51234, DstIP: netip.MustParseAddr("192.0.2.1"), DstPort: 443,
		Start: t, End: NewTime(t.Add(3 * time.Second)), PktsOut: 12, PktsIn: 10, BytesOut: 1800, BytesIn: 5400, State: "fin",
		TLS:      &TLSMeta{Version: "TLS 1.3", SNI: "shop.example", ALPN: []string{"h2"}, JA3Hash: "e7d705a3286e19ea42f587b344ee6865", JA4: "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		SrcGeo:   geo,
		Evidence: EvidenceRef{File: "c.pcap", SHA256: strings.Repeat("cd", 32), Packet: 42, Offset: 4096},
	}
	return ev, fl
}

// TestRecordJSONExact: the hand-written encoder writes byte for byte what
// encoding/json writes, for typical records, hostile strings, empty and
// partial records. (forensics/casefile checks its generated batches too.)
func TestRecordJSONExact(t *testing.T) {
	t.Run("sample", func(t *testing.T) {
		ev, fl := sampleRecords()
		checkExact(t, &ev)
		checkExact(t, &fl)
	})
	t.Run("hostile", func(t *testing.T) {
		for i, s := range hostileStrings {
			for _, n := range []int64{0, 1, int64(i) * 7919, -5, math.MaxInt64, math.MinInt64} {
				e, f := hostileEvent(s, n), hostileFlow(s, n)
				checkExact(t, &e)
				checkExact(t, &f)
			}
		}
	})
	t.Run("empty and partial", func(t *testing.T) {
		checkExact(t, &Event{})
		checkExact(t, &Flow{})
		checkExact(t, &Flow{HTTP: &HTTPMeta{}, TLS: &TLSMeta{}, SSH: &SSHMeta{}, DNS: &DNSMeta{}})
		checkExact(t, &Flow{HTTP: &HTTPMeta{XFF: "x"}, TLS: &TLSMeta{ALPN: []string{}}, DNS: &DNSMeta{Answers: []string{""}}})
		checkExact(t, &Event{Indicators: map[string]string{}, Flags: []string{}, ProxyChain: []ProxyHop{}, SrcGeo: &enrich.Record{}})
		checkExact(t, &Event{Time: Time{Time: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}})
		checkExact(t, &Event{Time: Time{Time: time.Date(-50, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))}})
	})
	t.Run("sessions", func(t *testing.T) {
		checkExact(t, &Session{})
		checkExact(t, &Session{Evidence: []EvidenceRef{}, Indicators: Indicators{Methods: map[string]int{}, PathTemplates: []string{}}})
		for i, s := range hostileStrings {
			for _, n := range []int64{0, 1, int64(i) * 7919, -5, math.MaxInt64, math.MinInt64} {
				se := hostileSession(s, n)
				checkExact(t, &se)
			}
		}
		for _, f := range []float64{1e-7, 1e21, 123456789.125, -0.5, 3e-300, math.SmallestNonzeroFloat64, math.MaxFloat64} {
			checkExact(t, &Session{Indicators: Indicators{BeaconPeriod: f, BeaconScore: -f}})
		}
		for _, f := range []float64{math.NaN(), math.Inf(1)} {
			if _, err := handJSON(&Session{Indicators: Indicators{BeaconScore: f}}); err == nil {
				t.Errorf("beacon %v encoded", f)
			}
		}
	})
	t.Run("unencodable enrichment fails like encoding/json", func(t *testing.T) {
		nan := math.NaN()
		e := Event{SrcGeo: &enrich.Record{Lat: &nan}}
		if _, err := handJSON(&e); err == nil {
			t.Error("NaN latitude encoded")
		}
		f := Flow{DstGeo: &enrich.Record{Lon: &nan}}
		if _, err := handJSON(&f); err == nil {
			t.Error("NaN longitude encoded")
		}
	})
	t.Run("pre-encoded enrichment", func(t *testing.T) {
		ev, fl := sampleRecords()
		want, _ := AppendEventJSON(nil, &ev)
		geo, _ := enrichJSON(ev.SrcGeo)
		ev.SrcGeo = nil
		if got := AppendEventJSONGeo(nil, &ev, geo); !bytes.Equal(got, want) {
			t.Errorf("event:\n got %s\nwant %s", got, want)
		}
		want, _ = AppendFlowJSON(nil, &fl)
		fl.SrcGeo = nil
		if got := AppendFlowJSONGeo(nil, &fl, geo, nil); !bytes.Equal(got, want) {
			t.Errorf("flow:\n got %s\nwant %s", got, want)
		}
	})
}

// hostileSession is a session with s in every string and n in every number.
func hostileSession(s string, n int64) Session {
	e := hostileEvent(s, n)
	return Session{ID: s, Kind: s, SrcIP: e.SrcIP, Start: e.Time, End: e.Time, Events: int(n), Bytes: n,
		Indicators: Indicators{Credential: s, TokenKeyID: s, User: s, UserAgent: s, JA3: s, JA4: s, HASSH: s,
			PathTemplates: []string{s, "", s}, Methods: map[string]int{s: int(n), "GET": 1, "": -1}, Statuses: map[string]int{"404": int(n)},
			Objects: int(n), FirstObject: n, LastObject: -n, SeqTemplate: s, SeqRun: int(n), Prefix: s, ASN: uint32(n), Country: s,
			Hosting: n%2 == 0, Anonymizer: n%3 == 0, Crawler: n%5 == 0, Failures: int(n), NotFound: int(n), ProbeHits: int(n),
			HourOfWeek: []HourCount{{Hour: int(n), Count: 1}, {}}, BeaconPeriod: float64(n) / 7, BeaconScore: float64(n) * 1e-9, Extra: []string{s}},
		SrcGeo: e.SrcGeo, Evidence: []EvidenceRef{e.Evidence, {File: s, Packet: uint64(n), Offset: -n}}}
}

// TestRecordJSONFields fails when a type the hand-written encoder writes
// gains, loses, renames or reorders a JSON field: update jsonenc.go (and
// this list) with it.
func TestRecordJSONFields(t *testing.T) {
	want := map[reflect.Type]string{
		reflect.TypeFor[Event]():       "id time time_raw,omitempty source_kind src_ip,omitzero src_port,omitempty client_ip,omitzero proxy_chain,omitempty dst_ip,omitzero dst_port,omitempty method,omitempty host,omitempty path,omitempty status,omitempty bytes,omitempty user_agent,omitempty referrer,omitempty user,omitempty credential,omitempty action,omitempty indicators,omitempty flags,omitempty src_geo,omitempty evidence",
		reflect.TypeFor[Flow]():        "id community_id,omitempty proto src_ip src_port dst_ip dst_port start end pkts_out pkts_in bytes_out bytes_in state,omitempty tunnel,omitempty vlan,omitempty http,omitempty tls,omitempty ssh,omitempty dns,omitempty src_geo,omitempty dst_geo,omitempty evidence activity,omitempty",
		reflect.TypeFor[HTTPMeta]():    "method,omitempty host,omitempty path,omitempty user_agent,omitempty xff,omitempty",
		reflect.TypeFor[TLSMeta]():     "version,omitempty sni,omitempty alpn,omitempty ja3,omitempty ja3_hash,omitempty ja3s,omitempty ja3s_hash,omitempty ja4,omitempty",
		reflect.TypeFor[SSHMeta]():     "client,omitempty server,omitempty hassh,omitempty hassh_server,omitempty",
		reflect.TypeFor[DNSMeta]():     "query,omitempty qtype,omitempty rcode,omitempty answers,omitempty",
		reflect.TypeFor[EvidenceRef](): "file sha256 packet,omitempty line,omitempty offset",
		reflect.TypeFor[ProxyHop]():    "ip trusted",
		reflect.TypeFor[Period]():      "start end",
		reflect.TypeFor[Session]():     "id kind src_ip start end events bytes indicators src_geo,omitempty evidence,omitempty",
		reflect.TypeFor[Indicators]():  "credential,omitempty token_key_id,omitempty user,omitempty user_agent,omitempty ja3,omitempty ja4,omitempty hassh,omitempty path_template,omitempty methods,omitempty statuses,omitempty objects,omitempty first_object,omitempty last_object,omitempty seq_template,omitempty seq_run,omitempty prefix,omitempty asn,omitempty country,omitempty hosting,omitempty anonymizer,omitempty crawler,omitempty failures,omitempty not_found,omitempty probe_hits,omitempty hour_of_week,omitempty beacon_period_s,omitempty beacon_score,omitempty extra,omitempty",
		reflect.TypeFor[HourCount]():   "h n",
	}
	for rt, w := range want {
		var got []string
		for f := range rt.Fields() {
			got = append(got, f.Tag.Get("json"))
		}
		if g := strings.Join(got, " "); g != w {
			t.Errorf("%s JSON fields changed:\n got %s\nwant %s", rt, g, w)
		}
	}
}

// FuzzRecordJSON: for any strings and numbers the hand-written encoder
// writes exactly what encoding/json writes.
func FuzzRecordJSON(f *testing.F) {
	for i, s := range hostileStrings {
		f.Add(s, int64(i), "k", "v")
	}
	f.Add("\xed\xa0\x80", int64(-1), "\u2028", "\x00")
	f.Fuzz(func(t *testing.T, s string, n int64, k, v string) {
		e, fl := hostileEvent(s, n), hostileFlow(s, n)
		e.Indicators[k] = v
		e.ProxyChain = append(e.ProxyChain, ProxyHop{IP: k})
		fl.TLS.ALPN = append(fl.TLS.ALPN, k, v)
		fl.HTTP = &HTTPMeta{UserAgent: v}
		if n%2 == 0 {
			fl.SSH, fl.DNS, e.SrcGeo = nil, nil, nil
		}
		checkExact(t, &e)
		checkExact(t, &fl)
		se := hostileSession(s, n)
		se.Indicators.Methods[k] = int(n)
		se.Indicators.Extra = append(se.Indicators.Extra, v)
		if n%2 == 0 {
			se.SrcGeo, se.Evidence = nil, nil
		}
		checkExact(t, &se)
	})
}

// TestAppendTime: the calendar arithmetic gives what time.AppendFormat
// gives, at the edges of every range it handles and at random.
func TestAppendTime(t *testing.T) {
	check := func(u int64, ns int64) {
		t.Helper()
		tm := time.Unix(u, ns)
		want := tm.UTC().AppendFormat(nil, TimeLayout)
		if got := appendTime(nil, tm); !bytes.Equal(got, want) {
			t.Fatalf("unix %d.%09d: got %s, want %s", u, ns, got, want)
		}
	}
	var edges []int64
	for _, c := range []int64{minFastUnix, maxFastUnix, 0, 951782400 /* 2000-02-29 */, -62162035200 /* 0000-03-01 */, -62164713600 /* 0000-01-31 */, time.Time{}.Unix(), math.MinInt64 / 2, math.MaxInt64 / 2} {
		for d := int64(-2 * 86400); d <= 2*86400; d += 3593 {
			edges = append(edges, c+d)
		}
		edges = append(edges, c-1, c, c+1)
	}
	for _, u := range edges {
		check(u, 0)
		check(u, 999_999_999)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		check(minFastUnix-86400*400+r.Int64N(maxFastUnix-minFastUnix+86400*800), r.Int64N(1e9))
	}
	for y := -2; y <= 10001; y++ {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			tm := time.Date(y, time.Month(md[0]), md[1], 23, 59, 59, 123, time.UTC)
			check(tm.Unix(), 123)
		}
	}
}

// BenchmarkRecordJSON justifies jsonenc.go: one flow or event line by the
// hand-written encoder against encoding/json, the enrichment pre-encoded
// on the hand-written side as the callers cache it.
func BenchmarkRecordJSON(b *testing.B) {
	ev, fl := sampleRecords()
	geo, err := enrichJSON(ev.SrcGeo)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	out := make([]byte, 0, 4096)
	b.Run("events/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out = AppendEventJSONGeo(out[:0], &ev, geo)
		}
	})
	b.Run("events/encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(&ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flows/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out = AppendFlowJSONGeo(out[:0], &fl, geo, nil)
		}
	})
	b.Run("flows/encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(&fl); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendTime justifies appendTime against time.AppendFormat.
func BenchmarkAppendTime(b *testing.B) {
	tm := time.Date(2025, 7, 14, 3, 4, 5, 123456789, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			buf = appendTime(buf[:0], tm)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], TimeLayout)
		}
	})
}

func TestAppendAddrJSONv4(t *testing.T) {
	for _, o := range []byte{0, 1, 9, 10, 99, 100, 199, 200, 255} {
		for _, a := range []netip.Addr{netip.AddrFrom4([4]byte{o, 0, 255, o}), netip.AddrFrom4([4]byte{255, o, o, 9})} {
			if got, want := string(appendAddrJSON([]byte("x"), a)), `x"`+a.String()+`"`; got != want {
				t.Errorf("%v: %s, want %s", a, got, want)
			}
		}
	}
}

// TestEscapeInvisibles: the invisible characters come out as \u escapes
// (surrogate pairs beyond U+FFFF), nothing else changes, and the text
// decodes to the same strings.
func TestEscapeInvisibles(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`"plain é 中"`, `"plain é 中"`},
		{"\"a\u009bb\"", `"a\u009bb"`},
		{"\"\u0080\u009f\u00a0\"", "\"\\u0080\\u009f\u00a0\""},
		{"\"\u202eevil\u202c\"", `"\u202eevil\u202c"`},
		{"\"\u2028\u2029\"", `"\u2028\u2029"`},
		{"\"\U000E0041\"", `"\udb40\udc41"`},
		{"[\"\u200b\",\"x\ufeff\"]", `["\u200b","x\ufeff"]`},
	} {
		got := EscapeInvisibles([]byte(c.in))
		if string(got) != c.want {
			t.Errorf("EscapeInvisibles(%q) = %s, want %s", c.in, got, c.want)
		}
		var a, b any
		if err := json.Unmarshal([]byte(c.in), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q decodes to %q, escaped to %q", c.in, a, b)
		}
	}
	for _, s := range hostileStrings {
		hand := appendJSONString(nil, s)
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		e.Encode(s)
		if want := EscapeInvisibles(bytes.TrimSuffix(enc.Bytes(), []byte("\n"))); !bytes.Equal(hand, want) {
			t.Errorf("%q: hand %s, encoding/json + EscapeInvisibles %s", s, hand, want)
		}
		for _, r := range string(hand) {
			if invisible(r) {
				t.Errorf("%q: %U left raw in %s", s, r, hand)
			}
		}
	}
}

// FuzzEscapeInvisibles: on any bytes EscapeInvisibles leaves no invisible
// character raw; on JSON text the result decodes to the same value; and
// the hand-written encoder writes any string as encoding/json does, then
// escaped.
func FuzzEscapeInvisibles(f *testing.F) {
	for _, s := range hostileStrings {
		b, _ := json.Marshal(s)
		f.Add(b)
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := EscapeInvisibles(in)
		for i := 0; i < len(out); {
			r, n := utf8.DecodeRune(out[i:])
			if !(r == utf8.RuneError && n == 1) && invisible(r) {
				t.Fatalf("%U left raw at %d in %q", r, i, out)
			}
			i += n
		}
		var a, b any
		if json.Unmarshal(in, &a) == nil {
			if err := json.Unmarshal(out, &b); err != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%q decodes to %#v, escaped %q to %#v (%v)", in, a, out, b, err)
			}
		}
		s := string(in)
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		e.Encode(s)
		if want := EscapeInvisibles(bytes.TrimSuffix(enc.Bytes(), []byte("\n"))); !bytes.Equal(appendJSONString(nil, s), want) {
			t.Fatalf("%q: hand %s, want %s", s, appendJSONString(nil, s), want)
		}
	})
}
