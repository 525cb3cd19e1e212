package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// The report's content is built once as sections of blocks, and the HTML
// and PDF renderers both draw from it, so the two always say the same.

// section is one numbered part of the report.
type section struct {
	ID     string // anchor, fixed ASCII
	Title  string
	Blocks []block
}

// block kinds.
const (
	blockPara     = "p"
	blockHeading  = "h3"
	blockKV       = "kv"
	blockTable    = "table"
	blockMap      = "map"
	blockTimeline = "timeline"
	blockNote     = "note"
)

type block struct {
	Kind  string
	Text  string
	KV    [][2]string
	Table *table
	Fig   *figure
}

// table is a titled grid of text cells; Mono marks columns of hashes and
// addresses, which the renderers set in a fixed-width face.
type table struct {
	Header []string
	Rows   [][]string
	Mono   []bool
	// Cut is how many rows were left out (only the appendix has them all).
	Cut int
}

// maxRowsInline caps tables in the body; the CSV files and report.json
// always hold every row.
const maxRowsInline = 500

func (t *table) cap(n int) *table {
	if len(t.Rows) > n {
		t.Cut = len(t.Rows) - n
		t.Rows = t.Rows[:n]
	}
	return t
}

func p(format string, args ...any) block {
	return block{Kind: blockPara, Text: fmt.Sprintf(format, args...)}
}
func h3(s string) block   { return block{Kind: blockHeading, Text: s} }
func note(s string) block { return block{Kind: blockNote, Text: s} }
func kv(pairs ...string) block {
	b := block{Kind: blockKV}
	for i := 0; i+1 < len(pairs); i += 2 {
		b.KV = append(b.KV, [2]string{pairs[i], pairs[i+1]})
	}
	return b
}
func tbl(t *table) block { return block{Kind: blockTable, Table: t} }

func or(s, def string) string { return cmp.Or(s, def) }

func geoText(g *enrich.Record) (country, asn string) {
	if g == nil {
		return "", ""
	}
	country = g.Country
	if g.City != "" {
		country += " " + g.City
	}
	if g.ASN != 0 {
		asn = "AS" + strconv.FormatUint(uint64(g.ASN), 10)
		if g.ASOrg != "" {
			asn += " " + g.ASOrg
		}
	}
	return country, asn
}

