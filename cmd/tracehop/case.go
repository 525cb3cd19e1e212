package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/casefile"
	"github.com/tracehop/tracehop/forensics/hive"
	"github.com/tracehop/tracehop/forensics/report"
)

// caseOptions are the flags of every `case` subcommand (each uses some).
type caseOptions struct {
	g      *globalOptions
	Case   string
	Inputs []string
	Args   []string // the command line, for the custody log

	// case new
	CaseID   string
	Examiner string

	// case log
	VerifyOnly bool

	// case query
	Kind       string
	IP         string
	CIDR       string
	ASN        string
	Country    string
	From, To   string
	Credential string
	Campaign   string
	UserAgent  string
	Limit      int
	Out        string // --format parquet

	// set from the command line: whether --home / --tz were given
	homeSet, tzSet bool
}

func newCaseCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "case",
		Short: "Persistent case file work: new, add, show, log, query",
		Long: `A case file (*.thcase, one SQLite file) grows as evidence arrives: each
"case add" stores only inputs it does not hold yet (by SHA-256), each input in
one transaction, then rebuilds sessions, campaigns and hop chains over the whole
case. Every command that reads or changes a case appends a hash-chained entry
to its custody log. "tracehop report CASEFILE" renders the bundle from it.`,
	}
	cmd.AddCommand(
		newCaseNewCmd(g, nil),
		newCaseAddCmd(g, nil),
		newCaseShowCmd(g, nil),
		newCaseLogCmd(g, nil),
		newCaseQueryCmd(g, nil),
	)
	return cmd
}

// caseRunE wires the cli/cli pattern for one subcommand.
func caseRunE(opts *caseOptions, runF func(*caseOptions) error, run func(context.Context, *caseOptions) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		opts.Case, opts.Inputs = args[0], args[1:]
		opts.Args = append([]string{"tracehop"}, osArgs(cmd)...)
		opts.homeSet = cmd.Flags().Changed("home")
		opts.tzSet = cmd.Flags().Changed("tz")
		if runF != nil {
			return runF(opts)
		}
		return run(cmd.Context(), opts)
	}
}

func newCaseNewCmd(g *globalOptions, runF func(*caseOptions) error) *cobra.Command {
	opts := &caseOptions{g: g}
	cmd := &cobra.Command{
		Use:   "new CASEFILE",
		Short: "Create an empty case file with its metadata",
		Long: `Creates CASEFILE (conventionally *.thcase) with the case ID, the examiner, the
home country (--home) and the time zone assumed for logs without an offset
(--tz); "case add" uses that home and time zone unless given others. An
existing file is never overwritten.`,
		Example: `  tracehop case new 2025-0142.thcase --case-id 2025-0142 --examiner "J. Kim" --home KR --tz Asia/Seoul`,
		Args:    cobra.ExactArgs(1),
		RunE:    caseRunE(opts, runF, runCaseNew),
	}
	cmd.Flags().StringVar(&opts.CaseID, "case-id", "", "case identifier")
	cmd.Flags().StringVar(&opts.Examiner, "examiner", "", "examiner's name")
	return cmd
}

func newCaseAddCmd(g *globalOptions, runF func(*caseOptions) error) *cobra.Command {
	opts := &caseOptions{g: g}
	return &cobra.Command{
		Use:   "add CASEFILE INPUT...",
		Short: "Add evidence to a case and recompute campaigns over the whole case",
		Long: `Adds every INPUT (files, directories walked in sorted order, - for stdin) that
the case does not already hold: inputs are recognised by SHA-256, so adding the
same file twice stores it once and says so. Each input is stored in one
transaction: an interruption (Ctrl-C, kill -9, power loss) leaves the case as
it was before that input, and running the same command again continues with
the rest. Then sessions, campaigns and hop chains are rebuilt over the whole
case. Takes the same input flags as analyze; --home and --tz default to the
case's own. Only one process may add to a case at a time.`,
		Example: `  tracehop case add 2025-0142.thcase /evidence/victim-logs/
  tracehop case add 2025-0142.thcase hosting-netflow.csv --input-format nfdump-csv`,
		Args: cobra.MinimumNArgs(2),
		RunE: caseRunE(opts, runF, runCaseAdd),
	}
}

