package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Walk expands inputs into files: a file stays as given, a directory is
// walked recursively in lexical order (hidden files and directories are
// skipped, symlinked directories are not followed), "-" stays stdin.
// Duplicates are dropped keeping the first mention, so the order is
// deterministic for the same command line.
func Walk(inputs []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, in := range inputs {
		if in == "-" {
			add(in)
			continue
		}
		st, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
		if !st.IsDir() {
			add(in)
			continue
		}
		var files []string
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			if p != in && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			add(f)
		}
	}
	return out, nil
}

// CheckOutput refuses an output directory that lies inside (or is) an
// input directory, or that is an input file: evidence folders are never
// written to.
func CheckOutput(out string, inputs []string) error {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	absOut = resolve(absOut)
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		absIn, err := filepath.Abs(in)
		if err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
		absIn = resolve(absIn)
		if absOut == absIn {
			return fmt.Errorf("refusing to write %s: it is an input", out)
		}
		if st, err := os.Stat(absIn); err == nil && st.IsDir() {
			if rel, err := filepath.Rel(absIn, absOut); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return fmt.Errorf("refusing to write %s: it is inside the input directory %s", out, in)
			}
		}
	}
	return nil
}

// resolve follows symlinks of the longest existing prefix of p, so an
// output reached through a link is still caught.
func resolve(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// ErrNotRegular is returned for a path that names a FIFO, device or
// socket: evidence is a file; a stream is read from stdin as "-".
var ErrNotRegular = errors.New("not a regular file (give a stream as - on stdin)")

// OpenRegular opens a regular file read-only. A FIFO, device or socket
// is refused before it is opened (opening a FIFO waits for a writer, and
// a stream cannot be read twice); so is a directory.
func OpenRegular(path string) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, fmt.Errorf("open %s: is a directory", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, ErrNotRegular)
	}
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Checked again on the open file: the path may have changed since.
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory", path)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, ErrNotRegular)
	}
	return f, nil
}

// HashFile returns the SHA-256 and size of a file read-only: used to
// re-verify inputs before a report is written.
func HashFile(path string) (string, int64, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, fmt.Errorf("hash %s at byte %d: %w", path, n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
