package analyze

import (
	"encoding/json"
)

// decodeFlowLineKnown decodes one stored flow line (forensics's flow
// encoder wrote it) into sf as json.Unmarshal would, reading the
// top-level fields by hand and handing only the nested metadata (http,
// tls, ssh, dns, vlan, activity) to encoding/json: a capture's case holds
// millions of flows, and encoding/json scanned each one's two enrichment
// records. known is decodeEventLineKnown's: enrichment bytes it knows are
// not checked again, and sf's raw enrichment is then line's own bytes. It
// gives up on anything it does not expect, and the caller falls back to
// json.Unmarshal (FuzzDecodeFlowLine holds the two equal).
func decodeFlowLineKnown(line []byte, sf *spoolFlow, known func(raw []byte) bool) bool {
	d := lineDec{b: line}
	*sf = spoolFlow{}
	f := &sf.Flow
	// sub hands a nested value to encoding/json.
	sub := func(v any) bool {
		start := d.i
		return d.skipRaw() && json.Unmarshal(line[start:d.i], v) == nil
	}
	return d.object(flowKeyIndex, func(key string) bool {
		switch key {
		case "id":
			return d.str(&f.ID)
		case "community_id":
			return d.str(&f.CommunityID)
		case "proto":
			return d.str(&f.Proto)
		case "src_ip":
			return d.addr(func(b []byte) error { return f.SrcIP.UnmarshalText(b) })
		case "src_port":
			return d.uint16(&f.SrcPort)
		case "dst_ip":
			return d.addr(func(b []byte) error { return f.DstIP.UnmarshalText(b) })
		case "dst_port":
			return d.uint16(&f.DstPort)
		case "start", "end":
			t := &f.Start
			if key == "end" {
				t = &f.End
			}
			s, ok := d.rawString()
			return ok && t.UnmarshalText(s) == nil
		case "pkts_out":
			return d.counter(&f.PktsOut)
		case "pkts_in":
			return d.counter(&f.PktsIn)
		case "bytes_out":
			return d.counter(&f.BytesOut)
		case "bytes_in":
			return d.counter(&f.BytesIn)
		case "state":
			return d.str(&f.State)
		case "tunnel":
			return d.str(&f.Tunnel)
		case "vlan":
			return sub(&f.VLAN)
		case "http":
			return sub(&f.HTTP)
		case "tls":
			return sub(&f.TLS)
		case "ssh":
			return sub(&f.SSH)
		case "dns":
			return sub(&f.DNS)
		case "activity":
			return sub(&f.Activity)
		case "src_geo":
			return d.rawGeo(&sf.SrcGeo, known)
		case "dst_geo":
			return d.rawGeo(&sf.DstGeo, known)
		case "evidence":
			return d.evidence(&f.Evidence)
		}
		return false
	})
}

// counter reads a uint64.
func (d *lineDec) counter(dst *uint64) bool {
	v, ok := d.uint(64)
	*dst = v
	return ok
}

// flowKeyIndex numbers the keys of a flow line (31: any other).
func flowKeyIndex(key string) int {
	for i, k := range [...]string{"id", "community_id", "proto", "src_ip", "src_port", "dst_ip", "dst_port",
		"start", "end", "pkts_out", "pkts_in", "bytes_out", "bytes_in", "state", "tunnel", "vlan", "http",
		"tls", "ssh", "dns", "src_geo", "dst_geo", "evidence", "activity"} {
		if k == key {
			return i
		}
	}
	return 31
}
