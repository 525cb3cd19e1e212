package logs

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// Default caps. They bound memory per record whatever the input holds.
const (
	DefaultMaxLine     = 64 << 10
	DefaultMaxField    = 8 << 10
	DefaultMaxProblems = 20
	DefaultMaxChain    = 32
)

// Options tune log parsing. Zero fields take their DefaultOptions value
// (UTC, default caps).
type Options struct {
	// Format forces a format name (see Formats); "" detects it per file.
	Format string
	// LogFormat is an nginx log_format or Apache LogFormat string, used
	// with Format "nginx" / "apache" (or detected when LogFormat is set
	// and Format is empty).
	LogFormat string
	// TZ is the zone assumed for timestamps that carry no offset.
	TZ *time.Location
	// ClockOffset is added to every parsed time (a known skew of this
	// source's clock) and recorded in each event's flags.
	ClockOffset time.Duration
	// TrustProxy lists the reverse proxies whose forwarded-for entries
	// are believed.
	TrustProxy []netip.Prefix
	// Fields maps a normalized field name (see FieldNames) to a path in
	// the record (dotted for JSON, the variable or column name otherwise).
	Fields map[string]string
	// Year is assumed for syslog timestamps without a year (RFC 3164);
	// 0 leaves the year unknown (year 0000, flagged year_unknown).
	Year int
	// MaxLine cuts longer lines (flagged line_truncated).
	MaxLine int
	// MaxField cuts longer field values (flagged field_truncated:NAME).
	MaxField int
	// MaxProblems is how many malformed lines are kept with their reason.
	MaxProblems int
	// MaxChain is how many forwarded-for entries are kept per event.
	MaxChain int
	// CommunityIDSeed is the seed for Community ID of flow records.
	CommunityIDSeed uint16
}

// DefaultOptions returns the defaults: UTC, 64 KiB lines, 8 KiB fields,
// 20 problems kept, 32 proxy-chain entries.
func DefaultOptions() Options {
	return Options{
		TZ:          time.UTC,
		MaxLine:     DefaultMaxLine,
		MaxField:    DefaultMaxField,
		MaxProblems: DefaultMaxProblems,
		MaxChain:    DefaultMaxChain,
	}
}

func (o *Options) normalize() {
	d := DefaultOptions()
	if o.TZ == nil {
		o.TZ = d.TZ
	}
	if o.MaxLine <= 0 {
		o.MaxLine = d.MaxLine
	}
	if o.MaxLine < 256 {
		o.MaxLine = 256
	}
	if o.MaxField <= 0 {
		o.MaxField = d.MaxField
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = d.MaxProblems
	}
	if o.MaxChain <= 0 {
		o.MaxChain = d.MaxChain
	}
}

// Stats counts what a read saw.
type Stats struct {
	// Format is the format the file was read as.
	Format string
	// Lines is the number of lines read, Bytes their total size.
	Lines int64
	Bytes int64
	// Events and Flows count the records emitted.
	Events int64
	Flows  int64
	// Ignored counts well-formed lines that carry nothing to emit
	// (comments, headers, syslog lines of other programs, EVE alerts...).
	Ignored int64
	// Malformed counts lines that could not be parsed.
	Malformed int64
	// Problems holds the first MaxProblems malformed lines with reasons.
	Problems []forensics.Problem
	// Caps lists every cap that was hit, with counts.
	Caps []forensics.CapHit
}

// ErrUnknownFormat is returned by Read when no format was given and none
// was detected.
var ErrUnknownFormat = errors.New("unknown log format")

// LineError is a malformed line: file, 1-based line number and why.
type LineError struct {
	File string
	Line uint64
	Err  error
}

