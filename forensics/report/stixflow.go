package report

import (
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// addFlow adds a flow's network-traffic object and the observed-data
// that holds it, encoded by hand: a capture of a scan has millions of
// flows, and building each object as a map for encoding/json cost most
// of a bundle's time. The bytes are those the maps gave (keys sorted, as
// encoding/json sorts a map's; TestSTIXFlowObjectsMatchMaps holds them
// to the maps).
func (s *stixBuilder) addFlow(f *forensics.Flow) {
	src, dst := s.ip(f.SrcIP), s.ip(f.DstIP)
	if src == "" && dst == "" {
		return
	}
	protocols := flowProtocols(f)
	var start, end string
	if !f.Start.IsZero() {
		start = stixObserved(f.Start)
	}
	if !f.End.IsZero() && !f.End.Before(f.Start.Time) {
		end = stixObserved(f.End)
	}

	// The ID: RFC 8785 JSON of the contributing properties present, keys
	// sorted (dst_port, dst_ref, end, protocols, src_port, src_ref, start).
	var sb strings.Builder
	sb.WriteByte('{')
	sep := func(key string) {
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		jcs(&sb, key)
		sb.WriteByte(':')
	}
	if f.DstPort != 0 {
		sep("dst_port")
		jcs(&sb, f.DstPort)
	}
	for _, kv := range [...][2]string{{"dst_ref", dst}, {"end", end}} {
		if kv[1] != "" {
			sep(kv[0])
			jcs(&sb, kv[1])
		}
	}
	sep("protocols")
	jcs(&sb, protocols)
	if f.SrcPort != 0 {
		sep("src_port")
		jcs(&sb, f.SrcPort)
	}
	for _, kv := range [...][2]string{{"src_ref", src}, {"start", start}} {
		if kv[1] != "" {
			sep(kv[0])
			jcs(&sb, kv[1])
		}
	}
	sb.WriteByte('}')
	ntID := "network-traffic--" + uuidString(uuid5(stixSCONamespace, []byte(sb.String())))

	b := s.buf[:0]
	str := func(key, v string) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = forensics.AppendJSONString(b, v)
	}
	num := func(key string, v uint64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = forensics.AppendUint(b, v)
	}
	// omitted when empty or 0, as the maps left them out
	optStr := func(key, v string) {
		if v != "" {
			str(key, v)
		}
	}
	optPort := func(key string, v uint16) {
		if v != 0 {
			num(key, uint64(v))
		}
	}
	b = append(b, `{"dst_byte_count":`...)
	b = forensics.AppendUint(b, f.BytesIn)
	num("dst_packets", f.PktsIn)
	optPort("dst_port", f.DstPort)
	optStr("dst_ref", dst)
	optStr("end", end)
	str("id", ntID)
	b = append(b, `,"protocols":[`...)
	for i, p := range protocols {
		if i > 0 {
			b = append(b, ',')
		}
		b = forensics.AppendJSONString(b, p)
	}
	b = append(b, ']')
	str("spec_version", "2.1")
	num("src_byte_count", f.BytesOut)
	num("src_packets", f.PktsOut)
	optPort("src_port", f.SrcPort)
	optStr("src_ref", src)
	optStr("start", start)
	str("type", "network-traffic")
	optStr("x_community_id", f.CommunityID)
	b = append(b, '}')
	s.addEncoded("network-traffic", ntID, b)

	odID := s.sdoID("observed-data", "flow", f.ID)
	b = append(b[:0], `{"created":`...)
	b = forensics.AppendJSONString(b, s.stamp)
	str("first_observed", stixObserved(f.Start))
	str("id", odID)
	str("last_observed", stixObserved(maxTime(f.Start, f.End)))
	str("modified", s.stamp)
	b = append(b, `,"number_observed":1,"object_marking_refs":[`...)
	b = forensics.AppendJSONString(b, s.marking)
	b = append(b, `],"object_refs":[`...)
	for i, ref := range compact(ntID, src, dst) {
		if i > 0 {
			b = append(b, ',')
		}
		b = forensics.AppendJSONString(b, ref)
	}
	b = append(b, ']')
	str("spec_version", "2.1")
	str("type", "observed-data")
	str("x_tracehop_evidence", f.Evidence.String())
	b = append(b, '}')
	s.addEncoded("observed-data", odID, b)
	s.buf = b
}
