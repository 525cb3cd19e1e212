package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics/hive"
	"github.com/tracehop/tracehop/forensics/report"
)

type verifyOptions struct {
	g   *globalOptions
	Dir string
	Key string
}

func newVerifyCmd(g *globalOptions, runF func(*verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{g: g}
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check a bundle's manifest, custody chain and signature, or a Parquet table's files",
		Long: `verify re-hashes every file of a report bundle against manifest.json, checks
that no file was added, that the manifest's own digest recomputes, that the
custody.jsonl hash chain is intact and names the bundle's files, and that
manifest.sig verifies. With --key the signature must be by that public key;
without it a signature is checked against the key the manifest names, which
proves integrity but not who signed. Each check prints one line; the exit
status is 2 when any check fails.

On a Parquet table (flows|events|sessions --format parquet --out DIR) it
re-hashes every file against manifest.json, reads each file's row count from
its footer, and checks SHA256SUMS and that no file was added. Tables are not
signed; --key is refused for them.`,
		Example: `  tracehop verify tracehop-report
  tracehop verify tracehop-report --key examiner.pub --format json
  tracehop verify events-table/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Key, "key", "", "PEM Ed25519 public key the bundle must be signed with (from tracehop keygen)")
	return cmd
}

func runVerify(_ context.Context, opts *verifyOptions) error {
	var res *report.VerifyResult
	if hive.IsTable(opts.Dir) {
		if opts.Key != "" {
			return fmt.Errorf("verify %s: a Parquet table is not signed; --key is for report bundles", opts.Dir)
		}
		checks, err := hive.Verify(opts.Dir)
		if err != nil {
			return inputError(err)
		}
		res = &report.VerifyResult{}
		for _, c := range checks {
			res.Checks = append(res.Checks, report.Check(c))
		}
	} else {
		var err error
		if res, err = report.Verify(opts.Dir, opts.Key); err != nil {
			return inputError(err)
		}
	}
	w := opts.g.io.Out
	switch opts.g.Format {
	case "json":
		// HTML characters escaped, as this output always had them.
		if err := writeJSONHTML(w, res, "  ", true); err != nil {
			return err
		}
	case "", "text":
		for _, c := range res.Checks {
			status := "ok  "
			if !c.OK {
				status = "FAIL"
			}
			// File names and details come from the bundle checked.
			fmt.Fprintln(w, safeText(fmt.Sprintf("%s  %s: %s", status, c.File, c.Detail)))
		}
	default:
		return fmt.Errorf("verify: unknown --format %q (want text or json)", opts.g.Format)
	}
	if f := res.Failures(); len(f) > 0 {
		return inputError(fmt.Errorf("verify %s: %d check(s) failed, first: %s: %s", opts.Dir, len(f), f[0].File, f[0].Detail))
	}
	if !opts.g.Quiet {
		signed := "unsigned"
		if res.Signed {
			signed = "signed by " + res.SignerFingerprint
		}
		fmt.Fprintf(opts.g.io.ErrOut, "verify %s: all %d checks passed (%s)\n", opts.Dir, len(res.Checks), signed)
	}
	return nil
}
