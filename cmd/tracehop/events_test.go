package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

func stdJSON(t testing.TB, e *forensics.Event) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return forensics.EscapeInvisibles(buf.Bytes())
}

func sampleEvent() forensics.Event {
	lat := 37.5
	return forensics.Event{
		ID: "ev-0123456789abcdef", Time: forensics.NewTime(time.Date(2025, 6, 24, 0, 3, 35, 123456789, time.UTC)),
		TimeRaw: "24/Jun/2025:00:03:35 +0000", SourceKind: "web",
		SrcIP: netip.MustParseAddr("10.0.0.2"), SrcPort: 443, ClientIP: netip.MustParseAddr("2001:db8::1"),
		ProxyChain: []forensics.ProxyHop{{IP: "2001:db8::1", Trusted: false}, {IP: "10.0.0.2", Trusted: true}},
		DstIP:      netip.MustParseAddr("192.0.2.1"), DstPort: 8443, Method: "GET", Host: "h", Path: "/a?b=<c>&d",
		Status: 200, Bytes: 1 << 40, UserAgent: "ua \"q\" \\ \x00\x1f\x7f \u2028\u2029 é \xff\xfe <>&", Referrer: "-",
		User: "u", Credential: "c", Action: "a", Indicators: map[string]string{"z": "1", "a": "\t"},
		Flags:    []string{"line_truncated", "tz_assumed:UTC"},
		SrcGeo:   &enrich.Record{IP: netip.MustParseAddr("2001:db8::1"), Class: "documentation", Lat: &lat, Country: "KR"},
		Evidence: forensics.EvidenceRef{File: "a\"b.log", SHA256: "ff", Line: 7, Offset: 1234},
	}
}

