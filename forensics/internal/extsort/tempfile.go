package extsort

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// CreateTemp creates a spill file in the temporary directory (TMPDIR),
// opened for reading and writing. Where the system allows (not Windows,
// which cannot remove an open file), its name is removed at once: the
// file lives as long as it is open, so a run killed outright (SIGKILL,
// out of memory, power) leaves no gigabytes of evidence-derived spills
// behind. Use it through the returned file only; RemoveTemp ends it.
func CreateTemp(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name()) // a failure leaves the file to RemoveTemp
	}
	return f, nil
}

// RemoveTemp closes a file of CreateTemp and removes it if its name is
// still there.
func RemoveTemp(f *os.File) error {
	err := f.Close()
	if rerr := os.Remove(f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
