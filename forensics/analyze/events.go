package analyze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
	"github.com/tracehop/tracehop/forensics/logs"
)

// The streamed path of `tracehop events`: each input is hashed in a first
// pass and parsed in a second, and its events are encoded as they are
// parsed, never held.

// eventsFile is what one input gave to the stream.
type eventsFile struct {
	input    forensics.Input
	problems []forensics.Problem
	caps     []forensics.CapHit
	spool    *os.File // output of inputs after the first, written later in order
	err      error
}

// StreamEvents writes the events of every input as JSON lines (`tracehop
// events`), inputs in order, several read at once, in memory bounded by a
// few batches whatever the input size. The first input writes straight to
// out; the others spool to temporary files that are copied in order. The
// returned Case holds the inputs, problems and caps, not the events; its
// error joins the unusable inputs (wrapping ErrInput) once all are done.
func StreamEvents(ctx context.Context, out io.Writer, aopts Options) (*forensics.Case, error) {
	files, err := walkEvidence(aopts.Inputs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	c := &forensics.Case{Home: aopts.Home}
	var errs []error
	err = InOrder(ctx, len(files), aopts.Workers,
		func(ctx context.Context, i int) *eventsFile { return eventsOne(ctx, files[i], i == 0, out, aopts) },
		func(_ int, r *eventsFile) error {
			if r.spool != nil {
				if _, err := r.spool.Seek(0, io.SeekStart); err == nil {
					_, err = io.Copy(out, r.spool)
					if err != nil {
						r.err = errors.Join(r.err, fmt.Errorf("write events: %w", err))
					}
				}
				extsort.RemoveTemp(r.spool)
			}
			c.Inputs = append(c.Inputs, r.input)
			c.Problems = append(c.Problems, r.problems...)
			c.Caps = append(c.Caps, r.caps...)
			if r.err != nil {
				errs = append(errs, r.err)
				if len(r.problems) == 0 {
					c.Problems = append(c.Problems, forensics.Problem{File: r.input.Path, Reason: r.input.Error})
				}
			}
			return ctx.Err()
		})
	if err != nil {
		errs = append(errs, err)
	}
	if aopts.Enricher != nil {
		c.Databases = aopts.Enricher.Databases()
	}
	return c, errors.Join(errs...)
}

// eventsOne reads one input twice: a first pass for its SHA-256 (every
// event carries it), a second to parse. Both passes also compute a MAC of
// the raw bytes under a key made for this input alone (evidence.MACKey,
// ten times cheaper than SHA-256; its nonces are block numbers, so a key
// never tags two different streams), compared at the end: the parsed
// bytes are proved to be the hashed ones, and an input changing under
// the tool is an error, not a silent mix.
func eventsOne(ctx context.Context, path string, direct bool, out io.Writer, aopts Options) (res *eventsFile) {
	res = &eventsFile{input: forensics.Input{Path: path}}
	fail := func(err error) *eventsFile {
		res.err = fmt.Errorf("%w: %w", ErrInput, err)
		res.input.Error = err.Error()
		return res
	}
	eopts := aopts.Evidence
	eopts.Kind = evidence.Kind(aopts.InputFormat)
	key, err := evidence.NewMACKey()
	if err != nil {
		return fail(err)
	}
	sum, mac, size, err := evidence.HashFileMAC(path, key)
	if err != nil {
		return fail(err)
	}
	eopts.MAC, eopts.NoSHA256 = key, true
	src, err := evidence.Open(path, eopts)
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	if src.Encoding != evidence.EncodingNone {
		// A broken or capped compressed input fails before any of its
		// events is written, as when the first pass decompressed.
		if err := checkDecompress(path, eopts); err != nil {
			return fail(err)
		}
	}
	res.input.Path, res.input.Encoding, res.input.Kind = src.Name, src.Encoding, string(src.Kind)
	if src.Kind.IsCapture() {
		// Valid evidence, just not a log (a case directory holds both):
		// said on stderr, not an error.
		res.problems = []forensics.Problem{{File: src.Name, Reason: "packet capture: no events (use tracehop flows)"}}
		res.input.SHA256, res.input.Size = sum, size
		return res
	}
	if src.Kind == evidence.KindEmpty {
		// An empty file is evidence of nothing: listed with its hash,
		// no events, not an error (as analyze does).
		res.input.SHA256, res.input.Size = sum, size
		return res
	}
	format, lo := logOptions(src, aopts, clockOffset(aopts.ClockOffsets, path))
	if format == "" {
		return fail(noLogFormat(src.Name))
	}
	res.input.Kind = format
	// Events are encoded and dropped a few batches after they are read.
	lo.ShareLines = true

	var w io.Writer = out
	if !direct {
		f, err := extsort.CreateTemp("tracehop-events-*.jsonl")
		if err != nil {
			return fail(fmt.Errorf("spool %s: %w", src.Name, err))
		}
		res.spool = f
		w = f
	}
	enc := newEventEncoder(aopts.Enricher)
	// Parsing and encoding (with enrichment) run in two goroutines joined
	// by a small ring of batches: two cores, order kept, memory bounded.
	const batchSize = 128
	batches := make(chan []forensics.Event, 4)
	free := make(chan []forensics.Event, 6)
	var werr error
	done := make(chan struct{})
	// A failed write (a closed pipe: `tracehop events big.log | head`)
	// stops the read instead of parsing the rest for nothing.
	rctx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go func() {
		defer close(done)
		// Lines are encoded straight into the output buffer, written
		// out in blocks of 64 KiB or more (no bufio.Writer copy).
		const flushAt = 64 << 10
		out := make([]byte, 0, flushAt+16<<10)
		for batch := range batches {
			enc.prepare(batch)
			for i := range batch {
				if werr != nil {
					break
				}
				batch[i].Evidence.SHA256 = sum
				out = enc.appendLine(out, &batch[i])
				if len(out) >= flushAt {
					if _, werr = w.Write(out); werr != nil {
						stopRead()
					}
					out = out[:0]
				}
			}
			select {
			case free <- batch[:0]:
			default:
			}
		}
		if werr == nil && len(out) > 0 {
			_, werr = w.Write(out)
		}
	}()
	var records int64
	// The parser builds events in place in the batches (no copy each).
	st, rerr := logs.ReadBatches(rctx, src, src.Name, format, lo, make([]forensics.Event, 0, batchSize), func(full []forensics.Event) []forensics.Event {
		records += int64(len(full))
		batches <- full
		select {
		case next := <-free:
			return next
		default:
			return make([]forensics.Event, 0, batchSize)
		}
	})
	close(batches)
	<-done
	_, size, herr := src.Finish()
	res.input.SHA256, res.input.Size = sum, size
	if src.Size > 0 {
		res.input.Size = src.Size
	}
	if herr == nil && !bytes.Equal(src.RawMAC(), mac) {
		herr = fmt.Errorf("%s changed while it was read (SHA-256 %s before parsing; the bytes parsed differ)", src.Name, sum)
	}
	res.input.Records, res.input.Malformed = records, st.Malformed
	res.problems, res.caps = st.Problems, st.Caps
	if st.Flows > 0 {
		res.problems = append(res.problems, forensics.Problem{File: src.Name,
			Reason: strconv.FormatInt(st.Flows, 10) + " flow records not shown: use tracehop flows"})
	}
	if werr != nil {
		werr = fmt.Errorf("write events of %s: %w", src.Name, werr)
		rerr = nil // the read was stopped because of it
	}
	if err := errors.Join(rerr, herr, werr); err != nil {
		return fail(err)
	}
	return res
}

// checkDecompress reads a compressed input through to its end, hashing
// nothing.
func checkDecompress(path string, eopts evidence.Options) error {
	eopts.MAC = nil
	src, err := evidence.Open(path, eopts)
	if err != nil {
		return err
	}
	defer src.Close()
	// Source's read errors name the input and the decompressed offset.
	_, err = io.Copy(io.Discard, src)
	return err
}

// eventEncoder writes an Event as one JSON line with the model's
// hand-written encoder (forensics.EventEncoder), byte for byte what
// encoding/json writes for it, without reflection: encoding was most of
// the time of `tracehop events`. The src_geo object comes from a
// geoJSONCache (encoded once per address, snapshot era and day).
// TestEventEncoderMatchesJSON and FuzzEventEncoder hold it to that.
type eventEncoder struct {
	json forensics.EventEncoder
	geo  *geoJSONCache
	// scratch is where an event's own record is encoded.
	scratch []byte
}

func newEventEncoder(e *enrich.Enricher) *eventEncoder {
	return &eventEncoder{geo: newGeoJSONCache(e)}
}

func (enc *eventEncoder) geoJSON(ev *forensics.Event) []byte {
	b, _ := enc.geo.get(ev.Actor(), ev.Time.Time)
	return b
}

// prepare looks up, together, the src_geo of every address of batch that
// the cache lacks.
func (enc *eventEncoder) prepare(batch []forensics.Event) {
	if enc.geo.e == nil {
		return
	}
	enc.geo.reserve(len(batch))
	for i := range batch {
		if ev := &batch[i]; ev.SrcGeo == nil {
			enc.geo.want(ev.Actor(), ev.Time.Time)
		}
	}
	enc.geo.resolve()
}

func floorDay(unix int64) int64 {
	d := unix / 86400
	if unix%86400 < 0 {
		d--
	}
	return d
}

// appendLine appends the JSON line of e to b.
func (enc *eventEncoder) appendLine(b []byte, e *forensics.Event) []byte {
	var geo []byte
	if e.SrcGeo != nil {
		// Used at once: the scratch buffer serves.
		enc.scratch, _ = forensics.AppendRecordJSON(enc.scratch[:0], e.SrcGeo)
		geo = enc.scratch
	} else {
		geo = enc.geoJSON(e)
	}
	b = enc.json.Append(b, e, geo)
	return append(b, '\n')
}
