package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/report"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

// TestStreamSessionsMatchesRun: the streamed sessions stage writes the
// bytes (jsonl and csv) and provenance that Run's in-memory stage does,
// with items spilled in runs of a few (so the merge is exercised) and in
// one chunk: on the demo case (logs and a capture, enriched), on logs
// made to be hard (ties, inputs out of time order, user agents that
// differ only in invalid UTF-8, far times, long gaps that end sessions
// mid-run), and on the corpus when it is present.
func TestStreamSessionsMatchesRun(t *testing.T) {
	enr, err := enrich.New(enrich.Options{Home: "KR"})
	if err != nil {
		t.Fatal(err)
	}
	defer enr.Close()
	cases := map[string]struct {
		inputs []string
		enr    *enrich.Enricher
	}{
		"demo":      {[]string{filepath.Join("..", "..", "testdata", "demo")}, enr},
		"synthetic": {writeSessionLogs(t), enr},
	}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err == nil {
		cases["corpus"] = struct {
			inputs []string
			enr    *enrich.Enricher
		}{[]string{filepath.Join(corpus, "logs"), filepath.Join(corpus, "pcap")}, nil}
	} else {
		t.Log("corpus absent: its case skipped")
	}
	// Clock offsets on a capture (applied after reading) and a log
	// (applied by the parser): the items must carry the corrected times.
	cases["demo, clock offsets"] = cases["demo"]
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			opts := DefaultOptions()
			opts.Inputs, opts.Until, opts.Enricher, opts.Home = tc.inputs, StageSessions, tc.enr, "KR"
			if strings.Contains(name, "offsets") {
				opts.ClockOffsets = map[string]time.Duration{"edge.pcap": 90 * time.Minute, "api.jsonl": -7 * time.Second}
			}
			want, runErr := Run(ctx, opts)
			if want == nil || (runErr != nil && !errors.Is(runErr, ErrInput)) {
				t.Fatal(runErr)
			}
			if len(want.Sessions) < 3 {
				t.Fatalf("%d sessions: the case tests little", len(want.Sessions))
			}
			var wantJSONL, wantCSV bytes.Buffer
			if err := report.WriteRecords(&wantJSONL, "jsonl", want.Sessions); err != nil {
				t.Fatal(err)
			}
			if err := report.WriteRecords(&wantCSV, "csv", want.Sessions); err != nil {
				t.Fatal(err)
			}
			for _, chunk := range []int{5, SessionItemChunk} {
				sp, got, err := streamSessions(ctx, opts, report.NewCSVColumns(), chunk)
				if sp == nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if (err == nil) != (runErr == nil) {
					t.Errorf("chunk %d: error %v, Run's %v", chunk, err, runErr)
				}
				var gotJSONL, gotCSV bytes.Buffer
				if err := sp.Each(func(line []byte) error { gotJSONL.Write(line); return nil }); err != nil {
					t.Fatal(err)
				}
				rows, err := report.NewCSVRows(&gotCSV, sp.Columns().Header())
				if err != nil {
					t.Fatal(err)
				}
				if err := sp.Each(func(line []byte) error { return rows.Write(report.CompactJSON(line)) }); err != nil {
					t.Fatal(err)
				}
				if err := rows.Flush(); err != nil {
					t.Fatal(err)
				}
				sp.Close()
				if d := firstDiff(gotJSONL.String(), wantJSONL.String()); d != "" {
					t.Errorf("chunk %d: jsonl differs from Run's (%d vs %d sessions): %s", chunk, sp.Len(), len(want.Sessions), d)
				}
				if d := firstDiff(gotCSV.String(), wantCSV.String()); d != "" {
					t.Errorf("chunk %d: csv differs from Run's: %s", chunk, d)
				}
				for _, part := range []struct {
					name      string
					got, want any
				}{
					{"inputs", got.Inputs, want.Inputs},
					{"problems", got.Problems, want.Problems},
					{"caps", got.Caps, want.Caps},
					{"databases", got.Databases, want.Databases},
				} {
					g, _ := json.Marshal(part.got)
					w, _ := json.Marshal(part.want)
					if !bytes.Equal(g, w) {
						t.Errorf("chunk %d: %s differ\n got %.400s\nwant %.400s", chunk, part.name, g, w)
					}
				}
			}
		})
	}
}

