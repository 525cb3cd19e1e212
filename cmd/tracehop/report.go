package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type reportOptions struct {
	g    *globalOptions
	Args []string
}

func newReportCmd(g *globalOptions, runF func(*reportOptions) error) *cobra.Command {
	opts := &reportOptions{g: g}
	return &cobra.Command{
		Use:   "report",
		Short: "render the bundle from a case file",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("report: not implemented yet")
		},
	}
}