func newCaseShowCmd(g *globalOptions, runF func(*caseOptions) error) *cobra.Command {
	opts := &caseOptions{g: g}
	return &cobra.Command{
		Use:   "show CASEFILE",
		Short: "Summary of a case: metadata, evidence, counts and campaigns",
		Example: `  tracehop case show 2025-0142.thcase
  tracehop case show 2025-0142.thcase --format json`,
		Args: cobra.ExactArgs(1),
		RunE: caseRunE(opts, runF, runCaseShow),
	}
}

func newCaseLogCmd(g *globalOptions, runF func(*caseOptions) error) *cobra.Command {
	opts := &caseOptions{g: g}
	cmd := &cobra.Command{
		Use:   "log CASEFILE",
		Short: "The case's custody log, with its hash chain verified",
		Long: `Prints the custody log (text, or --format jsonl) and verifies its hash chain:
an edited, inserted, reordered or removed entry is reported with its position
and the command exits with code 2. --verify prints only the verdict.`,
		Example: `  tracehop case log 2025-0142.thcase
  tracehop case log 2025-0142.thcase --verify`,
		Args: cobra.ExactArgs(1),
		RunE: caseRunE(opts, runF, runCaseLog),
	}
	cmd.Flags().BoolVar(&opts.VerifyOnly, "verify", false, "only verify the chain and print the verdict")
	return cmd
}

func newCaseQueryCmd(g *globalOptions, runF func(*caseOptions) error) *cobra.Command {
	opts := &caseOptions{g: g}
	cmd := &cobra.Command{
		Use:   "query CASEFILE",
		Short: "Events, flows or sessions of a case that match filters (jsonl|csv|table|parquet)",
		Long: `Selects records of one kind (--kind events, flows or sessions) matching every
filter given. --ip and --cidr match an event's attributed client or socket peer,
either end of a flow, a session's source; --asn and --country match the
enrichment of those addresses; --from/--to keep records whose time span
overlaps [from, to); --credential matches an event's credential or a session's
credential or token key ID; --campaign selects a campaign's sessions and the
events and flows they cite; --user-agent matches a substring. Records come in
case order (inputs in the order added). Output: jsonl (default, as
stored), csv, table, or parquet with --out DIR (a table partitioned by UTC
day, as flows|events|sessions --format parquet write; the custody log lists
its files).`,
		Example: `  tracehop case query 2025-0142.thcase --kind sessions --asn AS37963 --from 2025-07-01 --to 2025-10-01
  tracehop case query 2025-0142.thcase --credential k2019-legacy --format table
  tracehop case query 2025-0142.thcase --kind flows --cidr 203.0.113.0/24 --format csv
  tracehop case query 2025-0142.thcase --kind sessions --format parquet --out sessions-table/`,
		Args: cobra.ExactArgs(1),
		RunE: caseRunE(opts, runF, runCaseQuery),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Kind, "kind", casefile.KindEvents, "records to search: events, flows or sessions")
	f.StringVar(&opts.IP, "ip", "", "address")
	f.StringVar(&opts.CIDR, "cidr", "", "network, e.g. 203.0.113.0/24")
	f.StringVar(&opts.ASN, "asn", "", "autonomous system number (37963 or AS37963)")
	f.StringVar(&opts.Country, "country", "", "ISO 3166 country code of the address")
	f.StringVar(&opts.From, "from", "", "start, inclusive (YYYY-MM-DD or RFC 3339)")
	f.StringVar(&opts.To, "to", "", "end, exclusive (YYYY-MM-DD or RFC 3339)")
	f.StringVar(&opts.Credential, "credential", "", "credential or key ID")
	f.StringVar(&opts.Campaign, "campaign", "", "campaign ID")
	f.StringVar(&opts.UserAgent, "user-agent", "", "substring of the User-Agent")
	f.IntVar(&opts.Limit, "limit", 0, "stop after this many records (0: all)")
	bindParquetOut(f, &opts.Out)
	return cmd
}

// osUser names who ran the command, for evidence items and custody entries.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// custodyEntry starts an entry for this command.
func (o *caseOptions) custodyEntry(action string) forensics.CustodyEntry {
	return forensics.CustodyEntry{Time: forensics.NewTime(time.Now()), Action: action, Args: o.Args,
		ToolVersion: toolString(toolInfo()), User: osUser()}
}

// toolString names the build in custody entries as forensics/report does.
func toolString(t forensics.ToolInfo) string {
	s := t.Name + " " + t.Version
	if t.Commit != "" {
		s += " (" + t.Commit + ")"
	}
	return strings.TrimSpace(s)
}

