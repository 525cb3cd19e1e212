package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/enrich"
)

type ipOptions struct {
	g     *globalOptions
	Addrs []string
	At    string
	// Getenv reads the environment ($TRACEHOP_GEOIP, the user data dir);
	// nil means the process environment. Tests set it.
	Getenv func(string) string
}

func newIPCmd(g *globalOptions, runF func(*ipOptions) error) *cobra.Command {
	opts := &ipOptions{g: g}
	cmd := &cobra.Command{
		Use:   "ip ADDR...",
		Short: "Enrichment of addresses: class, country, ASN and the database builds that answered",
		Long: `Enrich each address offline: its class (public, private, cgnat, documentation,
...), the IPv4 address carried by IPv4-mapped, NAT64, 6to4 and Teredo addresses,
geolocated and registered country, city, ASN and organisation, anonymizer and
hosting flags, and for every value the database build that gave it (type,
build date, SHA-256, matched network). With --at, snapshot directories given
by --geoip answer with the build in force on that date.

Output is one JSON object per address (--format json, the default) or a
readable block per address (--format text).`,
		Example: `  tracehop ip 8.8.8.8 1.1.1.1 2001:4860:4860::8888 ::ffff:1.1.1.1 2002:c000:0204::1 100.64.1.1 10.0.0.1
  tracehop ip 47.246.1.1 --at 2025-07-14 --geoip ./city-snapshots --format text
  tracehop ip 203.0.113.9 --home KR --geoip GeoLite2-City.mmdb --geoip GeoLite2-ASN.mmdb`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Addrs = args
			if runF != nil {
				return runF(opts)
			}
			return runIP(opts)
		},
	}
	cmd.Flags().StringVar(&opts.At, "at", "", "time of the event: DATE (YYYY-MM-DD, 00:00 UTC) or RFC 3339; snapshot sets use the build in force then")
	return cmd
}

// parseAt reads --at: a date, an RFC 3339 time, or empty (newest builds).
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: want YYYY-MM-DD or an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

func runIP(opts *ipOptions) error {
	g := opts.g
	at, err := parseAt(opts.At)
	if err != nil {
		return err
	}
	format := g.Format
	switch format {
	case "":
		format = "json"
	case "json", "jsonl", "text":
	default:
		return fmt.Errorf("--format %q: want json or text", format)
	}
	addrs := make([]netip.Addr, 0, len(opts.Addrs))
	for _, a := range opts.Addrs {
		ip, err := netip.ParseAddr(strings.Trim(a, "[]"))
		if err != nil {
			return inputError(fmt.Errorf("address %q: %w", a, err))
		}
		addrs = append(addrs, ip)
	}
	eo := enrich.Options{Paths: g.GeoIP, Home: g.Home, UseEnv: true, Getenv: opts.Getenv}
	if g.NoEnrich {
		eo = enrich.Options{NoEmbedded: true, Home: g.Home}
	}
	e, err := enrich.New(eo)
	if err != nil {
		return inputError(fmt.Errorf("open GeoIP databases: %w", err))
	}
	defer e.Close()
	w := g.io.Out
	for _, ip := range addrs {
		r := e.Lookup(ip, at)
		if format == "text" {
			if err := writeIPText(w, &r); err != nil {
				return err
			}
			continue
		}
		// Like every other JSON output: "AT&T", not "AT\u0026T".
		if err := writeJSON(w, &r, ""); err != nil {
			return err
		}
	}
	return nil
}

// writeIPText prints one record for a reader: values first, then the
// sources they came from. Every value is made terminal-safe: names,
// organisations and database types come from database files, which may
// come from anywhere.
func writeIPText(out io.Writer, r *enrich.Record) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, safeText(v))
		}
	}
	fmt.Fprintf(tw, "%s\t%s\n", r.IP, r.Class)
	if r.EmbeddedIPv4.IsValid() {
		line("embedded ipv4", r.EmbeddedIPv4.String()+" ("+r.Embedding+")")
	}
	country := r.Country
	if r.CountryName != "" {
		country += " " + r.CountryName
	}
	line("country", country)
	if r.RegisteredCountry != "" {
		reg := r.RegisteredCountry
		if r.Country != "" && r.Country != r.RegisteredCountry {
			reg += " (differs from geolocated " + r.Country + ")"
		}
		line("registered", reg)
	}
	line("subdivision", r.Subdivision)
	line("city", r.City)
	if r.Lat != nil && r.Lon != nil {
		loc := strconv.FormatFloat(*r.Lat, 'f', -1, 64) + ", " + strconv.FormatFloat(*r.Lon, 'f', -1, 64)
		if r.AccuracyKM != 0 {
			loc += fmt.Sprintf(" (accuracy radius %d km)", r.AccuracyKM)
		}
		line("location", loc)
	}
	if r.ASN != 0 {
		line("asn", strings.TrimSpace(fmt.Sprintf("AS%d %s", r.ASN, r.ASOrg)))
	}
	line("isp", r.ISP)
	line("connection", r.ConnectionType)
	line("domain", r.Domain)
	if r.Anonymous != nil {
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{r.Anonymous.VPN, "vpn"}, {r.Anonymous.Tor, "tor"}, {r.Anonymous.Hosting, "hosting"}, {r.Anonymous.Proxy, "proxy"}, {r.Anonymous.ResidentialProxy, "residential_proxy"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		line("anonymous", strings.Join(flags, ", "))
	}
	if r.Anycast {
		line("anycast", "yes (location says nothing about the sender)")
	}
	if r.Foreign != nil {
		line("foreign", strconv.FormatBool(*r.Foreign))
	}
	if r.Network.IsValid() {
		line("network", r.Network.String())
	}
	for _, s := range r.Sources.All() {
		src := fmt.Sprintf("%s: %s (%s, build %s, sha256 %s", s.DB, strings.Join(s.Fields, ","), s.Type, s.Build, s.SHA256)
		if s.Network.IsValid() {
			src += ", network " + s.Network.String()
		}
		if d := s.SnapshotDistanceDays; d != nil && !s.AfterEvent {
			src += fmt.Sprintf(", built %d days before the event", *d)
		}
		if s.AfterEvent {
			// No build on or before the event was available.
			src += fmt.Sprintf(", BUILT AFTER THE EVENT (%d days)", -ipDistance(s.SnapshotDistanceDays))
		}
		line("source", src+")")
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

func ipDistance(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
