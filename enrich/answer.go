package enrich

// field is one bit per Record field a database can answer.
type field uint16

const (
	fCountry field = 1 << iota
	fCountryName
	fRegisteredCountry
	fSubdivision
	fCity
	fLat
	fLon
	fAccuracy
	fASN
	fASOrg
	fISP
	fConnectionType
	fDomain
	fAnonymous
	fAnycast
	numFields = iota
)

// fieldNames are the JSON names of the fields, in bit order: the order
// Source.Fields lists them in.
var fieldNames = [numFields]string{
	"country", "country_name", "registered_country", "subdivision", "city",
	"lat", "lon", "accuracy_km", "asn", "as_org", "isp", "connection_type",
	"domain", "anonymous", "anycast",
}

const geoFields = fCountry | fCountryName | fSubdivision | fCity | fLat | fLon | fAccuracy

// names lists the JSON names of the fields in mask, in bit order.
func (mask field) names() []string {
	var out []string
	for i := range numFields {
		if mask&(1<<i) != 0 {
			out = append(out, fieldNames[i])
		}
	}
	return out
}

// answer is what one database record says, decoded once per record offset
// and shared read-only by every lookup that lands on it (so pointer fields
// here are never written after decoding).
type answer struct {
	// What most lookups read comes first, next to off (which LookupBatch
	// reads to fetch the record): the mask, the country, the ASN and its
	// organisation, the registered country.
	off               uintptr // data section offset of the record
	mask              field
	level             uint8 // geo specificity: 3 city, 2 subdivision, 1 country
	asn               uint32
	country           string
	asOrg             string
	registeredCountry string

	fields         []string // mask.names(), precomputed
	countryName    string
	subdivision    string
	city           string
	lat, lon       *float64
	accuracy       uint16
	isp            string
	connectionType string
	domain         string
	anonymous      *Anonymous
	anycast        bool
}

// finish computes mask, level and fields from the values set.
func (a *answer) finish() {
	set := func(f field, ok bool) {
		if ok {
			a.mask |= f
		}
	}
	set(fCountry, a.country != "")
	set(fCountryName, a.countryName != "")
	set(fRegisteredCountry, a.registeredCountry != "")
	set(fSubdivision, a.subdivision != "")
	set(fCity, a.city != "")
	set(fLat, a.lat != nil)
	set(fLon, a.lon != nil)
	set(fAccuracy, a.accuracy != 0)
	set(fASN, a.asn != 0)
	set(fASOrg, a.asOrg != "")
	set(fISP, a.isp != "")
	set(fConnectionType, a.connectionType != "")
	set(fDomain, a.domain != "")
	set(fAnycast, a.anycast)
	set(fAnonymous, a.anonymous != nil && *a.anonymous != Anonymous{})
	if a.anonymous != nil && *a.anonymous == (Anonymous{}) {
		a.anonymous = nil
	}
	switch {
	case a.city != "":
		a.level = 3
	case a.subdivision != "":
		a.level = 2
	case a.country != "":
		a.level = 1
	}
	a.fields = a.mask.names()
}
