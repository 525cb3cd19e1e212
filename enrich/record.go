package enrich

import "net/netip"

// Record is the enrichment of one address: the "ip record" of DESIGN §4,
// used by `tracehop ip` and by every *_geo field. Absent values are omitted
// in JSON so that "unknown" is never confused with "zero".
type Record struct {
	IP           netip.Addr `json:"ip"`
	Class        string     `json:"class"`
	EmbeddedIPv4 netip.Addr `json:"embedded_ipv4,omitzero"`
	// Embedding says how EmbeddedIPv4 was carried: ipv4_mapped, nat64,
	// 6to4 or teredo.
	Embedding         string   `json:"embedding,omitempty"`
	Country           string   `json:"country,omitempty"`
	CountryName       string   `json:"country_name,omitempty"`
	RegisteredCountry string   `json:"registered_country,omitempty"`
	Subdivision       string   `json:"subdivision,omitempty"`
	City              string   `json:"city,omitempty"`
	Lat               *float64 `json:"lat,omitempty"`
	Lon               *float64 `json:"lon,omitempty"`
	AccuracyKM        uint16   `json:"accuracy_km,omitempty"`
	ASN               uint32   `json:"asn,omitempty"`
	ASOrg             string   `json:"as_org,omitempty"`
	ISP               string   `json:"isp,omitempty"`
	ConnectionType    string   `json:"connection_type,omitempty"`
	Domain            string   `json:"domain,omitempty"`
	// Network is the narrowest prefix matched by any source: the largest
	// block around the address for which every value here holds.
	Network   netip.Prefix `json:"network,omitzero"`
	Anonymous *Anonymous   `json:"anonymous,omitempty"`
	// Anycast marks an anycast network: served from many places at once,
	// so its geolocation says nothing about where a packet came from.
	Anycast bool `json:"anycast,omitempty"`
	// Foreign is set only when a home country was given and the country is known.
	Foreign *bool   `json:"foreign,omitempty"`
	Sources Sources `json:"sources,omitzero"`
}

// Anonymous holds anonymizer flags from Anonymous-IP databases and the
// embedded hosting-ASN list.
type Anonymous struct {
	VPN              bool `json:"vpn,omitempty"`
	Tor              bool `json:"tor,omitempty"`
	Hosting          bool `json:"hosting,omitempty"`
	Proxy            bool `json:"proxy,omitempty"`
	ResidentialProxy bool `json:"residential_proxy,omitempty"`
}

// Source names the database build that answered part of a Record.
type Source struct {
	DB     string `json:"db"`
	Type   string `json:"type"`
	Build  string `json:"build"`
	SHA256 string `json:"sha256"`
	// Network is the prefix of the database entry that matched.
	Network netip.Prefix `json:"network,omitzero"`
	// Fields are the Record fields this source answered.
	Fields []string `json:"fields,omitempty"`
	// SnapshotDistanceDays is how far the build date lies from the event
	// time when snapshots by date were used (negative: build after event).
	SnapshotDistanceDays *int `json:"snapshot_distance_days,omitempty"`
	// AfterEvent flags a build made after the event because no older
	// build was available: its answer may postdate the event.
	AfterEvent bool `json:"after_event,omitempty"`
}

// DatabaseInfo describes one database build in use: what `db list`
// prints and what every report cites.
type DatabaseInfo struct {
	Name        string `json:"name"`
	Path        string `json:"path,omitempty"`
	Type        string `json:"type"`
	Build       string `json:"build"`
	SHA256      string `json:"sha256"`
	IPVersion   int    `json:"ip_version,omitempty"`
	NodeCount   uint   `json:"node_count,omitempty"`
	Embedded    bool   `json:"embedded,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	// Mapping names the field mapping used for a vendor schema.
	Mapping string `json:"mapping,omitempty"`
	// Origin says where the data came from (for embedded data: the npm
	// package and version it was converted from).
	Origin string `json:"origin,omitempty"`
	// Licence is the data licence (SPDX identifier where one exists).
	Licence string `json:"licence,omitempty"`
	// Snapshot is set when the build belongs to a directory of dated
	// builds of one database (the directory).
	Snapshot string `json:"snapshot,omitempty"`
}
