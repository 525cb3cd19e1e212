package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type sessionsOptions struct {
	g    *globalOptions
	Args []string
}

func newSessionsCmd(g *globalOptions, runF func(*sessionsOptions) error) *cobra.Command {
	opts := &sessionsOptions{g: g}
	return &cobra.Command{
		Use:   "sessions",
		Short: "sessions from events and flows",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("sessions: not implemented yet")
		},
	}
}
