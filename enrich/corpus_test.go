package enrich

import (
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// corpusDir is ../shared/corpus relative to the repository root; tests
// that need it skip when it is absent.
func corpusDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "corpus", "mmdb")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	return dir
}

// sourceEntry is one network of MaxMind's test source data.
type sourceEntry struct {
	prefix netip.Prefix
	data   map[string]any
}

// readSourceData parses a MaxMind-DB source-data file: a list of
// {"network": record} objects. IPv4 networks written in their IPv6 form
// (::1.2.0.0/112) are turned back into IPv4.
func readSourceData(t *testing.T, path string) []sourceEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []sourceEntry
	for _, m := range raw {
		for k, v := range m {
			p, err := netip.ParsePrefix(k)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, k, err)
			}
			if a := p.Addr(); a.Is6() && strings.Count(k, ".") == 3 && p.Bits() >= 96 {
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte(a.AsSlice()[12:16])), p.Bits()-96)
			}
			out = append(out, sourceEntry{prefix: p.Masked(), data: v})
		}
	}
	return out
}

// get follows keys through decoded JSON.
func get(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) (float64, bool) { f, ok := v.(float64); return f, ok }

// TestMaxMindSourceData walks every network of MaxMind's test source data
// and checks that tracehop answers what the source says, field by field.
// An address also covered by a more specific network of the same file is
// not that network's to answer, and addresses tracehop deliberately looks
// up differently (local ranges; tunnels, looked up by their IPv4) are
// skipped and counted.
func TestMaxMindSourceData(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{
		"GeoIP2-City-Test", "GeoIP2-Country-Test", "GeoLite2-ASN-Test",
		"GeoIP2-Anonymous-IP-Test", "GeoIP2-Connection-Type-Test", "GeoIP2-Domain-Test",
	} {
		t.Run(name, func(t *testing.T) {
			entries := readSourceData(t, filepath.Join(dir, "source-data", name+".json"))
			e, err := New(Options{Paths: []string{filepath.Join(dir, name+".mmdb")}, NoEmbedded: true})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			checked, skipped := 0, 0
			for _, en := range entries {
				for _, addr := range []netip.Addr{en.prefix.Addr(), lastAddr(en.prefix)} {
					if overridden(entries, en.prefix, addr) {
						continue
					}
					if class, emb := Classify(addr); isLocalClass(class) || emb.IsValid() {
						skipped++
						continue
					}
					rec := e.Lookup(addr, time.Time{})
					checkRecord(t, en, addr, rec)
					checked++
				}
			}
			t.Logf("%s: %d networks, %d addresses checked, %d skipped (local or tunnelled)", name, len(entries), checked, skipped)
			if checked < len(entries) {
				t.Errorf("only %d addresses checked for %d networks", checked, len(entries))
			}
		})
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := range 8 {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// overridden reports whether a more specific network of the same source
// data covers addr.
func overridden(entries []sourceEntry, p netip.Prefix, addr netip.Addr) bool {
	for _, o := range entries {
		if o.prefix.Bits() > p.Bits() && o.prefix.Contains(addr) {
			return true
		}
	}
	return false
}

func checkRecord(t *testing.T, en sourceEntry, addr netip.Addr, rec Record) {
	t.Helper()
	d := en.data
	fail := func(field string, got, want any) {
		t.Helper()
		t.Errorf("%s (network %s): %s = %v, want %v", addr, en.prefix, field, got, want)
	}
	if w := str(get(d, "country", "iso_code")); w != "" && rec.Country != w {
		fail("country", rec.Country, w)
	}
	if w := str(get(d, "country", "names", "en")); w != "" && rec.CountryName != w {
		fail("country_name", rec.CountryName, w)
	}
	if w := str(get(d, "registered_country", "iso_code")); w != "" && rec.RegisteredCountry != w {
		fail("registered_country", rec.RegisteredCountry, w)
	}
	if w := str(get(d, "city", "names", "en")); w != "" && rec.City != w {
		fail("city", rec.City, w)
	}
	if subs, _ := get(d, "subdivisions").([]any); len(subs) > 0 {
		s0, _ := subs[0].(map[string]any)
		w := str(get(s0, "names", "en"))
		if w == "" {
			w = str(get(s0, "iso_code"))
		}
		if rec.Subdivision != w {
			fail("subdivision", rec.Subdivision, w)
		}
	}
	if w, ok := num(get(d, "location", "latitude")); ok && (rec.Lat == nil || math.Abs(*rec.Lat-w) > 1e-9) {
		fail("lat", rec.Lat, w)
	}
	if w, ok := num(get(d, "location", "longitude")); ok && (rec.Lon == nil || math.Abs(*rec.Lon-w) > 1e-9) {
		fail("lon", rec.Lon, w)
	}
	if w, ok := num(get(d, "location", "accuracy_radius")); ok && float64(rec.AccuracyKM) != w {
		fail("accuracy_km", rec.AccuracyKM, w)
	}
	if w, ok := num(get(d, "autonomous_system_number")); ok && float64(rec.ASN) != w {
		fail("asn", rec.ASN, w)
	}
	if w := str(get(d, "autonomous_system_organization")); rec.ASOrg != w && get(d, "autonomous_system_number") != nil {
		fail("as_org", rec.ASOrg, w)
	}
	if w := str(get(d, "isp")); w != "" && rec.ISP != w {
		fail("isp", rec.ISP, w)
	}
	if w := str(get(d, "connection_type")); w != "" && rec.ConnectionType != w {
		fail("connection_type", rec.ConnectionType, w)
	}
	if w := str(get(d, "domain")); w != "" && rec.Domain != w {
		fail("domain", rec.Domain, w)
	}
	if get(d, "is_anonymous") != nil {
		flag := func(k string) bool { b, _ := get(d, k).(bool); return b }
		want := Anonymous{
			VPN:              flag("is_anonymous_vpn"),
			Tor:              flag("is_tor_exit_node"),
			Hosting:          flag("is_hosting_provider"),
			Proxy:            flag("is_public_proxy"),
			ResidentialProxy: flag("is_residential_proxy"),
		}
		var got Anonymous
		if rec.Anonymous != nil {
			got = *rec.Anonymous
		}
		if got != want {
			fail("anonymous", got, want)
		}
	}
	if w, _ := get(d, "traits", "is_anycast").(bool); w != rec.Anycast {
		fail("anycast", rec.Anycast, w)
	}
	// Provenance: one source, the test database, naming the network that
	// matched (the writer may have merged neighbours with equal data).
	if rec.Sources.Len() == 0 && !reportable(d) {
		return
	}
	if rec.Sources.Len() != 1 {
		t.Errorf("%s: %d sources, want 1: %+v", addr, rec.Sources.Len(), rec.Sources)
		return
	}
	s := rec.Sources.At(0)
	if s.SHA256 == "" || s.Build == "" || s.Type == "" || !s.Network.Contains(addr) || rec.Network != s.Network {
		t.Errorf("%s: source %+v does not fit network %s", addr, s, en.prefix)
	}
}

// TestMaxMindHeldOut checks the ISP and Enterprise test databases, whose
// source data is held out, against geoip2-golang's own reader on every
// network of the database.
func TestMaxMindHeldOut(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"GeoIP2-ISP-Test", "GeoIP2-Enterprise-Test"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".mmdb")
			e, err := New(Options{Paths: []string{path}, NoEmbedded: true})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ref, err := geoip2.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			mm, err := maxminddb.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer mm.Close()
			n := 0
			for res := range mm.Networks() {
				addr := res.Prefix().Addr()
				if class, emb := Classify(addr); isLocalClass(class) || emb.IsValid() {
					continue
				}
				rec := e.Lookup(addr, time.Time{})
				n++
				if name == "GeoIP2-ISP-Test" {
					w, err := ref.ISP(addr)
					if err != nil {
						t.Fatal(err)
					}
					if rec.ISP != w.ISP || rec.ASN != uint32(w.AutonomousSystemNumber) || rec.ASOrg != w.AutonomousSystemOrganization {
						t.Errorf("%s: isp %q asn %d org %q, want %q %d %q", addr, rec.ISP, rec.ASN, rec.ASOrg, w.ISP, w.AutonomousSystemNumber, w.AutonomousSystemOrganization)
					}
					continue
				}
				w, err := ref.Enterprise(addr)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Country != w.Country.ISOCode || rec.City != w.City.Names.English ||
					rec.ASN != uint32(w.Traits.AutonomousSystemNumber) || rec.ISP != w.Traits.ISP ||
					rec.AccuracyKM != w.Location.AccuracyRadius || rec.ConnectionType != w.Traits.ConnectionType {
					t.Errorf("%s: got %+v, want enterprise %+v", addr, rec, w)
				}
			}
			if n == 0 {
				t.Fatal("no networks walked")
			}
			t.Logf("%s: %d networks compared", name, n)
		})
	}
}

