package enrich

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// lookupHits is lookupInPlace keeping what fillSources was given.
func lookupHits(e *Enricher, ip netip.Addr, at time.Time) (r Record, hits []hit, day int32, era int, hostingASN bool) {
	era, day = e.eraDay(at)
	var p probe
	hits, n, hostingASN := e.resolve(&p, &r, ip.WithZone(""), era, nil)
	if n > 0 {
		e.fillSources(&r, p.addr, hits, day, e.after[era], hostingASN)
	}
	return r, hits, day, era, hostingASN
}

// TestCompactSourcesMatchList: a compact list reads back as the list
// written out in full (names, fields, networks, snapshot distances),
// for the embedded data, dated snapshot sets and, with the corpus, all
// of MaxMind's test databases together (IPv6 trees searched by the
// library as well as the fast IPv4 search).
func TestCompactSourcesMatchList(t *testing.T) {
	snaps := filepath.Join(repoTestdata(t), "enrich", "snapshots")
	configs := []struct {
		name string
		opts Options
	}{
		{"embedded", Options{CacheSize: -1}},
		{"snapshots and embedded", Options{Paths: []string{snaps}, CacheSize: -1}},
	}
	_, file, _, _ := runtime.Caller(0)
	if dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "corpus", "mmdb"); fileExists(dir) {
		var paths []string
		for _, n := range []string{"GeoIP2-City-Test", "GeoIP2-Country-Test", "GeoLite2-ASN-Test", "GeoIP2-ISP-Test",
			"GeoIP2-Anonymous-IP-Test", "GeoIP2-Connection-Type-Test", "GeoIP2-Domain-Test", "GeoIP2-Enterprise-Test"} {
			if p := filepath.Join(dir, n+".mmdb"); fileExists(p) {
				paths = append(paths, p)
			}
		}
		configs = append(configs, struct {
			name string
			opts Options
		}{"corpus", Options{Paths: paths, CacheSize: -1}})
	}
	fixed := []string{"8.8.8.8", "1.1.1.1", "1.2.3.4", "2001:4860:4860::8888", "::ffff:1.1.1.1", "2002:c000:0204::1",
		"64:ff9b::808:808", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "81.2.69.160", "2.125.160.216", "216.160.83.56",
		"89.160.20.128", "2a02:cf40::1", "2001:218::1", "10.0.0.1", "fe80::1%eth0"}
	times := []time.Time{{}, day("2024-12-01"), day("2025-07-14"), day("2026-03-01")}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			e, err := New(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ips := make([]netip.Addr, 0, 3000)
			for _, s := range fixed {
				ips = append(ips, netip.MustParseAddr(s))
			}
			for len(ips) < cap(ips) {
				x := rng.Uint32()
				ips = append(ips, netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}))
			}
			compact := 0
			after := false
			for i, ip := range ips {
				ats := times // every time for the fixed addresses
				if i >= len(fixed) {
					ats = times[i%len(times) : i%len(times)+1]
				}
				for _, at := range ats {
					r, hits, day, era, hostingASN := lookupHits(e, ip, at)
					if r.Sources.Len() == 0 {
						continue
					}
					if r.Sources.set.compact {
						compact++
					}
					want := e.sourceList(hits, day, e.after[era], hostingASN)
					if got := r.Sources.List(); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s at %s:\n got %+v\nwant %+v", ip, at, got, want)
					}
					for j, s := range r.Sources.All() {
						if s.Network.IsValid() && !s.Network.Contains(r.Sources.addr) {
							t.Errorf("%s: source %d network %s does not hold the address", ip, j, s.Network)
						}
						after = after || s.AfterEvent
					}
				}
			}
			if compact == 0 {
				t.Error("no lookup kept its sources compact")
			}
			if c.opts.Paths != nil && c.opts.Paths[0] == snaps && !after {
				t.Error("no source built after the event: the flag went untested")
			}
		})
	}
}

// TestSourcesWrittenOut: the lists a compact one cannot hold (more
// sources than it has room for; a network that is not the address's own
// prefix) are written out in full, and read the same.
func TestSourcesWrittenOut(t *testing.T) {
	e, err := New(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ip := netip.MustParseAddr("8.8.8.8")
	_, hits, day, era, _ := lookupHits(e, ip, time.Time{})
	if len(hits) == 0 {
		t.Fatal("8.8.8.8: no answers")
	}
	many := make([]hit, maxCompactSources+1)
	for i := range many {
		many[i] = hits[0]
		many[i].used = fCountry
	}
	other := []hit{hits[0]}
	other[0].prefix = netip.MustParsePrefix("9.0.0.0/8") // not 8.8.8.8's
	for _, hs := range [][]hit{many, other} {
		var r Record
		e.fillSources(&r, ip, hs, day, e.after[era], true)
		if r.Sources.set.compact {
			t.Fatalf("%d hits: compact", len(hs))
		}
		want := e.sourceList(hs, day, e.after[era], true)
		if got := r.Sources.List(); !reflect.DeepEqual(got, want) || len(got) != len(hs)+1 {
			t.Fatalf("%d hits:\n got %+v\nwant %+v", len(hs), got, want)
		}
	}
}

// TestSourcesJSON: Sources is written as []Source is, with and without
// HTML escaping, omitted when empty, and read back.
func TestSourcesJSON(t *testing.T) {
	d := 3
	lists := [][]Source{
		nil,
		{},
		{{DB: "a<b>&c", Type: "GeoIP2-City", Build: "2025-01-01T00:00:00Z", SHA256: "ab", Network: netip.MustParsePrefix("192.0.2.0/24"), Fields: []string{"city", "country"}}},
		{{DB: "x"}, {DB: "y\u2028", Fields: []string{"asn"}, SnapshotDistanceDays: &d, AfterEvent: true}},
	}
	type asSlice struct {
		S []Source `json:"s,omitempty"`
	}
	type asSources struct {
		S Sources `json:"s,omitzero"`
	}
	enc := func(v any, html bool) []byte {
		var b bytes.Buffer
		en := json.NewEncoder(&b)
		en.SetEscapeHTML(html)
		if err := en.Encode(v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, l := range lists {
		for _, html := range []bool{true, false} {
			want := enc(asSlice{l}, html)
			got := enc(asSources{MakeSources(l)}, html)
			if !bytes.Equal(got, want) {
				t.Errorf("html %v:\n got %s\nwant %s", html, got, want)
			}
			var back asSources
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if len(l) > 0 && !reflect.DeepEqual(back.S.List(), l) {
				t.Errorf("read back %+v, want %+v", back.S.List(), l)
			}
			if len(l) == 0 && !back.S.IsZero() {
				t.Errorf("empty list read back as %+v", back.S)
			}
		}
	}
	// A compact list from a lookup, against its list written out.
	e, err := New(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := e.Lookup(netip.MustParseAddr("1.1.1.1"), time.Time{})
	if !r.Sources.set.compact {
		t.Fatal("1.1.1.1: sources not compact")
	}
	if got, want := enc(asSources{r.Sources}, true), enc(asSlice{r.Sources.List()}, true); !bytes.Equal(got, want) {
		t.Errorf("compact:\n got %s\nwant %s", got, want)
	}
}
