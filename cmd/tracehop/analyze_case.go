package main

import (
	"context"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
)

// analyzeIntoCase runs analyze with --case: inputs are added to the case
// file (created if missing) and the report covers the whole case.
func analyzeIntoCase(ctx context.Context, opts *analyzeOptions, aopts analyze.Options) (*forensics.Case, error) {
	return caseAnalyze(ctx, opts, aopts)
}
