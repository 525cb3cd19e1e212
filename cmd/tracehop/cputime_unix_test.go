//go:build unix

package main

import (
	"syscall"
	"time"
)

// benchCPUTime is the user+system CPU time of this process: the build
// machine is shared, so benchmarks report lines per CPU-second too.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
