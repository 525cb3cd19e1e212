package enrich

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Mapping tells how to read a database whose records are not in a GeoIP2
// layout (DB-IP, ip-location-db and other vendors' schemas): which record
// path answers which Record field. Mappings are data, so a new vendor
// needs a new Mapping, not new code.
type Mapping struct {
	// Name identifies the mapping in DatabaseInfo.Mapping.
	Name string
	// DatabaseTypes lists database_type metadata values this mapping reads
	// (compared case-insensitively).
	DatabaseTypes []string
	// FileNames lists glob patterns (path.Match) on the file's base name;
	// a file name match is preferred over a database_type match, so that
	// two databases with the same database_type but different meaning
	// (geolocated vs registered country) can be told apart.
	FileNames []string
	// Fields maps Record JSON field names (country, country_name,
	// registered_country, subdivision, city, lat, lon, accuracy_km, asn,
	// as_org, isp, connection_type, domain) to a record path: keys joined
	// by ".", array elements by index, alternatives separated by "|"
	// (the first present wins). A map of localized names yields its "en".
	Fields map[string]string
}

// DefaultMappings are the vendor layouts tracehop reads out of the box:
// the ip-location-db country, city and ASN layouts, the registry-derived
// country databases (read as registered_country), and a generic fallback
// for unknown database types that tries the usual key names.
func DefaultMappings() []Mapping {
	return []Mapping{
		{
			Name:      "ip-location-db-registered-country",
			FileNames: []string{"geo-whois-asn-country*", "asn-country*", "iptoasn-country*"},
			Fields:    map[string]string{"registered_country": "country_code"},
		},
		{
			Name:          "ip-location-db-country",
			DatabaseTypes: []string{"country ipv4", "country ipv6", "country ipvAll"},
			Fields:        map[string]string{"country": "country_code"},
		},
		{
			Name:          "ip-location-db-city",
			DatabaseTypes: []string{"city ipv4", "city ipv6", "city ipvAll"},
			Fields: map[string]string{
				"country":     "country_code",
				"subdivision": "state1",
				"city":        "city",
				"lat":         "latitude",
				"lon":         "longitude",
			},
		},
		{
			Name:          "ip-location-db-asn",
			DatabaseTypes: []string{"asn ipv4", "asn ipv6", "asn ipvAll"},
			Fields: map[string]string{
				"asn":    "autonomous_system_number",
				"as_org": "autonomous_system_organization",
			},
		},
	}
}

// genericMapping reads databases of unknown type by the key names most
// vendors share with the GeoIP2 layouts.
var genericFields = map[string]string{
	"country":            "country.iso_code|country_code|country",
	"country_name":       "country.names|country_name",
	"registered_country": "registered_country.iso_code",
	"subdivision":        "subdivisions.0.iso_code|state1|region|subdivision",
	"city":               "city.names|city",
	"lat":                "location.latitude|latitude|lat",
	"lon":                "location.longitude|longitude|lon|lng",
	"accuracy_km":        "location.accuracy_radius|accuracy_radius",
	"asn":                "autonomous_system_number|traits.autonomous_system_number|asn",
	"as_org":             "autonomous_system_organization|traits.autonomous_system_organization|as_org|organization",
	"isp":                "isp|traits.isp",
	"connection_type":    "connection_type|traits.connection_type",
	"domain":             "domain|traits.domain",
}

// compiledMapping is a Mapping with its paths split once.
type compiledMapping struct {
	name   string
	fields []compiledField
	// top, when every path is one top-level key, maps each key to the
	// field it answers and its rank among that field's alternatives:
	// such records are read in one pass over the map (topDecoder).
	top map[string]topKey
}

type topKey struct {
	field field
	rank  uint8
}

type compiledField struct {
	field field
	// paths are alts for maxminddb's DecodePath: keys as strings, array
	// indexes as ints.
	paths [][]any
}

func compileMapping(name string, fields map[string]string) (*compiledMapping, error) {
	cm := &compiledMapping{name: name}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := slices.Index(fieldNames[:], k)
		if i < 0 || k == "anonymous" || k == "anycast" {
			return nil, fmt.Errorf("mapping %s: unknown field %q", name, k)
		}
		cf := compiledField{field: 1 << i}
		for alt := range strings.SplitSeq(fields[k], "|") {
			if alt == "" {
				return nil, fmt.Errorf("mapping %s: field %s: empty path", name, k)
			}
			keys := strings.Split(alt, ".")
			p := make([]any, len(keys))
			for i, k := range keys {
				if n, err := strconv.Atoi(k); err == nil {
					p[i] = n
				} else {
					p[i] = k
				}
			}
			cf.paths = append(cf.paths, p)
		}
		cm.fields = append(cm.fields, cf)
	}
	cm.top = map[string]topKey{}
	for _, cf := range cm.fields {
		for rank, p := range cf.paths {
			k, ok := p[0].(string)
			if _, dup := cm.top[k]; len(p) != 1 || !ok || dup || rank > 255 {
				cm.top = nil
				return cm, nil
			}
			cm.top[k] = topKey{field: cf.field, rank: uint8(rank)}
		}
	}
	return cm, nil
}

