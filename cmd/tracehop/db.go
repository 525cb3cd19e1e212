package main

import (
	"github.com/spf13/cobra"
)

func newDBCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "db",
		Short: "databases known, add a snapshot, check a file",
	}
}
