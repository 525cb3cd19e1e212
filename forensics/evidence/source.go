package evidence

import (
	"bufio"
	"bytes"
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
	// MAC, when set, is fed every raw byte too (Source.RawMAC): a second
	// read of an input proves it saw the bytes of a first read, hashed
	// with SHA-256, by comparing MACs (see HashFileMAC).
	MAC *MACKey
	// NoSHA256 skips SHA-256 (Finish returns "" for it): only for a read
	// checked by MAC against a first read that hashed.
	NoSHA256 bool
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
	// Sample is what kind detection judged: Head, or, when a first line
	// fills all of Head, the bytes after that line. Format detection
	// further up (logs.Detect) should look at Sample.
	Sample []byte

	f       *os.File
	hasher  hash.Hash       // nil with Options.NoSHA256
	mac     *rawMAC         // nil without Options.MAC
	raw     *countingReader // raw bytes, through the hasher
	r       io.Reader       // decompressed stream, head included
	closers []func()
	out     int64
	// bufs are the buffers between a plain file and Read; once both are
	// drained, Read reads the file straight into the caller's buffer.
	bufs [2]*bufio.Reader
}

// Open opens path read-only (O_RDONLY; "-" is stdin), detects its
// encoding and kind, and returns a Source positioned at the first
// decompressed byte. An unknown kind is an error naming the file.
func Open(path string, opts Options) (*Source, error) {
	if opts.HeadSize == 0 {
		opts = withDefaults(opts)
	}
	s := &Source{Path: path, Name: path}
	if path == "-" {
		s.Name = "stdin"
		s.f = os.Stdin
	} else {
		f, err := OpenRegular(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stat %s: %w", path, err)
		}
		s.f, s.Size = f, st.Size()
	}
	var sink io.Writer
	if !opts.NoSHA256 {
		s.hasher = sha256.New()
		sink = s.hasher
	}
	if opts.MAC != nil {
		s.mac = opts.MAC.newMAC()
		if sink != nil {
			sink = io.MultiWriter(sink, s.mac)
		} else {
			sink = s.mac
		}
	}
	var raw io.Reader = s.f
	if sink != nil {
		raw = io.TeeReader(s.f, sink)
	}
	s.raw = &countingReader{r: raw, progress: opts.Progress}
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
	if s.Encoding == EncodingNone && s.f != os.Stdin {
		s.bufs = [2]*bufio.Reader{br, rawBuf}
	}
	s.Head, s.Sample = head, head
	s.Kind = opts.Kind
	if s.Kind == KindUnknown {
		s.Kind = Detect(head)
		if len(head) == 0 {
			s.Kind = KindEmpty
		}
		// One line fills the whole head: the lines after it decide.
		if s.Kind == KindText && path != "-" && len(head) == opts.HeadSize && bytes.IndexByte(head, '\n') < 0 {
			if sample := sniffAfterFirstLine(path, opts, opts.HeadSize); sample != nil {
				s.Sample = sample
				if k := Detect(sample); k != KindUnknown {
					s.Kind = k
				}
			}
		}
	}
	if s.Kind == KindUnknown {
		s.Close()
		return nil, fmt.Errorf("%s: %w (first bytes % x)", s.Name, ErrUnknownKind, head[:min(8, len(head))])
	}
	return s, nil
}

func withDefaults(o Options) Options {
	d := DefaultOptions()
	d.Kind = o.Kind
	d.Progress = o.Progress
	d.MAC, d.NoSHA256 = o.MAC, o.NoSHA256
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
	var n int
	var err error
	if s.bufs[0] != nil && s.bufs[0].Buffered() == 0 && s.bufs[1].Buffered() == 0 {
		n, err = s.raw.Read(p)
	} else {
		n, err = s.r.Read(p)
	}
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
	if s.hasher != nil {
		sum = hex.EncodeToString(s.hasher.Sum(nil))
	}
	return sum, s.raw.n, nil
}

// RawMAC is the MAC of every raw byte read (Options.MAC), nil without
// one. Call it once, after Finish.
func (s *Source) RawMAC() []byte {
	if s.mac == nil {
		return nil
	}
	return s.mac.sum()
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
