package analyze

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/capture"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
	"github.com/tracehop/tracehop/forensics/logs"
)

// StreamFlows reads every input into a FlowSorter so memory stays bounded
// by the sort chunk, not by the number of flows: captures go straight
// through capture.Read (several files at once), other inputs (Zeek,
// nfdump, Argus flow records; stdin) through analyze.Run. The returned
// Case holds the inputs, problems and caps, not the flows.
func StreamFlows(ctx context.Context, aopts Options) (*forensics.Case, *FlowSorter, error) {
	files, err := walkEvidence(aopts.Inputs)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	c := &forensics.Case{Home: aopts.Home}
	sorter := NewFlowSorter(FlowSortChunk, len(files)+1, aopts.Enricher)
	results := make([]*captureResult, len(files))
	var others []string
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(files), 1)) {
		wg.Go(func() {
			for i := range next {
				results[i] = readCaptureInput(ctx, files[i], i, aopts, sorter)
			}
		})
	}
	for i, f := range files {
		if f == "-" {
			results[i] = &captureResult{other: true}
			continue
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	sorter.wait()
	if err := ctx.Err(); err != nil {
		return c, sorter, err
	}
	var inputErrs []error
	for i, r := range results {
		if r.other {
			others = append(others, files[i])
			continue
		}
		c.Inputs = append(c.Inputs, r.input)
		c.Problems = append(c.Problems, r.problems...)
		c.Caps = append(c.Caps, r.caps...)
		sorter.SetSHA256(i, r.input.SHA256)
		if r.err != nil {
			inputErrs = append(inputErrs, r.err)
			if len(r.problems) == 0 {
				c.Problems = append(c.Problems, forensics.Problem{File: r.input.Path, Reason: r.input.Error})
			}
		}
	}
	if sorter.err != nil {
		return c, sorter, sorter.err
	}
	if len(others) > 0 {
		o := aopts
		o.Inputs = others
		oc, err := Run(ctx, o)
		if oc != nil {
			c.Inputs = append(c.Inputs, oc.Inputs...)
			c.Problems = append(c.Problems, oc.Problems...)
			c.Caps = append(c.Caps, oc.Caps...)
			// Already hashed and enriched by analyze; they sort after
			// captures of equal start and ID.
			if err := sorter.Add(oc.Flows, len(files)); err != nil {
				return c, sorter, err
			}
		}
		if err != nil {
			if !errors.Is(err, ErrInput) {
				return c, sorter, err
			}
			inputErrs = append(inputErrs, err)
		}
	}
	SortRecords(c) // inputs, problems and caps; c holds no flows
	return c, sorter, errors.Join(inputErrs...)
}

// captureResult is one input's provenance; other marks an input left to
// analyze.Run (standard input, an empty file, text in no known format).
type captureResult struct {
	input    forensics.Input
	problems []forensics.Problem
	caps     []forensics.CapHit
	err      error
	other    bool
}

// readCaptureInput reads the flows of one capture or flow log (Zeek,
// Suricata EVE, nfdump, Argus) into sorter as input idx, streaming: memory
// stays bounded by the sorter's chunk whatever the input's size. The
// events of a log given to flows are counted, not kept.
func readCaptureInput(ctx context.Context, path string, idx int, aopts Options, sorter *FlowSorter) *captureResult {
	res := &captureResult{input: forensics.Input{Path: path}}
	eopts := aopts.Evidence
	eopts.Kind = evidence.Kind(aopts.InputFormat)
	src, err := evidence.Open(path, eopts)
	if err != nil {
		res.err = fmt.Errorf("%w: %w", ErrInput, err)
		res.input.Error = err.Error()
		return res
	}
	defer src.Close()
	if src.Kind == evidence.KindEmpty {
		return &captureResult{other: true}
	}
	offset := clockOffset(aopts.ClockOffsets, path)
	format := ""
	var lo logs.Options
	if !src.Kind.IsCapture() {
		if format, lo = logOptions(src, aopts, offset); format == "" {
			return &captureResult{other: true}
		}
	}
	res.input.Path, res.input.Encoding, res.input.Kind = src.Name, src.Encoding, string(src.Kind)
	var buf []forensics.Flow
	var records int64
	add := func(f forensics.Flow) {
		records++
		if len(buf) == cap(buf) {
			// Small, then full size: growing by doubling copied every
			// flow several times; a tiny capture stays cheap.
			nb := make([]forensics.Flow, len(buf), max(min(4096, sorter.chunk), min(4*cap(buf), sorter.chunk), len(buf)+1))
			copy(nb, buf)
			buf = nb
		}
		buf = append(buf, f)
		if len(buf) >= sorter.chunk {
			// Sorted and spilled on another goroutine: this callback runs
			// under capture's emit lock and must not hold up the shards.
			sorter.addAsync(buf, idx)
			buf = nil
		}
	}
	var malformed int64
	var problems []forensics.Problem
	var caps []forensics.CapHit
	var readErr error
	if format == "" {
		st, err := capture.Read(ctx, src, src.Name, aopts.Capture, func(f forensics.Flow) {
			if offset != 0 {
				f.Start = forensics.NewTime(f.Start.Add(offset))
				f.End = forensics.NewTime(f.End.Add(offset))
			}
			add(f)
		})
		readErr, malformed, problems, caps = err, st.Malformed, st.Problems, st.Caps
	} else {
		// The reader applies the clock offset to flow records itself.
		res.input.Kind = format
		st, err := logs.Read(ctx, src, src.Name, format, lo, func(forensics.Event) { records++ }, add)
		readErr, malformed, problems, caps = err, st.Malformed, st.Problems, st.Caps
	}
	sinkErr := sorter.Add(buf, idx)
	sum, size, herr := src.Finish()
	res.input.SHA256, res.input.Size = sum, size
	if src.Size > 0 {
		res.input.Size = src.Size
	}
	res.input.Records, res.input.Malformed = records, malformed
	res.problems, res.caps = problems, caps
	for i := range res.problems {
		if res.problems[i].File == "" {
			res.problems[i].File = src.Name
		}
	}
	if err := errors.Join(readErr, herr, sinkErr); err != nil {
		res.err = fmt.Errorf("%w: %w", ErrInput, err)
		res.input.Error = err.Error()
	}
	return res
}

// FlowSortChunk is how many flows are sorted in memory before a run is
// spilled to a temporary file (about 25 MB of flows; a smaller chunk
// keeps less in flight while a scan evicts flows at full speed).
const FlowSortChunk = 25_000

// FlowSorter is an external merge sort of flows by (start, ID, input).
// Each chunk is enriched, sorted and encoded in its final JSON form when it
// is added (on background goroutines that overlap with capture decoding)
// and, beyond one chunk in memory, spilled as compact binary records to
// temporary files without a name (extsort.CreateTemp); output merges the runs by copying bytes,
// splicing in each input's SHA-256, known only once the input is fully
// read. Memory is bounded by the chunk size whatever the number of flows.
// Call Cleanup when done with it.
type FlowSorter struct {
	chunk int
	shas  []string // SHA-256 by input index, known once an input is read
	enr   *enrich.Enricher

	sem     chan struct{} // bounds chunks being sorted in the background
	bg      sync.WaitGroup
	mu      sync.Mutex
	disk    []sortRun
	mem     []sortRun
	memSize int
	err     error
}

// NewFlowSorter returns a sorter of runs of chunk flows for inputs inputs
// (indexes 0 to inputs-1), enriching flows with enr (nil: none) where the
// reader left them without enrichment.
func NewFlowSorter(chunk, inputs int, enr *enrich.Enricher) *FlowSorter {
	return &FlowSorter{chunk: chunk, shas: make([]string, inputs), sem: make(chan struct{}, 2), enr: enr}
}

// SetSHA256 records input idx's hash, filled into its flows that lack one
// at output.
func (s *FlowSorter) SetSHA256(idx int, sum string) {
	if idx >= 0 && idx < len(s.shas) {
		s.shas[idx] = sum
	}
}

// Spilled is how many runs went to disk.
func (s *FlowSorter) Spilled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.disk)
}

