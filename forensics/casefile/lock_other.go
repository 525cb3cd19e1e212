//go:build !unix && !windows

package casefile

import "os"

// Without an advisory lock (wasm, plan9) SQLite's locking alone keeps
// writers apart; the PID message is not available.
func tryLock(f *os.File) error { return nil }

func unlock(f *os.File) {}
