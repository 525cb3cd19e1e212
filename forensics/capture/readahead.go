package capture

import (
	"io"
	"sync"
)

// readAhead reads the underlying stream on its own goroutine into a few
// large buffers, so that what the stream costs to produce (the evidence
// layer's SHA-256, decompression, system calls) overlaps with decoding.
// stop must be called before the underlying reader is used again: it
// waits for the goroutine, so no read races with the caller's.
type readAhead struct {
	full chan []byte
	free chan []byte
	done chan struct{}
	wg   sync.WaitGroup
	cur  []byte
	back []byte // the buffer cur came from, returned when consumed
	err  error  // set by the goroutine before it closes full
	// ioErr is err as handed to the reader when it is not the end of the
	// stream: the input failed (I/O, decompression cap), not the format.
	ioErr error
	grown bool // the first, small buffer was made (goroutine only)
}

const (
	readAheadFirst = 64 << 10
	readAheadBuf   = 1 << 20
	readAheadCount = 4
)

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, readAheadCount),
		free: make(chan []byte, readAheadCount),
		done: make(chan struct{}),
	}
	for range readAheadCount {
		ra.free <- nil // allocated on first use
	}
	ra.wg.Go(func() {
		defer close(ra.full)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			if buf == nil {
				// Start small so that a directory of tiny captures (or a
				// fuzzer) does not pay for megabytes per stream; grow once
				// the stream proves large.
				size := readAheadBuf
				if !ra.grown {
					size, ra.grown = readAheadFirst, true
				}
				buf = make([]byte, size)
			}
			n, err := io.ReadFull(r, buf[:cap(buf)])
			if n > 0 {
				select {
				case ra.full <- buf[:n]:
				case <-ra.done:
					return
				}
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF // a short last buffer is the end of the stream
				}
				ra.err = err
				return
			}
		}
	})
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.back != nil {
			ra.free <- ra.back
			ra.back = nil
		}
		b, ok := <-ra.full
		if !ok {
			if ra.err != io.EOF {
				ra.ioErr = ra.err
			}
			return 0, ra.err
		}
		ra.cur, ra.back = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// stop ends the goroutine and waits for it.
func (ra *readAhead) stop() {
	close(ra.done)
	for range ra.full { // unblock a pending send
	}
	ra.wg.Wait()
}
