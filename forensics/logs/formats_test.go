package logs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFlowRecordFields asserts exact values of the first records of each
// flow-record sample (the golden files hold the rest).
func TestFlowRecordFields(t *testing.T) {
	cases := []struct {
		file, format                     string
		n                                int
		src, dst, proto, start, end, cid string
		sport, dport                     uint16
		pktsOut, bytesIn                 uint64
	}{
		{"nfdump.csv", FormatNfdumpCSV, 2, "192.0.2.10", "198.51.100.20", "tcp", "2017-05-29T15:03:02Z", "2017-05-29T15:03:05Z", "", 51234, 443, 12, 0},
		{"argus.csv", FormatArgusCSV, 2, "192.0.2.10", "198.51.100.20", "tcp", "2017-06-29T15:03:02.123456Z", "2017-06-29T15:03:02.655456Z", "", 51234, 443, 12, 0},
		{"eve.json", FormatSuricataEVE, 4, "192.0.2.10", "198.51.100.20", "tcp", "2017-05-29T15:03:01Z", "2017-05-29T15:03:02Z", "", 51234, 443, 7, 4000},
		{"conn.json", FormatZeekJSON, 2, "192.168.4.76", "192.168.4.1", "udp", "2020-06-05T14:39:59.305988Z", "2020-06-05T14:39:59.372839854Z", "", 36844, 53, 2, 197},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "samples", c.file))
			if err != nil {
				t.Fatal(err)
			}
			_, fls, st := readAll(t, string(b), c.format, DefaultOptions())
			if len(fls) != c.n || st.Malformed != 0 {
				t.Fatalf("flows %d %+v", len(fls), st)
			}
			f := fls[0]
			v := eventView{}
			v.eq(t, "src", f.SrcIP.String(), c.src)
			v.eq(t, "dst", f.DstIP.String(), c.dst)
			v.eq(t, "proto", f.Proto, c.proto)
			v.eq(t, "start", f.Start.UTC().Format(time.RFC3339Nano), c.start)
			v.eq(t, "end", f.End.UTC().Format(time.RFC3339Nano), c.end)
			if f.SrcPort != c.sport || f.DstPort != c.dport || f.PktsOut != c.pktsOut || f.BytesIn != c.bytesIn {
				t.Errorf("ports %d %d pkts %d bytes in %d", f.SrcPort, f.DstPort, f.PktsOut, f.BytesIn)
			}
			if len(f.CommunityID) != 30 || f.Evidence.Line == 0 {
				t.Errorf("community id %q evidence %+v", f.CommunityID, f.Evidence)
			}
		})
	}
	// EVE protocol records carry their metadata.
	b, _ := os.ReadFile(filepath.Join("testdata", "samples", "eve.json"))
	_, fls, st := readAll(t, string(b), FormatSuricataEVE, DefaultOptions())
	if st.Ignored != 2 || fls[1].TLS == nil || fls[1].TLS.SNI != "raw.githubusercontent.com" || fls[1].TLS.JA3Hash != "e6573e91e6eb777c0933c5b8f97f10cd" ||
		fls[2].HTTP == nil || fls[2].HTTP.UserAgent != "curl/8.5.0" || fls[3].SSH == nil || fls[3].SSH.Client != "SSH-2.0-OpenSSH_8.9" || fls[3].SSH.HASSH != "ec7378c1a92f5a8dde7e8b7a1ddf33d1" {
		t.Errorf("eve metadata: ignored %d %+v %+v %+v", st.Ignored, fls[1].TLS, fls[2].HTTP, fls[3].SSH)
	}
}

// TestWebSampleFields asserts exact values from the W3C, CloudFront, ALB
// and ELB samples.
func TestWebSampleFields(t *testing.T) {
	cases := []struct {
		file, format                           string
		idx                                    int
		src, method, host, path, ua, ref, user string
		status                                 int
		bytes                                  int64
		srcPort                                uint16
		indicatorKey, indicatorVal             string
	}{
		{"iis.log", FormatW3C, 0, "203.0.113.7", "GET", "", "/api/v1/orders/1001?id=7", "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)", "", "", 200, 0, 0, "request_time", "15"},
		{"iis.log", FormatW3C, 1, "2001:db8::7", "POST", "", "/login", "curl/8.5.0", "https://example.com/", "alice", 401, 0, 0, "substatus", "1"},
		{"cloudfront.log", FormatCloudFront, 1, "2001:db8::100", "GET", "d111111abcdef8.cloudfront.net", "/x?a=1", "curl/8.5.0", "", "", 403, 112, 443, "edge_location", "LAX1"},
		{"alb.log", FormatALB, 1, "192.168.131.40", "GET", "www.example.com", "/login?next=%2F", "Mozilla/5.0 (X11; Linux x86_64)", "", "", 200, 57, 2818, "tls_version", "TLSv1.2"},
		{"elb.log", FormatELB, 0, "192.168.131.39", "GET", "www.example.com", "/", "curl/7.38.0", "", "", 200, 29, 2817, "target", "10.0.0.1:80"},
	}
	for _, c := range cases {
		t.Run(c.file+"#"+itoa(c.idx), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "samples", c.file))
			if err != nil {
				t.Fatal(err)
			}
			evs, _, _ := readAll(t, string(b), c.format, DefaultOptions())
			e := evs[c.idx]
			v := eventView{e}
			v.eq(t, "src", e.SrcIP.String(), c.src)
			v.eq(t, "method", e.Method, c.method)
			v.eq(t, "host", e.Host, c.host)
			v.eq(t, "path", e.Path, c.path)
			v.eq(t, "ua", e.UserAgent, c.ua)
			v.eq(t, "ref", e.Referrer, c.ref)
			v.eq(t, "user", e.User, c.user)
			v.eq(t, "indicator", e.Indicators[c.indicatorKey], c.indicatorVal)
			if e.Status != c.status || e.Bytes != c.bytes || e.SrcPort != c.srcPort {
				t.Errorf("status %d bytes %d port %d", e.Status, e.Bytes, e.SrcPort)
			}
		})
	}
}