// firstDiff describes where a and b first differ, or returns "".
func firstDiff(a, b string) string {
	if a == b {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-120)
	return fmt.Sprintf("at byte %d:\n got …%.240q\nwant …%.240q", i, a[lo:], b[lo:])
}

// writeSessionLogs writes four logs whose sessions are hard to stream:
// a combined log with many lines per second (ties broken by ID) and two
// user agents that differ only in an invalid byte; an ECS log, out of
// time order, with credentials, JWT-free key ids, far times and IPv6;
// a second combined log that starts before the first ends; and a third
// where one actor returns every 20 minutes among steady traffic.
func writeSessionLogs(t *testing.T) []string {
	dir := t.TempDir()
	t0 := time.Date(2025, 6, 24, 10, 0, 0, 0, time.UTC)
	var a, b, c, d []string
	for i := range 300 {
		// Background every 2 minutes for 10 hours, and one actor every
		// 20 minutes: its session stays open across sweeps.
		dt := t0.Add(time.Duration(i) * 2 * time.Minute)
		ip := fmt.Sprintf("192.0.2.%d", i%50)
		if i%10 == 0 {
			ip = "192.0.2.200"
		}
		d = append(d, fmt.Sprintf(`%s - - [%s] "GET /status HTTP/1.1" 200 1 "-" "probe"`, ip, dt.Format("02/Jan/2006:15:04:05 -0700")))
	}
	for i := range 400 {
		// Sessions end by gaps: every 50 lines a 40-minute pause.
		ts := t0.Add(time.Duration(i/4)*time.Second + time.Duration(i/50)*40*time.Minute)
		ua := "Mozilla/5.0 \xff"
		if i%3 == 0 {
			ua = "Mozilla/5.0 \xfe"
		}
		a = append(a, fmt.Sprintf(`198.51.100.%d - u%d [%s] "GET /api/items/%d?page=%d HTTP/1.1" %d %d "-" "%s"`,
			i%6, i%2, ts.Format("02/Jan/2006:15:04:05 -0700"), 1000+i, i%9, []int{200, 404, 401, 200}[i%4], i*10, ua))
		ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 5)}).String()
		if i%7 == 0 {
			ip = "2001:db8::" + fmt.Sprint(i%3)
		}
		et := t0.Add(time.Duration(400-i) * 13 * time.Second)
		if i == 17 {
			et = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
		}
		if i == 18 {
			et = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
		}
		b = append(b, fmt.Sprintf(`{"@timestamp":"%s","source":{"ip":"%s"},"url":{"path":"/v1/users/%d/orders"},"http":{"request":{"method":"%s"},"response":{"status_code":%d}},"user_agent":{"original":"okhttp/4.%d"},"user":{"id":"key-%d"}}`,
			et.Format(time.RFC3339Nano), ip, i, []string{"GET", "POST"}[i%2], []int{200, 403}[i%2], i%2, i%4))
		ct := t0.Add(time.Duration(i)*9*time.Second - time.Hour)
		c = append(c, fmt.Sprintf(`198.51.100.%d - - [%s] "GET /wp-login.php HTTP/1.1" 404 0 "-" "curl/8.%d"`,
			i%3, ct.Format("02/Jan/2006:15:04:05 -0700"), i%2))
	}
	var paths []string
	for name, lines := range map[string][]string{"a.log": a, "b.jsonl": b, "c.log": c, "d.log": d} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestItemRoundTrip: a spilled item comes back as it went, invalid UTF-8,