// sortRun is one sorted run: in memory (recs) or on disk (path, n).
type sortRun struct {
	input int
	recs  []encRec
	file  *os.File // a run on disk (extsort.CreateTemp), else nil
	n     int
}

// sortedIndex returns the indices of fs in (start, ID) order.
// The start time is taken out once per flow, so that comparisons are
// integer compares (and the ID on a tie): start, then ID.
func sortedIndex(fs []forensics.Flow) []int32 {
	type key struct {
		sec  int64
		nsec int32
		i    int32
	}
	keys := make([]key, len(fs))
	for i := range fs {
		keys[i] = key{fs[i].Start.Unix(), int32(fs[i].Start.Nanosecond()), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec),
			cmp.Compare(fs[a.i].ID, fs[b.i].ID), cmp.Compare(a.i, b.i))
	})
	idx := make([]int32, len(fs))
	for i, k := range keys {
		idx[i] = k.i
	}
	return idx
}

// Add sorts fs as one run of input idx; the sorter takes fs over.
func (s *FlowSorter) Add(fs []forensics.Flow, idx int) error {
	if len(fs) == 0 {
		return nil
	}
	return s.addEncoded(fs, idx, false)
}

// addAsync is Add on a background goroutine (at most cap(sem) at once)
// for a full chunk, which goes to disk; an error is kept in s.err for
// wait's caller.
func (s *FlowSorter) addAsync(fs []forensics.Flow, idx int) {
	s.sem <- struct{}{}
	s.bg.Go(func() {
		defer func() { <-s.sem }()
		_ = s.addEncoded(fs, idx, true) // records its error in s.err
	})
}

