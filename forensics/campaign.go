package forensics

// Campaign is a connected group of sessions believed to be one actor,
// with the links that join them (DESIGN §4 campaign record).
type Campaign struct {
	ID              string             `json:"id"`
	Score           float64            `json:"score"`
	ScoreComponents map[string]float64 `json:"score_components,omitempty"`
	Label           string             `json:"label,omitempty"`
	FirstSeen       Time               `json:"first_seen"`
	LastSeen        Time               `json:"last_seen"`
	Sessions        []string           `json:"sessions"`
	Events          int                `json:"events"`
	IPs             []string           `json:"ips"`
	Countries       map[string]int     `json:"countries,omitempty"`
	ASNs            []ASNCount         `json:"asns,omitempty"`
	Links           []Link             `json:"links,omitempty"`
	// Members is the spanning tree of strongest links that admits every
	// member session, rooted at the earliest session.
	Members []Member `json:"members,omitempty"`
	// Bridges are the IDs of links whose removal splits the campaign.
	Bridges    []string            `json:"bridges,omitempty"`
	Hops       []Chain             `json:"hops,omitempty"`
	Indicators map[string][]string `json:"indicators,omitempty"`
}

// ASNCount counts a campaign's sessions per autonomous system.
type ASNCount struct {
	ASN      uint32 `json:"asn"`
	Org      string `json:"org,omitempty"`
	Sessions int    `json:"sessions"`
}

// Link is one typed reason that joins sessions: the rule that fired, the
// shared attribute and value, its weight and what it joins.
type Link struct {
	ID        string   `json:"id,omitempty"`
	Rule      string   `json:"rule"`
	Class     string   `json:"class,omitempty"`
	Attribute string   `json:"attribute"`
	Value     string   `json:"value"`
	Weight    float64  `json:"weight"`
	Sessions  []string `json:"sessions"`
	IPs       []string `json:"ips"`
	Reason    string   `json:"reason,omitempty"`
}

// Member is one session of a campaign and what admits it: the session it
// joins on the spanning tree of strongest links (Via, empty for the root),
// the summed weight of that edge and the links making it up, and the
// weakest edge weight on its path from the root (how firmly it belongs).
type Member struct {
	Session string   `json:"session"`
	IP      string   `json:"ip"`
	Via     string   `json:"via,omitempty"`
	Weight  float64  `json:"weight,omitempty"`
	Links   []string `json:"links,omitempty"`
	Weakest float64  `json:"weakest,omitempty"`
}
