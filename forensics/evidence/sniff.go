package evidence

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxSniffSkip bounds how far past an overlong first line detection
// reads (decompressed bytes).
const maxSniffSkip = 1 << 30

// sniffAfterFirstLine returns up to headSize bytes that follow the first
// newline of the file at path, read through a second, unhashed Source:
// what kind detection looks at when the first line alone fills the head
// (an attacker's or a corrupt first line must not hide the log behind
// it). It returns nil when there is no second line or it cannot be read.
func sniffAfterFirstLine(path string, opts Options, headSize int) []byte {
	o := opts
	o.Kind, o.MAC, o.NoSHA256, o.Progress = KindText, nil, true, nil
	s, err := Open(path, o)
	if err != nil {
		return nil
	}
	defer s.Close()
	br := bufio.NewReaderSize(io.LimitReader(s, maxSniffSkip+int64(headSize)), headSize)
	var skipped int64
	for {
		chunk, err := br.ReadSlice('\n')
		skipped += int64(len(chunk))
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) || skipped > maxSniffSkip {
			return nil
		}
	}
	sample, _ := br.Peek(headSize)
	if len(bytes.TrimSpace(sample)) == 0 {
		return nil
	}
	return bytes.Clone(sample)
}
