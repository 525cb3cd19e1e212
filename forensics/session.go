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
	// FirstObject and LastObject are the first and last sequential
	// object numbers read (path IDs or page numbers), for the work
	// hand-over rule; SeqTemplate is the path template they were read
	// under and SeqRun how many reads in a row stepped forward.
	FirstObject int64  `json:"first_object,omitempty"`
	LastObject  int64  `json:"last_object,omitempty"`
	SeqTemplate string `json:"seq_template,omitempty"`
	SeqRun      int    `json:"seq_run,omitempty"`
	Prefix      string `json:"prefix,omitempty"`
	ASN         uint32 `json:"asn,omitempty"`
	Country     string `json:"country,omitempty"`
	Hosting     bool   `json:"hosting,omitempty"`
	Anonymizer  bool   `json:"anonymizer,omitempty"`
	// Crawler is set when the user agent names a known benign crawler.
	Crawler bool `json:"crawler,omitempty"`
	// Failures counts 401/403 answers, NotFound 404 answers, ProbeHits
	// requests for well-known scanner paths (/.env, /wp-login.php...).
	Failures  int `json:"failures,omitempty"`
	NotFound  int `json:"not_found,omitempty"`
	ProbeHits int `json:"probe_hits,omitempty"`
	// HourOfWeek is the activity profile: events per hour of the week
	// (0 = Monday 00:00 UTC), only hours with activity, sorted by hour.
	HourOfWeek   []HourCount `json:"hour_of_week,omitempty"`
	BeaconPeriod float64     `json:"beacon_period_s,omitempty"`
	BeaconScore  float64     `json:"beacon_score,omitempty"`
	Extra        []string    `json:"extra,omitempty"`
}

// HourCount is one bin of an hour-of-week profile.
type HourCount struct {
	Hour  int `json:"h"`
	Count int `json:"n"`
}
