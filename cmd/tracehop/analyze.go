package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type analyzeOptions struct {
	g    *globalOptions
	Args []string
}

func newAnalyzeCmd(g *globalOptions, runF func(*analyzeOptions) error) *cobra.Command {
	opts := &analyzeOptions{g: g}
	return &cobra.Command{
		Use:   "analyze INPUT...",
		Short: "one shot: ingest, enrich, correlate, write the report bundle to --out",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("analyze: not implemented yet")
		},
	}
}
