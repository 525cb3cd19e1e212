//go:build unix

package casefile

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system, all threads) of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
