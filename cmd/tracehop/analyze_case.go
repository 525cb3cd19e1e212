package main

import (
	"context"
	"errors"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
)

// analyzeIntoCase runs analyze with --case: inputs are added to the case
// file and the report covers the whole case.
func analyzeIntoCase(ctx context.Context, opts *analyzeOptions, aopts analyze.Options) (*forensics.Case, error) {
	return nil, errors.New("--case: case files are not available in this build yet")
}
