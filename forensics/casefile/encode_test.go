package casefile

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// stdJSON is a record's line as the commands print it.
func stdJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// handJSON is a record's line from the hand-written encoder.
func handJSON[T any](kind recordKind[T], r *T) ([]byte, error) {
	ce := newChunkEncoder(kind, nil)
	return ce.hand(r)
}

func checkExact[T any](t *testing.T, kind recordKind[T], r *T) {
	t.Helper()
	want, werr := stdJSON(r)
	got, gerr := handJSON(kind, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors differ: hand %v, encoding/json %v", gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("hand-written JSON differs:\n got %s\nwant %s", got, want)
	}
}

// hostileStrings covers every escaping rule of encoding/json.
var hostileStrings = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "caf\u00e9 \u4e2d\u6587 \U0001F600",
	"line\u2028sep\u2029para", "bad utf8 \xff\xfe \xc3\x28 \xe2\x82 \xed\xa0\x80 end\xc3",
	"\ufffd literal replacement", strings.Repeat("é\"", 40),
}

// hostileEvent and hostileFlow put s in every string field and exercise
// every optional part.
func hostileEvent(s string, n int64) forensics.Event {
	lat := -33.5
	geo := &enrich.Record{IP: netip.MustParseAddr("fe80::1%" + "eth0"), Class: s, City: s, Lat: &lat,
		Sources: []enrich.Source{{DB: s, Fields: []string{s}}}}
	return forensics.Event{
		ID: s, Time: forensics.NewTime(time.Unix(0, n).UTC()), TimeRaw: s, SourceKind: s,
		SrcIP: netip.MustParseAddr("fe80::1").WithZone(s + "x"), SrcPort: uint16(n), ClientIP: netip.MustParseAddr("::ffff:192.0.2.1"),
		ProxyChain: []forensics.ProxyHop{{IP: s}, {IP: "x", Trusted: true}}, DstIP: netip.MustParseAddr("2001:db8::1"), DstPort: 65535,
		Method: s, Host: s, Path: s, Status: int(n), Bytes: n, UserAgent: s, Referrer: s, User: s, Credential: s, Action: s,
		Indicators: map[string]string{s: s, "b": "2", "a": s, "\xff": "x", "é": ""}, Flags: []string{s, ""},
		SrcGeo:   geo,
		Evidence: forensics.EvidenceRef{File: s, SHA256: s, Packet: uint64(n), Line: uint64(n) * 3, Offset: -n},
	}
}

func hostileFlow(s string, n int64) forensics.Flow {
	yes := true
	geo := &enrich.Record{IP: netip.MustParseAddr("192.0.2.7"), Class: s, ASN: 37963, Foreign: &yes,
		Anonymous: &enrich.Anonymous{Tor: true}, Network: netip.MustParsePrefix("192.0.2.0/24")}
	t := forensics.NewTime(time.Unix(n, n).UTC())
	return forensics.Flow{
		ID: s, CommunityID: s, Proto: s, SrcIP: netip.MustParseAddr("10.0.0.1"), SrcPort: uint16(n), DstIP: netip.MustParseAddr("fe80::9").WithZone(s),
		DstPort: 1, Start: t, End: t, PktsOut: uint64(n), PktsIn: math.MaxUint64, BytesOut: 0, BytesIn: uint64(n),
		State: s, Tunnel: s, VLAN: []uint16{0, 4095, uint16(n)},
		HTTP:     &forensics.HTTPMeta{Method: s, Host: s, Path: s, UserAgent: s, XFF: s},
		TLS:      &forensics.TLSMeta{Version: s, SNI: s, ALPN: []string{s, "h2"}, JA3: s, JA3Hash: s, JA3S: s, JA3SHash: s, JA4: s},
		SSH:      &forensics.SSHMeta{Client: s, Server: s, HASSH: s, HASSHServer: s},
		DNS:      &forensics.DNSMeta{Query: s, QType: s, RCode: s, Answers: []string{s}},
		SrcGeo:   geo,
		DstGeo:   geo,
		Evidence: forensics.EvidenceRef{File: s, SHA256: s, Offset: n},
		Activity: []forensics.Period{{Start: t, End: t}, {}},
	}
}

