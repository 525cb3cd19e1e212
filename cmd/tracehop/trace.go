package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type traceOptions struct {
	g    *globalOptions
	Args []string
}

func newTraceCmd(g *globalOptions, runF func(*traceOptions) error) *cobra.Command {
	opts := &traceOptions{g: g}
	return &cobra.Command{
		Use:   "trace",
		Short: "hop chains per campaign or per --ip",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("trace: not implemented yet")
		},
	}
}
