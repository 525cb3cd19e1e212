//go:build unix

package logs

import (
	"syscall"
	"time"
)

// cpuTime is the user+system CPU time of this process. Benchmarks report
// lines per CPU-second as well as per wall second because the build
// machine is shared: wall time measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
