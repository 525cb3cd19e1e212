package analyze

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
	"github.com/tracehop/tracehop/forensics/report"
)

// StreamEventsCSV writes the events as CSV (`tracehop events --format
// csv`) without holding them: the events are spooled (SpoolEvents) while
// their columns are collected (the header is the sorted union of
// columns), then flattened row by row in (time, ID) order.
func StreamEventsCSV(ctx context.Context, out io.Writer, aopts Options) (*forensics.Case, error) {
	sp, c, runErr := SpoolEvents(ctx, aopts, report.NewCSVColumns())
	if sp == nil {
		return c, runErr
	}
	defer sp.Close()
	ow := bufio.NewWriterSize(out, 1<<20)
	rows, err := report.NewCSVRows(ow, sp.ix.cols.Header())
	if err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	if err := sp.Each(func(line []byte) error { return rows.Write(report.CompactJSON(line)) }); err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	if err := errors.Join(rows.Flush(), ow.Flush()); err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	return c, runErr
}

// EventSpool holds a run's events as JSON lines in a temporary file, to
// be read back in output order: for outputs that need every input's
// SHA-256 or every column before their first row (CSV, Parquet).
type EventSpool struct {
	f  *os.File
	ix *lineIndex
}

// SpoolEvents runs StreamEvents into a spool, adding each line's columns
// to cols when it is not nil. Logs are nearly always in time order
// already, but many lines share a timestamp (whole seconds in an access
// log) and those are ordered by ID: lines of one time are then sorted
// among themselves as they are read back, and memory stays flat (one
// second's lines). Only a spool out of time order costs a second read to
// take each line's sort key (about 60 bytes per event) and reads rows
// back in order. The spool is nil when the run failed before any
// output (the error says why); Close removes it.
func SpoolEvents(ctx context.Context, aopts Options, cols *report.CSVColumns) (*EventSpool, *forensics.Case, error) {
	spool, err := extsort.CreateTemp("tracehop-events-*.jsonl")
	if err != nil {
		return nil, nil, fmt.Errorf("events spool: %w", err)
	}
	sp := &EventSpool{f: spool, ix: &lineIndex{cols: cols}}
	bw := bufio.NewWriterSize(spool, 1<<20)
	c, runErr := StreamEvents(ctx, io.MultiWriter(bw, sp.ix), aopts)
	if c == nil || (runErr != nil && !errors.Is(runErr, ErrInput)) {
		sp.Close()
		return nil, c, runErr
	}
	if err := errors.Join(sp.ix.err, bw.Flush()); err != nil {
		sp.Close()
		return nil, c, fmt.Errorf("events spool: %w", err)
	}
	return sp, c, runErr
}

// Each calls fn with every spooled line (newline included) in (time, ID)
// order; ties keep spool order, as a stable sort would.
func (sp *EventSpool) Each(fn func(line []byte) error) error {
	return eachSpoolLine(sp.f, sp.ix.order(), fn)
}

// Close removes the spool.
func (sp *EventSpool) Close() error {
	return extsort.RemoveTemp(sp.f)
}

// lineIndex sees the spooled JSON lines as they are written: it adds
// each line's columns and checks that lines come in (time, ID) order.
type lineIndex struct {
	cols   *report.CSVColumns // nil: columns not wanted
	part   []byte             // a line cut by the end of a write
	last   eventKey
	n      int
	byTime bool // lines out of time order were seen
	byID   bool // lines of one time out of ID order were seen
	err    error
}

// spoolOrder is how far the spool is from the output order.
type spoolOrder int

const (
	inOrder     spoolOrder = iota // (time, ID) order already
	inTimeOrder                   // time order; ties out of ID order
	outOfOrder
)

// eventKey is a line's place in the output order and in the spool.
type eventKey struct {
	t   time.Time
	id  string
	off int64
	len int
}

