package enrich

import (
	"net/netip"
	"time"
)

// Options choose the databases (placeholder until enrichment lands).
type Options struct {
	Paths      []string
	Home       string
	NoEmbedded bool
}

// Enricher answers lookups; safe for concurrent use.
type Enricher struct{ opts Options }

// New opens the databases in lookup order.
func New(opts Options) (*Enricher, error) { return &Enricher{opts: opts}, nil }

// Lookup enriches ip as of time at (zero: newest build).
func (e *Enricher) Lookup(ip netip.Addr, at time.Time) Record {
	return Record{IP: ip}
}

// Databases lists the builds in use.
func (e *Enricher) Databases() []DatabaseInfo { return nil }

// Close releases the databases.
func (e *Enricher) Close() error { return nil }
