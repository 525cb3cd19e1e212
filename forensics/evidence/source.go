package evidence

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Errors callers can test for with errors.Is.
var (
	// ErrUnknownKind means the content matched no supported format.
	ErrUnknownKind = errors.New("unknown input kind")
	// ErrDecompressionCap means a compressed input expanded past the size
	// or ratio cap (a decompression bomb, or a cap set too low).
	ErrDecompressionCap = errors.New("decompression cap reached")
)

// Options bound what Open will do with an input.
type Options struct {
	// Kind overrides detection (--input-format); empty means detect.
	Kind Kind
	// MaxDecompressed caps the decompressed size of one input in bytes.
	MaxDecompressed int64
	// MaxRatio caps decompressed/compressed bytes once RatioGrace bytes
	// have come out, which stops bombs early without tripping on small,
	// highly compressible files.
	MaxRatio   int64
	RatioGrace int64
	// HeadSize is how much decompressed data is sniffed for the kind.
	HeadSize int
	// Progress, when set, is advanced by every raw byte read (for
	// progress bars across parallel inputs).
	Progress *atomic.Int64
}

// DefaultOptions: a 64 GiB output cap and a 250:1 ratio after 64 MiB.
// Real logs and captures compress 3:1 to 50:1; 250:1 is only reached by
// runs of identical bytes.
func DefaultOptions() Options {
	return Options{MaxDecompressed: 64 << 30, MaxRatio: 250, RatioGrace: 64 << 20, HeadSize: 64 << 10}
}

// Source is one opened input: a read-only file (or stdin), hashed as it
// streams, transparently decompressed, with its kind detected. Read gives
// the decompressed bytes; SHA256 covers the raw bytes as stored.
type Source struct {
	// Path is the path as given ("-" for stdin).
	Path string
	// Name is how the input is cited in outputs (the path, or "stdin").
	Name     string
	Size     int64
	Kind     Kind
	Encoding string
	// Head is the first decompressed bytes, as sniffed (for refinement
	// by the log parser's own detector).
	Head []byte

	f       *os.File
	hasher  hash.Hash
	raw     *countingReader // raw bytes, through the hasher
	r       io.Reader       // decompressed stream, head included
	closers []func()
	out     int64
}

// Open opens path read-only (O_RDONLY; "-" is stdin), detects its
// encoding and kind, and returns a Source positioned at the first
// decompressed byte. An unknown kind is an error naming the file.
func Open(path string, opts Options) (*Source, error) {
	if opts.HeadSize == 0 {
		opts = withDefaults(opts)
	}
	s := &Source{Path: path, Name: path, hasher: sha256.New()}
	if path == "-" {
		s.Name = "stdin"
		s.f = os.Stdin
	} else {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stat %s: %w", path, err)
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("open %s: is a directory", path)
		}
		s.f, s.Size = f, st.Size()
	}
	s.raw = &countingReader{r: io.TeeReader(s.f, s.hasher), progress: opts.Progress}
	rawBuf := bufio.NewReaderSize(s.raw, 64<<10)
	magic, _ := rawBuf.Peek(4)
	s.Encoding = sniffEncoding(magic)

	var dec io.Reader = rawBuf
	switch s.Encoding {
	case EncodingGzip:
		zr, err := gzip.NewReader(rawBuf)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: gzip header: %w", s.Name, err)
		}
		zr.Multistream(true)
		s.closers = append(s.closers, func() { zr.Close() })
		dec = zr
	case EncodingZstd:
		zr, err := zstd.NewReader(rawBuf, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: zstd header: %w", s.Name, err)
		}
		s.closers = append(s.closers, zr.Close)
		dec = zr
	}
	if s.Encoding != EncodingNone {
		dec = &cappedReader{r: dec, raw: s.raw, name: s.Name, max: opts.MaxDecompressed, ratio: opts.MaxRatio, grace: opts.RatioGrace}
	}
	br := bufio.NewReaderSize(dec, opts.HeadSize)
	head, err := br.Peek(opts.HeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		// A truncated compressed file can fail inside the head: still
		// detect from what came out, the parser will meet the error again.
		if len(head) == 0 {
			s.Close()
			return nil, fmt.Errorf("read %s: %w", s.Name, err)
		}
	}
	s.r = br
	s.Head = head
	s.Kind = opts.Kind
	if s.Kind == KindUnknown {
		s.Kind = Detect(head)
	}
	if s.Kind == KindUnknown {
		s.Close()
		if len(head) == 0 {
			return nil, fmt.Errorf("%s: empty input: %w", s.Name, ErrUnknownKind)
		}
		return nil, fmt.Errorf("%s: %w (first bytes % x)", s.Name, ErrUnknownKind, head[:min(8, len(head))])
	}
	return s, nil
}

func withDefaults(o Options) Options {
	d := DefaultOptions()
	d.Kind = o.Kind
	d.Progress = o.Progress
	if o.MaxDecompressed > 0 {
		d.MaxDecompressed = o.MaxDecompressed
	}
	if o.MaxRatio > 0 {
		d.MaxRatio = o.MaxRatio
	}
	if o.RatioGrace > 0 {
		d.RatioGrace = o.RatioGrace
	}
	return d
}

// Read reads decompressed bytes. Errors other than EOF name the input and
// the decompressed offset, so a truncated .gz says where it broke.
func (s *Source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.out += int64(n)
	if err != nil && err != io.EOF {
		if errors.Is(err, ErrDecompressionCap) {
			return n, err
		}
		return n, fmt.Errorf("read %s at decompressed byte %d: %w", s.Name, s.out, err)
	}
	return n, err
}

// Finish reads whatever raw bytes the parser left unread into the hash
// (a parser may stop early on a truncated record) and returns the SHA-256
// of the whole raw input and its size in bytes.
func (s *Source) Finish() (sum string, size int64, err error) {
	if _, err := io.Copy(io.Discard, s.raw); err != nil {
		return "", s.raw.n, fmt.Errorf("hash %s at byte %d: %w", s.Name, s.raw.n, err)
	}
	if s.Size == 0 {
		s.Size = s.raw.n
	}
	return hex.EncodeToString(s.hasher.Sum(nil)), s.raw.n, nil
}

// RawOffset is how many raw (compressed) bytes have been read so far.
func (s *Source) RawOffset() int64 { return s.raw.n }

// Close releases the decompressor and the file (never stdin).
func (s *Source) Close() error {
	for _, c := range s.closers {
		c()
	}
	s.closers = nil
	if s.f != nil && s.f != os.Stdin {
		err := s.f.Close()
		s.f = nil
		return err
	}
	return nil
}

type countingReader struct {
	r        io.Reader
	n        int64
	progress *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress.Add(int64(n))
	}
	return n, err
}

// cappedReader stops a decompressor at the size or ratio cap.
type cappedReader struct {
	r             io.Reader
	raw           *countingReader
	name          string
	n, max, ratio int64
	grace         int64
	err           error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	switch {
	case c.max > 0 && c.n > c.max:
		c.err = fmt.Errorf("%s: %w: more than %d bytes decompressed", c.name, ErrDecompressionCap, c.max)
	case c.ratio > 0 && c.n > c.grace && c.n > c.ratio*max(c.raw.n, 1):
		c.err = fmt.Errorf("%s: %w: ratio above %d:1 after %d bytes out of %d in (decompression bomb?)", c.name, ErrDecompressionCap, c.ratio, c.n, c.raw.n)
	}
	if c.err != nil {
		return n, c.err
	}
	return n, err
}
