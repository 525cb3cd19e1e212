package logs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

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
	// ShareLines reads the input in blocks of 256 KiB or more and lets
	// the strings of an event share its block, instead of copying every
	// line on its own: one allocation per block instead of one per line.
	// Set it when events are dropped soon after they are emitted (a
	// stream written out as it comes): an event kept for long keeps its
	// whole block alive, which for sparse events (sshd lines in a busy
	// syslog) is far more than its line.
	ShareLines bool
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
	// iso is the last second of an ISO time parsed.
	iso isoCache
	// ev is the event being built, reused line after line (Read).
	ev forensics.Event
	// batch and emitBatch are ReadBatches' instead of emitEvent.
	batch     []forensics.Event
	emitBatch func([]forensics.Event) []forensics.Event
	// idBuf is reused to hash record IDs without allocating; its first
	// idFile bytes are the file name and a NUL.
	idBuf  []byte
	idFile int
	// lineDigits is line lineOf in decimal.
	lineDigits []byte
	lineOf     uint64
	// idBlock holds the IDs with Options.ShareLines.
	idBlock []byte
	// sha, shaOut, shaBlock, mid and midN are sha256Head's.
	sha      hash.Hash
	shaOut   []byte
	shaBlock [192]byte
	mid      []byte
	midN     int
	// tzName is the name recorded when a zone is assumed.
	tzFlag     string
	offsetFlag string
}

// recordID returns forensics.HashID(prefix, file, line, offset) for the
// current line, computed into a reused buffer: it runs once per record.
// TestRecordIDMatchesHashID keeps the two identical.
func (st *state) recordID(prefix string) string {
	if st.idFile == 0 {
		st.idBuf = append(append(st.idBuf[:0], st.file...), 0)
		st.idFile = len(st.idBuf)
		st.setMid()
	}
	b := st.appendLine(st.idBuf[:st.idFile])
	b = append(b, 0)
	if st.offset >= 0 && st.offset < 1e12 {
		b = forensics.AppendUint(b, uint64(st.offset))
	} else {
		b = strconv.AppendInt(b, st.offset, 10)
	}
	b = append(b, 0)
	st.idBuf = b
	var out [8 + 1 + 16]byte
	n := copy(out[:], prefix)
	out[n] = '-'
	hex.Encode(out[n+1:], st.sha256Head(b))
	if !st.opts.ShareLines {
		return string(out[:n+17])
	}
	// IDs are cut from shared blocks as lines are (Options.ShareLines):
	// a block is never written below its length, so they stay immutable.
	if len(st.idBlock)+n+17 > cap(st.idBlock) {
		st.idBlock = make([]byte, 0, 4<<10)
	}
	at := len(st.idBlock)
	st.idBlock = append(st.idBlock, out[:n+17]...)
	return unsafe.String(&st.idBlock[at], n+17)
}

// sha256Head returns the first 8 bytes of the SHA-256 of b, whose first
// st.midN bytes (whole blocks of the file name, 0 for a name under 64
// bytes) are those of st.idBuf. The message is padded here and written to
// a reused digest (reset, or restored to st.mid, its state after those
// first blocks) as whole blocks, and the digest's state, which is then
// the sum, read back through AppendBinary (whose layout, "sha\x03" and
// the eight state words, is a stable serialization format). That skips
// sha256.Sum256's buffering and copies, and the name's blocks on every
// line: one line in six of the CPU time of `tracehop events` went to IDs,
// and with an evidence path of 40 bytes or more, one in five.
// TestRecordIDMatchesHashID holds it to forensics.HashID.
func (st *state) sha256Head(b []byte) []byte {
	if st.sha == nil {
		st.sha = sha256.New()
	}
	tail := b[st.midN:]
	n := (len(tail) + 9 + 63) &^ 63 // the tail with its padding
	if n > len(st.shaBlock) {
		return st.sha256Sum(b)
	}
	blk := st.shaBlock[:n] // not on the stack: Write would move it to the heap
	copy(blk, tail)
	blk[len(tail)] = 0x80
	clear(blk[len(tail)+1 : n-8])
	binary.BigEndian.PutUint64(blk[n-8:], uint64(len(b))*8)
	if st.midN == 0 {
		st.sha.Reset()
	} else if err := st.sha.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.mid); err != nil {
		return st.sha256Sum(b)
	}
	st.sha.Write(blk)
	var err error
	st.shaOut, err = st.sha.(encoding.BinaryAppender).AppendBinary(st.shaOut[:0])
	if err != nil || len(st.shaOut) < 12 || string(st.shaOut[:4]) != "sha\x03" {
		return st.sha256Sum(b)
	}
	return st.shaOut[4:12]
}

