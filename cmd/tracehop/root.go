package main

import (
	"github.com/spf13/cobra"
)

// globalOptions are the persistent flags of DESIGN §3, shared by every
// command that reads evidence so that what `events` accepts, `sessions`,
// `campaigns`, `trace` and `analyze` accept too.
type globalOptions struct {
	io *ioStreams

	InputFormat string
	LogFormat   string
	TZ          string
	Year        int      // assumed for RFC 3164 syslog stamps, which have none
	ClockOffset []string // FILE=DURATION
	TrustProxy  []string // CIDR
	Fields      []string // NAME=PATH
	GeoIP       []string // mmdb file or directory of snapshots
	Home        string   // investigator's country (ISO 3166 alpha-2)
	Format      string
	Quiet       bool
	NoEnrich    bool
}

func newRootCmd(io *ioStreams) *cobra.Command {
	g := &globalOptions{io: io}
	root := &cobra.Command{
		Use:   "tracehop",
		Short: "Offline IP-attribution forensics: captures and logs to enriched, linked, court-ready evidence",
		Long: `tracehop reads packet captures (pcap, pcapng) and server logs (web access logs,
API gateway JSON, sshd, flow records), enriches every IP with GeoIP and ASN data
from MaxMind-format databases (an embedded default is built in), groups sessions
into campaigns with explainable links, traces hops through proxies and relays,
and writes a reproducible evidence bundle. It never uses the network and never
modifies its inputs.`,
		Example: `  tracehop analyze testdata/demo --home KR --out case-report
  tracehop ip 8.8.8.8 --at 2025-07-14
  tracehop flows capture.pcap --format csv > flows.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)

	pf := root.PersistentFlags()
	pf.StringVar(&g.InputFormat, "input-format", "", "override detected input kind (pcap, pcapng, combined, common, jsonl, sshd, zeek-tsv, zeek-json, nfdump-csv, ...)")
	pf.StringVar(&g.LogFormat, "log-format", "", "nginx log_format or Apache LogFormat string for custom web logs")
	pf.StringVar(&g.TZ, "tz", "UTC", "time zone assumed for log timestamps without an offset (IANA name); the report states it")
	pf.IntVar(&g.Year, "year", 0, "year assumed for RFC 3164 syslog timestamps, which carry none (default: unknown, flagged year_unknown); the report states it")
	pf.StringArrayVar(&g.ClockOffset, "clock-offset", nil, "per-source clock correction FILE=DURATION (repeatable), recorded in the output")
	pf.StringArrayVar(&g.TrustProxy, "trust-proxy", nil, "CIDR of a trusted reverse proxy whose X-Forwarded-For entries are believed (repeatable)")
	pf.StringArrayVar(&g.Fields, "field", nil, "map a JSON/log field to a normalized field NAME=PATH, e.g. credential=auth.key_id (repeatable)")
	pf.StringArrayVar(&g.GeoIP, "geoip", nil, "mmdb file or directory of dated snapshots (repeatable; before $TRACEHOP_GEOIP, the user data dir and the embedded default)")
	pf.StringVar(&g.Home, "home", "", "investigator's country code (e.g. KR): marks foreign addresses and hops")
	pf.StringVar(&g.Format, "format", "", "output format of the command (jsonl, csv, json, text)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "no progress and no summary on stderr")
	pf.BoolVar(&g.NoEnrich, "no-enrich", false, "skip GeoIP/ASN enrichment")

	// Explicit registration (no init()): the list a newcomer reads first.
	root.AddCommand(
		newAnalyzeCmd(g, nil),
		newFlowsCmd(g, nil),
		newEventsCmd(g, nil),
		newSessionsCmd(g, nil),
		newCampaignsCmd(g, nil),
		newTraceCmd(g, nil),
		newIPCmd(g, nil),
		newDBCmd(g),
		newCaseCmd(g),
		newReportCmd(g, nil),
		newVerifyCmd(g, nil),
		newKeygenCmd(g, nil),
		newVersionCmd(g),
	)
	return root
}
