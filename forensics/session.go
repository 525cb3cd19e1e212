package forensics

import (
	"net/netip"

	"github.com/tracehop/tracehop/enrich"
)

// Session is activity of one source over time, split by idle gaps
// (DESIGN §4 session record).
type Session struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	SrcIP      netip.Addr     `json:"src_ip"`
	Start      Time           `json:"start"`
	End        Time           `json:"end"`
	Events     int            `json:"events"`
	Bytes      int64          `json:"bytes"`
	Indicators Indicators     `json:"indicators"`
	SrcGeo     *enrich.Record `json:"src_geo,omitempty"`
	Evidence   []EvidenceRef  `json:"evidence,omitempty"`
}

// Indicators are the values a session is compared on when building
// campaigns. Empty values are omitted.
type Indicators struct {
	Credential    string         `json:"credential,omitempty"`
	TokenKeyID    string         `json:"token_key_id,omitempty"`
	User          string         `json:"user,omitempty"`
	UserAgent     string         `json:"user_agent,omitempty"`
	JA3           string         `json:"ja3,omitempty"`
	JA4           string         `json:"ja4,omitempty"`
	HASSH         string         `json:"hassh,omitempty"`
	PathTemplates []string       `json:"path_template,omitempty"`
	Methods       map[string]int `json:"methods,omitempty"`
	Statuses      map[string]int `json:"statuses,omitempty"`
	Objects       int            `json:"objects,omitempty"`
	// FirstObject and LastObject are the lowest and highest sequential
	// object numbers read, for the work hand-over rule.
	FirstObject  int64    `json:"first_object,omitempty"`
	LastObject   int64    `json:"last_object,omitempty"`
	Prefix       string   `json:"prefix,omitempty"`
	ASN          uint32   `json:"asn,omitempty"`
	Hosting      bool     `json:"hosting,omitempty"`
	Anonymizer   bool     `json:"anonymizer,omitempty"`
	HourOfWeek   []int    `json:"hour_of_week,omitempty"`
	BeaconPeriod float64  `json:"beacon_period_s,omitempty"`
	BeaconScore  float64  `json:"beacon_score,omitempty"`
	Extra        []string `json:"extra,omitempty"`
}
