package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// ioStreams are injected into every command so tests run in-process:
// data goes to Out, messages and progress to ErrOut.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY reports whether ErrOut is a terminal (progress bars only then).
	ErrTTY bool
}

func newIOStreams() *ioStreams {
	return &ioStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}
