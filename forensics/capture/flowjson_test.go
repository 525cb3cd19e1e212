package capture

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// stdFlowJSON is what FlowEncoder must reproduce: encoding/json's bytes
// with the invisible characters escaped (forensics.EscapeInvisibles).
func stdFlowJSON(t testing.TB, f *forensics.Flow) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return forensics.EscapeInvisibles(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

func checkFlowJSON(t *testing.T, e *FlowEncoder, f *forensics.Flow) {
	t.Helper()
	got, err := e.Append(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	if want := stdFlowJSON(t, f); !bytes.Equal(got, want) {
		t.Fatalf("FlowEncoder differs from encoding/json:\n got %s\nwant %s", got, want)
	}
}

// Every flow of the golden files encodes as encoding/json encodes it.
func TestFlowEncoderGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	e := NewFlowEncoder()
	n := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for _, l := range lines[:len(lines)-1] { // the last line is Stats
			var f forensics.Flow
			if err := json.Unmarshal([]byte(l), &f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			checkFlowJSON(t, e, &f)
			n++
		}
	}
	if n < 20 {
		t.Errorf("only %d golden flows checked", n)
	}
}

var hostileStrings = []string{
	"", "a", `"`, `\`, "<script>&amp;</script>", "\x00", "\x01\x1f\x7f", "\b\f\n\r\t",
	"\u2028\u2029", "é日本\U0001F600", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "ok\u2027\u202a",
	`{"sha256":"x"}`, strings.Repeat("x", 300),
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return hostileStrings[r.IntN(len(hostileStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randList(r *rand.Rand) []string {
	if r.IntN(3) == 0 {
		return nil
	}
	l := make([]string, r.IntN(4))
	for i := range l {
		l[i] = randString(r)
	}
	return l
}

func randAddr(r *rand.Rand) netip.Addr {
	var b16 [16]byte
	for i := range b16 {
		b16[i] = byte(r.IntN(256))
	}
	switch r.IntN(5) {
	case 0:
		return netip.Addr{}
	case 1:
		return netip.AddrFrom16(b16)
	case 2:
		return netip.AddrFrom16(b16).WithZone(randString(r))
	case 3:
		return netip.AddrFrom4([4]byte{0xff, 0, 0, 1}).WithZone("")
	}
	return netip.AddrFrom4([4]byte(b16[:4]))
}

func randTime(r *rand.Rand) forensics.Time {
	switch r.IntN(6) {
	case 0:
		return forensics.Time{}
	case 1: // years outside 0..9999
		return forensics.NewTime(time.Unix(r.Int64N(1<<40)-(1<<39), r.Int64N(1e9)))
	}
	return forensics.NewTime(time.Unix(r.Int64N(5e9), r.Int64N(1e9)).In(time.FixedZone("x", 3600)))
}

func randRecord(r *rand.Rand) *enrich.Record {
	if r.IntN(3) == 0 {
		return nil
	}
	rec := &enrich.Record{IP: randAddr(r), Class: randString(r), City: randString(r), ASN: r.Uint32() >> r.IntN(33), ASOrg: randString(r)}
	if r.IntN(2) == 0 {
		lat, lon := r.NormFloat64()*50, []float64{0, 1e-7, 1e21, -180, math.SmallestNonzeroFloat64, 1.5e-300, 12.25}[r.IntN(7)]
		rec.Lat, rec.Lon = &lat, &lon
	}
	if r.IntN(2) == 0 {
		rec.Network = netip.PrefixFrom(rec.IP, r.IntN(140)-4)
		rec.EmbeddedIPv4 = randAddr(r)
		rec.Embedding, rec.Country, rec.CountryName, rec.RegisteredCountry = randString(r), randString(r), randString(r), randString(r)
		rec.Subdivision, rec.ISP, rec.ConnectionType, rec.Domain = randString(r), randString(r), randString(r), randString(r)
		rec.AccuracyKM = uint16(r.IntN(3))
		rec.Anonymous = &enrich.Anonymous{VPN: r.IntN(2) == 0, Tor: r.IntN(2) == 0, Hosting: r.IntN(2) == 0, Proxy: r.IntN(2) == 0, ResidentialProxy: r.IntN(2) == 0}
		rec.Anycast = r.IntN(2) == 0
		b := r.IntN(2) == 0
		rec.Foreign = &b
		days := r.IntN(200) - 100
		rec.Sources = enrich.MakeSources([]enrich.Source{
			{DB: randString(r), Type: randString(r), Build: randString(r), SHA256: randString(r), Fields: randList(r)},
			{Network: netip.PrefixFrom(randAddr(r), r.IntN(129)), SnapshotDistanceDays: &days, AfterEvent: true},
		}[:1+r.IntN(2)])
	}
	return rec
}

func randFlow(r *rand.Rand) *forensics.Flow {
	f := &forensics.Flow{
		ID: randString(r), CommunityID: randString(r), Proto: randString(r),
		SrcIP: randAddr(r), SrcPort: uint16(r.Uint32()), DstIP: randAddr(r), DstPort: uint16(r.Uint32()),
		Start: randTime(r), End: randTime(r),
		PktsOut: r.Uint64(), PktsIn: r.Uint64N(10), BytesOut: r.Uint64(), BytesIn: r.Uint64N(1000),
		State: randString(r), Tunnel: randString(r),
		SrcGeo: randRecord(r), DstGeo: randRecord(r),
		Evidence: forensics.EvidenceRef{File: randString(r), SHA256: randString(r), Packet: r.Uint64N(3), Line: r.Uint64N(3), Offset: r.Int64() - r.Int64()},
	}
	if r.IntN(2) == 0 {
		f.VLAN = []uint16{uint16(r.Uint32()), 0}[:r.IntN(3)]
	}
	if r.IntN(2) == 0 {
		f.HTTP = &forensics.HTTPMeta{Method: randString(r), Host: randString(r), Path: randString(r), UserAgent: randString(r), XFF: randString(r)}
	}
	if r.IntN(2) == 0 {
		f.TLS = &forensics.TLSMeta{Version: randString(r), SNI: randString(r), ALPN: randList(r), JA3: randString(r),
			JA3Hash: randString(r), JA3S: randString(r), JA3SHash: randString(r), JA4: randString(r)}
	}
	if r.IntN(2) == 0 {
		f.SSH = &forensics.SSHMeta{Client: randString(r), Server: randString(r), HASSH: randString(r), HASSHServer: randString(r)}
	}
	if r.IntN(2) == 0 {
		f.DNS = &forensics.DNSMeta{Query: randString(r), QType: randString(r), RCode: randString(r), Answers: randList(r)}
	}
	for range r.IntN(3) {
		f.Activity = append(f.Activity, forensics.Period{Start: randTime(r), End: randTime(r)})
	}
	return f
}

// Random flows with hostile strings, odd addresses, times and records
// encode exactly as encoding/json encodes them.
func TestFlowEncoderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	e := NewFlowEncoder()
	shared := randRecord(r)
	for range 5000 {
		f := randFlow(r)
		if r.IntN(4) == 0 {
			f.SrcGeo, f.DstGeo = shared, shared // the record cache
		}
		checkFlowJSON(t, e, f)
	}
}

// FuzzFlowEncoder compares the string paths against encoding/json.
func FuzzFlowEncoder(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s, s, uint64(len(s)))
	}
	f.Fuzz(func(t *testing.T, a, b string, n uint64) {
		fl := &forensics.Flow{ID: a, Proto: b, PktsOut: n, State: a + b,
			HTTP: &forensics.HTTPMeta{Path: a, UserAgent: b}, TLS: &forensics.TLSMeta{ALPN: []string{a, b}},
			DNS: &forensics.DNSMeta{Answers: []string{b}}, SrcIP: netip.IPv6Unspecified().WithZone(a),
			Start:    forensics.NewTime(time.Unix(int64(n), int64(n%1e9))),
			Evidence: forensics.EvidenceRef{File: b, SHA256: a}}
		checkFlowJSON(t, NewFlowEncoder(), fl)
	})
}

// FlowEncoder writes fields by hand: this fails when a field is added to
// (or renamed in) a type it writes, until the encoder is updated too.
func TestFlowEncoderFields(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{forensics.Flow{}, "id community_id,omitempty proto src_ip src_port dst_ip dst_port start end pkts_out pkts_in bytes_out bytes_in state,omitempty tunnel,omitempty vlan,omitempty http,omitempty tls,omitempty ssh,omitempty dns,omitempty src_geo,omitempty dst_geo,omitempty evidence activity,omitempty"},
		{forensics.HTTPMeta{}, "method,omitempty host,omitempty path,omitempty user_agent,omitempty xff,omitempty"},
		{forensics.TLSMeta{}, "version,omitempty sni,omitempty alpn,omitempty ja3,omitempty ja3_hash,omitempty ja3s,omitempty ja3s_hash,omitempty ja4,omitempty"},
		{forensics.SSHMeta{}, "client,omitempty server,omitempty hassh,omitempty hassh_server,omitempty"},
		{forensics.DNSMeta{}, "query,omitempty qtype,omitempty rcode,omitempty answers,omitempty"},
		{forensics.EvidenceRef{}, "file sha256 packet,omitempty line,omitempty offset"},
		{forensics.Period{}, "start end"},
		{enrich.Record{}, "ip class embedded_ipv4,omitzero embedding,omitempty country,omitempty country_name,omitempty registered_country,omitempty subdivision,omitempty city,omitempty lat,omitempty lon,omitempty accuracy_km,omitempty asn,omitempty as_org,omitempty isp,omitempty connection_type,omitempty domain,omitempty network,omitzero anonymous,omitempty anycast,omitempty foreign,omitempty sources,omitzero"},
		{enrich.Anonymous{}, "vpn,omitempty tor,omitempty hosting,omitempty proxy,omitempty residential_proxy,omitempty"},
		{enrich.Source{}, "db type build sha256 network,omitzero fields,omitempty snapshot_distance_days,omitempty after_event,omitempty"},
	} {
		rt := reflect.TypeOf(c.v)
		var tags []string
		for i := range rt.NumField() {
			tags = append(tags, rt.Field(i).Tag.Get("json"))
		}
		if got := strings.Join(tags, " "); got != c.want {
			t.Errorf("%s fields changed, update FlowEncoder and this test:\n got %s\nwant %s", rt, got, c.want)
		}
	}
}

func benchFlows() []forensics.Flow {
	r := rand.New(rand.NewPCG(3, 4))
	rec := &enrich.Record{IP: netip.MustParseAddr("198.51.100.10"), Class: "documentation", RegisteredCountry: "AU",
		Sources: enrich.MakeSources([]enrich.Source{{DB: "geo.mmdb", Type: "country", Build: "2026-06-17T19:51:40Z", SHA256: strings.Repeat("c5", 32)}})}
	fs := make([]forensics.Flow, 256)
	for i := range fs {
		fs[i] = forensics.Flow{ID: "flow-da92f760bf5fdea3", CommunityID: "1:9C06kN8TQEz7U2i8pN0OPfa+0Eo=", Proto: "tcp",
			SrcIP: netip.AddrFrom4([4]byte{100, 64, byte(r.IntN(256)), byte(r.IntN(256))}), SrcPort: 58589,
			DstIP: rec.IP, DstPort: 443, Start: forensics.NewTime(time.Unix(1750723200, r.Int64N(1e9))),
			End: forensics.NewTime(time.Unix(1750723201, 0)), PktsOut: 9, PktsIn: 8, BytesOut: 759, BytesIn: 8615,
			State: "handshake,fin", TLS: &forensics.TLSMeta{Version: "TLS 1.3", SNI: "shop.example.kr", ALPN: []string{"h2", "http/1.1"},
				JA3:     "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-51-45-43-21,29-23-24,0",
				JA3Hash: "1d714db2228763eab228fc28ce7f8e4f", JA4: "t13d1513h2_8daaf6152771_4881bde13f13"},
			SrcGeo: &enrich.Record{IP: netip.MustParseAddr("100.64.4.105"), Class: "cgnat"}, DstGeo: rec,
			Evidence: forensics.EvidenceRef{File: "bench-data/bench-1g.pcap", SHA256: strings.Repeat("f1", 32), Packet: 1, Offset: 24}}
	}
	return fs
}

// BenchmarkFlowJSON compares FlowEncoder with encoding/json on flows like
// the bench capture's (TLS metadata, both ends enriched).
func BenchmarkFlowJSON(b *testing.B) {
	fs := benchFlows()
	b.Run("FlowEncoder", func(b *testing.B) {
		b.ReportAllocs()
		e := NewFlowEncoder()
		var buf []byte
		i := 0
		for b.Loop() {
			buf, _ = e.Append(buf[:0], &fs[i%len(fs)])
			i++
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		i := 0
		n := 0
		for b.Loop() {
			buf.Reset()
			_ = enc.Encode(&fs[i%len(fs)])
			n = buf.Len()
			i++
		}
		b.SetBytes(int64(n))
	})
}

// A coordinate encoding/json refuses is an error here too.
func TestFlowEncoderNaN(t *testing.T) {
	nan := math.NaN()
	f := &forensics.Flow{SrcGeo: &enrich.Record{Lat: &nan}}
	if _, err := NewFlowEncoder().Append(nil, f); err == nil {
		t.Error("NaN latitude encoded without an error")
	}
}