// sha256Sum is sha256Head the plain way.
func (st *state) sha256Sum(b []byte) []byte {
	sum := sha256.Sum256(b)
	st.shaOut = append(st.shaOut[:0], sum[:8]...)
	return st.shaOut
}

// setMid sets st.mid to the digest's state after the whole blocks of the
// ID's file name part (st.idBuf[:st.idFile]), when there is one.
func (st *state) setMid() {
	st.midN = 0
	n := st.idFile &^ 63
	if n == 0 {
		return
	}
	if st.sha == nil {
		st.sha = sha256.New()
	}
	st.sha.Reset()
	st.sha.Write(st.idBuf[:n])
	mid, err := st.sha.(encoding.BinaryAppender).AppendBinary(st.mid[:0])
	if err != nil {
		return // sha256Head then hashes the whole message
	}
	st.mid, st.midN = mid, n
}

// appendLine appends st.line in decimal, counting up the digits of the
// line before instead of formatting each number anew.
func (st *state) appendLine(b []byte) []byte {
	d := st.lineDigits
	switch {
	case st.lineOf == st.line && len(d) > 0:
	case st.lineOf+1 == st.line && len(d) > 0:
		i := len(d) - 1
		for i >= 0 && d[i] == '9' {
			d[i] = '0'
			i--
		}
		if i >= 0 {
			d[i]++
		} else {
			d = append(d, 0)
			copy(d[1:], d)
			d[0] = '1'
		}
	default:
		d = strconv.AppendUint(d[:0], st.line, 10)
	}
	st.lineDigits, st.lineOf = d, st.line
	return append(b, d...)
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

// newEvent prepares an event for the current line: ID, provenance, flags.
func (st *state) newEvent(kind string) forensics.Event {
	var ev forensics.Event
	st.initEvent(&ev, kind)
	return ev
}

// initEvent is newEvent into *ev.
func (st *state) initEvent(ev *forensics.Event, kind string) {
	*ev = forensics.Event{
		ID:         st.recordID("ev"),
		SourceKind: kind,
		Evidence:   st.ref(),
	}
	if st.truncated {
		ev.Flags = append(ev.Flags, "line_truncated")
	}
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
	if st.emitBatch != nil {
		st.batch = append(st.batch, ev)
		st.flushFull()
		return
	}
	st.emitEvent(ev)
}

// slot is where the next event is built: in place in the batch for
// ReadBatches (taken by emitSlot once it is complete), else st.ev.
func (st *state) slot() *forensics.Event {
	if st.emitBatch != nil {
		return &st.batch[len(st.batch) : len(st.batch)+1][0]
	}
	return &st.ev
}

// emitSlot emits the event built in slot().
func (st *state) emitSlot(ev *forensics.Event) {
	if st.emitBatch == nil {
		st.emit(*ev)
		return
	}
	st.stats.Events++
	st.batch = st.batch[:len(st.batch)+1]
	st.flushFull()
}

func (st *state) flushFull() {
	if len(st.batch) == cap(st.batch) {
		st.batch = st.emitBatch(st.batch)[:0]
		if cap(st.batch) == 0 {
			st.batch = make([]forensics.Event, 0, 64)
		}
	}
}

func (st *state) emitF(f forensics.Flow) {
	st.stats.Flows++
	if st.emitFlow != nil {
		st.emitFlow(f)
	}
}

// ReadBatches is Read for a consumer of events in batches (flow records
// are counted, not emitted). Events are built in place in batch, which
// must have room (cap > len): no copy per event, each as large as a line.
// emit gets every full batch, and the last one, and returns the empty
// batch to fill next; the events of a batch it got are its own until it
// hands the batch back, with their storage: an Indicators map of an event
// in a returned batch is cleared and reused.
func ReadBatches(ctx context.Context, r io.Reader, file, format string, opts Options, batch []forensics.Event, emit func([]forensics.Event) []forensics.Event) (Stats, error) {
	if cap(batch) == 0 {
		batch = make([]forensics.Event, 0, 64)
	}
	return read(ctx, r, file, format, opts, func(st *state) {
		st.batch, st.emitBatch = batch[:0], emit
	})
}

// Read parses a log stream. format may be "" to use opts.Format or, failing
// that, Detect on the first bytes. r is already decompressed; file names
// the evidence in every EvidenceRef and Problem (SHA256 is left to the
// caller). Malformed lines are counted in Stats and never stop the read;
// the returned error is for I/O failures, cancellation and unusable
// options only.
func Read(ctx context.Context, r io.Reader, file, format string, opts Options, emitEvent func(forensics.Event), emitFlow func(forensics.Flow)) (Stats, error) {
	if emitEvent == nil {
		emitEvent = func(forensics.Event) {}
	}
	return read(ctx, r, file, format, opts, func(st *state) {
		st.emitEvent, st.emitFlow = emitEvent, emitFlow
	})
}

func read(ctx context.Context, r io.Reader, file, format string, opts Options, setEmit func(*state)) (Stats, error) {
	opts.normalize()
	var stats Stats
	if format == "" {
		format = opts.Format
	}
	var br *bufio.Reader
	if format == "" || !opts.ShareLines {
		br = bufio.NewReaderSize(r, opts.MaxLine+1)
		r = br
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
	st := &state{opts: opts, file: file, format: format, stats: &stats, fields: fm}
	setEmit(st)
	st.tzFlag = "tz_assumed:" + opts.TZ.String()
	if opts.ClockOffset != 0 {
		st.offsetFlag = "clock_offset:" + opts.ClockOffset.String()
	}
	p, err := newParser(st, format)
	if err != nil {
		return stats, fmt.Errorf("read %s: %w", file, err)
	}
	if opts.ShareLines {
		err = st.loopShared(ctx, r, p)
	} else {
		err = st.loop(ctx, br, p)
	}
	if st.emitBatch != nil && len(st.batch) > 0 {
		st.emitBatch(st.batch)
	}
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

// loopShared is loop for Options.ShareLines: lines are cut from blocks
// read straight from r, each block made into a string once. It keeps the
// rules of loop (bufio.Reader of MaxLine+1 bytes): a line whose bytes
// with their newline do not fit in MaxLine+1 is cut to its first MaxLine+1
// bytes and flagged; a last line without a newline is a line.
func (st *state) loopShared(ctx context.Context, r io.Reader, p lineParser) error {
	size := max(256<<10, 2*(st.opts.MaxLine+1))
	limit := st.opts.MaxLine + 1
	buf := make([]byte, size)
	start, end := 0, 0 // bytes read and not yet parsed
	var offset int64
	var rerr error
	empty := 0
	for {
		// Strings are made only over bytes already read, and a block is
		// never written again below end: they stay immutable.
		str := unsafe.String(unsafe.SliceData(buf), end)
		for {
			if st.line&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			nl := strings.IndexByte(str[start:end], '\n')
			if nl < 0 || nl+1 > limit {
				break
			}
			n := int64(nl + 1)
			st.one(p, trimEOLString(str[start:start+nl+1]), offset, n, false)
			offset += n
			start += nl + 1
		}
		if end-start >= limit {
			// A line longer than the cap: parse what fits, skip the rest.
			line := str[start : start+limit]
			n := int64(end - start)
			nl := strings.IndexByte(str[start+limit:end], '\n')
			if nl >= 0 {
				n = int64(limit + nl + 1)
				start += limit + nl + 1
			} else {
				start = end
			}
			for nl < 0 && rerr == nil {
				// Skip into a fresh block: line still points into buf.
				buf, start, end = make([]byte, size), 0, 0
				var k int
				k, rerr = r.Read(buf)
				if nl = bytes.IndexByte(buf[:k], '\n'); nl >= 0 {
					n += int64(nl + 1)
					start, end = nl+1, k
				} else {
					n += int64(k)
				}
			}
			st.capHit("line_bytes")
			st.one(p, line, offset, n, true)
			offset += n
			continue
		}
		if rerr != nil {
			if end > start {
				n := int64(end - start)
				st.one(p, trimEOLString(str[start:end]), offset, n, false)
				offset += n
			}
			if rerr == io.EOF {
				return nil
			}
			return fmt.Errorf("read %s line %d (byte %d): %w", st.file, st.line+1, offset, rerr)
		}
		if end == len(buf) {
			// Full: the partial line moves to the front of a new block.
			nb := make([]byte, size)
			end = copy(nb, buf[start:end])
			buf, start = nb, 0
		}
		var k int
		k, rerr = r.Read(buf[end:])
		end += k
		if k == 0 && rerr == nil {
			if empty++; empty >= 100 {
				rerr = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

func trimEOLString(s string) string {
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
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