// caseError classifies errors opening a case: a bad or missing file is an
// input error (exit 2); a case held by another writer is too, since the
// command could not use its input.
func caseError(err error) error {
	var le *casefile.LockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le), errors.Is(err, casefile.ErrNotCase), errors.Is(err, casefile.ErrTruncated),
		errors.Is(err, casefile.ErrNewerSchema), errors.Is(err, os.ErrNotExist), errors.Is(err, casefile.ErrExists):
		return inputError(err)
	}
	return err
}

// openForReading opens a case read-only and returns a function that
// appends the command's custody entry and closes it.
func openForReading(ctx context.Context, opts *caseOptions, action string) (*casefile.File, func(outputs ...forensics.FileHash) error, error) {
	cf, err := casefile.Open(ctx, opts.Case, casefile.OpenOptions{})
	if err != nil {
		return nil, nil, caseError(err)
	}
	done := func(outputs ...forensics.FileHash) error {
		defer cf.Close()
		e := opts.custodyEntry(action)
		e.Outputs = outputs
		if _, err := cf.AppendCustody(ctx, e); err != nil {
			return fmt.Errorf("record %s in the custody log: %w", action, err)
		}
		return nil
	}
	return cf, done, nil
}

func runCaseNew(ctx context.Context, opts *caseOptions) error {
	g := opts.g
	if _, err := time.LoadLocation(g.TZ); err != nil {
		return fmt.Errorf("--tz %q: %w", g.TZ, err)
	}
	ti := toolInfo()
	meta := casefile.Meta{CaseID: opts.CaseID, Examiner: opts.Examiner, Home: strings.ToUpper(g.Home), TZ: g.TZ, Tool: ti}
	cf, err := casefile.Create(ctx, opts.Case, meta, opts.custodyEntry("case new"))
	if err != nil {
		return caseError(err)
	}
	if !g.Quiet {
		fmt.Fprintf(g.io.ErrOut, "created case %s\n", report.TerminalSafe(opts.Case))
	}
	return cf.Close()
}

func runCaseAdd(ctx context.Context, opts *caseOptions) error {
	g := opts.g
	// The case's home and time zone apply unless given on this command.
	// Reading them takes no lock; AddToCase takes it.
	cf, err := casefile.Open(ctx, opts.Case, casefile.OpenOptions{})
	if errors.Is(err, os.ErrNotExist) {
		return inputError(fmt.Errorf("%w (create it with `tracehop case new`)", err))
	}
	if err != nil {
		return caseError(err)
	}
	meta, err := cf.Meta(ctx)
	cf.Close()
	if err != nil {
		return err
	}
	gg := *g
	if !opts.homeSet && meta.Home != "" {
		gg.Home = meta.Home
	}
	if !opts.tzSet && meta.TZ != "" {
		gg.TZ = meta.TZ
	}
	aopts, enr, err := gg.analyzeOptions(opts.Inputs, analyze.StageAll)
	if err != nil {
		return err
	}
	if enr != nil {
		defer enr.Close()
	}
	res, err := addToCase(ctx, &gg, opts.Case, opts.Args, aopts)
	if res == nil || (err != nil && !errors.Is(err, analyze.ErrInput)) {
		return caseError(err)
	}
	if !g.Quiet {
		fmt.Fprintf(g.io.ErrOut, "case %s: %d added, %d already present, %d unreadable\n",
			report.TerminalSafe(opts.Case), len(res.Added), len(res.Present), len(res.Failed))
		printCaps(g.io.ErrOut, res.Caps)
	}
	var malformed int64
	for _, in := range res.Added {
		malformed += in.Malformed
	}
	switch {
	case err != nil:
		return inputError(err)
	case malformed > 0:
		return skippedError(fmt.Errorf("completed with %d malformed records skipped; details in the case (case show) and the report", malformed))
	}
	return nil
}

