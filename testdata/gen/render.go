package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

var kst = time.FixedZone("KST", 9*3600)

func (s *scenario) requests() []*request {
	var all []*request
	for _, ss := range s.sessions {
		all = append(all, ss.Reqs...)
	}
	slices.SortStableFunc(all, func(a, b *request) int { return a.T.Compare(b.T) })
	return all
}

// writeAccessLogs writes the nginx combined log in the server's local time
// (KST), rotated: the first week gzip'd as access.log.1.gz.
func (s *scenario) writeAccessLogs(dir string) error {
	var old, cur bytes.Buffer
	split := s.start.Add(7 * 24 * time.Hour)
	for _, r := range s.requests() {
		w := &cur
		if r.T.Before(split) {
			w = &old
		}
		req := r.Method + " " + r.Path + " HTTP/1.1"
		if r.Path == "" {
			// nginx logs a non-HTTP request line escaped, as it came.
			req = `\x16\x03\x01\x00\xFA\x01\x00\x00\xF6\x03\x03`
		}
		ref := r.Referrer
		if ref == "" {
			ref = "-"
		}
		fmt.Fprintf(w, "%s - - [%s] \"%s\" %d %d \"%s\" \"%s\"\n",
			r.IP, r.T.In(kst).Format("02/Jan/2006:15:04:05 -0700"), req, r.Status, r.Bytes, ref, r.UA)
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.Name = "access.log.1" // no ModTime: reproducible bytes
	if _, err := zw.Write(old.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "access.log.1.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "access.log"), cur.Bytes(), 0o644)
}

// gatewayLine is the API gateway's JSON access record (ECS field names,
// plus the gateway's own auth block).
type gatewayLine struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		Dataset  string `json:"dataset"`
		Duration int64  `json:"duration"`
	} `json:"event"`
	Source struct {
		IP   string `json:"ip"`
		Port uint16 `json:"port"`
	} `json:"source"`
	HTTP struct {
		Request struct {
			ID     string `json:"id"`
			Method string `json:"method"`
		} `json:"request"`
		Response struct {
			StatusCode int `json:"status_code"`
			Body       struct {
				Bytes int `json:"bytes"`
			} `json:"body"`
		} `json:"response"`
	} `json:"http"`
	URL struct {
		Domain string `json:"domain"`
		Path   string `json:"path"`
		Query  string `json:"query,omitempty"`
	} `json:"url"`
	UserAgent struct {
		Original string `json:"original"`
	} `json:"user_agent"`
	Auth struct {
		KeyID string `json:"key_id"`
	} `json:"auth"`
	User *struct {
		ID string `json:"id"`
	} `json:"user,omitempty"`
}

