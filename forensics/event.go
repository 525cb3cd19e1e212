package forensics

import (
	"net/netip"

	"github.com/tracehop/tracehop/enrich"
)

// Event is one normalized log record (DESIGN §4 event record).
type Event struct {
	ID         string     `json:"id"`
	Time       Time       `json:"time"`
	TimeRaw    string     `json:"time_raw,omitempty"`
	SourceKind string     `json:"source_kind"`
	SrcIP      netip.Addr `json:"src_ip,omitzero"`
	SrcPort    uint16     `json:"src_port,omitempty"`
	// ClientIP is the first untrusted address walking the proxy chain from
	// the socket peer; it equals SrcIP when no proxy is trusted.
	ClientIP   netip.Addr `json:"client_ip,omitzero"`
	ProxyChain []ProxyHop `json:"proxy_chain,omitempty"`
	DstIP      netip.Addr `json:"dst_ip,omitzero"`
	DstPort    uint16     `json:"dst_port,omitempty"`
	Method     string     `json:"method,omitempty"`
	Host       string     `json:"host,omitempty"`
	Path       string     `json:"path,omitempty"`
	Status     int        `json:"status,omitempty"`
	Bytes      int64      `json:"bytes,omitempty"`
	UserAgent  string     `json:"user_agent,omitempty"`
	Referrer   string     `json:"referrer,omitempty"`
	User       string     `json:"user,omitempty"`
	Credential string     `json:"credential,omitempty"`
	Action     string     `json:"action,omitempty"`
	// Indicators carries extra typed values a parser found (JWT kid/iss,
	// key fingerprint, TLS protocol...). Maps marshal sorted.
	Indicators map[string]string `json:"indicators,omitempty"`
	// Flags notes what was cut or assumed (line_truncated, tz_assumed...).
	Flags    []string       `json:"flags,omitempty"`
	SrcGeo   *enrich.Record `json:"src_geo,omitempty"`
	Evidence EvidenceRef    `json:"evidence"`
}

// ProxyHop is one address of a forwarded-for chain; Trusted is set for
// addresses inside a --trust-proxy range (and the socket peer).
type ProxyHop struct {
	IP      string `json:"ip"`
	Trusted bool   `json:"trusted"`
}

// Actor returns the address the event is attributed to: the client IP when
// a proxy chain was resolved, else the socket peer.
func (e *Event) Actor() netip.Addr {
	if e.ClientIP.IsValid() {
		return e.ClientIP
	}
	return e.SrcIP
}
