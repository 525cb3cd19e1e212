package casefile

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQueryMatchesBruteForce stores records, writes them out as JSON Lines
// (what `tracehop events|flows|sessions` print) and checks that every
// filter returns exactly what a plain scan of those lines selects, written
// here from the Filter documentation rather than from the query code.
func TestQueryMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	path, f := newTestCase(t)
	for seed := uint64(1); seed <= 3; seed++ {
		if _, err := f.AddEvidence(ctx, testBatch(seed, 1500, 700)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := f.Load(ctx, LoadOptions{NoDerived: true})
	if err != nil {
		t.Fatal(err)
	}
	d := testDerived(c)
	if err := f.ReplaceDerived(ctx, d); err != nil {
		t.Fatal(err)
	}
	f.Close()

	jsonl := map[string][]string{
		KindEvents:   jsonLines(t, c.Events),
		KindFlows:    jsonLines(t, c.Flows),
		KindSessions: jsonLines(t, d.Sessions),
	}
	members := map[string]bool{}
	for _, s := range d.Campaigns[0].Sessions {
		members[s] = true
	}
	// Events and flows belong to the campaign when they come from a
	// member session's source during that session.
	type span struct{ start, end time.Time }
	windows := map[netip.Addr][]span{}
	for _, s := range d.Sessions {
		if members[s.ID] {
			windows[s.SrcIP.Unmap()] = append(windows[s.SrcIP.Unmap()], span{s.Start.Time, s.End.Time})
		}
	}
	inCampaign := func(b *bruteRec) bool {
		if b.kind == KindSessions {
			return members[b.id]
		}
		for _, w := range windows[b.ips[0]] {
			if !b.start.After(w.end) && !b.end.Before(w.start) {
				return true
			}
		}
		return false
	}

	parsed := map[string][]bruteRec{}
	for kind, lines := range jsonl {
		for _, line := range lines {
			parsed[kind] = append(parsed[kind], parseBrute(t, kind, line))
		}
	}
	r, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
	var someIP, v6 netip.Addr
	for _, e := range c.Events {
		if a := e.Actor(); a.Is4() && !someIP.IsValid() {
			someIP = a
		} else if a.Is6() && !v6.IsValid() {
			v6 = a
		}
	}
	for _, tc := range []struct {
		name string
		flt  Filter
	}{
		{"all", Filter{}},
		{"ip", Filter{IP: someIP}},
		{"ipv6", Filter{IP: v6}},
		{"ip v4-mapped", Filter{IP: netip.AddrFrom16(someIP.As16())}},
		{"cidr /24", Filter{CIDR: netip.PrefixFrom(someIP, 24).Masked()}},
		{"cidr /16", Filter{CIDR: netip.MustParsePrefix("70.1.0.0/16")}},
		{"cidr v6", Filter{CIDR: netip.MustParsePrefix("2001::/16")}},
		{"asn", Filter{ASN: 37963}},
		{"country lower case", Filter{Country: "cn"}},
		{"asn and time", Filter{ASN: 37963, From: day(7, 1), To: day(10, 1)}},
		{"from", Filter{From: day(8, 15)}},
		{"to", Filter{To: day(7, 1)}},
		{"window", Filter{From: day(7, 10), To: day(7, 20)}},
		{"credential", Filter{Credential: "k2019-legacy"}},
		{"user agent substring", Filter{UserAgent: "python-requests"}},
		{"campaign", Filter{Campaign: "ca-test"}},
		{"campaign none", Filter{Campaign: "ca-nothing"}},
		{"everything", Filter{Country: "US", Credential: "k2024-prod", UserAgent: "curl", From: day(6, 1)}},
		{"limit", Filter{Limit: 7}},
	} {
		for _, kind := range []string{KindEvents, KindFlows, KindSessions} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				var got []string
				err := r.Query(ctx, kind, tc.flt, func(js []byte) error {
					got = append(got, string(js))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i, line := range jsonl[kind] {
					if parsed[kind][i].match(tc.flt, inCampaign) {
						want = append(want, line)
					}
				}
				if tc.flt.Limit > 0 && len(want) > tc.flt.Limit {
					want = want[:tc.flt.Limit]
				}
				if !slices.Equal(got, want) {
					t.Errorf("query returned %d records, brute force %d", len(got), len(want))
				}
				if len(got) == 0 && !strings.Contains(tc.name, "none") && !(kind == KindFlows && tc.flt.Credential != "") {
					t.Error("no records: the case tests nothing")
				}
			})
		}
	}
}

