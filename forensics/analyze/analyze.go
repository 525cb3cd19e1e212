package analyze

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/capture"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/logs"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

// Stage says how far Run goes.
type Stage int

// Stages in order.
const (
	StageIngest Stage = iota
	StageSessions
	StageCampaigns
	StageAll
)

// Options for a run. Zero values are usable: UTC, no proxies trusted,
// no enrichment, all stages.
type Options struct {
	Inputs       []string
	InputFormat  string
	LogFormat    string
	TZ           *time.Location
	ClockOffsets map[string]time.Duration // by input path as given, or base name
	TrustProxy   []netip.Prefix
	Fields       map[string]string
	// Enricher answers GeoIP/ASN lookups; nil leaves records unenriched.
	Enricher *enrich.Enricher
	Home     string
	Until    Stage
	// Workers is how many inputs are read at once (0: GOMAXPROCS).
	Workers  int
	Evidence evidence.Options
	Capture  capture.Options
	Logs     logs.Options
	Session  session.Options
	Campaign campaign.Options
	Trace    trace.Options
	// Progress, when set, receives raw bytes read and records made.
	Progress *Progress
}

// Progress counters, safe to read while a run goes on.
type Progress struct {
	BytesTotal atomic.Int64
	BytesRead  atomic.Int64
	Records    atomic.Int64
	Inputs     atomic.Int64
}

// DefaultOptions returns the defaults of every stage.
func DefaultOptions() Options {
	return Options{
		TZ:       time.UTC,
		Until:    StageAll,
		Evidence: evidence.DefaultOptions(),
		Capture:  capture.DefaultOptions(),
		Logs:     logs.DefaultOptions(),
		Session:  session.DefaultOptions(),
		Campaign: campaign.DefaultOptions(),
		Trace:    trace.DefaultOptions(),
	}
}

// InputResult is what one input gave: its provenance, its records (with
// SHA-256 filled in and enriched), and what was skipped. Err is set when
// the input was unusable; the run goes on with the others.
type InputResult struct {
	Input    forensics.Input
	Flows    []forensics.Flow
	Events   []forensics.Event
	Problems []forensics.Problem
	Caps     []forensics.CapHit
	Err      error
}

// ErrInput wraps the errors of unusable inputs (exit code 2).
var ErrInput = errors.New("input unreadable or invalid")

// Ingest reads every input (directories walked in sorted order), several
// at once, and calls emit once per input in input order, so the outcome
// never depends on scheduling. An emit error stops the run.
func Ingest(ctx context.Context, opts Options, emit func(*InputResult) error) error {
	return ingest(ctx, opts, nil, func(_ int, r *InputResult) error { return emit(r) })
}

// ingest is Ingest with the index of each input; with sinks, input i's
// records go to sinks(i) as they are read instead of into its result.
func ingest(ctx context.Context, opts Options, sinks func(i int) *itemSink, emit func(int, *InputResult) error) error {
	files, err := walkEvidence(opts.Inputs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	if opts.Progress != nil {
		var total int64
		for _, f := range files {
			if st, err := statSize(f); err == nil {
				total += st
			}
		}
		opts.Progress.BytesTotal.Store(total)
	}
	return InOrder(ctx, len(files), opts.Workers,
		func(ctx context.Context, i int) *InputResult {
			var sink *itemSink
			if sinks != nil {
				sink = sinks(i)
			}
			return ingestOne(ctx, files[i], opts, sink)
		},
		emit)
}

// ingestOne reads one input into its result, or with a sink hands its
// records to the sink (their evidence without the SHA-256, known only at
// the end, and not enriched), counts them, and keeps in the result those
// the sink asks for.
func ingestOne(ctx context.Context, path string, opts Options, sink *itemSink) (res *InputResult) {
	res = &InputResult{Input: forensics.Input{Path: path}}
	eopts := opts.Evidence
	eopts.Kind = evidence.Kind(opts.InputFormat)
	if opts.Progress != nil {
		eopts.Progress = &opts.Progress.BytesRead
		defer opts.Progress.Inputs.Add(1)
	}
	src, err := evidence.Open(path, eopts)
	if err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrInput, err)
		res.Input.Error = err.Error()
		return res
	}
	defer src.Close()
	res.Input.Path, res.Input.Encoding = src.Name, src.Encoding
	res.Input.Kind = string(src.Kind)

	file := src.Name
	offset := clockOffset(opts.ClockOffsets, path)
	var readErr error
	var records, malformed int64
	switch {
	case src.Kind == evidence.KindEmpty:
		// An empty file is evidence of nothing: listed with its hash and
		// zero records, not an error.
	case src.Kind.IsCapture():
		st, err := capture.Read(ctx, src, file, opts.Capture, func(f forensics.Flow) {
			records++
			if sink != nil {
				sink.offset = offset
				if !sink.flow(&f, true) {
					return
				}
			}
			res.Flows = append(res.Flows, f)
		})
		readErr = err
		malformed = st.Malformed
		res.Problems, res.Caps = st.Problems, st.Caps
	default:
		format, lo := logOptions(src, opts, offset)
		if format == "" {
			readErr = noLogFormat(file)
			break
		}
		res.Input.Kind = format
		st, err := logs.Read(ctx, src, file, format, lo,
			func(e forensics.Event) {
				records++
				if sink != nil && !sink.event(&e) {
					return
				}
				res.Events = append(res.Events, e)
			},
			func(f forensics.Flow) {
				records++
				if sink != nil && !sink.flow(&f, false) {
					return
				}
				res.Flows = append(res.Flows, f)
			})
		readErr = err
		malformed = st.Malformed
		res.Problems, res.Caps = st.Problems, st.Caps
	}
	sum, size, herr := src.Finish()
	res.Input.SHA256, res.Input.Size = sum, size
	if src.Size > 0 {
		res.Input.Size = src.Size
	}
	res.Input.Records, res.Input.Malformed = records, malformed
	if opts.Progress != nil {
		opts.Progress.Records.Add(records)
	}
	if err := errors.Join(readErr, herr); err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrInput, err)
		res.Input.Error = err.Error()
	}
	for i := range res.Flows {
		res.Flows[i].Evidence.SHA256 = sum
		if offset != 0 && src.Kind.IsCapture() {
			res.Flows[i].Start = forensics.NewTime(res.Flows[i].Start.Add(offset))
			res.Flows[i].End = forensics.NewTime(res.Flows[i].End.Add(offset))
		}
	}
	for i := range res.Events {
		res.Events[i].Evidence.SHA256 = sum
	}
	for i := range res.Problems {
		if res.Problems[i].File == "" {
			res.Problems[i].File = file
		}
	}
	enrichResult(res, opts.Enricher)
	return res
}