func secondUTC(t forensics.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// GeoIPStatement is printed in every report (DESIGN §7).
const GeoIPStatement = "IP geolocation is an estimate. The accuracy radius is a circle in which the address is located with about 67% confidence, not a boundary. A position at a country's centroid means only the country is known, not a location in it. An IP address identifies a network interface at a time, not a person: shared, NATed, proxied and reassigned addresses are common."

func (v *view) sections(figs *figures) []section {
	c := v.Case
	var out []section

	// Cover.
	sig := "unsigned (no --sign key)"
	if v.Signer != nil {
		sig = "Ed25519, key " + v.Signer.Fingerprint + " (signature in manifest.sig)"
	}
	out = append(out, section{ID: "cover", Title: "Evidence report", Blocks: []block{
		kv("Case ID", or(v.CaseID, "(none given)"),
			"Examiner", or(v.Examiner, "(none given)"),
			"Organisation", or(v.Organisation, "(none given)"),
			"Report version", SchemaVersion+", "+toolString(c.Tool),
			"Signature", sig,
			"Marking", "TLP:"+strings.ToUpper(v.TLP)),
		note("Times are UTC. The time this report was generated is recorded in manifest.json, not in this document, so the same evidence always gives the same report."),
	}})

	// Scope.
	first, last := v.span()
	scope := []block{p("This report covers %d evidence file(s) received for examination, listed with their SHA-256 digests in section 3. Records in them span %s to %s.",
		len(c.Inputs), or(secondUTC(first), "(no timed records)"), or(secondUTC(last), "(no timed records)"))}
	if c.Home != "" {
		scope = append(scope, p("The investigator's country was given as %s; addresses enriched to another country are marked foreign.", c.Home))
	}
	scope = append(scope, p("Only the files listed were examined. Nothing was fetched from any network; all reference data is listed in section 4."))
	out = append(out, section{ID: "scope", Title: "Scope", Blocks: scope})

	// Summary.
	out = append(out, section{ID: "summary", Title: "Summary of findings", Blocks: v.summary()})

	// Evidence received.
	ev := &table{Header: []string{"File", "Kind", "Size (bytes)", "SHA-256 at intake", "Re-verified at report time", "Records", "Malformed"}, Mono: []bool{false, false, false, true, false, false, false}}
	for i, in := range v.Inputs {
		var kind string
		var recs, bad int64
		if i < len(c.Inputs) {
			kind, recs, bad = c.Inputs[i].Kind, c.Inputs[i].Records, c.Inputs[i].Malformed
			if c.Inputs[i].Encoding != "" {
				kind += " (" + c.Inputs[i].Encoding + ")"
			}
		}
		re := in.Reverified
		if in.ReverifiedHash != "" {
			re += " (now " + in.ReverifiedHash + ")"
		}
		ev.Rows = append(ev.Rows, []string{in.Path, kind, strconv.FormatInt(in.Size, 10), in.SHA256, re, strconv.FormatInt(recs, 10), strconv.FormatInt(bad, 10)})
	}
	evb := []block{tbl(ev)}
	if len(c.Inputs) == 0 {
		evb = []block{p("No evidence files are recorded in this case.")}
	}
	for _, in := range c.Inputs {
		if in.Error != "" {
			evb = append(evb, p("%s could not be used: %s", in.Path, in.Error))
		}
	}
	out = append(out, section{ID: "evidence", Title: "Evidence received", Blocks: evb})

	// Tools and reference data.
	tools := []block{kv("Tool", c.Tool.Name+" "+c.Tool.Version, "Commit", or(c.Tool.Commit, "(unknown)"), "Go", or(c.Tool.GoVersion, "(unknown)"))}
	if len(c.Databases) > 0 {
		dbt := &table{Header: []string{"Database", "Type", "Build", "SHA-256", "Licence / attribution"}, Mono: []bool{false, false, false, true, false}}
		for _, d := range c.Databases {
			name := d.Name
			if d.Embedded {
				name += " (embedded)"
			}
			dbt.Rows = append(dbt.Rows, []string{name, d.Type, d.Build, d.SHA256, d.Attribution})
		}
		tools = append(tools, h3("Reference databases"), tbl(dbt))
	} else {
		tools = append(tools, p("No GeoIP or ASN database was used: addresses are not enriched."))
	}
	if len(c.Params) > 0 {
		pt := &table{Header: []string{"Parameter", "Value"}}
		for _, k := range sortedKeys(c.Params) {
			pt.Rows = append(pt.Rows, []string{k, c.Params[k]})
		}
		tools = append(tools, h3("Parameters used"), tbl(pt))
	}
	out = append(out, section{ID: "tools", Title: "Tools and reference data", Blocks: tools})

	// Method.
	out = append(out, section{ID: "method", Title: "Method", Blocks: v.method()})

	// Map and timeline.
	mapb := []block{{Kind: blockMap, Fig: figs.Map}}
	switch {
	case figs.MapPoints == 0 && figs.MapCountries == 0:
		mapb = append(mapb, p("No address in this case has a known country or position."))
	case figs.MapPoints == 0:
		mapb = append(mapb, note(fmt.Sprintf("Countries are shaded by the number of addresses the databases place in them (%d countries, darker is more). The databases give no positions, so no points are drawn: a country is not a location. Natural Earth outlines, equirectangular.", figs.MapCountries)))
	default:
		mapb = append(mapb, note(fmt.Sprintf("Countries are shaded by the number of addresses placed in them (%d countries). %d address(es) have a position: circles are drawn there with a radius proportional to the stated accuracy (67%% circle); lines follow hop chains from origin to target. Natural Earth outlines, equirectangular.", figs.MapCountries, figs.MapPoints)))
		if figs.MapDrawn < figs.MapPoints || figs.MapLines > maxMapLines {
			mapb = append(mapb, note(fmt.Sprintf("Drawn: %d of the %d addresses (relays and proxies, targets and campaign addresses first, then in address order) and %d of the %d hop chains; the tables and report.json list them all.",
				figs.MapDrawn, figs.MapPoints, min(figs.MapLines, maxMapLines), figs.MapLines)))
		}
	}
	out = append(out, section{ID: "map", Title: "Map", Blocks: mapb})
	tl := []block{{Kind: blockTimeline, Fig: figs.Timeline}}
	if figs.TimelineBars == 0 {
		tl = append(tl, p("No sessions with times to show."))
	} else {
		tl = append(tl, note("Each row is a campaign (then sessions in no campaign); each bar a session from its first to its last record, UTC."))
	}
	out = append(out, section{ID: "timeline", Title: "Timeline (UTC)", Blocks: tl})

	// Campaigns.
	out = append(out, section{ID: "campaigns", Title: "Campaigns", Blocks: v.campaignBlocks()})

	// Relays.
	rl := []block{p("Each relay or proxy below was seen forwarding traffic of this case. A preservation request to its provider needs the address, port, the UTC time to the second, the protocol and the destination.")}
	if len(v.Relays) == 0 {
		rl = []block{p("No relay or proxy hop was identified.")}
	} else {
		rt := &table{Header: []string{"IP", "Role", "Port(s)", "First seen (UTC)", "Last seen (UTC)", "Protocol", "Destination", "Country", "ASN", "Chain", "Link verified"}, Mono: []bool{true, false, false, false, false, false, true, false, false, true, false}}
		for _, r := range v.Relays {
			cc, asn := geoText(r.Geo)
			rt.Rows = append(rt.Rows, []string{r.IP.String(), r.Role, ports(r.Ports), secondUTC(r.FirstSeen), secondUTC(r.LastSeen), or(r.Protocol, "unknown"), or(r.Destination, "unknown"), cc, asn, r.Chain, yesNo(r.Verified)})
		}
		rl = append(rl, tbl(rt.cap(maxRowsInline)))
	}
	out = append(out, section{ID: "relays", Title: "Relays", Blocks: rl})

	// Limitations.
	out = append(out, section{ID: "limitations", Title: "Limitations", Blocks: v.limitations()})

	// Appendices.
	lt := &table{Header: []string{"Campaign", "Rule", "Class", "Attribute", "Value", "Weight", "Sessions", "IPs", "Reason"}, Mono: []bool{true, false, false, false, true, false, true, true, false}}
	for _, l := range v.Links {
		lt.Rows = append(lt.Rows, []string{l.Campaign, l.Rule, l.Class, l.Attribute, l.Value, fmtFloat(l.Weight), strings.Join(l.Sessions, " "), strings.Join(l.IPs, " "), l.Reason})
	}
	linkb := []block{tbl(lt.cap(5 * maxRowsInline))}
	if len(lt.Rows) == 0 {
		linkb = []block{p("No links.")}
	}
	out = append(out, section{ID: "appendix-links", Title: "Appendix A: link table", Blocks: linkb})

	it := &table{Header: []string{"IP", "Class", "Country", "Position", "Accuracy (km)", "ASN", "Anonymous", "Sessions", "Events", "Flows", "Campaigns", "Roles"}, Mono: []bool{true}}
	for _, r := range v.IPs {
		cc, asn := geoText(r.Geo)
		var class, pos, acc, anon string
		if g := r.Geo; g != nil {
			class = g.Class
			if g.Lat != nil && g.Lon != nil {
				pos = strconv.FormatFloat(*g.Lat, 'f', 4, 64) + ", " + strconv.FormatFloat(*g.Lon, 'f', 4, 64)
			}
			if g.AccuracyKM > 0 {
				acc = strconv.Itoa(int(g.AccuracyKM))
			}
			anon = anonText(g.Anonymous)
		}
		it.Rows = append(it.Rows, []string{r.IP.String(), class, cc, pos, acc, asn, anon, strconv.Itoa(r.Sessions), strconv.Itoa(r.Events), strconv.Itoa(r.Flows), strings.Join(r.Campaigns, " "), strings.Join(r.Roles, " ")})
	}
	ipb := []block{tbl(it.cap(5 * maxRowsInline))}
	if len(it.Rows) == 0 {
		ipb = []block{p("No addresses.")}
	} else if it.Cut > 0 {
		ipb = append(ipb, note(fmt.Sprintf("%d more addresses are in ips.csv and report.json.", it.Cut)))
	}
	out = append(out, section{ID: "appendix-ips", Title: "Appendix B: addresses", Blocks: ipb})

	mt := &table{Header: []string{"Input", "Size (bytes)", "SHA-256", "Re-verified"}, Mono: []bool{false, false, true, false}}
	for _, in := range v.Inputs {
		mt.Rows = append(mt.Rows, []string{in.Path, strconv.FormatInt(in.Size, 10), in.SHA256, in.Reverified})
	}
	out = append(out, section{ID: "appendix-manifest", Title: "Appendix C: manifest", Blocks: []block{
		p("manifest.json lists the SHA-256 of every input and of every file of this bundle, the tool version and the generation time; manifest.sig, when present, is an Ed25519 signature over manifest.json. Check them with: tracehop verify DIR --key KEY.pub"),
		tbl(mt),
	}})

	cust := []block{p("custody.jsonl holds one hash-chained line per action on this evidence; its last line is the writing of this bundle, with the SHA-256 of each file.")}
	if len(v.Custody) > 0 {
		ct := &table{Header: []string{"#", "Time (UTC)", "Action", "Arguments", "Tool", "User", "Hash"}, Mono: []bool{false, false, false, false, false, false, true}}
		for _, e := range v.Custody {
			ct.Rows = append(ct.Rows, []string{strconv.Itoa(e.Seq), secondUTC(e.Time), e.Action, strings.Join(e.Args, " "), e.ToolVersion, e.User, e.Hash})
		}
		cust = append(cust, h3("Actions before this report"), tbl(ct))
	}
	out = append(out, section{ID: "appendix-custody", Title: "Appendix D: custody log", Blocks: cust})
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ports(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, " ")
}

func anonText(a *enrich.Anonymous) string {
	if a == nil {
		return ""
	}
	var s []string
	for _, f := range []struct {
		on   bool
		name string
	}{{a.VPN, "vpn"}, {a.Tor, "tor"}, {a.Hosting, "hosting"}, {a.Proxy, "proxy"}, {a.ResidentialProxy, "residential proxy"}} {
		if f.on {
			s = append(s, f.name)
		}
	}
	return strings.Join(s, ", ")
}

// span is the earliest and latest time of any record.
func (v *view) span() (first, last forensics.Time) {
	first, last = v.events.first, v.events.last
	first, last = widen(first, last, v.flows.first)
	first, last = widen(first, last, v.flows.last)
	first, last = widen(first, last, v.sessions.first)
	first, last = widen(first, last, v.sessions.last)
	return first, last
}

func (v *view) summary() []block {
	c := v.Case
	var recs, bad int64
	for _, in := range c.Inputs {
		recs += in.Records
		bad += in.Malformed
	}
	out := []block{p("%d evidence file(s) were examined: %d record(s) read, %d malformed record(s) skipped and counted (section 10).", len(c.Inputs), recs, bad)}
	out = append(out, p("They yield %d flow(s), %d event(s) and %d session(s) from %d distinct source address(es).", c.NumFlows(), c.NumEvents(), c.NumSessions(), v.sessions.sources))
	switch len(c.Campaigns) {
	case 0:
		out = append(out, p("No campaign was formed: no two sessions shared links whose weights reach the threshold."))
	default:
		out = append(out, p("%d campaign(s) were formed, ordered by triage score:", len(c.Campaigns)))
		for i, cp := range c.Campaigns {
			if i == 10 {
				out = append(out, p("... and %d more (section 8).", len(c.Campaigns)-10))
				break
			}
			var rules []string
			for _, l := range cp.Links {
				if !slices.Contains(rules, l.Rule) {
					rules = append(rules, l.Rule)
				}
			}
			slices.Sort(rules)
			countries := countryList(cp.Countries)
			out = append(out, p("Campaign %s%s groups %d session(s) from %d address(es)%s between %s and %s, joined by %s; score %s.",
				cp.ID, labelText(cp.Label), len(cp.Sessions), len(cp.IPs), inCountries(countries), secondUTC(cp.FirstSeen), secondUTC(cp.LastSeen),
				or(strings.Join(rules, ", "), "no recorded link"), fmtFloat(cp.Score)))
		}
	}
	if len(v.Relays) > 0 {
		out = append(out, p("%d relay or proxy hop(s) were identified; section 9 lists what a provider needs for a preservation request.", len(v.Relays)))
	}
	if len(c.Caps) > 0 {
		out = append(out, p("%d processing limit(s) were reached; results may be incomplete (section 10).", len(c.Caps)))
	}
	return out
}

func labelText(l string) string {
	if l == "" {
		return ""
	}
	return " (" + l + ")"
}

func inCountries(s string) string {
	if s == "" {
		return ""
	}
	return " in " + s
}

func (v *view) method() []block {
	c := v.Case
	tz := or(c.Params["tz"], "UTC")
	out := []block{
		p("Ingest: each input was opened read-only and hashed with SHA-256 while it was read; its kind was detected from its content (or given). Packet captures were decoded into bidirectional flows; log lines were parsed into events. Every record keeps a reference to its file, SHA-256 and line, packet number and byte offset. Malformed records were counted and skipped, never guessed."),
		p("Time: all times are converted to UTC. Log timestamps without a UTC offset were read in the zone %s. Per-source clock corrections, if any, are listed among the parameters.", tz),
	}
	if len(c.Databases) > 0 {
		out = append(out, p("Enrichment: every address was looked up in the reference databases of section 4 (the newest build dated on or before the record when dated snapshots were given). Every enriched value names the database build that answered it."))
	} else {
		out = append(out, p("Enrichment: none."))
	}
	out = append(out, p("Sessions: records of one source address are grouped into sessions, split at idle gaps."),
		p("Links: two sessions are linked when they share an indicator under a typed rule. Rules are weighted (strong, e.g. the same credential; medium, e.g. the same rare client fingerprint; weak, e.g. the same /24 or AS within 7 days). Sessions join a campaign when their link weights sum to the threshold and at least one link is not infrastructure. Indicator values shared by many sessions are demoted one class so that common software does not join unrelated activity. Campaigns are connected components; each link is listed with its reason in section 8 and appendix A."))
	var rp [][2]string
	for _, k := range sortedKeys(c.Params) {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "weight") || strings.Contains(lk, "threshold") || strings.Contains(lk, "campaign") || strings.Contains(lk, "demot") {
			rp = append(rp, [2]string{k, c.Params[k]})
		}
	}
	if len(rp) > 0 {
		out = append(out, h3("Link rule weights and thresholds used"), block{Kind: blockKV, KV: rp})
	}
	out = append(out, p("Hops: X-Forwarded-For chains are walked from the socket peer through trusted proxies only; entries beyond the first untrusted address are kept as unverified claims. Flows seen at several vantage points are paired by time overlap and on/off activity correlation into chains origin, relay, target; each pairing shows its score and whether it was verified."))
	return out
}

