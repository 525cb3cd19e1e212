package report

import (
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
)

// STIX 2.1 export (stix.json). Every identifier is a UUIDv5, so the same
// case gives the same bundle byte for byte:
//   - SCOs (ipv4-addr, ipv6-addr, autonomous-system, network-traffic) use
//     the STIX namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over the
//     RFC 8785 canonical JSON of their ID contributing properties (STIX 2.1
//     §2.9), so any STIX tool recomputes them;
//   - SDOs and SROs use tracehop's namespace over their type, the case ID
//     and the record's own deterministic ID.
// SDO created/modified times are the last record time of the case (no
// wall clock).

var (
	stixSCONamespace = mustUUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
	// tracehopNamespace is UUIDv5(STIX SCO namespace, "tracehop").
	tracehopNamespace = uuid5(stixSCONamespace, []byte("tracehop"))
)

// tlpMarkings are the TLP 1.0 marking definitions predefined by STIX 2.1
// (§7.2.1.4). TLP 2.0 "clear" maps to WHITE and "amber+strict" to AMBER,
// the closest predefined markings.
var tlpMarkings = map[string]struct{ id, name, tlp string }{
	"clear":        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
	"green":        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
	"amber":        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
	"amber+strict": {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
	"red":          {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
}

func mustUUID(s string) [16]byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("bad uuid " + s)
	}
	return [16]byte(b)
}