// wait returns once every background add is done.
func (s *FlowSorter) wait() { s.bg.Wait() }

// Cleanup removes the spilled runs.
func (s *FlowSorter) Cleanup() {
	for _, r := range s.disk {
		extsort.RemoveTemp(r.file)
	}
	s.disk = nil
}

// runs lists the sorted runs, in memory first.
func (s *FlowSorter) runs() []*sortRun {
	runs := make([]*sortRun, 0, len(s.mem)+len(s.disk))
	for i := range s.mem {
		runs = append(runs, &s.mem[i])
	}
	for i := range s.disk {
		runs = append(runs, &s.disk[i])
	}
	return runs
}

// shaMarker stands in for an input's SHA-256 until it is known. Its NULs
// are escaped by encoding/json, and a quote inside a string value is
// always escaped too, so the encoded `"sha256":"\u0000…"` cannot come from
// any value in the flow; the last one in a line is the evidence's.
const shaMarker = "\x00tracehop-evidence-sha256\x00"

var shaMarkerJSON = []byte(`"\u0000tracehop-evidence-sha256\u0000"`)

// encRec is one flow as a JSON line with its sort key.
type encRec struct {
	sec  int64
	nsec int64
	sha  int // offset of shaMarkerJSON in line, or -1
	id   string
	line []byte // JSON and "\n"
}

func encLess(a, b *encRec, ai, bi int) int {
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), cmp.Compare(a.id, b.id), cmp.Compare(ai, bi))
}

// enrichFlow attaches both ends' records where the reader left them
// empty.
func enrichFlow(e *enrich.Enricher, f *forensics.Flow) {
	if e == nil {
		return
	}
	if f.SrcGeo == nil && f.SrcIP.IsValid() {
		f.SrcGeo = e.LookupShared(f.SrcIP, f.Start.Time)
	}
	if f.DstGeo == nil && f.DstIP.IsValid() {
		f.DstGeo = e.LookupShared(f.DstIP, f.Start.Time)
	}
}