// maxCampaignsDetailed bounds the campaigns given a full subsection.
const maxCampaignsDetailed = 50

func (v *view) campaignBlocks() (out []block) {
	c := v.Case
	if len(c.Campaigns) == 0 {
		return []block{p("No campaigns.")}
	}
	sess := v.sessions.members
	campaigns := c.Campaigns
	if len(campaigns) > maxCampaignsDetailed {
		// The rest are listed, not detailed; campaigns.csv and report.json
		// hold them all.
		rest := &table{Header: []string{"Campaign", "Label", "Score", "Sessions", "First seen (UTC)", "Last seen (UTC)"}, Mono: []bool{true}}
		for _, cp := range campaigns[maxCampaignsDetailed:] {
			rest.Rows = append(rest.Rows, []string{cp.ID, cp.Label, fmtFloat(cp.Score), strconv.Itoa(len(cp.Sessions)), secondUTC(cp.FirstSeen), secondUTC(cp.LastSeen)})
		}
		defer func() {
			out = append(out, h3(fmt.Sprintf("%d further campaigns (details in campaigns.csv, links.csv and report.json)", len(rest.Rows))), tbl(rest.cap(maxRowsInline)))
		}()
		campaigns = campaigns[:maxCampaignsDetailed]
	}
	for _, cp := range campaigns {
		out = append(out, h3("Campaign "+cp.ID+labelText(cp.Label)))
		var comps []string
		for _, k := range sortedKeys(cp.ScoreComponents) {
			comps = append(comps, k+" "+fmtFloat(cp.ScoreComponents[k]))
		}
		var asns []string
		for _, a := range cp.ASNs {
			asns = append(asns, "AS"+strconv.FormatUint(uint64(a.ASN), 10)+" "+a.Org+" ("+strconv.Itoa(a.Sessions)+" sessions)")
		}
		var bytes int64
		for _, id := range cp.Sessions {
			if s := sess[id]; s != nil {
				bytes += s.Bytes
			}
		}
		out = append(out, kv(
			"Triage score", fmtFloat(cp.Score)+or(" = "+strings.Join(comps, " + "), ""),
			"First seen", secondUTC(cp.FirstSeen),
			"Last seen", secondUTC(cp.LastSeen),
			"Volume", fmt.Sprintf("%d session(s), %d event(s), %d byte(s)", len(cp.Sessions), cp.Events, bytes),
			"Addresses", strings.Join(cp.IPs, " "),
			"Countries", or(countryList(cp.Countries), "unknown"),
			"Autonomous systems", or(strings.Join(asns, "; "), "unknown"),
			"Bridge links", or(strings.Join(cp.Bridges, " "), "none (no single link holds the campaign together)"),
		))
		if len(cp.Links) > 0 {
			lt := &table{Header: []string{"Why linked", "Rule", "Class", "Weight", "Shared value", "Sessions"}, Mono: []bool{false, false, false, false, true, true}}
			for _, l := range cp.Links {
				lt.Rows = append(lt.Rows, []string{or(l.Reason, l.Attribute+" is the same"), l.Rule, l.Class, fmtFloat(l.Weight), l.Attribute + ": " + l.Value, strings.Join(l.Sessions, " ")})
			}
			out = append(out, tbl(lt.cap(maxRowsInline)))
		}
		mt := &table{Header: []string{"Session", "Source IP", "Country", "ASN", "Start (UTC)", "End (UTC)", "Events", "Bytes", "Credential", "User agent"}, Mono: []bool{true, true}}
		for _, id := range cp.Sessions {
			s := sess[id]
			if s == nil {
				mt.Rows = append(mt.Rows, []string{id, "", "", "", "", "", "", "", "", ""})
				continue
			}
			cc, asn := geoText(s.SrcGeo)
			mt.Rows = append(mt.Rows, []string{s.ID, s.SrcIP.String(), cc, asn, secondUTC(s.Start), secondUTC(s.End), strconv.Itoa(s.Events), strconv.FormatInt(s.Bytes, 10), s.Indicators.Credential, s.Indicators.UserAgent})
		}
		out = append(out, tbl(mt.cap(maxRowsInline)))
		if len(cp.Hops) > 0 {
			out = append(out, hopTable(cp.Hops))
		}
	}
	return out
}