// uuid5 is RFC 9562 UUID version 5 (SHA-1, name-based).
func uuid5(ns [16]byte, name []byte) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write(name)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidString(u [16]byte) string {
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// jcs writes the RFC 8785 canonical form of the values SCO ID
// contributing properties can hold here: strings, integers, string lists
// and objects of those. Keys sort by UTF-16 code units, which for the
// ASCII property names of STIX is byte order.
func jcs(sb *strings.Builder, v any) {
	switch t := v.(type) {
	case string:
		sb.WriteByte('"')
		for _, r := range t {
			switch {
			case r == '"':
				sb.WriteString(`\"`)
			case r == '\\':
				sb.WriteString(`\\`)
			case r == '\b':
				sb.WriteString(`\b`)
			case r == '\f':
				sb.WriteString(`\f`)
			case r == '\n':
				sb.WriteString(`\n`)
			case r == '\r':
				sb.WriteString(`\r`)
			case r == '\t':
				sb.WriteString(`\t`)
			case r < 0x20:
				fmt.Fprintf(sb, `\u%04x`, r)
			default:
				sb.WriteRune(r)
			}
		}
		sb.WriteByte('"')
	case int:
		sb.WriteString(strconv.Itoa(t))
	case uint32:
		sb.WriteString(strconv.FormatUint(uint64(t), 10))
	case uint16:
		sb.WriteString(strconv.Itoa(int(t)))
	case []string:
		sb.WriteByte('[')
		for i, s := range t {
			if i > 0 {
				sb.WriteByte(',')
			}
			jcs(sb, s)
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := sortedKeys(t)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			jcs(sb, k)
			sb.WriteByte(':')
			jcs(sb, t[k])
		}
		sb.WriteByte('}')
	default:
		panic(fmt.Sprintf("jcs: unsupported %T", v))
	}
}

// scoIDContributing lists the ID contributing properties of the SCO types
// tracehop writes (STIX 2.1 §6).
var scoIDContributing = map[string][]string{
	"ipv4-addr":         {"value"},
	"ipv6-addr":         {"value"},
	"autonomous-system": {"number"},
	"network-traffic":   {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
}

// scoID computes the deterministic identifier of an SCO from its
// properties.
func scoID(obj map[string]any) string {
	typ := obj["type"].(string)
	contrib := map[string]any{}
	for _, k := range scoIDContributing[typ] {
		if v, ok := obj[k]; ok {
			contrib[k] = v
		}
	}
	var sb strings.Builder
	jcs(&sb, contrib)
	return scoIDOf(typ, []byte(sb.String()))
}

// scoIDOf is the ID of an SCO of type typ whose contributing properties
// have the canonical (JCS) JSON contrib.
func scoIDOf(typ string, contrib []byte) string {
	return typ + "--" + uuidString(uuid5(stixSCONamespace, contrib))
}

// stixBuilder encodes each object as it is made and hands it to an
// external sort by (type order, ID, order made), so that a case with a
// million flows and sessions never holds its objects: they are read back
// sorted, the first made of each ID kept. The IDs of the grouping go to a
// second sort, read as the grouping is written.
type stixBuilder struct {
	v       *view
	enc     *recordEncoder
	objs    *extsort.Sorter[stixObject]
	ids     *extsort.Sorter[string]
	nids    int
	ips     map[netip.Addr]string // the address objects added
	buf     []byte                // addFlow's encoding
	obj     []byte                // ip, as and rel's encoding
	seq     int64
	err     error
	stamp   string // created/modified of SDOs and SROs
	marking string
}

// stixObject is one encoded object and its place in the bundle.
type stixObject struct {
	order int
	id    string
	seq   int64
	js    []byte
}

// stixChunk is how many objects (a few hundred bytes each) are sorted in
// memory before they spill.
const stixChunk = 1 << 15

func newSTIXBuilder(v *view, stamp, marking string, chunk int) *stixBuilder {
	return &stixBuilder{v: v, enc: newRecordEncoder(), stamp: stamp, marking: marking, ips: map[netip.Addr]string{},
		objs: &extsort.Sorter[stixObject]{Chunk: chunk, What: "STIX objects",
			Cmp: func(a, b *stixObject) int {
				return cmp.Or(cmp.Compare(a.order, b.order), strings.Compare(a.id, b.id), cmp.Compare(a.seq, b.seq))
			},
			Enc: func(dst []byte, o *stixObject) []byte {
				dst = binary.AppendUvarint(dst, uint64(o.order))
				dst = binary.AppendVarint(dst, o.seq)
				dst = binary.AppendUvarint(dst, uint64(len(o.id)))
				dst = append(dst, o.id...)
				return append(dst, o.js...)
			},
			Dec: func(b []byte, o *stixObject) error {
				order, n := binary.Uvarint(b)
				if n <= 0 || order > 1<<16 {
					return errors.New("corrupt object")
				}
				b = b[n:]
				seq, n := binary.Varint(b)
				if n <= 0 {
					return errors.New("corrupt object")
				}
				b = b[n:]
				l, n := binary.Uvarint(b)
				if n <= 0 || l > uint64(len(b)-n) {
					return errors.New("corrupt object")
				}
				*o = stixObject{order: int(order), seq: seq, id: string(b[n : n+int(l)]), js: b[n+int(l):]}
				return nil
			}},
		ids: &extsort.Sorter[string]{Chunk: chunk * 4, What: "STIX identifiers",
			Cmp: func(a, b *string) int { return strings.Compare(*a, *b) },
			Enc: func(dst []byte, id *string) []byte { return append(dst, *id...) },
			Dec: func(b []byte, id *string) error { *id = string(b); return nil }},
	}
}

func (s *stixBuilder) cleanup() {
	s.objs.Cleanup()
	s.ids.Cleanup()
}

func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stixObserved keeps full precision for observation times, in the fixed
// width of every tracehop time.
func stixObserved(t forensics.Time) string { return t.String() }

func (s *stixBuilder) sdoID(typ string, key ...string) string {
	name := typ + "\x00" + s.v.CaseID + "\x00" + strings.Join(key, "\x00")
	return typ + "--" + uuidString(uuid5(tracehopNamespace, []byte(name)))
}

// add encodes obj for the bundle and returns its ID. An ID made again
// (an SCO has one identity per value) keeps its first object: the sort
// puts it first among its copies, and only it is written.
func (s *stixBuilder) add(obj map[string]any) string {
	id := obj["id"].(string)
	typ := obj["type"].(string)
	js, err := s.enc.encode(obj)
	if err != nil {
		s.err = cmp.Or(s.err, fmt.Errorf("STIX %s: %w", id, err))
		return id
	}
	s.addEncoded(typ, id, js)
	return id
}

// addEncoded is add for an object already encoded (js, compact).
func (s *stixBuilder) addEncoded(typ, id string, js []byte) {
	s.seq++
	s.objs.Add(stixObject{order: stixOrder(typ), id: id, seq: s.seq, js: slices.Clone(js)})
	if typ != "marking-definition" && typ != "grouping" {
		s.ids.Add(id)
		s.nids++
	}
}

// groupingRefs stands for the grouping's references in its encoding
// until they are written (jw.elementSpliced): no object ID looks like it.
const groupingRefs = "tracehop:object-refs"

// eachID hands fn every ID the grouping refers to, sorted, once each.
func (s *stixBuilder) eachID(fn func(string) error) error {
	prev, n := "", 0
	return s.ids.Each(func(id *string) error {
		if n > 0 && *id == prev {
			return nil
		}
		prev, n = *id, n+1
		return fn(*id)
	})
}

func (s *stixBuilder) sdo(typ string, key ...string) map[string]any {
	return map[string]any{
		"type": typ, "spec_version": "2.1", "id": s.sdoID(typ, key...),
		"created": s.stamp, "modified": s.stamp,
		"object_marking_refs": []string{s.marking},
	}
}

// ip adds the address object of ip once and returns its ID: every flow
// names two, and an address made again would only be dropped as a later
// copy of its ID.
func (s *stixBuilder) ip(ip netip.Addr) string {
	ip, typ, id := s.ipKnown(ip)
	if typ == "" {
		return id
	}
	value := ip.String()
	if ip.Zone() == "" {
		// JCS of {"value": value}: an address without a zone has nothing
		// to escape.
		var c [64]byte
		id = scoIDOf(typ, append(append(append(c[:0], `{"value":"`...), value...), `"}`...))
	} else {
		id = scoID(map[string]any{"type": typ, "value": value})
	}
	// As encoding/json writes the object's map: keys sorted.
	b := append(s.obj[:0], `{"id":`...)
	b = forensics.AppendJSONString(b, id)
	b = append(b, `,"spec_version":"2.1","type":"`...)
	b = append(b, typ...)
	b = forensics.AppendJSONString(append(b, `","value":`...), value)
	s.obj = append(b, '}')
	s.addEncoded(typ, id, s.obj)
	s.ips[ip] = id
	return id
}

// ipKnown returns ip unmapped and its object type, or its ID (typ "")
// when it was added already or is no address.
func (s *stixBuilder) ipKnown(ip netip.Addr) (_ netip.Addr, typ, id string) {
	if !ip.IsValid() {
		return ip, "", ""
	}
	ip = ip.Unmap()
	if id, ok := s.ips[ip]; ok {
		return ip, "", id
	}
	if ip.Is6() {
		return ip, "ipv6-addr", ""
	}
	return ip, "ipv4-addr", ""
}

func (s *stixBuilder) as(asn uint32, org string) string {
	var c [32]byte // JCS of {"number": asn}
	id := scoIDOf("autonomous-system", append(strconv.AppendUint(append(c[:0], `{"number":`...), uint64(asn), 10), '}'))
	b := append(s.obj[:0], `{"id":`...)
	b = forensics.AppendJSONString(b, id)
	if org != "" {
		b = forensics.AppendJSONString(append(b, `,"name":`...), org)
	}
	b = strconv.AppendUint(append(b, `,"number":`...), uint64(asn), 10)
	s.obj = append(b, `,"spec_version":"2.1","type":"autonomous-system"}`...)
	s.addEncoded("autonomous-system", id, s.obj)
	return id
}

func (s *stixBuilder) rel(typ, src, dst string) {
	if src == "" || dst == "" {
		return
	}
	id := s.sdoID("relationship", typ, src, dst)
	b := forensics.AppendJSONString(append(s.obj[:0], `{"created":`...), s.stamp)
	b = forensics.AppendJSONString(append(b, `,"id":`...), id)
	b = forensics.AppendJSONString(append(b, `,"modified":`...), s.stamp)
	b = forensics.AppendJSONString(append(b, `,"object_marking_refs":[`...), s.marking)
	b = forensics.AppendJSONString(append(b, `],"relationship_type":`...), typ)
	b = forensics.AppendJSONString(append(b, `,"source_ref":`...), src)
	b = forensics.AppendJSONString(append(b, `,"spec_version":"2.1","target_ref":`...), dst)
	s.obj = append(b, `,"type":"relationship"}`...)
	s.addEncoded("relationship", id, s.obj)
}

func renderSTIX(b *bundle, v *view) error { return writeSTIX(b, v, stixChunk) }

// writeSTIX is renderSTIX sorting chunk objects at a time in memory.
func writeSTIX(b *bundle, v *view, chunk int) error {
	c := v.Case
	_, last := v.span()
	stamp := time.Unix(0, 0).UTC()
	if !last.IsZero() {
		stamp = last.Time
	}
	tlp := tlpMarkings[v.TLP]
	s := newSTIXBuilder(v, stixTime(stamp), tlp.id, chunk)
	defer s.cleanup()
	s.add(map[string]any{
		"type": "marking-definition", "spec_version": "2.1", "id": tlp.id, "created": "2017-01-20T00:00:00.000Z",
		"definition_type": "tlp", "name": tlp.name, "definition": map[string]any{"tlp": tlp.tlp},
	})

	// Addresses and their autonomous systems.
	ipRef := map[netip.Addr]string{}
	for _, r := range v.IPs {
		id := s.ip(r.IP)
		ipRef[r.IP] = id
		if g := r.Geo; g != nil && g.ASN != 0 {
			s.rel("belongs-to", id, s.as(g.ASN, g.ASOrg))
		}
	}

	// Flows: network-traffic with Community ID, each in an observed-data.
	err := c.EachFlow(func(f *forensics.Flow) error {
		s.addFlow(f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read flows: %w", err)
	}

	// Sessions: an observed-data of the source address.
	err = c.EachSession(func(se *forensics.Session) error {
		s.addSession(se)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}

	// Relays: infrastructure of type anonymization.
	infra := map[netip.Addr]string{}
	for _, r := range v.Relays {
		if _, ok := infra[r.IP]; ok {
			continue
		}
		in := s.sdo("infrastructure", "relay", r.IP.String())
		in["name"] = r.Role + " " + r.IP.String()
		in["infrastructure_types"] = []string{"anonymization"}
		in["description"] = fmt.Sprintf("%s seen forwarding traffic; ports %s; destination %s; protocol %s.", r.Role, or(ports(r.Ports), "unknown"), or(r.Destination, "unknown"), or(r.Protocol, "unknown"))
		if !r.FirstSeen.IsZero() {
			in["first_seen"] = stixTime(r.FirstSeen.Time)
		}
		if !r.LastSeen.IsZero() && !r.LastSeen.Before(r.FirstSeen.Time) {
			in["last_seen"] = stixTime(r.LastSeen.Time)
		}
		id := s.add(in)
		infra[r.IP] = id
		s.rel("consists-of", id, s.ip(r.IP))
	}

	// Campaigns with an indicator of their addresses.
	for _, cp := range c.Campaigns {
		ca := s.sdo("campaign", cp.ID)
		ca["name"] = "tracehop " + cp.ID + labelText(cp.Label)
		var reasons []string
		for _, l := range cp.Links {
			reasons = append(reasons, fmt.Sprintf("%s (%s, weight %s): %s", or(l.Reason, l.Attribute), l.Rule, fmtFloat(l.Weight), strings.Join(l.Sessions, " ")))
		}
		ca["description"] = fmt.Sprintf("%d session(s), %d event(s), score %s. Links: %s", len(cp.Sessions), cp.Events, fmtFloat(cp.Score), or(strings.Join(reasons, "; "), "none"))
		if !cp.FirstSeen.IsZero() {
			ca["first_seen"] = stixTime(cp.FirstSeen.Time)
		}
		if !cp.LastSeen.IsZero() && !cp.LastSeen.Before(cp.FirstSeen.Time) {
			ca["last_seen"] = stixTime(cp.LastSeen.Time)
		}
		ca["x_tracehop_score"] = cp.Score
		caID := s.add(ca)

		var terms []string
		for _, ipS := range cp.IPs {
			ip, err := netip.ParseAddr(ipS)
			if err != nil {
				continue
			}
			ip = ip.Unmap()
			typ := "ipv4-addr"
			if ip.Is6() {
				typ = "ipv6-addr"
			}
			terms = append(terms, "["+typ+":value = '"+ip.String()+"']")
			s.rel("related-to", s.ip(ip), caID)
		}
		if len(terms) > 0 {
			slices.Sort(terms)
			ind := s.sdo("indicator", cp.ID)
			ind["name"] = "addresses of campaign " + cp.ID
			ind["indicator_types"] = []string{"malicious-activity"}
			ind["pattern"] = strings.Join(terms, " OR ")
			ind["pattern_type"] = "stix"
			ind["valid_from"] = stixTime(cmp.Or(cp.FirstSeen, forensics.NewTime(stamp)).Time)
			indID := s.add(ind)
			s.rel("indicates", indID, caID)
		}
		for _, ch := range cp.Hops {
			for _, h := range ch.Hops {
				if id, ok := infra[h.IP]; ok {
					s.rel("uses", caID, id)
				}
			}
		}
	}

	// One grouping holds everything but the marking. Its references,
	// one per object, are read from their sort as it is written.
	groupID := ""
	if s.nids > 0 {
		g := s.sdo("grouping", "case")
		g["name"] = "tracehop case " + or(v.CaseID, "(no case ID)")
		g["context"] = "suspicious-activity"
		g["object_refs"] = []string{groupingRefs}
		groupID = s.add(g)
	}
	if s.err != nil {
		return s.err
	}

	id := "bundle--" + uuidString(uuid5(tracehopNamespace, []byte("bundle\x00"+v.CaseID+"\x00"+v.digest)))
	f, err := b.create(FileSTIX)
	if err != nil {
		return err
	}
	// Written object by object: marshalIndent of the bundle held it
	// twice over. Keys in encoding/json's map order: id, objects, type.
	jw := newDocWriter(f)
	jw.open('{')
	jw.member(1, "id", id)
	jw.arrayEach(1, "objects", 1, false, func(emit func(js []byte) error) error {
		last := ""
		return s.objs.Each(func(o *stixObject) error {
			if o.id == last {
				return nil // a later copy of an ID
			}
			last = o.id
			if o.id == groupID {
				return jw.elementSpliced(2, o.js, groupingRefs, s.eachID)
			}
			return emit(o.js)
		})
	})
	jw.member(1, "type", "bundle")
	jw.close(0, '}')
	if err := jw.finish(); err != nil {
		f.abort()
		return err
	}
	return f.Close()
}

func stixOrder(typ string) int {
	switch typ {
	case "marking-definition":
		return 0
	case "grouping":
		return 1
	case "campaign":
		return 2
	case "indicator":
		return 3
	case "infrastructure":
		return 4
	case "observed-data":
		return 5
	case "relationship":
		return 6
	case "ipv4-addr":
		return 7
	case "ipv6-addr":
		return 8
	case "autonomous-system":
		return 9
	case "network-traffic":
		return 10
	}
	return 11
}

func flowProtocols(f *forensics.Flow) []string {
	l3 := "ipv4"
	if f.SrcIP.Unmap().Is6() {
		l3 = "ipv6"
	}
	p := []string{l3}
	if proto := strings.ToLower(f.Proto); proto != "" {
		p = append(p, proto)
	}
	switch {
	case f.HTTP != nil:
		p = append(p, "http")
	case f.TLS != nil:
		p = append(p, "tls")
	case f.SSH != nil:
		p = append(p, "ssh")
	case f.DNS != nil:
		p = append(p, "dns")
	}
	return p
}

func maxTime(a, b forensics.Time) forensics.Time {
	if b.After(a.Time) {
		return b
	}
	return a
}

func compact(vals ...any) []string {
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
