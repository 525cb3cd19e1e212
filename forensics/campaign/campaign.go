package campaign

import "github.com/tracehop/tracehop/forensics"

// Options tune the stage.
type Options struct{}

// DefaultOptions returns the defaults.
func DefaultOptions() Options { return Options{} }

// Build(sessions []forensics.Session, opts Options) []forensics.Campaign (placeholder)
func Build(sessions []forensics.Session, opts Options) []forensics.Campaign { return nil }