// encodeRun sorts fs and encodes it as JSON lines, exactly as
// json.Encoder with SetEscapeHTML(false) writes each flow (through
// forensics.AppendFlowJSONGeo), handing each record to each in order;
// r.line is only valid during the call. It consumes fs: flows are cleared
// once encoded. Both ends are enriched where the reader left them empty,
// the new addresses of every flowWindow flows looked up together and
// only their encoding kept (geoJSONCache).
func encodeRun(fs []forensics.Flow, e *enrich.Enricher, each func(r *encRec) error) error {
	idx := sortedIndex(fs)
	enc := capture.NewFlowEncoder()
	geo := newGeoJSONCache(e)
	side := func(r *enrich.Record, ip netip.Addr, at time.Time) ([]byte, error) {
		if r != nil {
			return enc.RecordJSON(r)
		}
		return geo.get(ip, at)
	}
	var buf []byte
	for lo := 0; lo < len(idx); lo += flowWindow {
		win := idx[lo:min(lo+flowWindow, len(idx))]
		if e != nil {
			geo.reserve(2 * len(win))
			for _, j := range win {
				f := &fs[j]
				if f.SrcGeo == nil {
					geo.want(f.SrcIP, f.Start.Time)
				}
				if f.DstGeo == nil {
					geo.want(f.DstIP, f.Start.Time)
				}
			}
			geo.resolve()
		}
		for _, j := range win {
			f := &fs[j]
			src, err := side(f.SrcGeo, f.SrcIP, f.Start.Time)
			if err != nil {
				return err
			}
			dst, err := side(f.DstGeo, f.DstIP, f.Start.Time)
			if err != nil {
				return err
			}
			marked := f.Evidence.SHA256 == ""
			if marked {
				f.Evidence.SHA256 = shaMarker
			}
			buf = append(forensics.AppendFlowJSONGeo(buf[:0], f, src, dst), '\n')
			sha := -1
			if marked {
				sha = bytes.LastIndex(buf, shaMarkerJSON)
			}
			r := encRec{sec: f.Start.Unix(), nsec: int64(f.Start.Nanosecond()), sha: sha, id: f.ID, line: buf}
			fs[j] = forensics.Flow{} // let the flow's strings go early
			if err := each(&r); err != nil {
				return err
			}
		}
	}
	return nil
}

// flowWindow is how many flows encodeRun enriches at a time (two
// addresses each: LookupBatch's lanes fill several times over).
const flowWindow = 64

// encodeToMemory is encodeRun into records held in memory. Lines are
// packed into slabs, so a run holds its bytes and little more (one
// growing buffer would hold up to twice as much).
func encodeToMemory(fs []forensics.Flow, e *enrich.Enricher) ([]encRec, error) {
	recs := make([]encRec, 0, len(fs))
	var slab []byte
	err := encodeRun(fs, e, func(r *encRec) error {
		if cap(slab)-len(slab) < len(r.line) {
			slab = make([]byte, 0, max(min(max(2*cap(slab), 64<<10), encSlab), len(r.line)))
		}
		n := len(slab)
		slab = append(slab, r.line...)
		r.line = slab[n:len(slab):len(slab)]
		recs = append(recs, *r)
		return nil
	})
	return recs, err
}

// encSlab is the largest block encoded lines are packed into (blocks
// start at 64 KiB and double, so a small run stays small).
const encSlab = 1 << 20

// maxSpillRecord bounds one spilled record when read back.
const maxSpillRecord = 256 << 20

