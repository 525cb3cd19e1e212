package casefile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Block codecs. New blocks are written with codecS2; codecZstd blocks
// (cases written before) are still read.
//
// codecS2: json and keys are each an S2 block (klauspost/compress/s2)
// followed by the CRC-32C (Castagnoli, little endian) of the uncompressed
// bytes, so a damaged block is an error, not wrong records. S2 compresses
// record JSON about 7-fold (zstd's fastest level: 11-fold) but three times
// faster, and compressing the keys too (2- to 3-fold) makes up most of the
// difference: ingest is bound by compression, and S2 keeps `case add`
// above 300k rows/s on two cores (README, make bench-casefile).
//
// codecZstd: json is one zstd frame (with its checksum); keys are raw.
const (
	codecS2   = "s2"
	codecZstd = "zstd"
)

// maxBlockJSON bounds what a block may decompress to: blocks close at
// blockBytes, so anything far beyond is a damaged or hostile file.
const maxBlockJSON = 64 << 20

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// s2Pack appends to dst[:0] the codecS2 form of src.
func s2Pack(dst, src []byte) []byte {
	if n := s2.MaxEncodedLen(len(src)) + 4; cap(dst) < n {
		dst = make([]byte, n)
	}
	out := s2.Encode(dst[:cap(dst)], src)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(src, crc32c))
}

// s2Unpack decodes a codecS2 column into buf (grown as needed), checking
// its size before allocating and its checksum after.
func s2Unpack(buf, raw []byte) ([]byte, error) {
	if len(raw) < 4 {
		return nil, errors.New("s2 block too short")
	}
	body, sum := raw[:len(raw)-4], binary.LittleEndian.Uint32(raw[len(raw)-4:])
	n, err := s2.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("decompress block: %w", err)
	}
	if n > maxBlockJSON {
		return nil, fmt.Errorf("decompress block: %d bytes, over the %d limit", n, maxBlockJSON)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	out, err := s2.Decode(buf[:cap(buf)], body)
	if err != nil {
		return nil, fmt.Errorf("decompress block: %w", err)
	}
	if crc32.Checksum(out, crc32c) != sum {
		return nil, errors.New("decompress block: checksum mismatch")
	}
	return out, nil
}

// blockJSON returns a block's JSON Lines, decompressed if needed.
func (f *File) blockJSON(codec string, raw []byte) ([]byte, error) {
	switch codec {
	case "":
		return raw, nil
	case codecS2:
		out, err := s2Unpack(f.zbuf, raw)
		if err != nil {
			return nil, err
		}
		f.zbuf = out
		return out, nil
	case codecZstd:
		if f.zdec == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlockJSON))
			if err != nil {
				return nil, err
			}
			f.zdec = d
		}
		out, err := f.zdec.DecodeAll(raw, f.zbuf[:0])
		if err != nil {
			return nil, fmt.Errorf("decompress block: %w", err)
		}
		f.zbuf = out
		return out, nil
	}
	return nil, fmt.Errorf("block codec %q unknown to this build", codec)
}

// blockKeys returns a block's keys, decompressed if needed (the codec was
// checked by blockJSON).
func (f *File) blockKeys(codec string, raw []byte) ([]byte, error) {
	if codec != codecS2 {
		return raw, nil
	}
	out, err := s2Unpack(f.kbuf, raw)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	f.kbuf = out
	return out, nil
}