// addToCase runs analyze.AddToCase, telling stderr about each input.
func addToCase(ctx context.Context, g *globalOptions, casePath string, args []string, aopts analyze.Options) (*analyze.AddResult, error) {
	co := analyze.CaseOptions{User: osUser(), Tool: toolInfo(), Args: args}
	if !g.Quiet {
		co.Added = func(in forensics.Input, added bool) {
			if added {
				fmt.Fprintf(g.io.ErrOut, "added %s (%d records, sha256 %s)\n", report.TerminalSafe(in.Path), in.Records, in.SHA256)
			} else {
				fmt.Fprintf(g.io.ErrOut, "already in the case: %s (sha256 %s)\n", report.TerminalSafe(in.Path), in.SHA256)
			}
		}
	}
	return analyze.AddToCase(ctx, casePath, aopts, co)
}

// caseAnalyze is `analyze --case FILE`: the case is created if missing,
// the inputs are added to it, and the report covers the whole case.
func caseAnalyze(ctx context.Context, opts *analyzeOptions, aopts analyze.Options) (*forensics.Case, error) {
	g := opts.g
	if _, err := os.Stat(opts.Case); errors.Is(err, os.ErrNotExist) {
		meta := casefile.Meta{CaseID: opts.CaseID, Examiner: opts.Examiner, Home: aopts.Home, TZ: g.TZ, Tool: toolInfo()}
		e := forensics.CustodyEntry{Time: forensics.NewTime(time.Now()), Action: "case new", Args: opts.Args, ToolVersion: toolString(toolInfo()), User: osUser()}
		cf, err := casefile.Create(ctx, opts.Case, meta, e)
		if err != nil {
			return nil, caseError(err)
		}
		cf.Close()
	}
	_, addErr := addToCase(ctx, g, opts.Case, opts.Args, aopts)
	if addErr != nil && !errors.Is(addErr, analyze.ErrInput) {
		return nil, caseError(addErr)
	}
	c, err := analyze.LoadCase(ctx, opts.Case)
	if err != nil {
		return nil, caseError(err)
	}
	return c, addErr
}

func runCaseShow(ctx context.Context, opts *caseOptions) error {
	g := opts.g
	cf, done, err := openForReading(ctx, opts, "case show")
	if err != nil {
		return err
	}
	sum, err := cf.Summary(ctx)
	if err != nil {
		cf.Close()
		return err
	}
	switch g.Format {
	case "json", "jsonl":
		err = writeJSON(g.io.Out, sum, "  ")
	case "", "text":
		err = writeCaseSummary(g.io.Out, opts.Case, sum)
	default:
		err = fmt.Errorf("--format %q: case show writes text or json", g.Format)
	}
	if err != nil {
		cf.Close()
		return err
	}
	return done()
}

func writeCaseSummary(w io.Writer, path string, s *casefile.Summary) error {
	safe := report.TerminalSafe
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%s\n", safe(path))
	for _, kv := range [][2]string{{"case id", s.Meta.CaseID}, {"examiner", s.Meta.Examiner}, {"home", s.Meta.Home}, {"time zone", s.Meta.TZ}} {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", kv[0], safe(kv[1]))
		}
	}
	if !s.Meta.Created.IsZero() {
		fmt.Fprintf(tw, "created\t%s\n", s.Meta.Created)
	}
	fmt.Fprintf(tw, "schema\t%d\n", s.Schema)
	fmt.Fprintf(tw, "records\t%d flows, %d events, %d problems\n", s.Flows, s.Events, s.Problems)
	fmt.Fprintf(tw, "derived\t%d sessions, %d campaigns, %d chains\n", s.Sessions, len(s.Campaigns), s.Chains)
	fmt.Fprintf(tw, "custody\t%d entries\n", s.Custody)
	tw.Flush()

	fmt.Fprintf(w, "\nevidence (%d)\n", len(s.Evidence))
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tadded\tby\tkind\tbytes\trecords\tmalformed\tsha256\tpath")
	for i, e := range s.Evidence {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", i+1, e.AddedAt.Format(time.RFC3339), safe(e.AddedBy), safe(e.Kind),
			e.Size, e.Records, e.Malformed, e.SHA256, safe(e.Path))
	}
	tw.Flush()

	fmt.Fprintf(w, "\ncampaigns (%d)\n", len(s.Campaigns))
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tscore\tsessions\tevents\tips\tfirst seen\tlast seen\tlabel")
	for _, c := range s.Campaigns {
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%d\t%s\t%s\t%s\n", safe(c.ID), c.Score, len(c.Sessions), c.Events, len(c.IPs),
			c.FirstSeen.Format(time.RFC3339), c.LastSeen.Format(time.RFC3339), safe(c.Label))
	}
	return tw.Flush()
}

