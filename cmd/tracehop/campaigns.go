package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type campaignsOptions struct {
	g    *globalOptions
	Args []string
}

func newCampaignsCmd(g *globalOptions, runF func(*campaignsOptions) error) *cobra.Command {
	opts := &campaignsOptions{g: g}
	return &cobra.Command{
		Use:   "campaigns",
		Short: "campaigns with members and the links that join them",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("campaigns: not implemented yet")
		},
	}
}