// zones, far times and empty values included.
func TestItemRoundTrip(t *testing.T) {
	items := []sortItem{
		{},
		{it: session.Item{Flow: true, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), End: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			ID: "fl-1", IP: netip.MustParseAddr("fe80::1%eth0"), Kind: "flow", Fingerprint: "ja4:t13d", Bytes: 1 << 61,
			Evidence: forensics.EvidenceRef{File: "a.pcap", Packet: 1 << 40, Offset: -1}}, input: 3, seq: 1 << 50, geo: 1<<32 - 1},
		{it: session.Item{Time: time.Unix(-62135596800, 0).UTC(), ID: "ev-\xff", IP: netip.MustParseAddr("198.51.100.7"), Kind: "web",
			UserAgent: "ua \xfe\x00", Credential: "k", Method: "GET", Path: "/a/1", User: "u", Action: "failure", Status: -3, Bytes: 5,
			KeyID: "kid", Issuer: "iss", JA3: "j3", JA4: "j4", HASSH: "h", Evidence: forensics.EvidenceRef{File: "b.log", Line: 9, Offset: 1234}}, input: 1, seq: 2},
	}
	var buf []byte
	for i := range items {
		buf = appendItem(buf[:0], &items[i])
		var got sortItem
		if err := decodeItem(buf, &got); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if want := normalItem(items[i]); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Errorf("item %d:\n got %#v\nwant %#v", i, got, want)
		}
		for cut := range len(buf) {
			var x sortItem
			if decodeItem(buf[:cut], &x) == nil {
				t.Fatalf("item %d cut to %d of %d bytes decoded without error", i, cut, len(buf))
			}
		}
	}
}

// normalItem is si as the spill gives it back: times in UTC from their
// Unix form (the zero time included).
func normalItem(si sortItem) sortItem {
	si.it.Time = time.Unix(si.it.Time.Unix(), int64(si.it.Time.Nanosecond())).UTC()
	if si.it.Flow {
		si.it.End = time.Unix(si.it.End.Unix(), int64(si.it.End.Nanosecond())).UTC()
	}
	return si
}

// TestStreamCampaignsMatchesRun: campaigns and hop chains from streamed
// sessions and the records kept for chains are Run's, byte for byte, and
// so are the chains of TraceRecords (`trace` without --campaign) and of
// all records sorted, on the
// demo case (campaigns), the relay case (a relay seen from two captures),
// hard logs with forwarded-for chains and the corpus when present.
func TestStreamCampaignsMatchesRun(t *testing.T) {
	enr := homeEnricher(t)
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for name, inputs := range matchCases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			opts, want, runErr := runMatchCase(t, name, inputs, enr)
			relay := strings.HasPrefix(name, "relay")
			if (name != "corpus" && !relay && len(want.Campaigns) == 0) || (name != "corpus" && name != "demo" && len(want.Chains) == 0) {
				t.Fatalf("%d campaigns, %d chains: the case tests little", len(want.Campaigns), len(want.Chains))
			}
			for _, chunk := range []int{5, SessionItemChunk} {
				got, err := streamCampaigns(ctx, opts, chunk)
				if (err == nil) != (runErr == nil) {
					t.Errorf("chunk %d: error %v, Run's %v", chunk, err, runErr)
				}
				if d := firstDiff(js(got.Campaigns), js(want.Campaigns)); d != "" {
					t.Errorf("chunk %d: campaigns differ (%d vs %d): %s", chunk, len(got.Campaigns), len(want.Campaigns), d)
				}
				if d := firstDiff(js(got.Chains), js(want.Chains)); d != "" {
					t.Errorf("chunk %d: chains differ (%d vs %d): %s", chunk, len(got.Chains), len(want.Chains), d)
				}
				if d := firstDiff(js(got.Inputs)+js(got.Problems)+js(got.Caps), js(want.Inputs)+js(want.Problems)+js(want.Caps)); d != "" {
					t.Errorf("chunk %d: provenance differs: %s", chunk, d)
				}
			}
			o := opts
			o.Until = StageIngest
			wantIn, _ := Run(ctx, o)
			SortRecords(wantIn)
			gotIn, _ := TraceRecords(ctx, o)
			wantChains, wantCaps := trace.BuildCaps(wantIn.Events, wantIn.Flows, nil, TraceOptions(o))
			if d := firstDiff(js(gotIn.Chains)+js(gotIn.Caps), js(wantChains)+js(append(wantIn.Caps, wantCaps...))); d != "" {
				t.Errorf("TraceRecords: chains differ: %s", d)
			}
			if len(gotIn.Events) != 0 {
				t.Errorf("TraceRecords holds %d events", len(gotIn.Events))
			}
			if d := firstDiff(js(gotIn.Inputs)+js(gotIn.Problems), js(wantIn.Inputs)+js(wantIn.Problems)); d != "" {
				t.Errorf("TraceRecords: provenance differs: %s", d)
			}
		})
	}
}

