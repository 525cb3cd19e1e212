package enrich

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// Database kinds, from the database_type metadata.
type dbKind uint8

const (
	kindMapped dbKind = iota // vendor schema read through a Mapping
	kindCity                 // GeoIP2/GeoLite2 City and Country (same layout)
	kindEnterprise
	kindASN
	kindISP
	kindAnonymous
	kindConnectionType
	kindDomain
)

// ErrNotDatabase is returned for a file that is not a MaxMind DB.
var ErrNotDatabase = errors.New("not a MaxMind DB file")

// decodedSlots sizes the per-database cache of decoded records: a
// direct-mapped table of atomic pointers indexed by a hash of the record
// offset, about one slot per 8 bytes of data section (a country database
// gets the minimum, a city database a million). A collision only costs a second
// decode; the table never grows. dataSize is the size of the data
// section: what lies between the search tree and the metadata.
func decodedSlots(dataSize int) int {
	n := 1 << 12
	for n < dataSize/8 && n < 1<<20 {
		n <<= 1
	}
	return n
}

// metadataMarker starts the metadata section of a MaxMind DB.
var metadataMarker = []byte("\xab\xcd\xefMaxMind.com")

// database is one open build: a reader, its identity, and the records
// already decoded, keyed by their offset in the data section.
type database struct {
	info    DatabaseInfo
	reader  *maxminddb.Reader
	kind    dbKind
	mapping *compiledMapping
	build   time.Time
	day     int64 // build date in days since the Unix epoch (UTC)
	id      int   // index in the Enricher's byID (compact source lists)

	// answers caches decoded records by data offset, lock-free: entries
	// are immutable, a slot is replaced whole.
	answers []atomic.Pointer[answer]
	shift   uint // 64 - log2(len(answers))

	// v4 is the fast IPv4 search (nil: the library searches).
	v4 *tree4
}

// kindOf classifies a database_type the way geoip2-golang does, plus the
// ip-location-db conversions that declare GeoLite2 compatibility.
func kindOf(dbType string) (dbKind, bool) {
	switch dbType {
	case "GeoIP2-Anonymous-IP", "GeoIP-Anonymous-Plus":
		return kindAnonymous, true
	case "GeoLite2-ASN", "DBIP-ASN-Lite (compat=GeoLite2-ASN)":
		return kindASN, true
	case "GeoIP2-Connection-Type":
		return kindConnectionType, true
	case "GeoIP2-Domain":
		return kindDomain, true
	case "GeoIP2-ISP", "GeoIP2-Precision-ISP":
		return kindISP, true
	case "GeoIP2-Enterprise", "GeoIP-Enterprise-Redacted-US",
		"DBIP-ISP (compat=Enterprise)", "DBIP-Location-ISP (compat=Enterprise)":
		return kindEnterprise, true
	}
	switch {
	case strings.HasSuffix(dbType, "(compat=GeoLite2-ASN)"):
		return kindASN, true
	case strings.HasPrefix(dbType, "GeoIP2-City"), strings.HasPrefix(dbType, "GeoIP2-Precision-City"),
		dbType == "GeoLite2-City", dbType == "GeoIP-City-Redacted-US",
		dbType == "GeoIP2-Country", dbType == "GeoLite2-Country",
		dbType == "DBIP-City-Lite", dbType == "DBIP-Country-Lite", dbType == "DBIP-Country",
		dbType == "DBIP-Location (compat=City)", strings.HasSuffix(dbType, "(compat=City)"),
		strings.HasSuffix(dbType, "(compat=Country)"):
		return kindCity, true
	}
	return kindMapped, false
}

// openFile opens a database file, hashing it as it is read.
func openFile(name string, mappings []Mapping) (*database, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open database %s: not a regular file", name)
	}
	// The whole file is read once for its SHA-256; keeping those bytes
	// (rather than mapping the file again) means the hash always names
	// exactly the bytes that answer.
	h := sha256.New()
	var bb bytes.Buffer
	// One allocation when the stat size holds (capped: the size is only
	// a hint, and growing past it is still correct).
	bb.Grow(int(min(st.Size(), 1<<30)) + bytes.MinRead)
	_, err = bb.ReadFrom(io.TeeReader(f, h))
	buf := bb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read database %s: %w", name, err)
	}
	return openBytes(buf, hex.EncodeToString(h.Sum(nil)), filepath.Base(name), name, mappings)
}

