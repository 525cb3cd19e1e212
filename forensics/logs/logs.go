package logs

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// Options tune log parsing.
type Options struct {
	Format      string
	LogFormat   string
	TZ          *time.Location
	ClockOffset time.Duration
	TrustProxy  []netip.Prefix
	Fields      map[string]string
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{TZ: time.UTC} }

// Stats counts what a read saw.
type Stats struct {
	Lines     int64
	Bytes     int64
	Malformed int64
	Problems  []forensics.Problem
	Caps      []forensics.CapHit
}

// Detect names the log format of a file from its first bytes, or "".
func Detect(head []byte) string { return "" }

// Read parses a log stream of the given format. (placeholder)
func Read(ctx context.Context, r io.Reader, file, format string, opts Options, emitEvent func(forensics.Event), emitFlow func(forensics.Flow)) (Stats, error) {
	return Stats{}, nil
}
