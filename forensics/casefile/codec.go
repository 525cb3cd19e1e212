package casefile

import (
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// codecZstd marks a block whose JSON is zstd-compressed. JSON Lines of
// records compress about eightfold, which makes the case that much smaller
// and, since SQLite writes every page twice (log, then checkpoint), ingest
// faster despite the compression.
const codecZstd = "zstd"

// maxBlockJSON bounds what a block may decompress to: blocks close at
// blockBytes, so anything far beyond is a damaged or hostile file.
const maxBlockJSON = 64 << 20

func (f *File) encoder() (*zstd.Encoder, error) {
	if f.zenc == nil {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(max(1, runtime.GOMAXPROCS(0))), zstd.WithEncoderCRC(true))
		if err != nil {
			return nil, err
		}
		f.zenc = e
	}
	return f.zenc, nil
}

// blockJSON returns a block's JSON Lines, decompressed if needed.
func (f *File) blockJSON(codec string, raw []byte) ([]byte, error) {
	switch codec {
	case "":
		return raw, nil
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