func jsonLines[T any](t *testing.T, recs []T) []string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// bruteRec is one JSON line decoded generically, with the values the
// Filter documentation says each kind is matched on.
type bruteRec struct {
	kind       string
	id         string
	ips        []netip.Addr
	geos       []map[string]any
	start, end time.Time
	creds      []string
	ua         string
}

func parseBrute(t *testing.T, kind, line string) bruteRec {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	obj := func(m map[string]any, k string) map[string]any { o, _ := m[k].(map[string]any); return o }
	addr := func(s string) netip.Addr { a, _ := netip.ParseAddr(s); return a.Unmap() }
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	b := bruteRec{kind: kind, id: str(rec, "id")}
	switch kind {
	case KindEvents:
		actor := str(rec, "client_ip")
		if actor == "" {
			actor = str(rec, "src_ip")
		}
		b.ips = []netip.Addr{addr(actor), addr(str(rec, "src_ip"))}
		b.geos = []map[string]any{obj(rec, "src_geo")}
		b.start = ts(str(rec, "time"))
		b.end = b.start
		b.creds = []string{str(rec, "credential")}
		b.ua = str(rec, "user_agent")
	case KindFlows:
		b.ips = []netip.Addr{addr(str(rec, "src_ip")), addr(str(rec, "dst_ip"))}
		b.geos = []map[string]any{obj(rec, "src_geo"), obj(rec, "dst_geo")}
		b.start, b.end = ts(str(rec, "start")), ts(str(rec, "end"))
		if h := obj(rec, "http"); h != nil {
			b.ua = str(h, "user_agent")
		}
	case KindSessions:
		ind := obj(rec, "indicators")
		b.ips = []netip.Addr{addr(str(rec, "src_ip"))}
		b.geos = []map[string]any{obj(rec, "src_geo")}
		b.start, b.end = ts(str(rec, "start")), ts(str(rec, "end"))
		b.creds = []string{str(ind, "credential"), str(ind, "token_key_id")}
		b.ua = str(ind, "user_agent")
	}
	return b
}

func (b *bruteRec) match(flt Filter, inCampaign func(*bruteRec) bool) bool {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	num := func(m map[string]any, k string) uint32 { n, _ := m[k].(float64); return uint32(n) }
	if flt.IP.IsValid() && !slices.Contains(b.ips, flt.IP.Unmap()) {
		return false
	}
	if flt.CIDR.IsValid() && !slices.ContainsFunc(b.ips, flt.CIDR.Contains) {
		return false
	}
	if flt.ASN != 0 && !slices.ContainsFunc(b.geos, func(g map[string]any) bool { return g != nil && num(g, "asn") == flt.ASN }) {
		return false
	}
	if flt.Country != "" && !slices.ContainsFunc(b.geos, func(g map[string]any) bool {
		return g != nil && str(g, "country") == strings.ToUpper(flt.Country)
	}) {
		return false
	}
	if !flt.From.IsZero() && b.end.Before(flt.From) {
		return false
	}
	if !flt.To.IsZero() && !b.start.Before(flt.To) {
		return false
	}
	if flt.Credential != "" && !slices.Contains(b.creds, flt.Credential) {
		return false
	}
	if flt.UserAgent != "" && !strings.Contains(b.ua, flt.UserAgent) {
		return false
	}
	if flt.Campaign != "" {
		return flt.Campaign == "ca-test" && inCampaign(b)
	}
	return true
}

// TestMergeWindows: overlapping spans merge, disjoint ones stay, in
// order; a record matches the merged windows exactly when it overlaps
// one of the spans given.
func TestMergeWindows(t *testing.T) {
	spans := [][2]int64{{50, 60}, {1, 5}, {5, 9}, {20, 30}, {25, 26}, {100, 100}, {28, 40}}
	got := mergeWindows(slices.Clone(spans))
	want := [][2]int64{{1, 9}, {20, 40}, {50, 60}, {100, 100}}
	if !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	m := &matcher{kind: KindEvents, flt: Filter{Campaign: "c"}, windows: map[netip.Addr][][2]int64{{}: got}}
	for s := int64(-2); s <= 105; s++ {
		for e := s; e <= s+12; e++ {
			overlap := false
			for _, w := range spans {
				overlap = overlap || (s <= w[1] && e >= w[0])
			}
			if m.match(&recKey{tStart: s, tEnd: e}) != overlap {
				t.Errorf("record [%d,%d]: match %v, want %v", s, e, !overlap, overlap)
			}
		}
	}
}
