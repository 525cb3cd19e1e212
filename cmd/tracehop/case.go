package main

import (
	"github.com/spf13/cobra"
)

func newCaseCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "case",
		Short: "persistent case file work",
	}
}
