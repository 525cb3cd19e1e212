package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type flowsOptions struct {
	g    *globalOptions
	Args []string
}

func newFlowsCmd(g *globalOptions, runF func(*flowsOptions) error) *cobra.Command {
	opts := &flowsOptions{g: g}
	return &cobra.Command{
		Use:   "flows",
		Short: "transport flows from captures and flow records",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("flows: not implemented yet")
		},
	}
}
