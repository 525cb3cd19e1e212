package logs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// flowRec is a flow record as text fields before normalization.
type flowRec struct {
	start, end  string
	dur         string
	proto       string
	src, dst    string
	sport       string
	dport       string
	pktsOut     string
	pktsIn      string
	bytesOut    string
	bytesIn     string
	state       string
	communityID string
	http        *forensics.HTTPMeta
	tls         *forensics.TLSMeta
	ssh         *forensics.SSHMeta
	dns         *forensics.DNSMeta
}

var protoNumbers = map[string]uint8{
	"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmp6": 58, "icmpv6": 58, "ipv6-icmp": 58, "ipv6icmp": 58, "sctp": 132,
}

var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 58: "icmpv6", 132: "sctp"}

// parseProto accepts names in any case and IANA numbers.
func parseProto(s string) (uint8, string, bool) {
	s = strings.TrimSpace(s)
	if n, ok := digits(s); ok && n < 256 {
		if name, ok := protoNames[uint8(n)]; ok {
			return uint8(n), name, true
		}
		return uint8(n), s, true
	}
	l := strings.ToLower(s)
	if n, ok := protoNumbers[l]; ok {
		return n, protoNames[n], true
	}
	return 0, "", false
}

// parsePortAny reads decimal ports and the hex ports Argus prints for
// ICMP ("0x0008").
func parsePortAny(s string) (uint16, bool) {
	s = dash(strings.TrimSpace(s))
	if s == "" {
		return 0, true
	}
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 16)
		return uint16(n), err == nil
	}
	return parsePort(s)
}

