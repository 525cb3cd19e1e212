package evidence

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// corpus is ../shared/corpus beside the checkout; tests that need it skip
// cleanly when it is absent.
func corpus(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s absent: %v", rel, err)
	}
	return p
}

func readAll(t *testing.T, path string, opts Options) (*Source, []byte, string) {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.Close()
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	sum, _, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return s, b, sum
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(b, nil)
}

// pcapHeader builds a pcap global header in either byte order and
// resolution (the corpus only has little-endian microsecond files).
func pcapHeader(bigEndian, nanos bool) []byte {
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	h := make([]byte, 24)
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 65535)
	order.PutUint32(h[20:], 1)
	return h
}

func TestDetectKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string // corpus-relative, or testdata/...
		data []byte // used when path is empty
		want Kind
		enc  string
	}{
		{name: "pcap little-endian µs (corpus)", path: "corpus:pcap/zeek/get.pcap", want: KindPCAP},
		{name: "pcap big-endian µs", data: pcapHeader(true, false), want: KindPCAP},
		{name: "pcap little-endian ns", data: pcapHeader(false, true), want: KindPCAP},
		{name: "pcap big-endian ns", data: pcapHeader(true, true), want: KindPCAP},
		{name: "pcapng (corpus)", path: "corpus:pcap/zeek/pcapng-multi-interface.pcapng", want: KindPCAPNG},
		{name: "gzip pcap (corpus)", path: "corpus:pcap/zeek/tls-fragmented-handshake.pcap.gz", want: KindPCAP, enc: EncodingGzip},
		{name: "combined nginx (corpus)", path: "corpus:logs/nginx/beats-nginx-access-test.log", want: KindCombined},
		{name: "combined apache (corpus)", path: "corpus:logs/apache/elastic-examples-apache_logs.log", want: KindCombined},
		{name: "common log", data: []byte("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n"), want: KindCommon},
		{name: "sshd syslog (corpus)", path: "corpus:logs/sshd/loghub-OpenSSH_2k.log", want: KindSSHD},
		{name: "sshd auth.log (corpus)", path: "corpus:logs/sshd/beats-system-auth-test.log", want: KindSSHD},
		{name: "zeek tsv (corpus)", path: "corpus:expected/zeek/q-in-q.conn.log", want: KindZeekTSV},
		{name: "zeek json", path: "testdata/zeek-conn.json", want: KindZeekJSON},
		{name: "nfdump csv", path: "testdata/nfdump.csv", want: KindNfdumpCSV},
		{name: "json lines (API gateway)", path: "testdata/api.jsonl", want: KindJSONLines},
		{name: "demo gateway log", path: "../../testdata/demo/api.jsonl", want: KindJSONLines},
		{name: "demo rotated gzip log", path: "../../testdata/demo/access.log.1.gz", want: KindCombined, enc: EncodingGzip},
		{name: "demo capture", path: "../../testdata/demo/edge.pcap", want: KindPCAP},
		{name: "plain text", data: []byte("hello\nworld\n"), want: KindText},
		// copytruncate rotation leaves a hole of NULs and a cut line first
		{name: "combined after a NUL hole", data: []byte("\x00\x00\x00\x00ial line\" 200 12 \"-\" \"x\"\n" +
			"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326 \"-\" \"ua\"\n"), want: KindCombined},
		{name: "json lines after a cut line", data: []byte("ource.ip\":\"1.2.3.4\"}\n" +
			"{\"@timestamp\":\"2025-01-01T00:00:01Z\",\"source\":{\"ip\":\"1.2.3.5\"}}\n" +
			"{\"@timestamp\":\"2025-01-01T00:00:02Z\",\"source\":{\"ip\":\"1.2.3.6\"}}\n"), want: KindJSONLines},
		{name: "only NULs", data: make([]byte, 100), want: KindUnknown},
		// an overlong first line (attacker's or corrupt) fills the head
		{name: "combined after a 1 MB first line", data: []byte(strings.Repeat("A", 1<<20) + "\n" +
			"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326 \"-\" \"ua\"\n"), want: KindCombined},
		{name: "one overlong line only", data: []byte(strings.Repeat("A", 1<<17)), want: KindText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			switch {
			case strings.HasPrefix(path, "corpus:"):
				path = corpus(t, strings.TrimPrefix(path, "corpus:"))
			case path == "":
				path = writeTemp(t, "input", tc.data)
			}
			s, err := Open(path, DefaultOptions())
			if tc.want == KindUnknown {
				if !errors.Is(err, ErrUnknownKind) {
					t.Errorf("err %v, want ErrUnknownKind", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Kind != tc.want || s.Encoding != tc.enc {
				t.Errorf("kind %q encoding %q, want %q %q", s.Kind, s.Encoding, tc.want, tc.enc)
			}
		})
	}
}

func TestZstdTransparent(t *testing.T) {
	src := corpus(t, "logs/sshd/beats-system-auth-test.log")
	plain, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := writeTemp(t, "auth.log.zst", zst(t, plain))
	s, got, _ := readAll(t, p, DefaultOptions())
	if s.Kind != KindSSHD || s.Encoding != EncodingZstd || !bytes.Equal(got, plain) {
		t.Errorf("zstd: kind %q encoding %q, %d bytes (want %d)", s.Kind, s.Encoding, len(got), len(plain))
	}
}

func TestUnknownKindNamesFile(t *testing.T) {
	p := writeTemp(t, "mystery.bin", []byte{0x00, 0x01, 0x02, 0xff, 0x00, 0x10})
	_, err := Open(p, DefaultOptions())
	if !errors.Is(err, ErrUnknownKind) || !strings.Contains(err.Error(), "mystery.bin") {
		t.Fatalf("err = %v, want ErrUnknownKind naming the file", err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.pcap"), DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Fatalf("err = %v, want an error naming the file", err)
	}
}

// TestSHA256MatchesSha256sum: the hash recorded is the one `sha256sum`
// prints for the raw file as stored (compressed files included).
func TestSHA256MatchesSha256sum(t *testing.T) {
	for _, p := range []string{"../../testdata/demo/access.log.1.gz", "../../testdata/demo/edge.pcap", "testdata/api.jsonl"} {
		_, _, sum := readAll(t, p, DefaultOptions())
		raw, _ := os.ReadFile(p)
		want := sha256.Sum256(raw)
		if sum != hex.EncodeToString(want[:]) {
			t.Errorf("%s: sha256 %s, want %x", p, sum, want)
		}
		if path, err := exec.LookPath("sha256sum"); err == nil {
			out, err := exec.Command(path, p).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Fields(string(out))[0]; got != sum {
				t.Errorf("%s: sha256sum says %s, we say %s", p, got, sum)
			}
		}
	}
}

// TestFinishHashesUnreadTail: a parser that stops early (truncated record)
// still gets the hash of the whole file.
func TestFinishHashesUnreadTail(t *testing.T) {
	data := bytes.Repeat([]byte("x y z\n"), 100000)
	p := writeTemp(t, "big.txt", data)
	s, err := Open(p, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 10)
	s.Read(buf)
	sum, n, err := s.Finish()
	want := sha256.Sum256(data)
	if err != nil || sum != hex.EncodeToString(want[:]) || n != int64(len(data)) {
		t.Errorf("Finish = %s, %d, %v; want %x, %d", sum, n, err, want, len(data))
	}
}

// TestInputsNeverWritten: the file is opened O_RDONLY (a write through the
// handle fails) and its bytes and mtime are the same after a full read.
func TestInputsNeverWritten(t *testing.T) {
	p := writeTemp(t, "access.log", []byte("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2 \"-\" \"x\"\n"))
	os.Chmod(p, 0o644) // even when the mode would allow writing
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(p, old, old)
	before, _ := os.ReadFile(p)
	s, err := Open(p, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.Write([]byte("tamper")); err == nil {
		t.Fatal("write through the evidence handle succeeded: not opened read-only")
	}
	io.ReadAll(s)
	s.Finish()
	s.Close()
	after, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if !bytes.Equal(before, after) || !st.ModTime().Equal(old) {
		t.Errorf("input changed: bytes equal %v, mtime %v (want %v)", bytes.Equal(before, after), st.ModTime(), old)
	}
}

func TestTruncatedGzip(t *testing.T) {
	plain := bytes.Repeat([]byte("10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2 \"-\" \"x\"\n"), 20000)
	z := gz(t, plain)
	p := writeTemp(t, "cut.log.gz", z[:len(z)/2])
	s, err := Open(p, DefaultOptions())
	if err != nil {
		t.Fatal(err) // the head is intact: it opens, the error comes while reading
	}
	defer s.Close()
	got, err := io.ReadAll(s)
	if err == nil || !strings.Contains(err.Error(), "cut.log.gz") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF naming the file", err)
	}
	if len(got) == 0 || !bytes.HasPrefix(plain, got) {
		t.Errorf("%d bytes before the cut, want a prefix of the original", len(got))
	}
	if _, _, err := s.Finish(); err != nil {
		t.Errorf("Finish after a truncated stream: %v", err)
	}
}

// TestGzipBomb: 1 GiB of zeros compressed to about 1 MiB stops at the
// ratio cap with a clear error, and memory stays small while it streams.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GiB-expanding bomb")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.log.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	copy(zeros, "10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2 \"-\" \"x\"\n")
	for range 1024 {
		zw.Write(zeros)
		zeros[0] = '1'
		clear(zeros[:100])
	}
	zw.Close()
	f.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// NULs make it undetectable as text: name the kind as an analyst would
	// with --input-format, so the stream is really read.
	opts := DefaultOptions()
	opts.Kind = KindCombined
	s, err := Open(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := io.Copy(io.Discard, s)
	if !errors.Is(err, ErrDecompressionCap) || !strings.Contains(err.Error(), "bomb.log.gz") {
		t.Fatalf("after %d bytes err = %v, want ErrDecompressionCap naming the file", n, err)
	}
	if n >= 1<<30 {
		t.Errorf("read all %d bytes: the cap did not stop it", n)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 64<<20 {
		t.Errorf("heap grew by %d MiB while streaming the bomb", grew>>20)
	}
	// A size cap stops it too, whatever the ratio.
	s2, err := Open(p, Options{Kind: KindCombined, MaxDecompressed: 10 << 20, MaxRatio: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, err := io.Copy(io.Discard, s2); !errors.Is(err, ErrDecompressionCap) || n > 11<<20 {
		t.Errorf("size cap: %d bytes, err %v", n, err)
	}
}

func TestWalkSorted(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.log", "a/z.log", "a/y.pcap", ".hidden", "c.txt"} {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	got, err := Walk([]string{dir, filepath.Join(dir, "b.log")})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(dir, g)
		rel = append(rel, filepath.ToSlash(r))
	}
	if want := "a/y.pcap a/z.log b.log c.txt"; strings.Join(rel, " ") != want {
		t.Errorf("walk = %v, want %s", rel, want)
	}
	if _, err := Walk([]string{filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing input: err = %v", err)
	}
}

func TestCheckOutput(t *testing.T) {
	in := t.TempDir()
	file := filepath.Join(in, "a.log")
	os.WriteFile(file, []byte("x"), 0o644)
	other := t.TempDir()
	for _, tc := range []struct {
		name   string
		out    string
		inputs []string
		bad    bool
	}{
		{"inside input dir", filepath.Join(in, "report"), []string{in}, true},
		{"is the input dir", in, []string{in}, true},
		{"is an input file", file, []string{file}, true},
		{"beside the input file", filepath.Join(in, "report"), []string{file}, false},
		{"elsewhere", filepath.Join(other, "report"), []string{in}, false},
		{"dot-dot into input", filepath.Join(other, "..", filepath.Base(in), "r"), []string{in}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOutput(tc.out, tc.inputs)
			if (err != nil) != tc.bad {
				t.Errorf("CheckOutput(%s) = %v, want error %v", tc.out, err, tc.bad)
			}
		})
	}
}
