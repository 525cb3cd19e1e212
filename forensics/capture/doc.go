// Package capture turns pcap and pcapng streams into bidirectional flow
// records (DESIGN §2, §4 flow record).
//
// It owns: sniffing pcap vs pcapng and reading both through gopacket's
// pcapgo (both byte orders, µs/ns resolution, several pcapng interfaces
// with their own link type, if_tsresol and if_tsoffset); decoding link
// types Ethernet (802.1Q/QinQ), Linux SLL and SLL2, raw IPv4/IPv6,
// BSD NULL/LOOP and NFLOG, with IP-in-IP, GRE and VXLAN decapsulated one
// level; the flow table (canonical 5-tuple, direction from the SYN sender,
// TCP state, idle/active timeouts, a live-flow cap with least-recently-seen
// eviction); Community ID; and the first-bytes look at HTTP/1.x, TLS
// (JA3, JA3S, JA4), SSH (banners, HASSH) and DNS; and FlowEncoder, the
// flow record's JSON written without reflection, byte-identical to
// encoding/json's.
//
// It does not own: opening, hashing or decompressing files
// (forensics/evidence), GeoIP/ASN enrichment (enrich, applied by
// forensics/analyze), sorting the output beyond SortFlows, or full TCP
// reassembly. It imports only forensics, gopacket (layers, pcapgo) and,
// for the record type FlowEncoder writes, enrich.
package capture