func parseFloatSecs(s string) (time.Duration, bool) {
	s = dash(s)
	if s == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func count(s string) (uint64, error) {
	s = dash(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	if n, ok := parseCount(s); ok {
		return n, nil
	}
	// nfdump scales big numbers: "1.2 M".
	f, unit, _ := strings.Cut(s, " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad count %q", clip(s))
	}
	switch unit {
	case "K", "k":
		v *= 1e3
	case "M":
		v *= 1e6
	case "G":
		v *= 1e9
	}
	return uint64(v), nil
}

// buildFlow normalizes a flow record.
func (st *state) buildFlow(r *flowRec) (forensics.Flow, error) {
	f := forensics.Flow{
		ID:       st.recordID("fl"),
		Evidence: st.ref(),
		HTTP:     r.http, TLS: r.tls, SSH: r.ssh, DNS: r.dns,
	}
	var ok bool
	if f.SrcIP, ok = parseAddr(dash(r.src)); !ok {
		return f, fmt.Errorf("bad source address %q", clip(r.src))
	}
	if f.DstIP, ok = parseAddr(dash(r.dst)); !ok {
		return f, fmt.Errorf("bad destination address %q", clip(r.dst))
	}
	if f.SrcPort, ok = parsePortAny(r.sport); !ok {
		return f, fmt.Errorf("bad source port %q", clip(r.sport))
	}
	if f.DstPort, ok = parsePortAny(r.dport); !ok {
		return f, fmt.Errorf("bad destination port %q", clip(r.dport))
	}
	proto, name, okp := parseProto(r.proto)
	if okp {
		f.Proto = name
	} else {
		f.Proto = strings.ToLower(clip(r.proto))
	}
	start, _, ok := parseAnyTime(r.start, st.opts.TZ)
	if !ok {
		return f, fmt.Errorf("%w %q", errBadTime, clip(r.start))
	}
	end := start
	if e := dash(r.end); e != "" {
		if end, _, ok = parseAnyTime(e, st.opts.TZ); !ok {
			return f, fmt.Errorf("%w %q", errBadTime, clip(e))
		}
	} else if d, ok := parseFloatSecs(r.dur); ok {
		end = start.Add(d)
	} else {
		return f, fmt.Errorf("bad duration %q", clip(r.dur))
	}
	f.Start, f.End = st.flowTime(start), st.flowTime(end)
	var err error
	for _, c := range []struct {
		dst *uint64
		s   string
	}{{&f.PktsOut, r.pktsOut}, {&f.PktsIn, r.pktsIn}, {&f.BytesOut, r.bytesOut}, {&f.BytesIn, r.bytesIn}} {
		if *c.dst, err = count(c.s); err != nil {
			return f, err
		}
	}
	f.State = clip(dash(r.state))
	if okp && f.SrcIP.IsValid() && f.DstIP.IsValid() {
		f.CommunityID = forensics.CommunityID(st.opts.CommunityIDSeed, proto, f.SrcIP, f.DstIP, f.SrcPort, f.DstPort)
	} else {
		f.CommunityID = clip(dash(r.communityID))
	}
	return f, nil
}

// zeekTSVParser reads Zeek TSV logs; conn.log records become flows, the
// header lines set the separator and columns, other log paths are
// counted as ignored.
type zeekTSVParser struct {
	sep    string
	unset  string
	empty  string
	path   string
	cols   map[string]int
	ncols  int
	fields []string
}

func unescapeZeek(s string) string {
	if strings.HasPrefix(s, `\x`) && len(s) == 4 {
		if b, err := strconv.ParseUint(s[2:], 16, 8); err == nil {
			return string(rune(b))
		}
	}
	return s
}

func (p *zeekTSVParser) parse(st *state, s string) error {
	if p.sep == "" {
		p.sep, p.unset, p.empty = "\t", "-", "(empty)"
	}
	if strings.HasPrefix(s, "#") {
		key, val, _ := strings.Cut(s[1:], p.sep)
		if key == s[1:] {
			key, val, _ = strings.Cut(s[1:], " ")
		}
		switch key {
		case "separator":
			p.sep = unescapeZeek(strings.TrimSpace(val))
			if p.sep == "" {
				p.sep = "\t"
			}
		case "unset_field":
			p.unset = val
		case "empty_field":
			p.empty = val
		case "path":
			p.path = val
		case "fields":
			names := strings.Split(val, p.sep)
			p.cols = make(map[string]int, len(names))
			for i, n := range names {
				p.cols[n] = i
			}
			p.ncols = len(names)
		}
		return errIgnore
	}
	if p.cols == nil {
		return errors.New("zeek record before #fields header")
	}
	if p.path != "" && p.path != "conn" {
		return errIgnore
	}
	p.fields = appendSplit(p.fields[:0], s, p.sep, p.ncols+1)
	if len(p.fields) != p.ncols {
		return fmt.Errorf("zeek record has %d fields, header has %d", len(p.fields), p.ncols)
	}
	get := func(name string) string {
		i, ok := p.cols[name]
		if !ok {
			return ""
		}
		v := p.fields[i]
		if v == p.unset || v == p.empty {
			return ""
		}
		return v
	}
	if _, ok := p.cols["id.orig_h"]; !ok {
		return errIgnore
	}
	r := flowRec{
		start: get("ts"), dur: get("duration"), proto: get("proto"),
		src: get("id.orig_h"), sport: get("id.orig_p"), dst: get("id.resp_h"), dport: get("id.resp_p"),
		pktsOut: get("orig_pkts"), pktsIn: get("resp_pkts"),
		bytesOut: firstNonEmpty(get("orig_ip_bytes"), get("orig_bytes")), bytesIn: firstNonEmpty(get("resp_ip_bytes"), get("resp_bytes")),
		state: get("conn_state"), communityID: get("community_id"),
	}
	f, err := st.buildFlow(&r)
	if err != nil {
		return err
	}
	st.emitF(f)
	return nil
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

// appendSplit splits s by sep into at most max parts.
func appendSplit(dst []string, s, sep string, max int) []string {
	for len(dst) < max-1 {
		i := strings.Index(s, sep)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i])
		s = s[i+len(sep):]
	}
	return append(dst, s)
}

// jsonFlowParser is the shared walker of Zeek JSON and Suricata EVE.
type jsonFlowParser struct {
	vals  map[string]string
	path  []byte
	visit jsonVisitor
	want  map[string]bool
}

func (p *jsonFlowParser) init(keys []string) {
	p.want = make(map[string]bool, len(keys))
	for _, k := range keys {
		p.want[k] = true
	}
	p.vals = make(map[string]string, len(keys))
	p.visit = func(path []byte, kind byte, raw string) {
		if kind == jsNull || kind == jsArray {
			if kind == jsArray && p.want[string(path)] {
				p.vals[string(path)] = strings.Join(jsonStrings(raw, 16), ",")
			}
			return
		}
		if p.want[string(path)] {
			if kind == jsEscStr {
				raw = jsonUnquote(raw)
			}
			p.vals[string(path)] = raw
		}
	}
}

