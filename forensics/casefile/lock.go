package casefile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// LockedError is returned when another process holds a case open for
// writing.
type LockedError struct {
	Path string
	PID  int // 0 if the lock file did not say
}

// Error says who holds the case.
func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("case %s is open by PID %d", e.Path, e.PID)
	}
	return fmt.Sprintf("case %s is open by another process", e.Path)
}

// lockFile is the writer lock: an OS advisory lock on CASE.lock, which the
// kernel drops when the holder dies (kill -9 included), so a crash never
// leaves a stale lock. The file holds the holder's PID for the message a
// second writer gets. SQLite's own locking still serializes writes, so the
// lock file is about telling people, not about consistency.
type lockFile struct {
	f    *os.File
	path string
}

func acquireLock(casePath string) (*lockFile, error) {
	p := casePath + ".lock"
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock case %s: %w", casePath, err)
	}
	if err := tryLock(f); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, &LockedError{Path: casePath, PID: pid}
		}
		return nil, fmt.Errorf("lock case %s: %w", casePath, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lockFile{f: f, path: p}, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, _ := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	return pid
}

// release removes the lock file while still holding the lock, then drops
// it. A process that opened the file just before the removal fails its
// non-blocking lock while we hold it; one arriving after finds no file.
func (l *lockFile) release() error {
	os.Remove(l.path)
	unlock(l.f)
	return l.f.Close()
}

var errLocked = errors.New("locked")
