package trace

import "github.com/tracehop/tracehop/forensics"

// Options tune the stage.
type Options struct{}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{} }

// Build(events []forensics.Event, flows []forensics.Flow, campaigns []forensics.Campaign, opts Options) []forensics.Chain (placeholder)
func Build(events []forensics.Event, flows []forensics.Flow, campaigns []forensics.Campaign, opts Options) []forensics.Chain {
	return nil
}
