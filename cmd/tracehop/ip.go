package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type ipOptions struct {
	g    *globalOptions
	Args []string
}

func newIPCmd(g *globalOptions, runF func(*ipOptions) error) *cobra.Command {
	opts := &ipOptions{g: g}
	return &cobra.Command{
		Use:   "ip",
		Short: "enrichment of addresses",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("ip: not implemented yet")
		},
	}
}
