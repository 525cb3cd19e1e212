package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// checkEventLine is checkLine for event lines.
func checkEventLine(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	return checkLine(t, line, decodeEventLineKnown)
}

// checkLine decodes line both ways: when the fast decoder takes it,
// json.Unmarshal must accept it and give the same record, with the
// enrichment unknown (checked) or known (as a geoTable knows what it
// decoded before: valid JSON).
func checkLine[T any](t *testing.T, line []byte, decode func([]byte, *T, func([]byte) bool) bool) (fast bool) {
	t.Helper()
	var got, known, want T
	if !decode(line, &got, nil) {
		return false
	}
	if err := json.Unmarshal(line, &want); err != nil {
		t.Fatalf("fast decoder took a line json rejects (%v): %q", err, line)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoders differ on %q:\n fast %#v\n json %#v", line, got, want)
	}
	if !decode(line, &known, json.Valid) || !reflect.DeepEqual(known, want) {
		t.Fatalf("decoders differ on %q with the enrichment known:\n fast %#v\n json %#v", line, known, want)
	}
	return true
}

// TestDecodeEventLine: every event of the sample case and of hostile
// strings decodes as json.Unmarshal decodes it, and the fast path takes
// the ordinary ones (else it would save nothing).
func TestDecodeEventLine(t *testing.T) {
	enr, err := enrich.New(enrich.Options{Home: "KR"})
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	opts := DefaultOptions()
	opts.Inputs, opts.Enricher, opts.Home = []string{filepath.Join("..", "..", "testdata", "demo")}, enr, "KR"
	var out bytes.Buffer
	if _, err := StreamEvents(context.Background(), &out, opts); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(out.Bytes(), []byte("\n"))
	fast := 0
	for _, l := range lines {
		if len(l) > 0 && checkEventLine(t, l) {
			fast++
		}
	}
	if fast < len(lines)*9/10 {
		t.Errorf("fast path took %d of %d demo lines", fast, len(lines))
	}
	for _, e := range hostileEvents() {
		checkEventLine(t, append(forensics.AppendEventJSONGeo(nil, &e, []byte(`{"ip":"1.2.3.4","lat":-0.5,"sources":[{"db":"x"}]}`)), '\n'))
	}
}

func hostileEvents() []forensics.Event {
	t0 := time.Date(2025, 6, 24, 1, 2, 3, 456789000, time.UTC)
	base := forensics.Event{ID: "ev-1", Time: forensics.NewTime(t0), SourceKind: "web",
		SrcIP: netip.MustParseAddr("2001:db8::1"), SrcPort: 65535, ClientIP: netip.MustParseAddr("fe80::1%eth0"),
		ProxyChain: []forensics.ProxyHop{{IP: "unknown", Trusted: false}, {IP: "10.0.0.1", Trusted: true}},
		DstIP:      netip.MustParseAddr("192.0.2.1"), DstPort: 443, Status: -7, Bytes: -1 << 62,
		Indicators: map[string]string{"ja3": "x", "\u2028": "\"\\"}, Flags: []string{"line_truncated", ""},
		Evidence: forensics.EvidenceRef{File: "a\"b\\c\x01.log", SHA256: "ff", Line: 1 << 60, Packet: 3, Offset: -5}}
	var out []forensics.Event
	for _, s := range []string{"", "plain", "quote \" back \\ slash /", "ctl \x00\x01\x1f\x7f", "bad \xff\xfe utf8",
		"\u2028\u2029 <&>", "emoji 😀 and ﷽", "\ud7ff", "tab\tnl\ncr\r"} {
		e := base
		e.Method, e.Path, e.UserAgent, e.Referrer, e.User, e.Credential, e.Action, e.TimeRaw, e.Host = s, s, s, s, s, s, s, s, s
		out = append(out, e)
	}
	return append(out, forensics.Event{})
}

// FuzzDecodeEventLine: on encoded events with arbitrary strings, and on
// arbitrary bytes, the fast decoder never disagrees with json.Unmarshal.
func FuzzDecodeEventLine(f *testing.F) {
	for _, e := range hostileEvents() {
		f.Add(forensics.AppendEventJSONGeo(nil, &e, nil), "s", int64(1))
	}
	f.Add([]byte(`{"id":"a","id":"b"}`), "", int64(0))
	f.Fuzz(func(t *testing.T, raw []byte, s string, n int64) {
		checkEventLine(t, raw)
		e := hostileEvents()[0]
		e.Path, e.UserAgent, e.Bytes, e.Status = s, string(raw), n, int(n)
		e.Indicators = map[string]string{s: string(raw)}
		e.Flags = []string{s}
		e.Evidence.Offset = n
		line := forensics.AppendEventJSONGeo(nil, &e, []byte(`{"lat":1e-7,"anonymous":{"vpn":true},"network":null}`))
		if !checkEventLine(t, line) && len(s) < 2 && len(raw) == 0 {
			t.Fatalf("fast path refused a plain line: %q", line)
		}
	})
}
