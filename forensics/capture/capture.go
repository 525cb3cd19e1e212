package capture

import (
	"context"
	"io"

	"github.com/tracehop/tracehop/forensics"
)

// Options tune capture reading.
type Options struct{}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{} }

// Stats counts what a read saw.
type Stats struct {
	Packets   int64
	Bytes     int64
	Malformed int64
	Problems  []forensics.Problem
	Caps      []forensics.CapHit
}

// Read decodes a capture stream and emits flows. (placeholder)
func Read(ctx context.Context, r io.Reader, file string, opts Options, emit func(forensics.Flow)) (Stats, error) {
	return Stats{}, nil
}
