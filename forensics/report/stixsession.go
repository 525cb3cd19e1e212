package report

import "github.com/tracehop/tracehop/forensics"

// addSession adds a session's observed-data (of its source address and
// that address's autonomous system), encoded by hand as addFlow encodes a
// flow's: a busy log has hundreds of thousands of sessions. The bytes are
// those of the map it replaced (TestSTIXSessionObjectsMatchMaps).
func (s *stixBuilder) addSession(se *forensics.Session) {
	ref := s.ip(se.SrcIP)
	if ref == "" || se.Start.IsZero() {
		return
	}
	var as string
	if g := se.SrcGeo; g != nil && g.ASN != 0 {
		as = s.as(g.ASN, g.ASOrg)
	}
	id := s.sdoID("observed-data", "session", se.ID)
	b := append(s.buf[:0], `{"created":`...)
	b = forensics.AppendJSONString(b, s.stamp)
	b = append(b, `,"first_observed":`...)
	b = forensics.AppendJSONString(b, stixObserved(se.Start))
	b = append(b, `,"id":`...)
	b = forensics.AppendJSONString(b, id)
	b = append(b, `,"last_observed":`...)
	b = forensics.AppendJSONString(b, stixObserved(maxTime(se.Start, se.End)))
	b = append(b, `,"modified":`...)
	b = forensics.AppendJSONString(b, s.stamp)
	b = append(b, `,"number_observed":`...)
	b = forensics.AppendUint(b, uint64(min(max(se.Events, 1), 999999999)))
	b = append(b, `,"object_marking_refs":[`...)
	b = forensics.AppendJSONString(b, s.marking)
	b = append(b, `],"object_refs":[`...)
	b = forensics.AppendJSONString(b, ref)
	if as != "" {
		b = forensics.AppendJSONString(append(b, ','), as)
	}
	b = append(b, `],"spec_version":"2.1","type":"observed-data","x_tracehop_session":`...)
	b = forensics.AppendJSONString(b, se.ID)
	b = append(b, '}')
	s.addEncoded("observed-data", id, b)
	s.buf = b
}