func (s *scenario) writeGatewayLog(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range s.requests() {
		if !strings.HasPrefix(r.Path, "/api/") || r.Key == "" {
			continue
		}
		var g gatewayLine
		g.Timestamp = r.T.UTC().Format("2006-01-02T15:04:05.000Z")
		g.Event.Dataset = "apigw.access"
		g.Event.Duration = int64(20+len(r.RequestID)%7*11) * int64(time.Millisecond)
		g.Source.IP, g.Source.Port = r.IP.String(), r.Port
		g.HTTP.Request.ID, g.HTTP.Request.Method = r.RequestID, r.Method
		g.HTTP.Response.StatusCode, g.HTTP.Response.Body.Bytes = r.Status, r.Bytes
		g.URL.Domain = apiHost
		g.URL.Path, g.URL.Query, _ = strings.Cut(r.Path, "?")
		g.UserAgent.Original = r.UA
		g.Auth.KeyID = r.Key
		if r.User != "" {
			g.User = &struct {
				ID string `json:"id"`
			}{r.User}
		}
		if err := enc.Encode(&g); err != nil {
			return err
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeCapture writes the edge capture: every session active in the
// capture window as one TLS connection (ClientHello with SNI, ServerHello,
// application data per request), a few plain-HTTP requests, and the
// server's own DNS lookups.
func (s *scenario) writeCapture(path string) error {
	pw := newPacketWriter()
	plain := 0
	for _, ss := range s.sessions {
		if ss.TLS == nil || ss.Start.Before(s.window[0]) || !ss.Start.Before(s.window[1]) {
			continue
		}
		server := s.serverIP
		if ss.IP.Is6() {
			server = s.serverIPv6
		}
		random := make([]byte, 32)
		for i := range random {
			random[i] = byte(s.r.IntN(256))
		}
		ua := ss.Reqs[0].UA
		if plain < 3 || (ss.Kind == kindCampaign && plain < 4) {
			// An http:// bookmark: a plain request answered with a redirect.
			plain++
			k := &tcpConn{pw: pw, c: ss.IP, s: server, cport: s.port(), sport: 80, cseq: s.r.Uint32(), sseq: s.r.Uint32(), t: ss.Start.Add(-2 * time.Second), rtt: 40 * time.Millisecond}
			host := webHost
			if ss.Kind == kindCampaign {
				host = apiHost
			}
			req := fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nConnection: close\r\n\r\n", host, ua)
			resp := fmt.Sprintf("HTTP/1.1 301 Moved Permanently\r\nServer: nginx\r\nLocation: https://%s/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", host)
			if err := k.open(); err != nil {
				return err
			}
			if err := k.exchange([]byte(req), []byte(resp)); err != nil {
				return err
			}
			if err := k.close(); err != nil {
				return err
			}
		}
		sni := webHost
		if ss.Kind == kindCampaign || ss.TLS == &okhttpTLS {
			sni = apiHost
		}
		rtt := 30 * time.Millisecond
		if ss.Kind == kindCampaign {
			rtt = 180 * time.Millisecond
		}
		k := &tcpConn{pw: pw, c: ss.IP, s: server, cport: ss.Reqs[0].Port, sport: 443, cseq: s.r.Uint32(), sseq: s.r.Uint32(), t: ss.Start.Add(-500 * time.Millisecond), rtt: rtt}
		if err := k.open(); err != nil {
			return err
		}
		if err := k.exchange(clientHello(*ss.TLS, sni, random), serverHello(0x1301, random)); err != nil {
			return err
		}
		for _, r := range ss.Reqs {
			if r.T.After(k.t) {
				k.t = r.T
			}
			if err := k.exchange(appData(120+len(r.Path), 0xa5), appData(min(r.Bytes, 4000), 0x5a)); err != nil {
				return err
			}
		}
		if err := k.close(); err != nil {
			return err
		}
	}
	// The web server's own lookups of its payment partner.
	resolver := netip.MustParseAddr("168.126.63.1")
	partner := []netip.Addr{netip.MustParseAddr("198.51.100.20"), netip.MustParseAddr("198.51.100.21")}
	for i := range 12 {
		t := s.window[0].Add(time.Duration(i*10) * time.Minute).Add(17 * time.Second)
		id := uint16(0x4000 + i)
		sport := s.port()
		q := dnsMessage(id, "pay.partner.example", nil, false)
		a := dnsMessage(id, "pay.partner.example", partner, true)
		if err := pw.write(t, s.serverIP, resolver, &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 53}, q); err != nil {
			return err
		}
		if err := pw.write(t.Add(3*time.Millisecond), resolver, s.serverIP, &layers.UDP{SrcPort: 53, DstPort: layers.UDPPort(sport)}, a); err != nil {
			return err
		}
	}
	// One lookup over TCP (a truncated UDP answer retried).
	{
		k := &tcpConn{pw: pw, c: s.serverIP, s: resolver, cport: s.port(), sport: 53, cseq: s.r.Uint32(), sseq: s.r.Uint32(), t: s.window[0].Add(61 * time.Minute), rtt: 6 * time.Millisecond}
		q := dnsMessage(0x5151, "cdn.partner.example", nil, false)
		a := dnsMessage(0x5151, "cdn.partner.example", partner, true)
		pre := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
		if err := k.open(); err != nil {
			return err
		}
		if err := k.exchange(pre(q), pre(a)); err != nil {
			return err
		}
		if err := k.close(); err != nil {
			return err
		}
	}
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	if err := pw.flush(w); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// writeMMDB writes GeoIP2-City and GeoLite2-ASN layout test databases for
// every range the scenario uses.
func (s *scenario) writeMMDB(dir string) error {
	seen := map[string]pool{}
	for _, p := range s.pools {
		seen[p.Prefix] = p
	}
	prefixes := make([]string, 0, len(seen))
	for k := range seen {
		prefixes = append(prefixes, k)
	}
	slices.Sort(prefixes)
	build := time.Date(2025, 7, 15, 0, 0, 0, 0, time.UTC).Unix()
	city, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", BuildEpoch: build, RecordSize: 28,
		Description: map[string]string{"en": "tracehop demo City test database (synthetic)"}, Languages: []string{"en"}})
	if err != nil {
		return err
	}
	asn, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", BuildEpoch: build, RecordSize: 24,
		Description: map[string]string{"en": "tracehop demo ASN test database (synthetic)"}, Languages: []string{"en"}})
	if err != nil {
		return err
	}
	for _, pfx := range prefixes {
		p := seen[pfx]
		_, n, err := net.ParseCIDR(pfx)
		if err != nil {
			return err
		}
		country := mmdbtype.Map{"iso_code": mmdbtype.String(p.Country), "names": mmdbtype.Map{"en": mmdbtype.String(p.CountryName)}}
		rec := mmdbtype.Map{
			"country":            country,
			"registered_country": country,
			"city":               mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}},
			"location": mmdbtype.Map{
				"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon),
				"accuracy_radius": mmdbtype.Uint16(p.AccuracyKM),
			},
		}
		if p.Subdiv != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(p.Subdiv)}}
		}
		if err := city.Insert(n, rec); err != nil {
			return fmt.Errorf("city %s: %w", pfx, err)
		}
		if err := asn.Insert(n, mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(p.ASN),
			"autonomous_system_organization": mmdbtype.String(p.Org),
		}); err != nil {
			return fmt.Errorf("asn %s: %w", pfx, err)
		}
	}
	for name, t := range map[string]*mmdbwriter.Tree{"demo-city.mmdb": city, "demo-asn.mmdb": asn} {
		var buf bytes.Buffer
		if _, err := t.WriteTo(&buf); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
