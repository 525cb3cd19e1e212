package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics/report"
)

type keygenOptions struct {
	g      *globalOptions
	Prefix string
}

func newKeygenCmd(g *globalOptions, runF func(*keygenOptions) error) *cobra.Command {
	opts := &keygenOptions{g: g}
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an Ed25519 key pair for signing bundles",
		Long: `keygen writes PREFIX.key (PKCS #8 PEM private key, mode 0600) and PREFIX.pub
(PKIX PEM public key) and prints the key's fingerprint. It never overwrites.
Sign a bundle with 'tracehop analyze --sign PREFIX.key'; give PREFIX.pub to
whoever checks it with 'tracehop verify DIR --key PREFIX.pub'. The files are
ordinary PEM: openssl pkey -in PREFIX.key -pubout reads them.`,
		Example: `  tracehop keygen --out examiner`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runKeygen(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Prefix, "out", "o", "tracehop-signing", "path prefix of the key files (PREFIX.key, PREFIX.pub)")
	return cmd
}

func runKeygen(_ context.Context, opts *keygenOptions) error {
	priv, pub := opts.Prefix+".key", opts.Prefix+".pub"
	fp, err := report.GenerateKey(priv, pub, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.g.io.Out, "private key %s\npublic key  %s\nfingerprint %s\n", priv, pub, fp)
	return nil
}
