// Package extsort is an external merge sort: values sorted in chunks
// that go to temporary files in a compact form, then merged, so that
// sorting takes one chunk of memory whatever the number of values.
package extsort

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
)

// Sorter is an external merge sort: values are sorted in chunks of
// Chunk values that go to temporary files (runs) in a compact binary
// form (Enc, Dec; each value behind its length), then merged. Its memory
// is one chunk and one read buffer per run, whatever the number of
// values. Values may be added from several goroutines at once.
type Sorter[T any] struct {
	Chunk int
	What  string // for errors: what is sorted
	Cmp   func(a, b *T) int
	Enc   func(dst []byte, v *T) []byte
	Dec   func(b []byte, v *T) error
	mu    sync.Mutex
	vals  []T
	runs  []*os.File
	err   error
}

// Add takes one value; a full chunk is sorted and spilled.
func (s *Sorter[T]) Add(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.vals = append(s.vals, v)
	if len(s.vals) >= s.Chunk {
		s.err = s.spill()
	}
}

// order returns the indices of the chunk's values in order: values are
// large (a session item is a few hundred bytes), so indices move, not
// values.
func (s *Sorter[T]) order() []int32 {
	idx := make([]int32, len(s.vals))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return s.Cmp(&s.vals[a], &s.vals[b]) })
	return idx
}

// spill writes the sorted chunk as one run.
func (s *Sorter[T]) spill() error {
	idx := s.order()
	f, err := CreateTemp("tracehop-sort-*.run")
	if err != nil {
		return fmt.Errorf("%s spool: %w", s.What, err)
	}
	s.runs = append(s.runs, f)
	bw := bufio.NewWriterSize(f, 1<<20)
	var buf, n []byte
	for _, i := range idx {
		buf = s.Enc(buf[:0], &s.vals[i])
		n = binary.AppendUvarint(n[:0], uint64(len(buf)))
		bw.Write(n)
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("%s spool: %w", s.What, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s spool: %w", s.What, err)
	}
	clear(s.vals)
	s.vals = s.vals[:0]
	return nil
}

// Each calls fn with every value in order (ties in no set order: make
// cmp total). The value is fn's only for the call, and read-only. Call it
// after the last add; calling it again reads every value again, and
// several calls may run at once (a report writes its tables side by
// side): each reads the runs through its own offsets.
func (s *Sorter[T]) Each(fn func(*T) error) error {
	s.mu.Lock()
	if s.err == nil && len(s.runs) > 0 && len(s.vals) > 0 {
		s.err = s.spill()
	}
	err, runs := s.err, s.runs
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		for _, i := range s.order() {
			if err := fn(&s.vals[i]); err != nil {
				return err
			}
		}
		return nil
	}
	open := func(f *os.File) (*fileCursor[T], error) {
		return &fileCursor[T]{r: bufio.NewReaderSize(io.NewSectionReader(f, 0, math.MaxInt64), 64<<10), s: s}, nil
	}
	less := func(a, b *fileCursor[T]) bool { return s.Cmp(&a.v, &b.v) < 0 }
	return Merge(runs, open, less, func(c *fileCursor[T]) error { return fn(&c.v) })
}

// Cleanup removes the runs.
func (s *Sorter[T]) Cleanup() {
	for _, f := range s.runs {
		RemoveTemp(f)
	}
	s.runs = nil
}

// fileCursor reads one run of a Sorter during the merge.
type fileCursor[T any] struct {
	r    *bufio.Reader
	s    *Sorter[T]
	buf  []byte
	v    T
	done bool
}

func (c *fileCursor[T]) Done() bool { return c.done }
func (c *fileCursor[T]) Close()     {} // the sorter's Cleanup closes the files

// Next reads the cursor's next value, or marks the run done.
func (c *fileCursor[T]) Next() error {
	n, err := binary.ReadUvarint(c.r)
	if errors.Is(err, io.EOF) {
		c.done = true
		return nil
	}
	if err != nil || n > 1<<30 {
		return fmt.Errorf("%s spool: corrupt run", c.s.What)
	}
	c.buf = slices.Grow(c.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return fmt.Errorf("%s spool: %w", c.s.What, err)
	}
	if err := c.s.Dec(c.buf, &c.v); err != nil {
		return fmt.Errorf("%s spool: %w", c.s.What, err)
	}
	return nil
}

// Cursor is one run being read during a merge.
type Cursor interface {
	Next() error // moves to the next record, or marks the run done
	Done() bool  // no record left
	Close()      // releases the run's file if the merge stops early
}

// Merge is the k-way merge: it opens a cursor on every
// run and calls emit with the cursor whose record comes first, until all
// runs are done. less must be a total order (runs tie-break on their
// input index, and (start, ID) is unique within an input), so the output
// does not depend on the order of runs.
func Merge[R any, C Cursor](runs []R, open func(R) (C, error), less func(a, b C) bool, emit func(C) error) error {
	h := &cursorHeap[C]{less: less}
	var opened []C
	defer func() {
		for _, c := range opened {
			c.Close()
		}
	}()
	for _, r := range runs {
		c, err := open(r)
		if err != nil {
			return err
		}
		opened = append(opened, c)
		if err := c.Next(); err != nil {
			return err
		}
		if !c.Done() {
			h.items = append(h.items, c)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		c := h.items[0]
		if err := emit(c); err != nil {
			return err
		}
		if err := c.Next(); err != nil {
			return err
		}
		if c.Done() {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	return nil
}

// cursorHeap orders the cursors of a merge by their current record.
type cursorHeap[C any] struct {
	items []C
	less  func(a, b C) bool
}

func (h *cursorHeap[C]) Len() int           { return len(h.items) }
func (h *cursorHeap[C]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *cursorHeap[C]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *cursorHeap[C]) Push(x any)         { h.items = append(h.items, x.(C)) }
func (h *cursorHeap[C]) Pop() any {
	c := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return c
}