func (ix *lineIndex) Write(p []byte) (int, error) {
	n := len(p)
	for ix.err == nil && len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			ix.part = append(ix.part, p...)
			break
		}
		line := p[:i]
		if len(ix.part) > 0 {
			ix.part = append(ix.part, line...)
			line, ix.part = ix.part, ix.part[:0]
		}
		ix.line(line)
		p = p[i+1:]
	}
	return n, nil
}

func (ix *lineIndex) line(line []byte) {
	if ix.cols != nil {
		if ix.err = ix.cols.Add(report.CompactJSON(line)); ix.err != nil {
			return
		}
	}
	k, err := lineKey(line)
	if err != nil {
		ix.err = err
		return
	}
	if ix.n > 0 {
		switch c := k.t.Compare(ix.last.t); {
		case c < 0:
			ix.byTime = true
		case c == 0 && k.id < ix.last.id:
			ix.byID = true
		}
	}
	ix.last.t, ix.last.id = k.t, k.id
	ix.n++
}

func (ix *lineIndex) order() spoolOrder {
	switch {
	case ix.byTime:
		return outOfOrder
	case ix.byID:
		return inTimeOrder
	}
	return inOrder
}

func compareKeys(a, b *eventKey) int {
	return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.id, b.id))
}

// lineKey reads the ID and time at the head of an event line, where the
// encoder always writes them: {"id":"…","time":"…",
func lineKey(line []byte) (eventKey, error) {
	const idHead, timeHead = `{"id":"`, `","time":"`
	// The error is made only when needed: this runs once per event.
	bad := func() (eventKey, error) {
		return eventKey{}, fmt.Errorf("events spool: unexpected line %.40q", line)
	}
	rest, ok := bytes.CutPrefix(line, []byte(idHead))
	if !ok {
		return bad()
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return bad()
	}
	id := string(rest[:i])
	rest, ok = bytes.CutPrefix(rest[i:], []byte(timeHead))
	if !ok {
		return bad()
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return bad()
	}
	var t forensics.Time
	if err := t.UnmarshalText(rest[:j]); err != nil {
		return bad()
	}
	return eventKey{t: t.Time, id: id}, nil
}

// eachSpoolLine calls emit with every spooled line in (time, ID) order;
// ties keep spool order, as the stable in-memory sort did.
func eachSpoolLine(spool *os.File, order spoolOrder, emit func(line []byte) error) error {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(spool, 1<<20)
	var keys []eventKey
	var group [][]byte // inTimeOrder: the lines of one time
	var groupKeys []eventKey
	flushGroup := func() error {
		idx := make([]int, len(group))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(groupKeys[a].id, groupKeys[b].id) })
		for _, i := range idx {
			if err := emit(group[i]); err != nil {
				return err
			}
		}
		group, groupKeys = group[:0], groupKeys[:0]
		return nil
	}
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read it whole.
			rest, err2 := br.ReadBytes('\n')
			line, err = append(bytes.Clone(line), rest...), err2
		}
		if len(line) > 0 {
			switch order {
			case inOrder:
				if werr := emit(line); werr != nil {
					return werr
				}
			default:
				k, kerr := lineKey(bytes.TrimSuffix(line, []byte{'\n'}))
				if kerr != nil {
					return kerr
				}
				if order == outOfOrder {
					k.off, k.len = off, len(line)
					keys = append(keys, k)
					break
				}
				if len(group) > 0 && !k.t.Equal(groupKeys[0].t) {
					if werr := flushGroup(); werr != nil {
						return werr
					}
				}
				group = append(group, bytes.Clone(line))
				groupKeys = append(groupKeys, k)
			}
			off += int64(len(line))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if order != outOfOrder {
		if len(group) > 0 {
			return flushGroup()
		}
		return nil
	}
	slices.SortStableFunc(keys, func(a, b eventKey) int { return compareKeys(&a, &b) })
	var buf []byte
	for i := range keys {
		k := &keys[i]
		buf = slices.Grow(buf[:0], k.len)[:k.len]
		if _, err := spool.ReadAt(buf, k.off); err != nil {
			return err
		}
		if err := emit(buf); err != nil {
			return err
		}
	}
	return nil
}