func (p *jsonFlowParser) walk(st *state, s string) error {
	clear(p.vals)
	var err error
	if p.path, err = walkJSON(s, p.path, p.visit, nil); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	return nil
}

type zeekJSONParser struct{ jsonFlowParser }

func (p *zeekJSONParser) parse(st *state, s string) error {
	if p.want == nil {
		p.init([]string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration",
			"orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_ip_bytes", "resp_ip_bytes", "conn_state", "community_id", "_path"})
	}
	if err := p.walk(st, s); err != nil {
		return err
	}
	v := p.vals
	if path := v["_path"]; path != "" && path != "conn" {
		return errIgnore
	}
	if v["conn_state"] == "" && v["proto"] == "" {
		return errIgnore // another Zeek log (http, ssl, dns...)
	}
	r := flowRec{
		start: v["ts"], dur: v["duration"], proto: v["proto"],
		src: v["id.orig_h"], sport: v["id.orig_p"], dst: v["id.resp_h"], dport: v["id.resp_p"],
		pktsOut: v["orig_pkts"], pktsIn: v["resp_pkts"],
		bytesOut: firstNonEmpty(v["orig_ip_bytes"], v["orig_bytes"]), bytesIn: firstNonEmpty(v["resp_ip_bytes"], v["resp_bytes"]),
		state: v["conn_state"], communityID: v["community_id"],
	}
	f, err := st.buildFlow(&r)
	if err != nil {
		return err
	}
	st.emitF(f)
	return nil
}

// eveParser reads Suricata EVE JSON: flow, netflow, http, tls, ssh and dns
// records become flows (the protocol records carry the metadata and the
// timestamp of the transaction); alerts, stats and the rest are ignored.
type eveParser struct{ jsonFlowParser }

func (p *eveParser) parse(st *state, s string) error {
	if p.want == nil {
		p.init([]string{"timestamp", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "community_id",
			"flow.pkts_toserver", "flow.pkts_toclient", "flow.bytes_toserver", "flow.bytes_toclient", "flow.start", "flow.end", "flow.state",
			"netflow.pkts", "netflow.bytes", "netflow.start", "netflow.end",
			"http.hostname", "http.url", "http.http_user_agent", "http.http_method", "http.xff",
			"tls.version", "tls.sni", "tls.ja3.hash", "tls.ja3.string", "tls.ja3s.hash", "tls.ja3s.string", "tls.ja4",
			"ssh.client.software_version", "ssh.client.proto_version", "ssh.server.software_version", "ssh.server.proto_version",
			"ssh.client.hassh.hash", "ssh.server.hassh.hash",
			"dns.rrname", "dns.rrtype", "dns.rcode", "dns.queries", "dns.query.rrname"})
	}
	if err := p.walk(st, s); err != nil {
		return err
	}
	v := p.vals
	r := flowRec{
		start: v["timestamp"], proto: v["proto"], src: v["src_ip"], sport: v["src_port"], dst: v["dest_ip"], dport: v["dest_port"],
		communityID: v["community_id"],
	}
	switch v["event_type"] {
	case "flow":
		r.start, r.end = firstNonEmpty(v["flow.start"], v["timestamp"]), v["flow.end"]
		r.pktsOut, r.pktsIn, r.bytesOut, r.bytesIn = v["flow.pkts_toserver"], v["flow.pkts_toclient"], v["flow.bytes_toserver"], v["flow.bytes_toclient"]
		r.state = v["flow.state"]
	case "netflow":
		r.start, r.end = firstNonEmpty(v["netflow.start"], v["timestamp"]), v["netflow.end"]
		r.pktsOut, r.bytesOut = v["netflow.pkts"], v["netflow.bytes"]
	case "http":
		r.http = &forensics.HTTPMeta{Method: v["http.http_method"], Host: v["http.hostname"], Path: v["http.url"], UserAgent: v["http.http_user_agent"], XFF: v["http.xff"]}
	case "tls":
		t := &forensics.TLSMeta{Version: v["tls.version"], SNI: v["tls.sni"], JA3: v["tls.ja3.string"], JA3Hash: v["tls.ja3.hash"],
			JA3S: v["tls.ja3s.string"], JA3SHash: v["tls.ja3s.hash"], JA4: v["tls.ja4"]}
		r.tls = t
	case "ssh":
		r.ssh = &forensics.SSHMeta{
			Client: sshBanner(v["ssh.client.proto_version"], v["ssh.client.software_version"]),
			Server: sshBanner(v["ssh.server.proto_version"], v["ssh.server.software_version"]),
			HASSH:  v["ssh.client.hassh.hash"], HASSHServer: v["ssh.server.hassh.hash"],
		}
	case "dns":
		r.dns = &forensics.DNSMeta{Query: firstNonEmpty(v["dns.rrname"], v["dns.query.rrname"]), QType: v["dns.rrtype"], RCode: v["dns.rcode"]}
	case "":
		return errors.New("EVE record without event_type")
	default:
		return errIgnore
	}
	if r.src == "" && r.dst == "" {
		return errIgnore // e.g. stats-like records of other types
	}
	f, err := st.buildFlow(&r)
	if err != nil {
		return err
	}
	st.emitF(f)
	return nil
}