// enrichResult fills the *_geo fields, looking up each address as of the
// record's own time so snapshots by date pick the right build.
func enrichResult(res *InputResult, e *enrich.Enricher) {
	if e == nil {
		return
	}
	// Records share the enricher's cached answer (read-only by contract):
	// a million events from one address hold one record, not a million.
	look := func(ip netip.Addr, t forensics.Time) *enrich.Record {
		if !ip.IsValid() {
			return nil
		}
		return e.LookupShared(ip, t.Time)
	}
	for i := range res.Flows {
		f := &res.Flows[i]
		f.SrcGeo = look(f.SrcIP, f.Start)
		f.DstGeo = look(f.DstIP, f.Start)
	}
	for i := range res.Events {
		ev := &res.Events[i]
		ev.SrcGeo = look(ev.Actor(), ev.Time)
	}
}

// clockOffset is the --clock-offset given for path as typed, else for a
// trailing part of it (the first in sorted order when several match, so
// that the choice never depends on map order).
func clockOffset(m map[string]time.Duration, path string) time.Duration {
	if d, ok := m[path]; ok {
		return d
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != "" && strings.HasSuffix(path, "/"+k) {
			return m[k]
		}
	}
	return 0
}

// Run ingests every input into a Case and, unless opts.Until stops
// earlier, builds sessions, campaigns and hop chains. Unusable inputs are
// listed in the Case with their error; the returned error joins them
// (wrapping ErrInput) after the Case is complete.
func Run(ctx context.Context, opts Options) (*forensics.Case, error) {
	c, inputErr, err := ingestCase(ctx, opts, nil)
	if err != nil {
		return c, err
	}
	if opts.Until > StageIngest {
		if err := Correlate(ctx, c, opts); err != nil {
			return c, err
		}
	}
	return c, inputErr
}

// ingestCase reads every input into a new Case as Run does: each input's
// provenance and records (with sinks, those the sink keeps), in input
// order, and the databases in use. inputErr joins the unusable inputs
// (wrapping ErrInput); err is a failure of the run itself.
func ingestCase(ctx context.Context, opts Options, sinks func(i int) *itemSink) (c *forensics.Case, inputErr, err error) {
	c = &forensics.Case{Home: opts.Home}
	var errs []error
	err = ingest(ctx, opts, sinks, func(_ int, r *InputResult) error {
		Add(c, r)
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
		return nil
	})
	if err != nil {
		return c, nil, err
	}
	if opts.Enricher != nil {
		c.Databases = opts.Enricher.Databases()
	}
	return c, errors.Join(errs...), nil
}

// Add appends one input's records and provenance to a Case.
func Add(c *forensics.Case, r *InputResult) {
	c.Inputs = append(c.Inputs, r.Input)
	c.Flows = append(c.Flows, r.Flows...)
	c.Events = append(c.Events, r.Events...)
	c.Problems = append(c.Problems, r.Problems...)
	c.Caps = append(c.Caps, r.Caps...)
	if r.Err != nil && len(r.Problems) == 0 {
		c.Problems = append(c.Problems, forensics.Problem{File: r.Input.Path, Reason: r.Input.Error})
	}
}

