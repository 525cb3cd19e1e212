package main

import (
	"fmt"
	"io"
	"time"

	"github.com/tracehop/tracehop/forensics/analyze"
)

// startProgress draws one status line on w (a terminal) until stop is
// called: bytes read of total, records, rate and ETA.
func startProgress(w io.Writer, p *analyze.Progress) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprint(w, "\r\033[K"+progressLine(p, time.Since(start)))
			}
		}
	}()
	return func() { close(done); <-finished }
}

func progressLine(p *analyze.Progress, elapsed time.Duration) string {
	read, total := p.BytesRead.Load(), p.BytesTotal.Load()
	rate := float64(read) / max(elapsed.Seconds(), 0.001)
	line := humanBytes(read)
	if total > 0 {
		pct := min(100*float64(read)/float64(total), 100)
		line += fmt.Sprintf(" / %s (%.0f%%)", humanBytes(total), pct)
	}
	line += fmt.Sprintf("  %d records  %s/s", p.Records.Load(), humanBytes(int64(rate)))
	if total > read && rate > 0 {
		eta := time.Duration(float64(total-read) / rate * float64(time.Second))
		line += "  ETA " + eta.Round(time.Second).String()
	}
	return line
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
