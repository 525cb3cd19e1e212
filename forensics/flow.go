package forensics

import (
	"net/netip"

	"github.com/tracehop/tracehop/enrich"
)

// Flow is one bidirectional transport conversation (DESIGN §4 flow record).
// Src is the endpoint that sent the first packet (the SYN sender when the
// handshake was seen).
type Flow struct {
	ID          string         `json:"id"`
	CommunityID string         `json:"community_id,omitempty"`
	Proto       string         `json:"proto"`
	SrcIP       netip.Addr     `json:"src_ip"`
	SrcPort     uint16         `json:"src_port"`
	DstIP       netip.Addr     `json:"dst_ip"`
	DstPort     uint16         `json:"dst_port"`
	Start       Time           `json:"start"`
	End         Time           `json:"end"`
	PktsOut     uint64         `json:"pkts_out"`
	PktsIn      uint64         `json:"pkts_in"`
	BytesOut    uint64         `json:"bytes_out"`
	BytesIn     uint64         `json:"bytes_in"`
	State       string         `json:"state,omitempty"`
	Tunnel      string         `json:"tunnel,omitempty"`
	VLAN        []uint16       `json:"vlan,omitempty"`
	HTTP        *HTTPMeta      `json:"http,omitempty"`
	TLS         *TLSMeta       `json:"tls,omitempty"`
	SSH         *SSHMeta       `json:"ssh,omitempty"`
	DNS         *DNSMeta       `json:"dns,omitempty"`
	SrcGeo      *enrich.Record `json:"src_geo,omitempty"`
	DstGeo      *enrich.Record `json:"dst_geo,omitempty"`
	Evidence    EvidenceRef    `json:"evidence"`
	// Activity lists the flow's ON periods (packets in either direction
	// closer together than an idle gap, 0.5 s by default), capped by the
	// reader; forensics/trace correlates them across vantage points.
	// Empty when the reader does not track them (the whole flow then
	// counts as one ON period).
	Activity []Period `json:"activity,omitempty"`
}

// HTTPMeta is the first HTTP/1.x request seen in a flow.
type HTTPMeta struct {
	Method    string `json:"method,omitempty"`
	Host      string `json:"host,omitempty"`
	Path      string `json:"path,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	XFF       string `json:"xff,omitempty"`
}

// TLSMeta is what the ClientHello and ServerHello of a flow showed.
type TLSMeta struct {
	Version  string   `json:"version,omitempty"`
	SNI      string   `json:"sni,omitempty"`
	ALPN     []string `json:"alpn,omitempty"`
	JA3      string   `json:"ja3,omitempty"`
	JA3Hash  string   `json:"ja3_hash,omitempty"`
	JA3S     string   `json:"ja3s,omitempty"`
	JA3SHash string   `json:"ja3s_hash,omitempty"`
	JA4      string   `json:"ja4,omitempty"`
}

// SSHMeta holds SSH banners and HASSH fingerprints.
type SSHMeta struct {
	Client      string `json:"client,omitempty"`
	Server      string `json:"server,omitempty"`
	HASSH       string `json:"hassh,omitempty"`
	HASSHServer string `json:"hassh_server,omitempty"`
}

// DNSMeta is the first DNS question of a flow and the answers to it.
type DNSMeta struct {
	Query   string   `json:"query,omitempty"`
	QType   string   `json:"qtype,omitempty"`
	RCode   string   `json:"rcode,omitempty"`
	Answers []string `json:"answers,omitempty"`
}
