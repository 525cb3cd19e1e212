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
	if !d.byte('{') {
		return false
	}
	if d.peek('}') {
		d.i++
		return d.end()
	}
	// raw reads a value as bytes for encoding/json or the enrichment.
	raw := func() ([]byte, bool) {
		start := d.i
		if !d.skipRaw() {
			return nil, false
		}
		return line[start:d.i], true
	}
	geo := func(dst *json.RawMessage) bool {
		b, ok := raw()
		switch {
		case !ok:
			return false
		case known != nil && known(b):
		case !json.Valid(b):
			return false
		case known == nil:
			b = append([]byte(nil), b...)
		}
		*dst = b
		return true
	}
	sub := func(v any) bool {
		b, ok := raw()
		return ok && json.Unmarshal(b, v) == nil
	}
	var seen uint32 // keys read: a repeated key is left to encoding/json
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		bit := uint32(1) << flowKeyIndex(key)
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch key {
		case "id":
			ok = d.str(&f.ID)
		case "community_id":
			ok = d.str(&f.CommunityID)
		case "proto":
			ok = d.str(&f.Proto)
		case "src_ip":
			ok = d.addr(func(b []byte) error { return f.SrcIP.UnmarshalText(b) })
		case "src_port":
			ok = d.uint16(&f.SrcPort)
		case "dst_ip":
			ok = d.addr(func(b []byte) error { return f.DstIP.UnmarshalText(b) })
		case "dst_port":
			ok = d.uint16(&f.DstPort)
		case "start", "end":
			t := &f.Start
			if key == "end" {
				t = &f.End
			}
			var s []byte
			if s, ok = d.rawString(); ok {
				ok = t.UnmarshalText(s) == nil
			}
		case "pkts_out":
			f.PktsOut, ok = d.uint(64)
		case "pkts_in":
			f.PktsIn, ok = d.uint(64)
		case "bytes_out":
			f.BytesOut, ok = d.uint(64)
		case "bytes_in":
			f.BytesIn, ok = d.uint(64)
		case "state":
			ok = d.str(&f.State)
		case "tunnel":
			ok = d.str(&f.Tunnel)
		case "vlan":
			ok = sub(&f.VLAN)
		case "http":
			ok = sub(&f.HTTP)
		case "tls":
			ok = sub(&f.TLS)
		case "ssh":
			ok = sub(&f.SSH)
		case "dns":
			ok = sub(&f.DNS)
		case "activity":
			ok = sub(&f.Activity)
		case "src_geo":
			ok = geo(&sf.SrcGeo)
		case "dst_geo":
			ok = geo(&sf.DstGeo)
		case "evidence":
			ok = d.evidence(&f.Evidence)
		default:
			return false
		}
		if !ok {
			return false
		}
		if d.peek(',') {
			d.i++
			continue
		}
		return d.byte('}') && d.end()
	}
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
