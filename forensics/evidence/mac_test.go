package evidence

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMACProvesSameBytes: HashFileMAC's SHA-256 is the file's, and a
// second read (Options.MAC, NoSHA256, read in any pieces) gives the same
// MAC for the same bytes and another one when a byte, the length or the
// key differs.
func TestMACProvesSameBytes(t *testing.T) {
	key, err := NewMACKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var big bytes.Buffer
	for i := range 40000 {
		big.WriteString("line " + strings.Repeat("x", i%97) + "\n")
	}
	for name, data := range map[string][]byte{
		"empty.log": nil, "small.log": []byte("a b c\n"), "big.log": big.Bytes(),
		"exact.log": bytes.Repeat([]byte("0123456789abcdef"), macBlock/16*2),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			sum, mac, size, err := HashFileMAC(p, key)
			if err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(data)
			if sum != hex.EncodeToString(want[:]) || size != int64(len(data)) {
				t.Fatalf("HashFileMAC %s %d, want %x %d", sum, size, want, len(data))
			}
			reread := func(key *MACKey) []byte {
				if len(data) == 0 {
					m := key.newMAC()
					return m.sum()
				}
				s, err := Open(p, Options{Kind: KindText, MAC: key, NoSHA256: true})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				buf := make([]byte, 777) // odd pieces
				for {
					if _, err := s.Read(buf); err == io.EOF {
						break
					} else if err != nil {
						t.Fatal(err)
					}
				}
				got, _, err := s.Finish()
				if err != nil || got != "" {
					t.Fatalf("Finish with NoSHA256: %q, %v", got, err)
				}
				return s.RawMAC()
			}
			if got := reread(key); !bytes.Equal(got, mac) {
				t.Fatal("same bytes, different MAC")
			}
			other, _ := NewMACKey()
			if len(data) > 0 && bytes.Equal(reread(other), mac) {
				t.Fatal("another key gave the same MAC")
			}
			if len(data) == 0 {
				return
			}
			changed := bytes.Clone(data)
			changed[len(changed)/2] ^= 1
			for _, d := range [][]byte{changed, data[:len(data)-1], append(bytes.Clone(data), 0)} {
				if err := os.WriteFile(p, d, 0o644); err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(reread(key), mac) {
					t.Fatalf("changed file (%d bytes), same MAC", len(d))
				}
			}
		})
	}
}

// TestMACCoversRawBytes: for a compressed input the MAC, like the
// SHA-256, is of the bytes as stored.
func TestMACCoversRawBytes(t *testing.T) {
	key, _ := NewMACKey()
	p := filepath.Join(t.TempDir(), "a.log.gz")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.Repeat("192.0.2.1 - - [24/Jun/2025:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n", 3000)))
	zw.Close()
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, mac, _, err := HashFileMAC(p, key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(p, Options{MAC: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := io.Copy(io.Discard, s); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Finish()
	if err != nil || got != sum || !bytes.Equal(s.RawMAC(), mac) {
		t.Fatalf("Open read: SHA-256 %s MAC equal %v (%v), HashFileMAC %s", got, bytes.Equal(s.RawMAC(), mac), err, sum)
	}
}
