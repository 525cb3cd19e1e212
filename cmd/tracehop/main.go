// Command tracehop is an offline IP-attribution forensic toolkit: it turns
// packet captures and server logs into enriched flows, events, sessions,
// campaigns and hop chains, and writes a reproducible evidence report.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/tracehop/tracehop/forensics/report"
)

func main() {
	setMemoryLimit(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := newRootCmd(newIOStreams()).ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes of DESIGN §3.
const (
	exitOK      = 0
	exitUsage   = 1
	exitInput   = 2
	exitSkipped = 3
	// exitInterrupted is the shell's code for a process ended by SIGINT
	// (128+2): the run was stopped, nothing it did is complete.
	exitInterrupted = 130
)

// exitError carries an exit code chosen by a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// inputError marks an error as "input unreadable or invalid" (exit 2).
func inputError(err error) error { return &exitError{code: exitInput, err: err} }

// skippedError marks a run that completed with malformed records skipped (exit 3).
func skippedError(err error) error { return &exitError{code: exitSkipped, err: err} }

// exitCode is the one place errors become exit codes.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "tracehop: interrupted: the output of this run is incomplete")
		return exitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintln(stderr, "tracehop:", safeText(ee.err.Error()))
		return ee.code
	}
	// cobra's own errors (unknown flag, bad args) and anything else a
	// command did not classify are usage errors.
	fmt.Fprintln(stderr, "tracehop:", safeText(err.Error()))
	return exitUsage
}

// safeText makes a message safe for the terminal line by line: errors
// quote file names found in evidence directories and evidence text,
// which may carry escape sequences, while joined errors keep their
// one-per-line layout.
func safeText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = report.TerminalSafe(l)
	}
	return strings.Join(lines, "\n")
}