// Error formats the file, line and reason.
func (e *LineError) Error() string {
	return fmt.Sprintf("%s line %d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// formatNames lists the format names Read accepts.
var formatNames = []string{
	FormatCombined, FormatCommon, FormatVhostCombined, FormatNginx, FormatApache,
	FormatW3C, FormatALB, FormatELB, FormatCloudFront, FormatJSONL, FormatSSHD,
	FormatZeekTSV, FormatZeekJSON, FormatSuricataEVE, FormatNfdumpCSV, FormatArgusCSV,
}

// Format names.
const (
	FormatCombined      = "combined"
	FormatCommon        = "common"
	FormatVhostCombined = "vhost-combined"
	FormatNginx         = "nginx"  // custom nginx log_format (Options.LogFormat)
	FormatApache        = "apache" // custom Apache LogFormat (Options.LogFormat)
	FormatW3C           = "w3c"
	FormatALB           = "alb"
	FormatELB           = "elb" // classic ELB access log
	FormatCloudFront    = "cloudfront"
	FormatJSONL         = "jsonl"
	FormatSSHD          = "sshd"
	FormatZeekTSV       = "zeek-tsv"
	FormatZeekJSON      = "zeek-json"
	FormatSuricataEVE   = "suricata-eve"
	FormatNfdumpCSV     = "nfdump-csv"
	FormatArgusCSV      = "argus-csv"
)

// Formats returns the format names Read accepts, sorted.
func Formats() []string {
	s := slices.Clone(formatNames)
	slices.Sort(s)
	return s
}

// lineParser parses one line (without its end of line). It returns an
// error for a malformed line; ignored lines return errIgnore.
type lineParser interface {
	parse(st *state, line string) error
}

var errIgnore = errors.New("ignored")

// state is what one Read carries from line to line.
type state struct {
	opts      Options
	file      string
	format    string
	stats     *Stats
	emitEvent func(forensics.Event)
	emitFlow  func(forensics.Flow)
	fields    fieldMap

	// position of the current line
	line      uint64
	offset    int64
	truncated bool

	caps map[string]int64
	// idBuf is reused to hash record IDs without allocating.
	idBuf []byte
	// tzName is the name recorded when a zone is assumed.
	tzFlag     string
	offsetFlag string
}

// recordID returns forensics.HashID(prefix, file, line, offset) for the
// current line, computed into a reused buffer: it runs once per record.
// TestRecordIDMatchesHashID keeps the two identical.
func (st *state) recordID(prefix string) string {
	b := append(st.idBuf[:0], st.file...)
	b = append(b, 0)
	b = strconv.AppendUint(b, st.line, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, st.offset, 10)
	b = append(b, 0)
	st.idBuf = b
	sum := sha256.Sum256(b)
	var out [8 + 1 + 16]byte
	n := copy(out[:], prefix)
	out[n] = '-'
	hex.Encode(out[n+1:], sum[:8])
	return string(out[:n+17])
}

func (st *state) capHit(name string) {
	if st.caps == nil {
		st.caps = map[string]int64{}
	}
	st.caps[name]++
}

// ref is the evidence reference of the current line.
func (st *state) ref() forensics.EvidenceRef {
	return forensics.EvidenceRef{File: st.file, Line: st.line, Offset: st.offset}
}

// cut bounds a field value to MaxField bytes (on a UTF-8 boundary when
// possible) and flags the event.
func (st *state) cut(ev *forensics.Event, name, v string) string {
	if len(v) <= st.opts.MaxField {
		return v
	}
	n := st.opts.MaxField
	for i := 0; i < 4 && n > 0 && v[n]&0xC0 == 0x80; i++ {
		n--
	}
	st.capHit("field_bytes")
	ev.Flags = append(ev.Flags, "field_truncated:"+name)
	return v[:n]
}

// cutIndicator is cut for Indicators[key], naming the field only when
// it is cut (no string built per record).
func (st *state) cutIndicator(ev *forensics.Event, key, v string) string {
	if len(v) <= st.opts.MaxField {
		return v
	}
	return st.cut(ev, "indicators."+key, v)
}

// event prepares an event for the current line: ID, provenance, flags.
func (st *state) newEvent(kind string) forensics.Event {
	ev := forensics.Event{
		ID:         st.recordID("ev"),
		SourceKind: kind,
		Evidence:   st.ref(),
	}
	if st.truncated {
		ev.Flags = append(ev.Flags, "line_truncated")
	}
	return ev
}

// setTime stores a parsed time, applying the clock offset and flagging an
// assumed zone.
func (st *state) setTime(ev *forensics.Event, t time.Time, raw string, assumedZone bool) {
	ev.TimeRaw = raw
	if st.opts.ClockOffset != 0 {
		t = t.Add(st.opts.ClockOffset)
		ev.Flags = append(ev.Flags, st.offsetFlag)
	}
	if assumedZone {
		ev.Flags = append(ev.Flags, st.tzFlag)
	}
	ev.Time = forensics.Time{Time: t.UTC()}
}

func (st *state) flowTime(t time.Time) forensics.Time {
	if t.IsZero() {
		return forensics.Time{}
	}
	if st.opts.ClockOffset != 0 {
		t = t.Add(st.opts.ClockOffset)
	}
	return forensics.Time{Time: t.UTC()}
}

func (st *state) emit(ev forensics.Event) {
	st.stats.Events++
	st.emitEvent(ev)
}

func (st *state) emitF(f forensics.Flow) {
	st.stats.Flows++
	if st.emitFlow != nil {
		st.emitFlow(f)
	}
}

// Read parses a log stream. format may be "" to use opts.Format or, failing
// that, Detect on the first bytes. r is already decompressed; file names
// the evidence in every EvidenceRef and Problem (SHA256 is left to the
// caller). Malformed lines are counted in Stats and never stop the read;
// the returned error is for I/O failures, cancellation and unusable
// options only.
func Read(ctx context.Context, r io.Reader, file, format string, opts Options, emitEvent func(forensics.Event), emitFlow func(forensics.Flow)) (Stats, error) {
	opts.normalize()
	if emitEvent == nil {
		emitEvent = func(forensics.Event) {}
	}
	var stats Stats
	br := bufio.NewReaderSize(r, opts.MaxLine+1)
	if format == "" {
		format = opts.Format
	}
	if format == "" {
		head, _ := br.Peek(min(opts.MaxLine, 16<<10))
		format = Detect(head)
		if format == "" && opts.LogFormat != "" {
			format = customKind(opts.LogFormat)
		}
		if format == "" {
			return stats, fmt.Errorf("read %s: %w", file, ErrUnknownFormat)
		}
	}
	if opts.LogFormat != "" {
		switch format {
		case FormatCombined, FormatCommon, FormatVhostCombined:
			// A --log-format names the layout better than sniffing.
			format = customKind(opts.LogFormat)
		}
	}
	stats.Format = format
	fm, err := newFieldMap(opts.Fields)
	if err != nil {
		return stats, fmt.Errorf("read %s: %w", file, err)
	}
	st := &state{opts: opts, file: file, format: format, stats: &stats, emitEvent: emitEvent, emitFlow: emitFlow, fields: fm}
	st.tzFlag = "tz_assumed:" + opts.TZ.String()
	if opts.ClockOffset != 0 {
		st.offsetFlag = "clock_offset:" + opts.ClockOffset.String()
	}
	p, err := newParser(st, format)
	if err != nil {
		return stats, fmt.Errorf("read %s: %w", file, err)
	}
	err = st.loop(ctx, br, p)
	stats.Caps = st.capList()
	if err != nil {
		return stats, err
	}
	return stats, nil
}

// customKind tells an Apache LogFormat ("%h %l ...") from an nginx
// log_format ("$remote_addr ...").
func customKind(spec string) string {
	if strings.Contains(spec, "%") && !strings.Contains(spec, "$") {
		return FormatApache
	}
	return FormatNginx
}

func (st *state) capList() []forensics.CapHit {
	var out []forensics.CapHit
	for name, n := range st.caps {
		out = append(out, forensics.CapHit{Cap: name, File: st.file, Count: n})
	}
	slices.SortFunc(out, func(a, b forensics.CapHit) int { return strings.Compare(a.Cap, b.Cap) })
	return out
}

func newParser(st *state, format string) (lineParser, error) {
	switch format {
	case FormatCombined, FormatCommon, FormatVhostCombined:
		return &clfParser{vhost: format == FormatVhostCombined}, nil
	case FormatNginx, FormatApache:
		if st.opts.LogFormat == "" {
			return nil, fmt.Errorf("format %s needs a log format string (--log-format)", format)
		}
		return compileCustom(format, st.opts.LogFormat)
	case FormatW3C, FormatCloudFront:
		return &w3cParser{cloudfront: format == FormatCloudFront}, nil
	case FormatALB, FormatELB:
		return &albParser{}, nil
	case FormatJSONL:
		return &jsonParser{}, nil
	case FormatSSHD:
		return &sshdParser{}, nil
	case FormatZeekTSV:
		return &zeekTSVParser{}, nil
	case FormatZeekJSON:
		return &zeekJSONParser{}, nil
	case FormatSuricataEVE:
		return &eveParser{}, nil
	case FormatNfdumpCSV:
		return &flowCSVParser{kind: FormatNfdumpCSV}, nil
	case FormatArgusCSV:
		return &flowCSVParser{kind: FormatArgusCSV}, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// loop reads lines, cutting those over MaxLine, and parses each one with
// a recover so that one hostile record cannot stop the file.
func (st *state) loop(ctx context.Context, br *bufio.Reader, p lineParser) error {
	var offset int64
	for {
		if st.line&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, err := br.ReadSlice('\n')
		n := int64(len(raw))
		truncated := false
		if errors.Is(err, bufio.ErrBufferFull) {
			truncated = true
			// Parse what fits, then skip to the end of the line.
			line := string(raw)
			for errors.Is(err, bufio.ErrBufferFull) {
				var more []byte
				more, err = br.ReadSlice('\n')
				n += int64(len(more))
			}
			st.capHit("line_bytes")
			st.one(p, line, offset, n, true)
		} else if len(raw) > 0 {
			st.one(p, trimEOL(raw), offset, n, truncated)
		}
		offset += n
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("read %s line %d (byte %d): %w", st.file, st.line+1, offset, err)
		}
	}
}

func trimEOL(b []byte) string {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func (st *state) one(p lineParser, line string, offset, n int64, truncated bool) {
	st.line++
	st.offset = offset
	st.truncated = truncated
	st.stats.Lines++
	st.stats.Bytes += n
	if isBlank(line) {
		st.stats.Ignored++
		return
	}
	err := st.safeParse(p, line)
	switch {
	case err == nil:
	case err == errIgnore:
		st.stats.Ignored++
	default:
		st.malformed(err)
	}
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' && s[i] != '\r' {
			return false
		}
	}
	return true
}

func (st *state) safeParse(p lineParser, line string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
		}
	}()
	return p.parse(st, line)
}

func (st *state) malformed(err error) {
	st.stats.Malformed++
	if len(st.stats.Problems) < st.opts.MaxProblems {
		st.stats.Problems = append(st.stats.Problems, forensics.Problem{
			File: st.file, Line: st.line, Offset: st.offset, Reason: err.Error(),
		})
	} else {
		st.capHit("problems_kept")
	}
}
