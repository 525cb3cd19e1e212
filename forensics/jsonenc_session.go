package forensics

import (
	"slices"
	"strconv"
)

// AppendSessionJSONGeo appends the JSON of s (no newline) as encoding/json
// with SetEscapeHTML(false) writes it, with srcGeo as the JSON of src_geo,
// already encoded (nil: omitted); s.SrcGeo is not read. ok is false when
// encoding/json would fail (a NaN or infinite beacon figure): dst is then
// returned unchanged and the caller falls back to encoding/json for its
// error. A report writes every session three times (report.json and the
// two passes of sessions.csv); reflection was most of that time.
// TestRecordJSONExact, FuzzRecordJSON and TestRecordJSONFields hold it to
// encoding/json as they do the event and flow encoders.
func AppendSessionJSONGeo(dst []byte, s *Session, srcGeo []byte) (out []byte, ok bool) {
	in := &s.Indicators
	if !finite(in.BeaconPeriod) || !finite(in.BeaconScore) {
		return dst, false
	}
	b := append(dst, `{"id":`...)
	b = appendJSONString(b, s.ID)
	b = appendJSONString(append(b, `,"kind":`...), s.Kind)
	b = appendAddrJSON(append(b, `,"src_ip":`...), s.SrcIP)
	b = timeJSON(append(b, `,"start":`...), s.Start)
	b = timeJSON(append(b, `,"end":`...), s.End)
	b = strconv.AppendInt(append(b, `,"events":`...), int64(s.Events), 10)
	b = strconv.AppendInt(append(b, `,"bytes":`...), s.Bytes, 10)
	b = append(b, `,"indicators":{`...)
	o := len(b)
	b = strFirst(b, o, "credential", in.Credential)
	b = strFirst(b, o, "token_key_id", in.TokenKeyID)
	b = strFirst(b, o, "user", in.User)
	b = strFirst(b, o, "user_agent", in.UserAgent)
	b = strFirst(b, o, "ja3", in.JA3)
	b = strFirst(b, o, "ja4", in.JA4)
	b = strFirst(b, o, "hassh", in.HASSH)
	b = strsFirst(b, o, "path_template", in.PathTemplates)
	b = countMap(b, o, "methods", in.Methods)
	b = countMap(b, o, "statuses", in.Statuses)
	b = intFirst(b, o, "objects", int64(in.Objects))
	b = intFirst(b, o, "first_object", in.FirstObject)
	b = intFirst(b, o, "last_object", in.LastObject)
	b = strFirst(b, o, "seq_template", in.SeqTemplate)
	b = intFirst(b, o, "seq_run", int64(in.SeqRun))
	b = strFirst(b, o, "prefix", in.Prefix)
	b = intFirst(b, o, "asn", int64(in.ASN))
	b = strFirst(b, o, "country", in.Country)
	b = trueOmit(b, o, `"hosting":true`, in.Hosting)
	b = trueOmit(b, o, `"anonymizer":true`, in.Anonymizer)
	b = trueOmit(b, o, `"crawler":true`, in.Crawler)
	b = intFirst(b, o, "failures", int64(in.Failures))
	b = intFirst(b, o, "not_found", int64(in.NotFound))
	b = intFirst(b, o, "probe_hits", int64(in.ProbeHits))
	if len(in.HourOfWeek) > 0 {
		b = append(sep(b, o), `"hour_of_week":[`...)
		for i, h := range in.HourOfWeek {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(append(b, `{"h":`...), int64(h.Hour), 10)
			b = strconv.AppendInt(append(b, `,"n":`...), int64(h.Count), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if in.BeaconPeriod != 0 {
		b = appendFloatJSON(append(sep(b, o), `"beacon_period_s":`...), in.BeaconPeriod)
	}
	if in.BeaconScore != 0 {
		b = appendFloatJSON(append(sep(b, o), `"beacon_score":`...), in.BeaconScore)
	}
	b = strsFirst(b, o, "extra", in.Extra)
	b = append(b, '}')
	b = rawOmit(b, "src_geo", srcGeo)
	if len(s.Evidence) > 0 {
		b = append(b, `,"evidence":[`...)
		for i := range s.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			r := &s.Evidence[i]
			at := len(b)
			b = appendEvidenceHead(b, r)
			// The head starts `,"evidence":{"file":`; an array element
			// is the object alone.
			b = append(b[:at], b[at+len(`,"evidence":`):]...)
			b = appendEvidenceTail(b, r)
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

// sep writes the comma before a member unless it is the first of the
// object opened at o.
func sep(b []byte, o int) []byte {
	if len(b) > o {
		return append(b, ',')
	}
	return b
}

// strFirst and intFirst are omitempty members of an object opened at o.
func strFirst(b []byte, o int, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(sep(b, o), '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func intFirst(b []byte, o int, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(sep(b, o), '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

// strsFirst is an omitempty []string member of an object opened at o.
func strsFirst(b []byte, o int, name string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(sep(b, o), '"')
	b = append(b, name...)
	b = append(b, `":[`...)
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, x)
	}
	return append(b, ']')
}

// countMap writes a map[string]int member, keys sorted as encoding/json
// sorts them.
func countMap(b []byte, o int, name string, m map[string]int) []byte {
	if len(m) == 0 {
		return b
	}
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(sep(b, o), '"')
	b = append(b, name...)
	b = append(b, `":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = strconv.AppendInt(b, int64(m[k]), 10)
	}
	return append(b, '}')
}

// AppendSessionJSON is AppendSessionJSONGeo encoding s.SrcGeo itself; ok
// is false where encoding/json would fail.
func AppendSessionJSON(dst []byte, s *Session) ([]byte, bool) {
	geo, err := enrichJSON(s.SrcGeo)
	if err != nil {
		return dst, false
	}
	return AppendSessionJSONGeo(dst, s, geo)
}