// matchMapping picks the mapping for a database: file name first, then
// database_type; nil when none applies.
func matchMapping(ms []Mapping, base, dbType string) *Mapping {
	for i := range ms {
		for _, g := range ms[i].FileNames {
			if ok, _ := path.Match(g, base); ok {
				return &ms[i]
			}
		}
	}
	for i := range ms {
		for _, t := range ms[i].DatabaseTypes {
			if strings.EqualFold(t, dbType) {
				return &ms[i]
			}
		}
	}
	return nil
}

// decodeInto fills a by decoding only the mapped paths of one record,
// which for a wide vendor record (a city database carries postcode, time
// zone, second-level region...) is much cheaper than decoding it whole.
func (cm *compiledMapping) decodeInto(res maxminddb.Result, a *answer) error {
	if cm.top != nil {
		td := topDecoder{cm: cm, a: a}
		err := res.Decode(&td)
		if !errors.Is(err, errNotFlat) {
			return err
		}
		*a = answer{} // a mapped value is not a scalar: read path by path
	}
	for _, cf := range cm.fields {
		for _, p := range cf.paths {
			var v any
			if err := res.DecodePath(&v, p...); err != nil {
				return err
			}
			if v != nil && setField(a, cf.field, v) {
				break
			}
		}
	}
	return nil
}

// errNotFlat stops a one-pass read that met a mapped key whose value is
// a map or an array (localized names, say): DecodePath then reads it.
var errNotFlat = errors.New("mapped value is not a scalar")

// topDecoder reads a record of a mapping whose paths are all top-level
// keys in one pass over the record's map, decoding only the mapped
// values (no reflection, no boxing); for each field the best-ranked
// alternative with a usable value wins, as with DecodePath.
type topDecoder struct {
	cm   *compiledMapping
	a    *answer
	best [numFields]uint8 // rank+1 of the alternative that set each field
}

// UnmarshalMaxMindDB implements mmdbdata.Unmarshaler.
func (td *topDecoder) UnmarshalMaxMindDB(d *mmdbdata.Decoder) error {
	it, _, err := d.ReadMap()
	if err != nil {
		return err
	}
	for key, err := range it {
		if err != nil {
			return err
		}
		tk, ok := td.cm.top[string(key)] // no allocation: map index by converted bytes
		if !ok {
			continue
		}
		fi := bits.TrailingZeros16(uint16(tk.field))
		if b := td.best[fi]; b != 0 && b <= tk.rank {
			continue // a better alternative already answered
		}
		kind, err := d.PeekKind()
		if err != nil {
			return err
		}
		var v any
		switch kind {
		case mmdbdata.KindString:
			s, err := d.ReadString()
			if err != nil {
				return err
			}
			v = s
		case mmdbdata.KindFloat64:
			x, err := d.ReadFloat64()
			if err != nil {
				return err
			}
			v = x
		case mmdbdata.KindFloat32:
			x, err := d.ReadFloat32()
			if err != nil {
				return err
			}
			v = float64(x)
		case mmdbdata.KindUint16:
			x, err := d.ReadUint16()
			if err != nil {
				return err
			}
			v = uint64(x)
		case mmdbdata.KindUint32:
			x, err := d.ReadUint32()
			if err != nil {
				return err
			}
			v = uint64(x)
		case mmdbdata.KindUint64:
			x, err := d.ReadUint64()
			if err != nil {
				return err
			}
			v = x
		case mmdbdata.KindInt32:
			x, err := d.ReadInt32()
			if err != nil {
				return err
			}
			v = int64(x)
		case mmdbdata.KindMap, mmdbdata.KindSlice:
			return errNotFlat
		default:
			continue // booleans, bytes, 128-bit integers answer no field
		}
		if setField(td.a, tk.field, v) {
			td.best[fi] = tk.rank + 1
		}
	}
	return nil
}

// setField converts a decoded value to the field's type; false when the
// value is empty or of a type that cannot be the field.
func setField(a *answer, f field, v any) bool {
	if m, ok := v.(map[string]any); ok { // localized names
		v = m["en"]
	}
	switch f {
	case fLat, fLon:
		x, ok := toFloat(v)
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
		if f == fLat {
			a.lat = &x
		} else {
			a.lon = &x
		}
		return true
	case fAccuracy:
		x, ok := toFloat(v)
		if !ok || x <= 0 || x > math.MaxUint16 {
			return false
		}
		a.accuracy = uint16(x)
		return true
	case fASN:
		x, ok := toFloat(v)
		if !ok {
			if s, isStr := v.(string); isStr { // "AS15169" or "15169"
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(s), "AS"), 10, 32)
				if err != nil {
					return false
				}
				x, ok = float64(n), true
			}
		}
		if !ok || x <= 0 || x > math.MaxUint32 || x != math.Trunc(x) {
			return false
		}
		a.asn = uint32(x)
		return true
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return false
	}
	switch f {
	case fCountry:
		a.country = strings.ToUpper(s)
	case fCountryName:
		a.countryName = s
	case fRegisteredCountry:
		a.registeredCountry = strings.ToUpper(s)
	case fSubdivision:
		a.subdivision = s
	case fCity:
		a.city = s
	case fASOrg:
		a.asOrg = s
	case fISP:
		a.isp = s
	case fConnectionType:
		a.connectionType = s
	case fDomain:
		a.domain = s
	default:
		return false
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