func hopTable(chains []forensics.Chain) block {
	ht := &table{Header: []string{"Chain", "#", "IP", "Role", "Ports", "First seen (UTC)", "Last seen (UTC)", "Country", "ASN", "Link to next (method, score, verified)"}, Mono: []bool{true, false, true}}
	for _, ch := range chains {
		for i, h := range ch.Hops {
			cc, asn := geoText(h.Geo)
			var link string
			if i+1 < len(ch.Hops) {
				for _, l := range ch.Links {
					if l.From == h.IP.String() && l.To == ch.Hops[i+1].IP.String() {
						link = fmt.Sprintf("%s, %s, %s", l.Method, fmtFloat(l.Score), map[bool]string{true: "verified", false: "unverified"}[l.Verified])
					}
				}
			}
			ht.Rows = append(ht.Rows, []string{ch.ID, strconv.Itoa(i + 1), h.IP.String(), h.Role, ports(h.Ports), secondUTC(h.FirstSeen), secondUTC(h.LastSeen), cc, asn, link})
		}
	}
	return tbl(ht.cap(maxRowsInline))
}

// maxProblemsShown bounds the problem list in the body; report.json has
// all the case kept.
const maxProblemsShown = 200

func (v *view) limitations() []block {
	c := v.Case
	var bad int64
	for _, in := range c.Inputs {
		bad += in.Malformed
	}
	out := []block{p("%d malformed record(s) were skipped across all inputs; their counts per file are in section 3.", bad)}
	if len(c.Problems) > 0 {
		pt := &table{Header: []string{"File", "Position", "Problem"}}
		for _, pr := range c.Problems {
			pos := ""
			switch {
			case pr.Line > 0:
				pos = "line " + strconv.FormatUint(pr.Line, 10)
			case pr.Packet > 0:
				pos = "packet " + strconv.FormatUint(pr.Packet, 10)
			}
			if pr.Offset > 0 {
				pos += " byte " + strconv.FormatInt(pr.Offset, 10)
			}
			pt.Rows = append(pt.Rows, []string{pr.File, strings.TrimSpace(pos), pr.Reason})
		}
		out = append(out, h3("Problems recorded"), tbl(pt.cap(maxProblemsShown)))
		if pt.Cut > 0 {
			out = append(out, note(fmt.Sprintf("%d more problems are listed in report.json.", pt.Cut)))
		}
	}
	if len(c.Caps) > 0 {
		ct := &table{Header: []string{"Limit reached", "File", "Times"}}
		for _, cp := range c.Caps {
			ct.Rows = append(ct.Rows, []string{cp.Cap, cp.File, strconv.FormatInt(cp.Count, 10)})
		}
		out = append(out, h3("Processing limits reached"), p("When a limit is reached the excess is dropped and counted; figures in this report may then be lower than in the evidence."), tbl(ct))
	} else {
		out = append(out, p("No processing limit was reached."))
	}
	out = append(out, h3("Geolocation"), p("%s", GeoIPStatement))

	// Unverified claims: forwarded-for entries beyond the trusted proxies
	// and hop pairings not verified.
	claims := v.events.claims
	var unverified int
	seen := map[string]bool{}
	count := func(chs []forensics.Chain) {
		for _, ch := range chs {
			if seen[ch.ID] {
				continue
			}
			seen[ch.ID] = true
			for _, l := range ch.Links {
				if !l.Verified {
					unverified++
				}
			}
		}
	}
	count(c.Chains)
	for _, cp := range c.Campaigns {
		count(cp.Hops)
	}
	out = append(out, h3("Proxy chains"), p("%d forwarded-for entr(ies) lie beyond the trusted proxies and are unverified claims made by the client; %d hop pairing(s) are statistical and unverified. Neither identifies an origin on its own.", claims, unverified))
	return out
}