func runCaseLog(ctx context.Context, opts *caseOptions) error {
	g := opts.g
	cf, done, err := openForReading(ctx, opts, "case log")
	if err != nil {
		return err
	}
	entries, verr := cf.VerifyCustody(ctx)
	if !opts.VerifyOnly {
		if err := writeCustody(g, entries); err != nil {
			cf.Close()
			return err
		}
	}
	if err := done(); err != nil {
		return err
	}
	if verr != nil {
		return inputError(fmt.Errorf("custody log does not verify: %w", verr))
	}
	if !g.Quiet || opts.VerifyOnly {
		w := g.io.ErrOut
		if opts.VerifyOnly {
			w = g.io.Out
		}
		last := ""
		if n := len(entries); n > 0 {
			last = " (head " + entries[n-1].Hash + ")"
		}
		fmt.Fprintf(w, "custody log verified: %d entries, hash chain intact%s\n", len(entries), last)
	}
	return nil
}

func writeCustody(g *globalOptions, entries []forensics.CustodyEntry) error {
	switch g.Format {
	case "jsonl", "json":
		return writeJSONLines(g, entries)
	case "", "text":
	default:
		return fmt.Errorf("--format %q: case log writes text or jsonl", g.Format)
	}
	safe := report.TerminalSafe
	tw := tabwriter.NewWriter(g.io.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "seq\ttime\tuser\taction\tinputs\thash\targs")
	for _, e := range entries {
		var ins []string
		for _, in := range e.Inputs {
			ins = append(ins, safe(filepath.Base(in.Path))+"@"+in.SHA256[:min(12, len(in.SHA256))])
		}
		for _, out := range e.Outputs {
			ins = append(ins, "→"+safe(filepath.Base(out.Path)))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), safe(e.User), safe(e.Action),
			strings.Join(ins, ","), e.Hash[:min(16, len(e.Hash))], safe(strings.Join(e.Args, " ")))
	}
	return tw.Flush()
}

// caseFilter turns the query flags into a casefile.Filter.
func caseFilter(opts *caseOptions) (casefile.Filter, error) {
	var f casefile.Filter
	var err error
	if opts.IP != "" {
		if f.IP, err = netip.ParseAddr(opts.IP); err != nil {
			return f, fmt.Errorf("--ip %q: %w", opts.IP, err)
		}
	}
	if opts.CIDR != "" {
		if f.CIDR, err = parsePrefix(opts.CIDR); err != nil {
			return f, fmt.Errorf("--cidr %q: %w", opts.CIDR, err)
		}
	}
	if opts.ASN != "" {
		s := strings.TrimPrefix(strings.ToUpper(opts.ASN), "AS")
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			return f, fmt.Errorf("--asn %q: want a number like 37963 or AS37963", opts.ASN)
		}
		f.ASN = uint32(n)
	}
	if opts.Country != "" {
		if len(opts.Country) != 2 {
			return f, fmt.Errorf("--country %q: want a two-letter ISO 3166 code", opts.Country)
		}
		f.Country = strings.ToUpper(opts.Country)
	}
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"--from", opts.From, &f.From}, {"--to", opts.To, &f.To}} {
		if t.v == "" {
			continue
		}
		v, err := parseAt(t.v)
		if err != nil {
			return f, fmt.Errorf("%s %q: want YYYY-MM-DD or an RFC 3339 time", t.name, t.v)
		}
		*t.dst = v
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, fmt.Errorf("--to %s is not after --from %s", opts.To, opts.From)
	}
	if opts.Limit < 0 {
		return f, fmt.Errorf("--limit %d: must not be negative", opts.Limit)
	}
	f.Credential, f.Campaign, f.UserAgent, f.Limit = opts.Credential, opts.Campaign, opts.UserAgent, opts.Limit
	return f, nil
}

