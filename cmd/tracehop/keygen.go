package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type keygenOptions struct {
	g    *globalOptions
	Args []string
}

func newKeygenCmd(g *globalOptions, runF func(*keygenOptions) error) *cobra.Command {
	opts := &keygenOptions{g: g}
	return &cobra.Command{
		Use:   "keygen",
		Short: "make an Ed25519 key pair for signing bundles",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("keygen: not implemented yet")
		},
	}
}
