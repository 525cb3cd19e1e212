package forensics

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"strconv"

	"github.com/tracehop/tracehop/enrich"
)

// AppendRecordJSON appends r (an ip record, as in src_geo) as encoding/json
// with SetEscapeHTML(false) writes it, without a newline; nothing for a nil
// r. A NaN or infinite coordinate is refused as encoding/json refuses it,
// and dst is then returned unchanged.
func AppendRecordJSON(dst []byte, r *enrich.Record) ([]byte, error) {
	if r == nil {
		return dst, nil
	}
	if (r.Lat != nil && !finite(*r.Lat)) || (r.Lon != nil && !finite(*r.Lon)) {
		// encoding/json refuses these: let it say so.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return dst, err
		}
		return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
	}
	b := append(dst, `{"ip":`...)
	b = appendAddrJSON(b, r.IP)
	b = strField(b, "class", r.Class)
	if r.EmbeddedIPv4 != (netip.Addr{}) {
		b = appendAddrJSON(field(b, "embedded_ipv4"), r.EmbeddedIPv4)
	}
	b = strOmit(b, "embedding", r.Embedding)
	b = strOmit(b, "country", r.Country)
	b = strOmit(b, "country_name", r.CountryName)
	b = strOmit(b, "registered_country", r.RegisteredCountry)
	b = strOmit(b, "subdivision", r.Subdivision)
	b = strOmit(b, "city", r.City)
	if r.Lat != nil {
		b = appendFloatJSON(field(b, "lat"), *r.Lat)
	}
	if r.Lon != nil {
		b = appendFloatJSON(field(b, "lon"), *r.Lon)
	}
	b = uintOmit(b, "accuracy_km", uint64(r.AccuracyKM))
	b = uintOmit(b, "asn", uint64(r.ASN))
	b = strOmit(b, "as_org", r.ASOrg)
	b = strOmit(b, "isp", r.ISP)
	b = strOmit(b, "connection_type", r.ConnectionType)
	b = strOmit(b, "domain", r.Domain)
	if r.Network != (netip.Prefix{}) {
		b = appendPrefixJSON(field(b, "network"), r.Network)
	}
	if a := r.Anonymous; a != nil {
		b = append(field(b, "anonymous"), '{')
		o := len(b)
		b = trueOmit(b, o, `"vpn":true`, a.VPN)
		b = trueOmit(b, o, `"tor":true`, a.Tor)
		b = trueOmit(b, o, `"hosting":true`, a.Hosting)
		b = trueOmit(b, o, `"proxy":true`, a.Proxy)
		b = trueOmit(b, o, `"residential_proxy":true`, a.ResidentialProxy)
		b = append(b, '}')
	}
	b = trueOmit(b, 0, `"anycast":true`, r.Anycast)
	if r.Foreign != nil {
		b = strconv.AppendBool(field(b, "foreign"), *r.Foreign)
	}
	if n := r.Sources.Len(); n > 0 {
		b = append(field(b, "sources"), '[')
		for i := range n {
			s := r.Sources.At(i)
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"db":`...)
			b = appendJSONString(b, s.DB)
			b = strField(b, "type", s.Type)
			b = strField(b, "build", s.Build)
			b = strField(b, "sha256", s.SHA256)
			if s.Network != (netip.Prefix{}) {
				b = appendPrefixJSON(field(b, "network"), s.Network)
			}
			b = strsOmit(b, "fields", s.Fields)
			if s.SnapshotDistanceDays != nil {
				b = strconv.AppendInt(field(b, "snapshot_distance_days"), int64(*s.SnapshotDistanceDays), 10)
			}
			b = trueOmit(b, 0, `"after_event":true`, s.AfterEvent)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// trueOmit appends an omitempty bool field that is true; the comma is
// left out when nothing stands after position o (the object's start).
func trueOmit(b []byte, o int, field string, v bool) []byte {
	if !v {
		return b
	}
	if len(b) > o {
		b = append(b, ',')
	}
	return append(b, field...)
}

func appendPrefixJSON(b []byte, p netip.Prefix) []byte {
	// Digits, dots, colons, hex letters and a slash: nothing to escape.
	b = append(b, '"')
	b = p.AppendTo(b)
	return append(b, '"')
}

// appendFloatJSON is encoding/json's float64 encoder for a finite f.
func appendFloatJSON(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
