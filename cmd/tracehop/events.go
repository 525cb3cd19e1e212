package main

import (
	"errors"

	"github.com/spf13/cobra"
)

type eventsOptions struct {
	g    *globalOptions
	Args []string
}

func newEventsCmd(g *globalOptions, runF func(*eventsOptions) error) *cobra.Command {
	opts := &eventsOptions{g: g}
	return &cobra.Command{
		Use:   "events",
		Short: "one normalized event per log record",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return errors.New("events: not implemented yet")
		},
	}
}
