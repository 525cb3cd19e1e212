package session

import "github.com/tracehop/tracehop/forensics"

// Options tune the stage.
type Options struct{}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{} }

// Build(events []forensics.Event, flows []forensics.Flow, opts Options) []forensics.Session (placeholder)
func Build(events []forensics.Event, flows []forensics.Flow, opts Options) []forensics.Session {
	return nil
}
