package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// The STIX 2.1 JSON schemas (oasis-open/cti-stix2-json-schemas) are not
// published on a registry this build can reach (npm has no package of
// them), so the checks they make on what tracehop writes are written out
// here from the specification: identifiers, required and typed common
// properties, required properties per object type, vocabularies we use,
// timestamp forms, reference integrity and SCO ID recomputation.

func TestSCOID(t *testing.T) {
	// Wanted values from Python's uuid.uuid5(STIX namespace, JCS text), an
	// implementation independent of ours. (The spec's own example IDs are
	// illustrative, not computed: its 198.51.100.3 example does not
	// recompute with any implementation.)
	tests := []struct {
		name string
		obj  map[string]any
		want string
	}{
		{"ipv4", map[string]any{"type": "ipv4-addr", "value": "198.51.100.3"}, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"network-traffic", map[string]any{"type": "network-traffic", "src_ref": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
			"dst_port": uint16(443), "protocols": []string{"ipv4", "tcp"}, "x_community_id": "not contributing"},
			"network-traffic--21fb682d-8acd-5691-b4d4-101141ec8c81"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scoID(tc.obj); got != tc.want {
				t.Errorf("scoID = %s, want %s", got, tc.want)
			}
		})
	}
}

var (
	reID        = regexp.MustCompile(`^([a-z][a-z0-9-]+[a-z0-9])--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)
	reMillis    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	reRelType   = regexp.MustCompile(`^[a-z0-9-]+$`)
	reCustom    = regexp.MustCompile(`^[a-z0-9_]{3,250}$`)
)

var stixRequired = map[string][]string{
	"marking-definition": {"definition_type", "definition", "created"},
	"grouping":           {"context", "object_refs"},
	"campaign":           {"name"},
	"indicator":          {"pattern", "pattern_type", "valid_from"},
	"infrastructure":     {"name"},
	"observed-data":      {"first_observed", "last_observed", "number_observed", "object_refs"},
	"relationship":       {"relationship_type", "source_ref", "target_ref"},
	"ipv4-addr":          {"value"},
	"ipv6-addr":          {"value"},
	"autonomous-system":  {"number"},
	"network-traffic":    {"protocols"},
}

var stixSCO = map[string]bool{"ipv4-addr": true, "ipv6-addr": true, "autonomous-system": true, "network-traffic": true}

// checkSTIX returns every violation found in a bundle.
func checkSTIX(t *testing.T, data []byte) []string {
	t.Helper()
	var bundle struct {
		Type    string           `json:"type"`
		ID      string           `json:"id"`
		Objects []map[string]any `json:"objects"`
		Extra   map[string]any   `json:"-"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&bundle); err != nil {
		return []string{"bundle: " + err.Error()}
	}
	var errs []string
	bad := func(id, format string, args ...any) {
		errs = append(errs, id+": "+fmtSprintf(format, args...))
	}
	if bundle.Type != "bundle" || !reID.MatchString(bundle.ID) || !bytes.HasPrefix([]byte(bundle.ID), []byte("bundle--")) {
		bad("bundle", "bad type or id %q %q", bundle.Type, bundle.ID)
	}
	ids := map[string]map[string]any{}
	for _, o := range bundle.Objects {
		id, _ := o["id"].(string)
		if _, dup := ids[id]; dup {
			bad(id, "duplicate id")
		}
		ids[id] = o
	}
	ref := func(id string, v any, field string) {
		s, ok := v.(string)
		if !ok || !reID.MatchString(s) {
			bad(id, "%s is not an identifier: %v", field, v)
			return
		}
		if _, ok := ids[s]; !ok {
			bad(id, "%s %s not in the bundle", field, s)
		}
	}
	for _, o := range bundle.Objects {
		id, _ := o["id"].(string)
		typ, _ := o["type"].(string)
		m := reID.FindStringSubmatch(id)
		if m == nil || m[1] != typ {
			bad(id, "id does not match type %q", typ)
		}
		req, known := stixRequired[typ]
		if !known {
			bad(id, "unexpected type %q", typ)
		}
		for _, k := range req {
			if _, ok := o[k]; !ok {
				bad(id, "missing required %s", k)
			}
		}
		if sv, ok := o["spec_version"]; ok && sv != "2.1" {
			bad(id, "spec_version %v", sv)
		} else if !ok && !stixSCO[typ] {
			bad(id, "missing spec_version")
		}
		if !stixSCO[typ] && typ != "marking-definition" {
			for _, k := range []string{"created", "modified"} {
				s, _ := o[k].(string)
				if !reMillis.MatchString(s) {
					bad(id, "%s %q is not a millisecond UTC timestamp", k, s)
				}
			}
			if stixT(o["modified"]).Before(stixT(o["created"])) {
				bad(id, "modified before created")
			}
		}
		for k, v := range o {
			switch k {
			case "created", "modified", "first_seen", "last_seen", "first_observed", "last_observed", "valid_from", "start", "end":
				s, _ := v.(string)
				if !reTimestamp.MatchString(s) {
					bad(id, "%s %q is not a STIX timestamp", k, s)
				} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					bad(id, "%s: %v", k, err)
				}
			case "object_marking_refs", "object_refs":
				refs, ok := v.([]any)
				if !ok || len(refs) == 0 {
					bad(id, "%s must be a non-empty list", k)
				}
				for _, r := range refs {
					ref(id, r, k)
				}
			case "source_ref", "target_ref", "src_ref", "dst_ref":
				ref(id, v, k)
			}
			if len(k) > 2 && k[:2] == "x_" && !reCustom.MatchString(k) {
				bad(id, "custom property name %q", k)
			}
		}
		switch typ {
		case "relationship":
			if s, _ := o["relationship_type"].(string); !reRelType.MatchString(s) {
				bad(id, "relationship_type %q", s)
			}
		case "observed-data":
			n, _ := o["number_observed"].(json.Number).Int64()
			if n < 1 || n > 999999999 {
				bad(id, "number_observed %d", n)
			}
			if stixT(o["last_observed"]).Before(stixT(o["first_observed"])) {
				bad(id, "last_observed before first_observed")
			}
		case "indicator":
			if o["pattern_type"] != "stix" {
				bad(id, "pattern_type %v", o["pattern_type"])
			}
			if !regexp.MustCompile(`^\[(ipv4|ipv6)-addr:value = '[0-9a-f.:]+'\]( OR \[(ipv4|ipv6)-addr:value = '[0-9a-f.:]+'\])*$`).MatchString(o["pattern"].(string)) {
				bad(id, "pattern %q", o["pattern"])
			}
		case "infrastructure":
			if it, _ := o["infrastructure_types"].([]any); !slices.Contains(it, any("anonymization")) {
				bad(id, "infrastructure_types %v", o["infrastructure_types"])
			}
		case "grouping":
			if o["context"] != "suspicious-activity" {
				bad(id, "context %v", o["context"])
			}
		case "network-traffic":
			if o["src_ref"] == nil && o["dst_ref"] == nil {
				bad(id, "needs src_ref or dst_ref")
			}
			if s, e := o["start"], o["end"]; s != nil && e != nil && stixT(e).Before(stixT(s)) {
				bad(id, "end before start")
			}
		case "marking-definition":
			if o["definition_type"] != "tlp" {
				bad(id, "definition_type %v", o["definition_type"])
			}
		}
		if stixSCO[typ] {
			// Recompute the SCO ID independently (google/uuid, encoding/json
			// with sorted map keys as the canonical form of these values).
			contrib := map[string]any{}
			for _, k := range scoIDContributing[typ] {
				if v, ok := o[k]; ok {
					contrib[k] = v
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(contrib)
			want := typ + "--" + uuid.NewSHA1(uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7"), bytes.TrimSuffix(buf.Bytes(), []byte("\n"))).String()
			if id != want {
				bad(id, "SCO id does not recompute (want %s)", want)
			}
		}
	}
	return errs
}

func TestSTIXBundle(t *testing.T) {
	for _, hostileText := range []bool{false, true} {
		dir, _ := writeTestBundle(t, testCase(hostileText), Options{Formats: []string{"stix"}})
		data, err := os.ReadFile(filepath.Join(dir, FileSTIX))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range checkSTIX(t, data) {
			t.Errorf("hostile=%v: %s", hostileText, e)
		}
		var b struct{ Objects []map[string]any }
		json.Unmarshal(data, &b)
		types := map[string]int{}
		for _, o := range b.Objects {
			types[o["type"].(string)]++
		}
		for _, want := range []string{"ipv4-addr", "autonomous-system", "network-traffic", "observed-data", "indicator", "infrastructure", "campaign", "grouping", "relationship", "marking-definition"} {
			if types[want] == 0 {
				t.Errorf("no %s object (have %v)", want, types)
			}
		}
		if !bytes.Contains(data, []byte(`"x_community_id": "1:LQU9qZlK+B5F3KDmev6m5PMibrg="`)) {
			t.Errorf("network-traffic lacks the Community ID")
		}
	}
}

func TestSTIXEmptyCase(t *testing.T) {
	c := testCase(false)
	c.Flows, c.Events, c.Sessions, c.Campaigns, c.Chains = nil, nil, nil, nil, nil
	dir, _ := writeTestBundle(t, c, Options{Formats: []string{"stix"}, TLP: "clear"})
	data, _ := os.ReadFile(filepath.Join(dir, FileSTIX))
	for _, e := range checkSTIX(t, data) {
		t.Error(e)
	}
}

func TestSTIXIPv6(t *testing.T) {
	c := testCase(false)
	c.Flows[0].SrcIP = mustAddr("2001:db8::1")
	c.Flows[0].DstIP = mustAddr("::ffff:192.0.2.1")
	dir, _ := writeTestBundle(t, c, Options{Formats: []string{"stix"}})
	data, _ := os.ReadFile(filepath.Join(dir, FileSTIX))
	for _, e := range checkSTIX(t, data) {
		t.Error(e)
	}
	if !bytes.Contains(data, []byte(`"type": "ipv6-addr"`)) {
		t.Error("no ipv6-addr")
	}
}

func stixT(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// TestSTIXChunksAgree: the bundle is the same bytes whether its objects
// are sorted in one chunk or spill runs of three, with IDs made several
// times (addresses, autonomous systems) kept once, as their first copy.
func TestSTIXChunksAgree(t *testing.T) {
	for _, c := range []*forensics.Case{testCase(true), bigCase(300)} {
		var got [2][]byte
		for k, chunk := range []int{3, stixChunk} {
			v, err := newView(c, Options{CaseID: "case-1"}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			b, err := openBundle(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := writeSTIX(b, v, chunk); err != nil {
				t.Fatal(err)
			}
			b.root.Close()
			if got[k], err = os.ReadFile(filepath.Join(dir, FileSTIX)); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Errorf("chunk 3 and %d give other bytes (%d and %d)", stixChunk, len(got[0]), len(got[1]))
		}
		for _, e := range checkSTIX(t, got[0]) {
			t.Error(e)
		}
	}
}

// addFlowMaps is addFlow as it was, the objects built as maps for
// encoding/json: the reference TestSTIXFlowObjectsMatchMaps holds the
// hand encoding to.
func (s *stixBuilder) addFlowMaps(f *forensics.Flow) {
	nt := map[string]any{"type": "network-traffic", "spec_version": "2.1", "protocols": flowProtocols(f)}
	if ref := s.ip(f.SrcIP); ref != "" {
		nt["src_ref"] = ref
	}
	if ref := s.ip(f.DstIP); ref != "" {
		nt["dst_ref"] = ref
	}
	if nt["src_ref"] == nil && nt["dst_ref"] == nil {
		return
	}
	if !f.Start.IsZero() {
		nt["start"] = stixObserved(f.Start)
	}
	if !f.End.IsZero() && !f.End.Before(f.Start.Time) {
		nt["end"] = stixObserved(f.End)
	}
	if f.SrcPort != 0 {
		nt["src_port"] = f.SrcPort
	}
	if f.DstPort != 0 {
		nt["dst_port"] = f.DstPort
	}
	nt["id"] = scoID(nt)
	nt["src_byte_count"] = f.BytesOut
	nt["dst_byte_count"] = f.BytesIn
	nt["src_packets"] = f.PktsOut
	nt["dst_packets"] = f.PktsIn
	if f.CommunityID != "" {
		nt["x_community_id"] = f.CommunityID
	}
	ntID := s.add(nt)
	od := s.sdo("observed-data", "flow", f.ID)
	od["first_observed"] = stixObserved(f.Start)
	od["last_observed"] = stixObserved(maxTime(f.Start, f.End))
	od["number_observed"] = 1
	od["object_refs"] = compact(ntID, nt["src_ref"], nt["dst_ref"])
	od["x_tracehop_evidence"] = f.Evidence.String()
	s.add(od)
}

// TestSTIXFlowObjectsMatchMaps: addFlow gives, object for object, the
// bytes and IDs the maps gave, for the flows of the test cases and flows
// with hostile text, missing ends and times, and one address at both
// ends.
func TestSTIXFlowObjectsMatchMaps(t *testing.T) {
	t0 := time.Date(2025, 7, 14, 3, 4, 5, 6, time.UTC)
	a, b := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("::ffff:198.51.100.9")
	flows := []forensics.Flow{
		{ID: "f-1", Proto: "TCP\"\u2028\xff\x01", SrcIP: a, SrcPort: 1, DstIP: b, DstPort: 65535, Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(time.Second)),
			PktsOut: math.MaxUint64, BytesIn: 7, CommunityID: "1:x/+=", HTTP: &forensics.HTTPMeta{},
			Evidence: forensics.EvidenceRef{File: "evil\"<script>\x1b[31m\xfe.pcap", Packet: 3, Offset: 9}},
		{ID: "f-2\x00", SrcIP: a, DstIP: a, End: forensics.NewTime(t0)},
		{ID: "f-3", Proto: "udp", DstIP: netip.MustParseAddr("2001:db8::1"), Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(-time.Hour)), DNS: &forensics.DNSMeta{},
			Evidence: forensics.EvidenceRef{File: "l.log", Line: 4}},
		{ID: "f-4", Proto: "icmp", SrcIP: b},
		{ID: "f-5", Proto: "tcp"},
	}
	for _, c := range []*forensics.Case{testCase(true), testCase(false), bigCase(30)} {
		flows = append(flows, c.Flows...)
	}
	v, err := newView(testCase(true), Options{CaseID: "case-\"1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	objects := func(add func(s *stixBuilder, f *forensics.Flow)) []string {
		return stixObjects(t, v, func(s *stixBuilder) {
			for i := range flows {
				add(s, &flows[i])
			}
		})
	}
	got := objects((*stixBuilder).addFlow)
	want := objects((*stixBuilder).addFlowMaps)
	if len(want) < 2*len(flows) {
		t.Fatalf("%d objects from %d flows: the case tests little", len(want), len(flows))
	}
	if len(got) != len(want) {
		t.Fatalf("%d objects, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// stixObjects returns the objects add gives a fresh builder, in the
// bundle's order, each as its order, ID and bytes.
func stixObjects(t *testing.T, v *view, add func(s *stixBuilder)) []string {
	t.Helper()
	s := newSTIXBuilder(v, "2025-07-14T00:00:00.000Z", "marking-definition--x", 1<<20)
	defer s.cleanup()
	add(s)
	var out []string
	if err := s.objs.Each(func(o *stixObject) error {
		out = append(out, fmt.Sprintf("%d %s %s", o.order, o.id, o.js))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// addSessionMaps is addSession as it was, the object built as a map for
// encoding/json: the reference TestSTIXSessionObjectsMatchMaps holds the
// hand encoding to.
func (s *stixBuilder) addSessionMaps(se *forensics.Session) {
	ref := s.ip(se.SrcIP)
	if ref == "" || se.Start.IsZero() {
		return
	}
	od := s.sdo("observed-data", "session", se.ID)
	od["first_observed"] = stixObserved(se.Start)
	od["last_observed"] = stixObserved(maxTime(se.Start, se.End))
	od["number_observed"] = min(max(se.Events, 1), 999999999)
	refs := []string{ref}
	if g := se.SrcGeo; g != nil && g.ASN != 0 {
		refs = append(refs, s.as(g.ASN, g.ASOrg))
	}
	od["object_refs"] = refs
	od["x_tracehop_session"] = se.ID
	s.add(od)
}

// TestSTIXSessionObjectsMatchMaps: every object addSession adds (the
// observed-data, its address and autonomous system) is the one the maps
// gave, ID and bytes, on hostile IDs and names, missing ends and counts
// out of range, and on the test cases' sessions.
func TestSTIXSessionObjectsMatchMaps(t *testing.T) {
	t0 := time.Date(2025, 7, 14, 3, 4, 5, 6, time.UTC)
	a := netip.MustParseAddr("203.0.113.7")
	geo := &enrich.Record{IP: a, ASN: 64500, ASOrg: "Evil \"AS\" <x>&\u2028\xff\x1b[31m"}
	sessions := []forensics.Session{
		{ID: "s-1\"\u2028\xff\x00<script>", SrcIP: a, SrcGeo: geo, Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(time.Hour)), Events: 5},
		{ID: "s-2", SrcIP: netip.MustParseAddr("::ffff:198.51.100.9"), Start: forensics.NewTime(t0), End: forensics.NewTime(t0.Add(-time.Hour)), Events: 0},
		{ID: "s-3", SrcIP: netip.MustParseAddr("2001:db8::1"), SrcGeo: &enrich.Record{ASN: 1}, Start: forensics.NewTime(t0), Events: 2000000000},
		{ID: "s-4", SrcIP: a, Events: 3}, // no start: left out
		{ID: "s-5", Start: forensics.NewTime(t0)},
		{ID: "s-6", SrcIP: a, SrcGeo: &enrich.Record{}, Start: forensics.NewTime(t0), Events: -4},
	}
	for _, c := range []*forensics.Case{testCase(true), testCase(false), bigCase(30)} {
		sessions = append(sessions, c.Sessions...)
	}
	v, err := newView(testCase(true), Options{CaseID: "case-\"1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	objects := func(add func(s *stixBuilder, se *forensics.Session)) []string {
		return stixObjects(t, v, func(s *stixBuilder) {
			for i := range sessions {
				add(s, &sessions[i])
			}
		})
	}
	got := objects((*stixBuilder).addSession)
	want := objects((*stixBuilder).addSessionMaps)
	if len(want) < len(sessions) {
		t.Fatalf("%d objects from %d sessions: the case tests little", len(want), len(sessions))
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("object %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}
		t.Fatalf("%d objects, want %d", len(got), len(want))
	}
}

// ipMaps, asMaps and relMaps are ip, as and rel as they were: maps
// through encoding/json, kept as the reference of the hand encodings.
func (s *stixBuilder) ipMaps(ip netip.Addr) string {
	ip, typ, id := s.ipKnown(ip)
	if typ == "" {
		return id
	}
	obj := map[string]any{"type": typ, "spec_version": "2.1", "value": ip.String()}
	obj["id"] = scoID(obj)
	id = s.add(obj)
	s.ips[ip] = id
	return id
}

func (s *stixBuilder) asMaps(asn uint32, org string) string {
	obj := map[string]any{"type": "autonomous-system", "spec_version": "2.1", "number": asn}
	obj["id"] = scoID(obj)
	if org != "" {
		obj["name"] = org
	}
	return s.add(obj)
}

func (s *stixBuilder) relMaps(typ, src, dst string) {
	if src == "" || dst == "" {
		return
	}
	r := s.sdo("relationship", typ, src, dst)
	r["relationship_type"] = typ
	r["source_ref"] = src
	r["target_ref"] = dst
	s.add(r)
}

// TestSTIXAddressObjectsMatchMaps: the hand-encoded address, AS and
// relationship objects are the maps' bytes, hostile names and zones
// included.
func TestSTIXAddressObjectsMatchMaps(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("::ffff:198.51.100.9"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1%e\"t<h>\u2028"), {}}
	orgs := []string{"", "Evil \"AS\" <x>&\u2028\xff\x1b[31m", "AS\\1"}
	v, err := newView(testCase(true), Options{CaseID: "case-\"1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	objects := func(ip func(*stixBuilder, netip.Addr) string, as func(*stixBuilder, uint32, string) string,
		rel func(*stixBuilder, string, string, string)) []string {
		return stixObjects(t, v, func(s *stixBuilder) {
			for i, a := range ips {
				id := ip(s, a)
				ip(s, a) // once per address
				for j, o := range orgs {
					rel(s, "belongs-to\"<", id, as(s, uint32(i*1000+j), o))
				}
				rel(s, "related-to", id, "")
			}
		})
	}
	got := objects((*stixBuilder).ip, (*stixBuilder).as, (*stixBuilder).rel)
	want := objects((*stixBuilder).ipMaps, (*stixBuilder).asMaps, (*stixBuilder).relMaps)
	if len(want) < 20 || !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("object %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}
		t.Fatalf("%d objects, want %d", len(got), len(want))
	}
}