// openBytes opens a database held in memory. sum is its SHA-256.
func openBytes(buf []byte, sum, base, path string, mappings []Mapping) (db *database, err error) {
	where := path
	if where == "" {
		where = base
	}
	defer func() {
		// maxminddb checks its input, but a database is evidence
		// infrastructure from anywhere: never let one take the process down.
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("open database %s: %w: %v", where, ErrNotDatabase, r)
		}
	}()
	r, err := maxminddb.OpenBytes(buf)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w: %w", where, ErrNotDatabase, err)
	}
	md := r.Metadata
	if md.IPVersion != 4 && md.IPVersion != 6 {
		r.Close()
		return nil, fmt.Errorf("open database %s: %w: ip_version %d", where, ErrNotDatabase, md.IPVersion)
	}
	db = &database{
		reader: r,
		build:  md.BuildTime().UTC(),
	}
	treeSize := int(md.NodeCount) * int(md.RecordSize) / 4
	dataSize := bytes.LastIndex(buf, metadataMarker) - treeSize - 16
	slots := decodedSlots(dataSize)
	db.answers = make([]atomic.Pointer[answer], slots)
	db.shift = uint(64 - bits.TrailingZeros(uint(slots)))
	db.day = floorDiv(db.build.Unix(), 86400)
	db.v4 = newTree4(buf, md.NodeCount, md.RecordSize, md.IPVersion, dataSize)
	db.info = DatabaseInfo{
		Name:      base,
		Path:      path,
		Type:      md.DatabaseType,
		Build:     db.build.Format(time.RFC3339),
		SHA256:    sum,
		IPVersion: int(md.IPVersion),
		NodeCount: md.NodeCount,
	}
	kind, known := kindOf(md.DatabaseType)
	db.kind = kind
	if !known {
		m := matchMapping(mappings, base, md.DatabaseType)
		name, fields := "generic", genericFields
		if m != nil {
			name, fields = m.Name, m.Fields
		}
		cm, err := compileMapping(name, fields)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("open database %s: %w", where, err)
		}
		db.mapping = cm
		db.info.Mapping = name
	} else if m := matchMapping(mappings, base, ""); m != nil {
		// A file name mapping also overrides a known layout (for example a
		// registry-derived country file published in the GeoLite2 layout).
		cm, err := compileMapping(m.Name, m.Fields)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("open database %s: %w", where, err)
		}
		db.kind, db.mapping, db.info.Mapping = kindMapped, cm, m.Name
	}
	return db, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// lookupAnswer returns the decoded record at res, decoding it on first use.
func (db *database) lookupAnswer(res maxminddb.Result) (*answer, error) {
	return db.answerAt(res.Offset(), &res)
}

// answerAt returns the decoded record at data offset off; on a miss it
// decodes res, or when res is nil a result made from the offset.
func (db *database) answerAt(off uintptr, res *maxminddb.Result) (*answer, error) {
	slot := db.slotOf(off)
	// The offset lives in the answer itself: one pointer load, no
	// separate entry to chase.
	if a := slot.Load(); a != nil && a.off == off {
		return a, nil
	}
	if res == nil {
		r := db.reader.LookupOffset(off)
		res = &r
	}
	a, err := db.decode(*res)
	if err != nil {
		return nil, err
	}
	a.off = off
	slot.Store(a)
	return a, nil
}

// slotOf is the cache slot of the record at data offset off.
func (db *database) slotOf(off uintptr) *atomic.Pointer[answer] {
	return &db.answers[(uint64(off)*0x9e3779b97f4a7c15)>>db.shift]
}

// decode reads one data record into an answer.
func (db *database) decode(res maxminddb.Result) (a *answer, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("decode record at offset %d: %v", res.Offset(), r)
		}
	}()
	a = &answer{}
	switch db.kind {
	case kindCity:
		var c geoip2.City
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.country = c.Country.ISOCode
		a.countryName = c.Country.Names.English
		a.registeredCountry = c.RegisteredCountry.ISOCode
		if len(c.Subdivisions) > 0 {
			a.subdivision = cmp.Or(c.Subdivisions[0].Names.English, c.Subdivisions[0].ISOCode)
		}
		a.city = c.City.Names.English
		a.lat, a.lon = c.Location.Latitude, c.Location.Longitude
		a.accuracy = c.Location.AccuracyRadius
		a.anycast = c.Traits.IsAnycast
	case kindEnterprise:
		var c geoip2.Enterprise
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.country = c.Country.ISOCode
		a.countryName = c.Country.Names.English
		a.registeredCountry = c.RegisteredCountry.ISOCode
		if len(c.Subdivisions) > 0 {
			a.subdivision = cmp.Or(c.Subdivisions[0].Names.English, c.Subdivisions[0].ISOCode)
		}
		a.city = c.City.Names.English
		a.lat, a.lon = c.Location.Latitude, c.Location.Longitude
		a.accuracy = c.Location.AccuracyRadius
		a.asn = uint32(c.Traits.AutonomousSystemNumber)
		a.asOrg = c.Traits.AutonomousSystemOrganization
		a.isp = c.Traits.ISP
		a.connectionType = c.Traits.ConnectionType
		a.domain = c.Traits.Domain
		a.anycast = c.Traits.IsAnycast
	case kindASN:
		var c geoip2.ASN
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.asn = uint32(c.AutonomousSystemNumber)
		a.asOrg = c.AutonomousSystemOrganization
	case kindISP:
		var c geoip2.ISP
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.asn = uint32(c.AutonomousSystemNumber)
		a.asOrg = c.AutonomousSystemOrganization
		a.isp = c.ISP
	case kindAnonymous:
		var c geoip2.AnonymousIP
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.anonymous = &Anonymous{
			VPN:              c.IsAnonymousVPN,
			Tor:              c.IsTorExitNode,
			Hosting:          c.IsHostingProvider,
			Proxy:            c.IsPublicProxy,
			ResidentialProxy: c.IsResidentialProxy,
		}
	case kindConnectionType:
		var c geoip2.ConnectionType
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.connectionType = c.ConnectionType
	case kindDomain:
		var c geoip2.Domain
		if err := res.Decode(&c); err != nil {
			return nil, err
		}
		a.domain = c.Domain
	default:
		if err := db.mapping.decodeInto(res, a); err != nil {
			return nil, err
		}
	}
	a.finish()
	return a, nil
}

// close releases the reader.
func (db *database) close() error { return db.reader.Close() }
