//go:build unix

package evidence

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A named pipe or a device given as evidence is refused at once: opening
// a FIFO would wait for a writer, and a stream cannot be read twice as
// hashing first needs. Streams come in on stdin as "-".
func TestOpenRefusesStreams(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, path := range []string{fifo, "/dev/null"} {
		done := make(chan error, 1)
		go func() {
			_, err := Open(path, Options{})
			_, _, herr := HashFile(path)
			done <- errors.Join(err, herr)
		}()
		select {
		case err := <-done:
			if err == nil || !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s: err %v, want ErrNotRegular", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Open blocked", path)
		}
	}
}