// homeEnricher is the embedded data with home country KR, closed when
// the test ends.
func homeEnricher(t *testing.T) *enrich.Enricher {
	enr, err := enrich.New(enrich.Options{Home: "KR"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enr.Close() })
	return enr
}

// matchCases are the inputs the streamed paths are held to Run on: the
// sample case, the relay case (also with a clock offset, applied by
// tests whose case name says "offset"), logs made to be hard and logs
// behind proxies, and the corpus when it is present.
func matchCases(t *testing.T) map[string][]string {
	cases := map[string][]string{
		"demo":      {filepath.Join("..", "..", "testdata", "demo")},
		"relay":     {filepath.Join("..", "..", "testdata", "relay")},
		"synthetic": append(writeSessionLogs(t), writeXFFLog(t)),
	}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err == nil {
		cases["corpus"] = []string{filepath.Join(corpus, "logs"), filepath.Join(corpus, "pcap")}
	}
	cases["relay, clock offset"] = cases["relay"]
	return cases
}

// runMatchCase runs Run on a case of matchCases: the options it used,
// its Case and its error (unusable inputs only).
func runMatchCase(t *testing.T, name string, inputs []string, enr *enrich.Enricher) (Options, *forensics.Case, error) {
	t.Helper()
	opts := DefaultOptions()
	opts.Inputs, opts.Enricher, opts.Home = inputs, enr, "KR"
	if strings.Contains(name, "offset") {
		opts.ClockOffsets = map[string]time.Duration{"victim.pcap": 30 * time.Millisecond}
	}
	want, runErr := Run(context.Background(), opts)
	if want == nil || (runErr != nil && !errors.Is(runErr, ErrInput)) {
		t.Fatal(runErr)
	}
	return opts, want, runErr
}

// writeXFFLog writes ECS lines behind proxies: forwarded-for paths of
// two and three addresses, some repeated (one chain, many events), from
// clients that also form campaigns by a shared credential.
func writeXFFLog(t *testing.T) string {
	t0 := time.Date(2025, 6, 24, 9, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 120 {
		xff := fmt.Sprintf("203.0.113.%d, 198.51.100.9", i%4)
		if i%5 == 0 {
			xff = fmt.Sprintf("192.0.2.%d, 203.0.113.7, 198.51.100.9", i%3)
		}
		lines = append(lines, fmt.Sprintf(`{"@timestamp":"%s","source":{"ip":"10.0.0.2"},"http":{"request":{"method":"GET","headers":{"x-forwarded-for":"%s"}},"response":{"status_code":200}},"url":{"path":"/api/v1/records/%d"},"user":{"id":"key-7"},"destination":{"ip":"192.0.2.80","port":443},"user_agent":{"original":"python-requests/2.31"}}`,
			t0.Add(time.Duration(i)*47*time.Second).Format(time.RFC3339Nano), xff, 1000+i))
	}
	p := filepath.Join(t.TempDir(), "xff.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}
