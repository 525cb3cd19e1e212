package forensics

import (
	"net/netip"

	"github.com/tracehop/tracehop/enrich"
)

// Chain is a path of hops from origin to target (DESIGN §4 chain record).
type Chain struct {
	ID       string        `json:"id"`
	Hops     []Hop         `json:"hops"`
	Links    []HopLink     `json:"links,omitempty"`
	Evidence []EvidenceRef `json:"evidence,omitempty"`
}

// Hop is one address on a chain with its role.
type Hop struct {
	IP        netip.Addr     `json:"ip"`
	Role      string         `json:"role"`
	Ports     []uint16       `json:"ports,omitempty"`
	FirstSeen Time           `json:"first_seen"`
	LastSeen  Time           `json:"last_seen"`
	Geo       *enrich.Record `json:"geo,omitempty"`
}

// HopLink says how two adjacent hops were paired and how strongly.
type HopLink struct {
	From         string  `json:"from"`
	To           string  `json:"to"`
	Method       string  `json:"method"`
	Score        float64 `json:"score"`
	Coincidences int     `json:"coincidences,omitempty"`
	IdlePeriods  int     `json:"idle_periods,omitempty"`
	Verified     bool    `json:"verified"`
}

// Period is a span of activity: an ON period of a flow (packets closer
// together than the idle threshold) or any interval a record covers.
type Period struct {
	Start Time `json:"start"`
	End   Time `json:"end"`
}
