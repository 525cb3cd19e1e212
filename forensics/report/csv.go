package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

// renderCSV writes the tables a spreadsheet user wants: campaigns, links,
// sessions, IPs, and events and flows when the case has them. Every cell
// goes through CSVCell; JSON keeps the raw values.
func renderCSV(b *bundle, v *view) error {
	c := v.Case
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
	if err := writeTable(b, FileCampaigns, func(w io.Writer) error { return WriteCSV(w, header, rows) }); err != nil {
		return err
	}

	linkHeader := []string{"campaign", "id", "rule", "class", "attribute", "value", "weight", "sessions", "ips", "reason"}
	rows = rows[:0]
	for _, l := range v.Links {
		rows = append(rows, map[string]string{
			"campaign": l.Campaign, "id": l.ID, "rule": l.Rule, "class": l.Class, "attribute": l.Attribute,
			"value": l.Value, "weight": fmtFloat(l.Weight), "sessions": strings.Join(l.Sessions, "|"),
			"ips": strings.Join(l.IPs, "|"), "reason": l.Reason,
		})
	}
	if err := writeTable(b, FileLinks, func(w io.Writer) error { return WriteCSV(w, linkHeader, rows) }); err != nil {
		return err
	}
	if err := writeTable(b, FileSessions, func(w io.Writer) error {
		if c.NumSessions() == 0 {
			_, err := io.WriteString(w, "id,kind,src_ip,start,end,events,bytes\n")
			return err
		}
		return writeCSVEach(w, func(fn func(any) error) error {
			return c.EachSession(func(s *forensics.Session) error { return fn(s) })
		})
	}); err != nil {
		return err
	}
	if err := writeTable(b, FileIPs, func(w io.Writer) error {
		return writeRecordsOrHeader(w, v.IPs, "ip,sessions,events,flows,campaigns,roles")
	}); err != nil {
		return err
	}
	if c.NumEvents() > 0 {
		err := writeTable(b, FileEvents, func(w io.Writer) error {
			return writeCSVEach(w, func(fn func(any) error) error {
				return c.EachEvent(func(e *forensics.Event) error { return fn(e) })
			})
		})
		if err != nil {
			return err
		}
	}
	if c.NumFlows() > 0 {
		err := writeTable(b, FileFlows, func(w io.Writer) error {
			return writeCSVEach(w, func(fn func(any) error) error {
				return c.EachFlow(func(f *forensics.Flow) error { return fn(f) })
			})
		})
		if err != nil {
			return err
		}
	}
	if len(v.Relays) > 0 || len(c.Chains) > 0 {
		return writeTable(b, FileChains, func(w io.Writer) error {
			return writeRecordsOrHeader(w, v.Relays, "ip,role,first_seen,last_seen,protocol,destination,chain,verified")
		})
	}
	return nil
}

// writeTable streams one CSV file of the bundle through a buffer.
func writeTable(b *bundle, name string, write func(io.Writer) error) error {
	f, err := b.create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.abort()
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		f.abort()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return f.Close()
}

// writeRecordsOrHeader writes records as CSV, or just a fixed header when
// there are none, so an empty table is still a well-formed file.
func writeRecordsOrHeader[T any](w io.Writer, records []T, header string) error {
	if len(records) == 0 {
		_, err := io.WriteString(w, header+"\n")
		return err
	}
	return WriteRecords(w, "csv", records)
}
