package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type verifyOptions struct {
	g    *globalOptions
	Args []string
}

func newVerifyCmd(g *globalOptions, runF func(*verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{g: g}
	return &cobra.Command{
		Use:   "verify",
		Short: "check a bundle's manifest, custody chain and signature",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("verify: not implemented yet")
		},
	}
}