func TestEventEncoderMatchesJSON(t *testing.T) {
	full := sampleEvent()
	cases := map[string]forensics.Event{
		"full":                 full,
		"minimal":              {ID: "ev-1", SourceKind: "ssh", Evidence: forensics.EvidenceRef{File: "f"}},
		"zero time and packet": {ID: "x", Evidence: forensics.EvidenceRef{File: "f", Packet: 3}},
	}
	// and every golden event of the log parsers
	golden, _ := filepath.Glob(filepath.Join("..", "..", "forensics", "logs", "testdata", "golden", "*.jsonl"))
	for _, g := range golden {
		f, err := os.Open(g)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), `{"id":"ev-`) {
				continue
			}
			var e forensics.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: %v", g, err)
			}
			n++
			cases[filepath.Base(g)+"#"+itoa(n)] = e
		}
		f.Close()
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			var geo []byte
			if e.SrcGeo != nil {
				geo, _ = json.Marshal(e.SrcGeo)
			}
			got := append(forensics.AppendEventJSONGeo(nil, &e, geo), '\n')
			if want := stdJSON(t, &e); !bytes.Equal(got, want) {
				t.Errorf("encoder differs\n got %s\nwant %s", got, want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzEventEncoder(f *testing.F) {
	f.Add("ua \"q\" \\ \x00\x1f", "/p\u2028", "\xff\xfe", "k", "v")
	f.Fuzz(func(t *testing.T, ua, path, user, k, v string) {
		e := sampleEvent()
		e.UserAgent, e.Path, e.User = ua, path, user
		e.Indicators = map[string]string{k: v}
		e.Flags = []string{v}
		e.ProxyChain[0].IP = k
		geo, _ := json.Marshal(e.SrcGeo)
		got := append(forensics.AppendEventJSONGeo(nil, &e, geo), '\n')
		if want := stdJSON(t, &e); !bytes.Equal(got, want) {
			t.Fatalf("encoder differs\n got %q\nwant %q", got, want)
		}
	})
}

// TestEventsCommand runs `tracehop events` in-process on the parser
// samples: output is deterministic, carries each input's SHA-256, and a
// malformed line gives exit code 3.
func TestEventsCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.log")
	os.WriteFile(good, []byte(`203.0.113.7 - - [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"`+"\n"), 0o644)
	bad := filepath.Join(dir, "b.log")
	os.WriteFile(bad, []byte(`198.51.100.1 - - [24/Jun/2025:00:03:36 +0000] "GET /x HTTP/1.1" 404 0 "-" "ua"`+"\n"+
		`198.51.100.1 - - [99/Jun/2025:00:03:36 +0000] "GET /x HTTP/1.1" 404 0 "-" "ua"`+"\n"), 0o644)
	format := "jsonl"
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		g := &globalOptions{io: &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, TZ: "UTC", NoEnrich: true, Format: format}
		err := runEvents(context.Background(), &eventsOptions{g: g, Inputs: args, MaxLine: 65536, MaxField: 8192})
		return out.String(), errOut.String(), err
	}
	out1, errs, err := run(dir)
	if err == nil || !strings.Contains(err.Error(), "1 malformed") {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(errs, "b.log line 2") {
		t.Errorf("stderr %q", errs)
	}
	lines := strings.Split(strings.TrimSpace(out1), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "203.0.113.7") || !strings.Contains(lines[1], "198.51.100.1") {
		t.Fatalf("out %s", out1)
	}
	var e forensics.Event
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || len(e.Evidence.SHA256) != 64 || e.Evidence.Line != 1 {
		t.Fatalf("event %+v %v", e, err)
	}
	out2, _, _ := run(dir)
	if out1 != out2 {
		t.Error("output differs between runs")
	}
	format = "csv"
	csv, _, err := run(good)
	if err != nil || !strings.HasPrefix(csv, "bytes,client_ip,evidence.file,evidence.line,evidence.offset,evidence.sha256,id,") || !strings.Contains(csv, ",203.0.113.7,") {
		t.Errorf("csv %q %v", csv, err)
	}
}

// TestOutputsNeutraliseInvisibles: evidence strings with terminal escapes,
// C1 controls and bidirectional overrides reach no output raw. JSON keeps
// them exact as escapes; CSV and the bundle show them as \x.. / \u....
func TestOutputsNeutraliseInvisibles(t *testing.T) {
	ua := "\x1b]0;pwned\x07\x1b[31mred x\u009b31m \u202eexe.gnp\u202c zw\u200b \U000E0041"
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	line := `203.0.113.9 - - [24/Jun/2025:00:00:00 +0000] "GET /=1+1 HTTP/1.1" 200 5 "-" "` + ua + `"` + "\n"
	if err := os.WriteFile(log, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	raw := func(t *testing.T, what, s string) {
		t.Helper()
		for _, r := range s {
			if r == 0x1b || r == 0x07 || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x200b || r == 0xE0041 {
				t.Errorf("%s holds %U raw", what, r)
			}
		}
	}
	out, errOut, code := runCLI(t, "events", "--no-enrich", "-q", log)
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, errOut)
	}
	raw(t, "events jsonl", out)
	var ev forensics.Event
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.UserAgent != ua {
		t.Errorf("jsonl user_agent %q (%v), want the exact %q", ev.UserAgent, err, ua)
	}
	out, _, _ = runCLI(t, "events", "--no-enrich", "-q", "--format", "csv", log)
	raw(t, "events csv", out)
	if want := `\x1b]0;pwned\x07\x1b[31mred x\x9b31m \u202eexe.gnp\u202c zw\u200b \U000e0041`; !strings.Contains(out, want) {
		t.Errorf("events csv:\n%s\nwant the cell %s", out, want)
	}
	bundle := filepath.Join(dir, "out")
	if _, errOut, code := runCLI(t, "analyze", "-q", "--no-enrich", "--out", bundle, log); code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(bundle, "*"))
	for _, f := range files {
		if strings.HasSuffix(f, ".pdf") {
			continue // text drawn as glyphs, markers for the invisibles
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw(t, filepath.Base(f), string(b))
	}
}
