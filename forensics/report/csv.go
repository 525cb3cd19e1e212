package report

import (
	"bytes"
	"strconv"
	"strings"
)

// renderCSV writes the tables a spreadsheet user wants: campaigns, links,
// sessions, IPs, and events and flows when the case has them. Every cell
// goes through CSVCell; JSON keeps the raw values.
func renderCSV(b *bundle, v *view) error {
	c := v.Case
	var buf bytes.Buffer

	header := []string{"id", "score", "label", "first_seen", "last_seen", "sessions", "events", "ips", "countries", "asns", "links", "bridges", "score_components"}
	rows := make([]map[string]string, 0, len(c.Campaigns))
	for _, cp := range c.Campaigns {
		var asns, comps []string
		for _, a := range cp.ASNs {
			asns = append(asns, "AS"+strconv.FormatUint(uint64(a.ASN), 10)+" "+a.Org+" ("+strconv.Itoa(a.Sessions)+")")
		}
		for _, k := range sortedKeys(cp.ScoreComponents) {
			comps = append(comps, k+"="+fmtFloat(cp.ScoreComponents[k]))
		}
		rows = append(rows, map[string]string{
			"id": cp.ID, "score": fmtFloat(cp.Score), "label": cp.Label,
			"first_seen": cp.FirstSeen.String(), "last_seen": cp.LastSeen.String(),
			"sessions": strconv.Itoa(len(cp.Sessions)), "events": strconv.Itoa(cp.Events),
			"ips": strings.Join(cp.IPs, "|"), "countries": countryList(cp.Countries),
			"asns": strings.Join(asns, "|"), "links": strconv.Itoa(len(cp.Links)),
			"bridges": strings.Join(cp.Bridges, "|"), "score_components": strings.Join(comps, "|"),
		})
	}
	if err := WriteCSV(&buf, header, rows); err != nil {
		return err
	}
	b.add(FileCampaigns, clone(&buf))

	header = []string{"campaign", "id", "rule", "class", "attribute", "value", "weight", "sessions", "ips", "reason"}
	rows = rows[:0]
	for _, l := range v.Links {
		rows = append(rows, map[string]string{
			"campaign": l.Campaign, "id": l.ID, "rule": l.Rule, "class": l.Class, "attribute": l.Attribute,
			"value": l.Value, "weight": fmtFloat(l.Weight), "sessions": strings.Join(l.Sessions, "|"),
			"ips": strings.Join(l.IPs, "|"), "reason": l.Reason,
		})
	}
	if err := WriteCSV(&buf, header, rows); err != nil {
		return err
	}
	b.add(FileLinks, clone(&buf))

	if err := writeRecordsOrHeader(&buf, c.Sessions, "id,kind,src_ip,start,end,events,bytes"); err != nil {
		return err
	}
	b.add(FileSessions, clone(&buf))

	if err := writeRecordsOrHeader(&buf, v.IPs, "ip,sessions,events,flows,campaigns,roles"); err != nil {
		return err
	}
	b.add(FileIPs, clone(&buf))

	if len(c.Events) > 0 {
		if err := WriteRecords(&buf, "csv", c.Events); err != nil {
			return err
		}
		b.add(FileEvents, clone(&buf))
	}
	if len(c.Flows) > 0 {
		if err := WriteRecords(&buf, "csv", c.Flows); err != nil {
			return err
		}
		b.add(FileFlows, clone(&buf))
	}
	if len(v.Relays) > 0 || len(c.Chains) > 0 {
		if err := writeRecordsOrHeader(&buf, v.Relays, "ip,role,first_seen,last_seen,protocol,destination,chain,verified"); err != nil {
			return err
		}
		b.add(FileChains, clone(&buf))
	}
	return nil
}

// writeRecordsOrHeader writes records as CSV, or just a fixed header when
// there are none, so an empty table is still a well-formed file.
func writeRecordsOrHeader[T any](buf *bytes.Buffer, records []T, header string) error {
	if len(records) == 0 {
		buf.WriteString(header + "\n")
		return nil
	}
	return WriteRecords(buf, "csv", records)
}

func clone(buf *bytes.Buffer) []byte {
	out := bytes.Clone(buf.Bytes())
	buf.Reset()
	return out
}