// spillEncoded encodes fs (see encodeRun) straight into a run file, so
// that a run on its way to disk never holds its output in memory.
func (s *FlowSorter) spillEncoded(fs []forensics.Flow) (*os.File, int, error) {
	f, err := extsort.CreateTemp("tracehop-flows-*.run")
	if err != nil {
		return nil, 0, fmt.Errorf("sort spill: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var hdr []byte
	n := 0
	err = encodeRun(fs, s.enr, func(r *encRec) error {
		hdr = binary.AppendVarint(hdr[:0], r.sec)
		hdr = binary.AppendVarint(hdr, r.nsec)
		hdr = binary.AppendVarint(hdr, int64(r.sha))
		hdr = binary.AppendUvarint(hdr, uint64(len(r.id)))
		hdr = append(hdr, r.id...)
		hdr = binary.AppendUvarint(hdr, uint64(len(r.line)))
		bw.Write(hdr)
		_, err := bw.Write(r.line) // a write error sticks: Flush reports it
		n++
		return err
	})
	if err != nil {
		extsort.RemoveTemp(f)
		return nil, 0, fmt.Errorf("encode flows: %w", err)
	}
	if err := bw.Flush(); err != nil {
		extsort.RemoveTemp(f)
		return nil, 0, fmt.Errorf("sort spill %s: %w", f.Name(), err)
	}
	return f, n, nil
}

// addEncoded encodes and stores one run. A run that fits beside the
// runs already in memory is kept there (a small input never touches the
// disk); others, and every full chunk (toDisk: a large input), are
// encoded straight to disk.
func (s *FlowSorter) addEncoded(fs []forensics.Flow, idx int, toDisk bool) error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	keep := !toDisk && s.memSize+len(fs) <= s.chunk
	if keep {
		s.memSize += len(fs) // reserved before encoding, outside the lock
	}
	s.mu.Unlock()
	run := sortRun{input: idx}
	if keep {
		recs, err := encodeToMemory(fs, s.enr)
		if err != nil {
			return s.fail(fmt.Errorf("encode flows: %w", err))
		}
		run.recs = recs
		s.mu.Lock()
		s.mem = append(s.mem, run)
		s.mu.Unlock()
		return nil
	}
	f, n, err := s.spillEncoded(fs)
	if err != nil {
		return s.fail(err)
	}
	run.file, run.n = f, n
	s.mu.Lock()
	s.disk = append(s.disk, run)
	s.mu.Unlock()
	return nil
}

func (s *FlowSorter) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// encCursor walks one encoded run during the merge.
type encCursor struct {
	run  *sortRun
	pos  int
	cur  encRec
	br   *bufio.Reader
	line []byte
	done bool
}

func (c *encCursor) Next() error {
	if c.run.file == nil {
		if c.pos >= len(c.run.recs) {
			c.done = true
			return nil
		}
		c.cur = c.run.recs[c.pos]
		c.pos++
		return nil
	}
	if c.pos >= c.run.n {
		c.done = true
		return nil
	}
	bad := func(err error) error {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("sort merge %s: record %d: %w", c.run.file.Name(), c.pos, err)
	}
	var v [3]int64
	for i := range v {
		x, err := binary.ReadVarint(c.br)
		if err != nil {
			return bad(err)
		}
		v[i] = x
	}
	idLen, err := binary.ReadUvarint(c.br)
	if err != nil || idLen > maxSpillRecord {
		return bad(err)
	}
	c.line = slices.Grow(c.line[:0], int(idLen))[:idLen]
	if _, err := io.ReadFull(c.br, c.line); err != nil {
		return bad(err)
	}
	id := string(c.line)
	n, err := binary.ReadUvarint(c.br)
	if err != nil || n > maxSpillRecord {
		return bad(err)
	}
	c.line = slices.Grow(c.line[:0], int(n))[:n]
	if _, err := io.ReadFull(c.br, c.line); err != nil {
		return bad(err)
	}
	if v[2] >= int64(n) || v[2] < -1 || (v[2] >= 0 && int(v[2])+len(shaMarkerJSON) > int(n)) {
		return bad(errors.New("bad hash offset"))
	}
	c.cur = encRec{sec: v[0], nsec: v[1], sha: int(v[2]), id: id, line: c.line}
	c.pos++
	return nil
}

func (c *encCursor) Done() bool { return c.done }
func (c *encCursor) Close()     {} // Cleanup closes the run files

// EachLine merges the runs and calls fn with every flow's JSON line, in
// output order, with its input's SHA-256 spliced in: the bytes
// json.Encoder with SetEscapeHTML(false) writes, newline included. line
// is only valid during the call.
func (s *FlowSorter) EachLine(fn func(line []byte) error) error {
	shaJSON := make([][]byte, len(s.shas))
	for i, sum := range s.shas {
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		shaJSON[i] = b
	}
	empty := []byte(`""`)
	open := func(r *sortRun) (*encCursor, error) {
		c := &encCursor{run: r}
		if r.file != nil {
			if _, err := r.file.Seek(0, io.SeekStart); err != nil {
				return nil, fmt.Errorf("sort merge: %w", err)
			}
			c.br = bufio.NewReaderSize(r.file, 64<<10)
		}
		return c, nil
	}
	less := func(a, b *encCursor) bool { return encLess(&a.cur, &b.cur, a.run.input, b.run.input) < 0 }
	var buf []byte
	return extsort.Merge(s.runs(), open, less, func(c *encCursor) error {
		r := &c.cur
		if r.sha < 0 {
			return fn(r.line)
		}
		sum := empty
		if c.run.input < len(shaJSON) {
			sum = shaJSON[c.run.input]
		}
		buf = append(append(append(buf[:0], r.line[:r.sha]...), sum...), r.line[r.sha+len(shaMarkerJSON):]...)
		return fn(buf)
	})
}

// WriteJSONL merges the runs into w as JSON Lines.
func (s *FlowSorter) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := s.EachLine(func(line []byte) error {
		_, err := bw.Write(line)
		return err
	}); err != nil {
		return err
	}
	return bw.Flush()
}