func runCaseQuery(ctx context.Context, opts *caseOptions) error {
	g := opts.g
	switch opts.Kind {
	case casefile.KindEvents, casefile.KindFlows, casefile.KindSessions:
	default:
		return fmt.Errorf("--kind %q: want events, flows or sessions", opts.Kind)
	}
	format := g.Format
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" && format != "table" && format != "parquet" {
		return fmt.Errorf("--format %q: case query writes jsonl, csv, table or parquet", format)
	}
	if err := checkParquetOut(format, opts.Out, []string{opts.Case}); err != nil {
		return err
	}
	flt, err := caseFilter(opts)
	if err != nil {
		return err
	}
	cf, done, err := openForReading(ctx, opts, "case query")
	if err != nil {
		return err
	}
	n := 0
	var outputs []forensics.FileHash
	switch format {
	case "parquet":
		var m *hive.Manifest
		if m, err = analyze.CaseParquet(ctx, cf, opts.Kind, flt, opts.Out, toolInfo(), opts.queryParams()); err == nil {
			n = int(m.Rows)
			for _, f := range m.Files {
				outputs = append(outputs, forensics.FileHash{Path: filepath.Join(opts.Out, filepath.FromSlash(f.Path)), Size: f.Size, SHA256: f.SHA256})
			}
		}
	case "jsonl":
		err = cf.Query(ctx, opts.Kind, flt, func(js []byte) error {
			n++
			// A case written by an older version may hold invisible
			// characters raw.
			if _, err := g.io.Out.Write(forensics.EscapeInvisibles(js)); err != nil {
				return err
			}
			_, err := g.io.Out.Write([]byte{'\n'})
			return err
		})
	case "csv":
		n, err = writeQueryCSV(ctx, g.io.Out, cf, opts.Kind, flt)
	case "table":
		var rows []map[string]string
		err = cf.Query(ctx, opts.Kind, flt, func(js []byte) error {
			n++
			// The stored JSON as is: numbers keep every digit.
			row, err := report.Flatten(json.RawMessage(js))
			rows = append(rows, row)
			return err
		})
		if err == nil {
			err = writeQueryTable(g.io.Out, opts.Kind, rows)
		}
	}
	if err != nil {
		cf.Close()
		return err
	}
	if !g.Quiet {
		fmt.Fprintf(g.io.ErrOut, "%d %s\n", n, opts.Kind)
	}
	return done(outputs...)
}

// queryParams are the query's filters as given, for a table's manifest.
func (o *caseOptions) queryParams() map[string]string {
	p := map[string]string{"case_query.kind": o.Kind}
	for k, v := range map[string]string{
		"ip": o.IP, "cidr": o.CIDR, "asn": o.ASN, "country": o.Country, "from": o.From, "to": o.To,
		"credential": o.Credential, "campaign": o.Campaign, "user_agent": o.UserAgent,
	} {
		if v != "" {
			p["case_query."+k] = v
		}
	}
	if o.Limit > 0 {
		p["case_query.limit"] = strconv.Itoa(o.Limit)
	}
	return p
}

// writeQueryCSV writes the query's records as CSV in two passes (the
// header is the sorted union of their columns), holding no rows: a query
// can match millions of records. The stored JSON is flattened as it is,
// so numbers keep every digit. It returns how many records matched.
func writeQueryCSV(ctx context.Context, w io.Writer, cf *casefile.File, kind string, flt casefile.Filter) (int, error) {
	cols := report.NewCSVColumns()
	n := 0
	if err := cf.Query(ctx, kind, flt, func(js []byte) error {
		n++
		return cols.Add(json.RawMessage(js))
	}); err != nil {
		return n, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rows, err := report.NewCSVRows(bw, cols.Header())
	if err != nil {
		return n, err
	}
	if err := cf.Query(ctx, kind, flt, func(js []byte) error { return rows.Write(json.RawMessage(js)) }); err != nil {
		return n, err
	}
	if err := rows.Flush(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// queryColumns are the columns of `case query --format table`.
func queryColumns(kind string) []string {
	switch kind {
	case casefile.KindFlows:
		return []string{"start", "proto", "src_ip", "src_port", "dst_ip", "dst_port", "src_geo.country", "src_geo.asn", "bytes_out", "bytes_in"}
	case casefile.KindSessions:
		return []string{"id", "kind", "src_ip", "start", "end", "events", "src_geo.country", "src_geo.asn", "indicators.credential", "indicators.user_agent"}
	}
	return []string{"time", "client_ip", "src_ip", "src_geo.country", "src_geo.asn", "method", "status", "path", "credential", "user_agent"}
}

func writeQueryTable(w io.Writer, kind string, rows []map[string]string) error {
	cols := queryColumns(kind)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	line := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			v := []rune(report.TerminalSafe(r[c]))
			if len(v) > 60 {
				v = append(v[:57], []rune("...")...)
			}
			line[i] = string(v)
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	return tw.Flush()
}