// SortRecords puts flows and events in their output order: by time, then
// by ID, so that any input order gives the same bytes.
func SortRecords(c *forensics.Case) {
	slices.SortStableFunc(c.Flows, func(a, b forensics.Flow) int {
		return cmp.Or(a.Start.Compare(b.Start.Time), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(c.Events, func(a, b forensics.Event) int {
		return cmp.Or(a.Time.Compare(b.Time.Time), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(c.Inputs, func(a, b forensics.Input) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.SHA256, b.SHA256))
	})
	slices.SortStableFunc(c.Problems, func(a, b forensics.Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Packet, b.Packet), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Reason, b.Reason))
	})
	sortCaps(c.Caps)
}

func sortCaps(caps []forensics.CapHit) {
	slices.SortStableFunc(caps, func(a, b forensics.CapHit) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Cap, b.Cap))
	})
}

// Correlate sorts the records and builds sessions, campaigns and chains,
// recording every parameter used in c.Params.
func Correlate(ctx context.Context, c *forensics.Case, opts Options) error {
	SortRecords(c)
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Sessions = session.Build(c.Events, c.Flows, opts.Session)
	if opts.Until < StageCampaigns {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Campaigns = campaign.Build(c.Sessions, campaignOptions(opts))
	if opts.Until < StageAll {
		return nil
	}
	if err := buildChains(c, opts, nil); err != nil {
		return err
	}
	return ctx.Err()
}

// buildChains sets the case's hop chains from its records (and its
// campaigns' hops) and adds the limits the tracing reached to its caps,
// in their order. Of the flows, only those through a relay are held
// (trace.BuildCapsEach); with proxied, the events with a forwarded-for
// path are read from it, not from c.Events.
func buildChains(c *forensics.Case, opts Options, proxied *SpooledEvents) error {
	events := func(fn func(*forensics.Event) error) error { return forensics.EachOf(c.Events, fn) }
	if proxied != nil {
		events = proxied.Each
	}
	var caps []forensics.CapHit
	var err error
	c.Chains, caps, err = trace.BuildCapsEach(events, c.EachFlow, c.Campaigns, TraceOptions(opts))
	if err != nil {
		return fmt.Errorf("hop chains: %w", err)
	}
	if len(caps) > 0 {
		c.Caps = append(c.Caps, caps...)
		sortCaps(c.Caps)
	}
	return nil
}

// campaignOptions are opts.Campaign with the run's home country.
func campaignOptions(opts Options) campaign.Options {
	copts := opts.Campaign
	if copts.Home == "" {
		copts.Home = opts.Home
	}
	return copts
}

// TraceOptions are opts.Trace with the run's enricher for the hops.
func TraceOptions(opts Options) trace.Options {
	topts := opts.Trace
	if topts.Lookup == nil && opts.Enricher != nil {
		// hops claimed in X-Forwarded-For are enriched like any address
		e := opts.Enricher
		topts.Lookup = e.LookupShared
	}
	return topts
}

// Params lists every parameter a run used, by stage, for the bundle: a
// report must say which weights, thresholds and gaps produced it.
func Params(opts Options) map[string]string {
	out := map[string]string{
		"tz":           opts.TZ.String(),
		"home":         opts.Home,
		"input_format": opts.InputFormat,
	}
	if opts.Logs.Year != 0 {
		out["syslog_year"] = fmt.Sprint(opts.Logs.Year)
	}
	for i, p := range opts.TrustProxy {
		out[fmt.Sprintf("trust_proxy.%d", i)] = p.String()
	}
	for k, v := range opts.Fields {
		out["field."+k] = v
	}
	for k, d := range opts.ClockOffsets {
		out["clock_offset."+k] = d.String()
	}
	type paramser interface{ Params() map[string]string }
	copts := opts.Campaign
	if copts.Home == "" {
		copts.Home = opts.Home
	}
	for prefix, o := range map[string]any{"capture": opts.Capture, "logs": opts.Logs, "session": opts.Session, "campaign": copts, "trace": opts.Trace} {
		if p, ok := o.(paramser); ok {
			for k, v := range p.Params() {
				out[prefix+"."+k] = v
			}
		}
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out
}

// logOptions chooses the log format of src (sniffed from its sample, or
// --input-format) and the parser options for it; format is "" when the
// text is in no known format (noLogFormat).
func logOptions(src *evidence.Source, opts Options, offset time.Duration) (string, logs.Options) {
	format := string(src.Kind)
	if src.Kind == evidence.KindText {
		format = logs.Detect(src.Sample)
	}
	if opts.InputFormat != "" {
		format = opts.InputFormat
	}
	lo := opts.Logs
	lo.Format, lo.LogFormat, lo.TrustProxy, lo.Fields = format, opts.LogFormat, opts.TrustProxy, opts.Fields
	if opts.TZ != nil {
		lo.TZ = opts.TZ
	}
	lo.ClockOffset = offset
	if lo.CommunityIDSeed == 0 {
		// flow records get the same Community ID seed as captures
		lo.CommunityIDSeed = opts.Capture.CommunityIDSeed
	}
	return format, lo
}

func noLogFormat(name string) error {
	return fmt.Errorf("%s: %w: text in no known log format (use --input-format)", name, evidence.ErrUnknownKind)
}
