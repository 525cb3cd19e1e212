package analyze

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/capture"
)

// testEnrichers returns the embedded data alone, and with the generated
// snapshot builds before it (records that depend on the lookup time).
func testEnrichers(t *testing.T) []*enrich.Enricher {
	snapshots := filepath.Join("..", "..", "testdata", "enrich", "snapshots")
	var out []*enrich.Enricher
	for _, opts := range []enrich.Options{{}, {Paths: []string{snapshots}}} {
		e, err := enrich.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		out = append(out, e)
	}
	return out
}

// TestPreparedGeoMatchesLookup: src_geo looked up ahead of a batch
// (prepare, through LookupBatch) encodes to the same lines as looking
// each event up on its own, for repeated, local, IPv6, zoned and missing
// addresses, events that carry their own record, snapshot builds chosen
// by time, and enough keys to clear the encoder's cache on the way.
func TestPreparedGeoMatchesLookup(t *testing.T) {
	for _, e := range testEnrichers(t) {
		rng := rand.New(rand.NewPCG(1, 9))
		fixed := []netip.Addr{
			netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("8.8.8.8"),
			netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:4860:4860::8888"),
			netip.MustParseAddr("fe80::1%eth0"), {},
		}
		own := e.Lookup(netip.MustParseAddr("9.9.9.9"), time.Time{})
		base := time.Date(2025, 6, 14, 20, 0, 0, 0, time.UTC)
		var events []forensics.Event
		for i := range 3 * maxGeoJSON / 2 {
			var ip netip.Addr
			if i%3 == 0 {
				ip = fixed[rng.IntN(len(fixed))]
			} else {
				x := rng.Uint32()
				ip = netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
			}
			ev := forensics.Event{ID: "ev-x", SourceKind: "web", SrcIP: ip,
				Time: forensics.Time{Time: base.Add(time.Duration(rng.IntN(400*24)) * time.Hour)}}
			if i%50 == 7 {
				ev.ClientIP, ev.SrcIP = ip, netip.MustParseAddr("10.0.0.9")
			}
			if i%97 == 5 {
				ev.SrcGeo = &own
			}
			events = append(events, ev)
		}
		var single, batched []byte
		one, many := newEventEncoder(e), newEventEncoder(e)
		for lo := 0; lo < len(events); lo += 128 {
			batch := events[lo:min(lo+128, len(events))]
			for i := range batch {
				single = one.appendLine(single, &batch[i])
			}
			many.prepare(batch)
			for i := range batch {
				batched = many.appendLine(batched, &batch[i])
			}
		}
		if !bytes.Equal(single, batched) {
			a, b := bytes.Split(single, []byte("\n")), bytes.Split(batched, []byte("\n"))
			for i := range a {
				if !bytes.Equal(a[i], b[i]) {
					t.Fatalf("%d databases: line %d:\nalone    %s\nprepared %s", len(e.Databases()), i+1, a[i], b[i])
				}
			}
		}
	}
}

// TestGeoPerEra: an address's src_geo is reused within a day only while
// the same snapshot builds answer. With a build made at noon, an event
// at 08:00 and one at 20:00 the same day get the older and the newer
// build, whichever comes first.
func TestGeoPerEra(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []struct {
		name, cc string
		built    time.Time
	}{
		{"geo-a.mmdb", "KR", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"geo-b.mmdb", "JP", time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)},
	} {
		tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24,
			IPVersion: 4, BuildEpoch: b.built.Unix()})
		if err != nil {
			t.Fatal(err)
		}
		_, n, _ := net.ParseCIDR("1.2.3.0/24")
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(b.cc)}}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, b.name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tree.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	e, err := enrich.New(enrich.Options{Paths: []string{dir}, NoEmbedded: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ip := netip.MustParseAddr("1.2.3.4")
	at := func(h int) forensics.Event {
		return forensics.Event{ID: "ev", SrcIP: ip, Time: forensics.Time{Time: time.Date(2025, 6, 15, h, 0, 0, 0, time.UTC)}}
	}
	for _, order := range [][]int{{8, 20}, {20, 8}} {
		for _, prepared := range []bool{false, true} {
			enc := newEventEncoder(e)
			batch := []forensics.Event{at(order[0]), at(order[1])}
			if prepared {
				enc.prepare(batch)
			}
			for i := range batch {
				want := `"country":"KR"`
				if batch[i].Time.Hour() == 20 {
					want = `"country":"JP"`
				}
				if line := string(enc.appendLine(nil, &batch[i])); !strings.Contains(line, want) {
					t.Errorf("order %v, prepared %v, %02d:00: want %s in %s", order, prepared, batch[i].Time.Hour(), want, line)
				}
			}
		}
	}
}

// TestEncodeRunGeoMatchesRecords: flows enriched through the batched
// geoJSONCache (encodeRun) encode as they did with each end looked up on
// its own and encoded from its record, including ends the reader already
// enriched, missing ends and snapshot builds chosen by time.
func TestEncodeRunGeoMatchesRecords(t *testing.T) {
	for _, e := range testEnrichers(t) {
		rng := rand.New(rand.NewPCG(3, 4))
		pick := func() netip.Addr {
			switch rng.IntN(6) {
			case 0:
				return netip.MustParseAddr("1.2.3.4")
			case 1:
				return netip.Addr{}
			case 2:
				return netip.MustParseAddr("2001:4860:4860::8888")
			}
			x := rng.Uint32()
			return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
		}
		own := e.Lookup(netip.MustParseAddr("9.9.9.9"), time.Time{})
		base := time.Date(2025, 6, 14, 20, 0, 0, 0, time.UTC)
		mk := func() []forensics.Flow {
			r := rand.New(rand.NewPCG(5, 6))
			var fs []forensics.Flow
			for i := range 1000 {
				f := forensics.Flow{ID: fmt.Sprintf("fl-%04d", i), Proto: "tcp", SrcIP: pick(), DstIP: pick(),
					Start:    forensics.Time{Time: base.Add(time.Duration(r.IntN(400*24)) * time.Hour)},
					Evidence: forensics.EvidenceRef{File: "x.pcap", SHA256: "ab"}}
				if i%37 == 3 {
					f.DstGeo = &own
				}
				fs = append(fs, f)
			}
			return fs
		}
		rng = rand.New(rand.NewPCG(3, 4))
		want := mk()
		rng = rand.New(rand.NewPCG(3, 4))
		fs := mk()
		var ref []string
		enc := capture.NewFlowEncoder()
		for _, j := range sortedIndex(want) {
			f := &want[j]
			enrichFlow(e, f)
			b, err := enc.Append(nil, f)
			if err != nil {
				t.Fatal(err)
			}
			ref = append(ref, string(b)+"\n")
		}
		n := 0
		if err := encodeRun(fs, e, func(r *encRec) error {
			if string(r.line) != ref[n] {
				t.Fatalf("%d databases: flow %d:\nbatched %s\nalone   %s", len(e.Databases()), n, r.line, ref[n])
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != len(ref) {
			t.Fatalf("%d flows encoded, want %d", n, len(ref))
		}
	}
}