// TestRecordJSONExact: the hand-written encoder writes byte for byte what
// encoding/json writes, for generated records, hostile strings, empty and
// partial records.
func TestRecordJSONExact(t *testing.T) {
	b := testBatch(5, 300, 300)
	t.Run("generated events", func(t *testing.T) {
		for i := range b.Events {
			checkExact(t, eventKind(), &b.Events[i])
		}
	})
	t.Run("generated flows", func(t *testing.T) {
		for i := range b.Flows {
			checkExact(t, flowKind(), &b.Flows[i])
		}
	})
	t.Run("hostile", func(t *testing.T) {
		for i, s := range hostileStrings {
			for _, n := range []int64{0, 1, int64(i) * 7919, -5, math.MaxInt64, math.MinInt64} {
				e, f := hostileEvent(s, n), hostileFlow(s, n)
				checkExact(t, eventKind(), &e)
				checkExact(t, flowKind(), &f)
			}
		}
	})
	t.Run("empty and partial", func(t *testing.T) {
		checkExact(t, eventKind(), &forensics.Event{})
		checkExact(t, flowKind(), &forensics.Flow{})
		checkExact(t, flowKind(), &forensics.Flow{HTTP: &forensics.HTTPMeta{}, TLS: &forensics.TLSMeta{}, SSH: &forensics.SSHMeta{}, DNS: &forensics.DNSMeta{}})
		checkExact(t, flowKind(), &forensics.Flow{HTTP: &forensics.HTTPMeta{XFF: "x"}, TLS: &forensics.TLSMeta{ALPN: []string{}}, DNS: &forensics.DNSMeta{Answers: []string{""}}})
		checkExact(t, eventKind(), &forensics.Event{Indicators: map[string]string{}, Flags: []string{}, ProxyChain: []forensics.ProxyHop{}, SrcGeo: &enrich.Record{}})
		checkExact(t, eventKind(), &forensics.Event{Time: forensics.Time{Time: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}})
		checkExact(t, eventKind(), &forensics.Event{Time: forensics.Time{Time: time.Date(-50, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))}})
	})
	t.Run("unencodable enrichment fails like encoding/json", func(t *testing.T) {
		nan := math.NaN()
		e := forensics.Event{SrcGeo: &enrich.Record{Lat: &nan}}
		if _, err := handJSON(eventKind(), &e); err == nil {
			t.Error("NaN latitude encoded")
		}
	})
	t.Run("hand encoder in use", func(t *testing.T) {
		for _, c := range []struct {
			name string
			fast bool
		}{
			{"events", func() bool { ce := newChunkEncoder(eventKind(), nil); ce.line(&b.Events[0]); return ce.fast }()},
			{"flows", func() bool { ce := newChunkEncoder(flowKind(), nil); ce.line(&b.Flows[0]); return ce.fast }()},
		} {
			if !c.fast {
				t.Errorf("%s: the hand-written encoder disagreed with encoding/json on the first record and was turned off", c.name)
			}
		}
	})
	t.Run("chunk lines", func(t *testing.T) {
		c := encodeChunk(b.Events, 0, eventKey, eventKind(), &geoCache{}, false, make(bufPool, 1))
		if c.err != nil {
			t.Fatal(c.err)
		}
		var lines [][]byte
		for _, blk := range c.blocks {
			lines = append(lines, bytes.SplitAfter(blk.js, []byte{'\n'})...)
		}
		for i := range b.Events {
			want, _ := stdJSON(&b.Events[i])
			if !bytes.Equal(lines[i], want) {
				t.Fatalf("line %d:\n got %s\nwant %s", i, lines[i], want)
			}
		}
		if len(c.geo) == 0 {
			t.Error("no enrichment results collected")
		}
	})
}

// TestRecordJSONFields fails when a type the hand-written encoder writes
// gains, loses, renames or reorders a JSON field: update jsonenc.go (and
// this list) with it.
func TestRecordJSONFields(t *testing.T) {
	want := map[reflect.Type]string{
		reflect.TypeFor[forensics.Event]():       "id time time_raw,omitempty source_kind src_ip,omitzero src_port,omitempty client_ip,omitzero proxy_chain,omitempty dst_ip,omitzero dst_port,omitempty method,omitempty host,omitempty path,omitempty status,omitempty bytes,omitempty user_agent,omitempty referrer,omitempty user,omitempty credential,omitempty action,omitempty indicators,omitempty flags,omitempty src_geo,omitempty evidence",
		reflect.TypeFor[forensics.Flow]():        "id community_id,omitempty proto src_ip src_port dst_ip dst_port start end pkts_out pkts_in bytes_out bytes_in state,omitempty tunnel,omitempty vlan,omitempty http,omitempty tls,omitempty ssh,omitempty dns,omitempty src_geo,omitempty dst_geo,omitempty evidence activity,omitempty",
		reflect.TypeFor[forensics.HTTPMeta]():    "method,omitempty host,omitempty path,omitempty user_agent,omitempty xff,omitempty",
		reflect.TypeFor[forensics.TLSMeta]():     "version,omitempty sni,omitempty alpn,omitempty ja3,omitempty ja3_hash,omitempty ja3s,omitempty ja3s_hash,omitempty ja4,omitempty",
		reflect.TypeFor[forensics.SSHMeta]():     "client,omitempty server,omitempty hassh,omitempty hassh_server,omitempty",
		reflect.TypeFor[forensics.DNSMeta]():     "query,omitempty qtype,omitempty rcode,omitempty answers,omitempty",
		reflect.TypeFor[forensics.EvidenceRef](): "file sha256 packet,omitempty line,omitempty offset",
		reflect.TypeFor[forensics.ProxyHop]():    "ip trusted",
		reflect.TypeFor[forensics.Period]():      "start end",
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
		e.ProxyChain = append(e.ProxyChain, forensics.ProxyHop{IP: k})
		fl.TLS.ALPN = append(fl.TLS.ALPN, k, v)
		fl.HTTP = &forensics.HTTPMeta{UserAgent: v}
		if n%2 == 0 {
			fl.SSH, fl.DNS, e.SrcGeo = nil, nil, nil
		}
		checkExact(t, eventKind(), &e)
		checkExact(t, flowKind(), &fl)
	})
}

// TestAppendTime: the calendar arithmetic gives what time.AppendFormat
// gives, at the edges of every range it handles and at random.
func TestAppendTime(t *testing.T) {
	check := func(u int64, ns int64) {
		t.Helper()
		tm := time.Unix(u, ns)
		want := tm.UTC().AppendFormat(nil, forensics.TimeLayout)
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
