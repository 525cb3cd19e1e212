package evidence

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// MACKey is a random key, made for one input and never stored, for a MAC
// of that input's raw bytes. Its GCM nonces are block numbers, so one key
// must tag nothing but the two reads of one input: a nonce used for two
// different messages would leak the hash key. A command that must know an input's SHA-256 before
// it writes the first record reads the input twice: HashFileMAC hashes it
// (SHA-256 and MAC), and the parsing read carries only the MAC, which
// Source.RawMAC gives for comparison. The MAC is GMAC (AES-GCM with no
// plaintext) over 64 KiB blocks: on AES-NI and CLMUL hardware it runs ten
// times faster than SHA-256, and without the key nobody can change the
// bytes and keep the MAC, so equal MACs prove the parsed bytes are the
// ones the SHA-256 covers.
type MACKey struct {
	aead cipher.AEAD
}

// NewMACKey returns a MACKey with a fresh random key.
func NewMACKey() (*MACKey, error) {
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("mac key: %w", err)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("mac key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("mac key: %w", err)
	}
	return &MACKey{aead: aead}, nil
}

const macBlock = 64 << 10

func (k *MACKey) newMAC() *rawMAC {
	return &rawMAC{aead: k.aead, buf: make([]byte, 0, macBlock), tags: sha256.New()}
}

// rawMAC tags every 64 KiB block with GMAC under its index as nonce and
// hashes the tags in order: 16 bytes of SHA-256 per block.
type rawMAC struct {
	aead cipher.AEAD
	buf  []byte // a partial block
	n    uint64 // blocks tagged
	tag  []byte
	tags hash.Hash
}

func (m *rawMAC) Write(p []byte) (int, error) {
	n := len(p)
	if len(m.buf) > 0 {
		k := copy(m.buf[len(m.buf):cap(m.buf)], p)
		m.buf, p = m.buf[:len(m.buf)+k], p[k:]
		if len(m.buf) < macBlock {
			return n, nil
		}
		m.block(m.buf)
		m.buf = m.buf[:0]
	}
	for len(p) >= macBlock {
		m.block(p[:macBlock])
		p = p[macBlock:]
	}
	m.buf = append(m.buf, p...)
	return n, nil
}

func (m *rawMAC) block(b []byte) {
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[:8], m.n)
	m.n++
	m.tag = m.aead.Seal(m.tag[:0], nonce[:], nil, b)
	m.tags.Write(m.tag)
}

// sum tags the last partial block (GCM covers its length) and returns the
// hash of all tags.
func (m *rawMAC) sum() []byte {
	if len(m.buf) > 0 {
		m.block(m.buf)
		m.buf = m.buf[:0]
	}
	return m.tags.Sum(nil)
}

// HashFileMAC reads the file at path raw (read-only, not decompressed: the
// SHA-256 of evidence covers the bytes as stored) and returns its SHA-256
// in hex, its MAC under key (nil key: no MAC) and its size. Errors name
// the file as Open's do.
func HashFileMAC(path string, key *MACKey) (sum string, mac []byte, size int64, err error) {
	f, err := OpenRegular(path)
	if err != nil {
		return "", nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	var w io.Writer = h
	var m *rawMAC
	if key != nil {
		m = key.newMAC()
		w = io.MultiWriter(h, m)
	}
	// One large buffer: this read is all hashing, no parsing.
	buf := make([]byte, 64<<10)
	for {
		n, rerr := f.Read(buf)
		w.Write(buf[:n])
		size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", nil, size, fmt.Errorf("hash %s at byte %d: %w", path, size, rerr)
		}
	}
	if m != nil {
		mac = m.sum()
	}
	return hex.EncodeToString(h.Sum(nil)), mac, size, nil
}