// TestBrokenDatabases: every broken database of the corpus gives an
// error from New, Verify or the lookups, and nothing panics.
func TestBrokenDatabases(t *testing.T) {
	dir := corpusDir(t)
	var files []string
	filepath.WalkDir(filepath.Join(dir, "broken"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mmdb") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no broken databases in corpus")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Verify(f); err == nil {
				t.Errorf("Verify(%s) = nil, want an error", f)
			} else if !strings.Contains(err.Error(), f) {
				t.Errorf("error %q does not name the file", err)
			}
			e, err := New(Options{Paths: []string{f}, NoEmbedded: true})
			if err != nil {
				return // refused at open: fine
			}
			defer e.Close()
			for _, s := range []string{"1.1.1.1", "1.1.1.3", "1.1.1.32", "::1.1.1.1", "2001:db8::1", "8.8.8.8", "255.255.255.255"} {
				e.Lookup(netip.MustParseAddr(s), time.Time{}) // must not panic
			}
		})
	}
}

// reportable says whether a source record holds anything a Record reports
// (continent-only records, for instance, do not).
func reportable(d map[string]any) bool {
	for _, k := range []string{"country", "registered_country", "city", "subdivisions", "location",
		"autonomous_system_number", "isp", "connection_type", "domain", "is_anonymous"} {
		if d[k] != nil {
			return true
		}
	}
	b, _ := get(d, "traits", "is_anycast").(bool)
	return b
}