func sshBanner(proto, software string) string {
	if proto == "" && software == "" {
		return ""
	}
	return "SSH-" + proto + "-" + software
}

// flowCSVParser reads nfdump "-o csv" and Argus "ra -c ," output by
// header names.
type flowCSVParser struct {
	kind   string
	cols   map[string]int
	ncols  int
	done   bool
	fields []string
}

var flowCSVNames = map[string]string{
	// nfdump 1.6/1.7
	"ts": "start", "te": "end", "td": "dur", "sa": "src", "da": "dst", "sp": "sport", "dp": "dport", "pr": "proto",
	"flg": "state", "ipkt": "pktsOut", "opkt": "pktsIn", "ibyt": "bytesOut", "obyt": "bytesIn",
	"firstseen": "start", "lastseen": "end", "duration": "dur", "srcaddr": "src", "dstaddr": "dst",
	"srcport": "sport", "dstport": "dport", "proto": "proto", "flags": "state", "packets": "pktsOut", "bytes": "bytesOut",
	"in_pkts": "pktsOut", "out_pkts": "pktsIn", "in_bytes": "bytesOut", "out_bytes": "bytesIn",
	// Argus
	"starttime": "start", "lasttime": "end", "stime": "start", "ltime": "end", "dur": "dur",
	"saddr": "src", "daddr": "dst", "sport": "sport", "dport": "dport", "state": "state",
	"srcpkts": "pktsOut", "dstpkts": "pktsIn", "srcbytes": "bytesOut", "dstbytes": "bytesIn",
	"spkts": "pktsOut", "dpkts": "pktsIn", "sbytes": "bytesOut", "dbytes": "bytesIn",
	"totpkts": "totPkts", "totbytes": "totBytes",
}

func (p *flowCSVParser) parse(st *state, s string) error {
	if p.done {
		return errIgnore
	}
	if p.cols == nil {
		names := strings.Split(s, ",")
		p.cols = map[string]int{}
		for i, n := range names {
			if k, ok := flowCSVNames[strings.ToLower(strings.TrimSpace(n))]; ok {
				if _, dup := p.cols[k]; !dup {
					p.cols[k] = i
				}
			}
		}
		p.ncols = len(names)
		for _, need := range []string{"start", "src", "dst"} {
			if _, ok := p.cols[need]; !ok {
				p.cols = nil
				return fmt.Errorf("flow CSV header has no %s column", need)
			}
		}
		return errIgnore
	}
	if strings.HasPrefix(s, "Summary") || strings.HasPrefix(s, "Sys:") {
		p.done = true // nfdump appends a summary table
		return errIgnore
	}
	p.fields = appendSplit(p.fields[:0], s, ",", p.ncols+1)
	if len(p.fields) < p.ncols {
		return fmt.Errorf("flow CSV record has %d fields, header has %d", len(p.fields), p.ncols)
	}
	get := func(k string) string {
		if i, ok := p.cols[k]; ok {
			return strings.TrimSpace(p.fields[i])
		}
		return ""
	}
	r := flowRec{
		start: get("start"), end: get("end"), dur: get("dur"), proto: get("proto"),
		src: get("src"), dst: get("dst"), sport: get("sport"), dport: get("dport"),
		pktsOut: firstNonEmpty(get("pktsOut"), get("totPkts")), pktsIn: get("pktsIn"),
		bytesOut: firstNonEmpty(get("bytesOut"), get("totBytes")), bytesIn: get("bytesIn"), state: get("state"),
	}
	f, err := st.buildFlow(&r)
	if err != nil {
		return err
	}
	st.emitF(f)
	return nil
}
