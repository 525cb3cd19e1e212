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
	"github.com/tracehop/tracehop/forensics/report"
)

// StreamEventsCSV writes the events as CSV (`tracehop events --format
// csv`) without holding them: the
// streamed JSON lines go to a temporary spool while their columns are
// collected (the header is the sorted union of columns), then the spool
// is flattened row by row in (time, ID) order, the order of the CSV
// output. Logs are nearly always in time order already, but many lines
// share a timestamp (whole seconds in an access log) and those are ordered
// by ID: lines of one time are then sorted among themselves as they are
// read back, and memory stays flat (one second's lines). Only a spool out
// of time order costs a second read to take each line's sort key (about
// 60 bytes per event) and reads rows back in order.
func StreamEventsCSV(ctx context.Context, out io.Writer, aopts Options) (*forensics.Case, error) {
	spool, err := os.CreateTemp("", "tracehop-events-csv-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("events csv spool: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	ix := &lineIndex{cols: report.NewCSVColumns()}
	bw := bufio.NewWriterSize(spool, 1<<20)
	c, runErr := StreamEvents(ctx, io.MultiWriter(bw, ix), aopts)
	if c == nil || (runErr != nil && !errors.Is(runErr, ErrInput)) {
		return c, runErr
	}
	if err := errors.Join(ix.err, bw.Flush()); err != nil {
		return c, fmt.Errorf("events csv spool: %w", err)
	}
	ow := bufio.NewWriterSize(out, 1<<20)
	rows, err := report.NewCSVRows(ow, ix.cols.Header())
	if err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	if err := writeSpoolRows(spool, ix.order(), rows); err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	if err := errors.Join(rows.Flush(), ow.Flush()); err != nil {
		return c, fmt.Errorf("write events: %w", err)
	}
	return c, runErr
}

// lineIndex sees the spooled JSON lines as they are written: it adds
// each line's columns and checks that lines come in (time, ID) order.
type lineIndex struct {
	cols   *report.CSVColumns
	part   []byte // a line cut by the end of a write
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
	if ix.err = ix.cols.Add(report.CompactJSON(line)); ix.err != nil {
		return
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
	bad := fmt.Errorf("events csv spool: unexpected line %.40q", line)
	rest, ok := bytes.CutPrefix(line, []byte(idHead))
	if !ok {
		return eventKey{}, bad
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return eventKey{}, bad
	}
	id := string(rest[:i])
	rest, ok = bytes.CutPrefix(rest[i:], []byte(timeHead))
	if !ok {
		return eventKey{}, bad
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return eventKey{}, bad
	}
	var t forensics.Time
	if err := t.UnmarshalText(rest[:j]); err != nil {
		return eventKey{}, bad
	}
	return eventKey{t: t.Time, id: id}, nil
}

// writeSpoolRows writes every spooled line as a CSV row in (time, ID)
// order; ties keep spool order, as the stable in-memory sort did.
func writeSpoolRows(spool *os.File, order spoolOrder, rows *report.CSVRows) error {
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
			if err := rows.Write(report.CompactJSON(group[i])); err != nil {
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
				if werr := rows.Write(report.CompactJSON(line)); werr != nil {
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
		if err := rows.Write(report.CompactJSON(buf)); err != nil {
			return err
		}
	}
	return nil
}
