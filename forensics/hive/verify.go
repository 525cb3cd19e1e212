package hive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// Check is one verification step on a table (the same shape as a report
// bundle's checks, so `tracehop verify` prints both alike).
type Check struct {
	File   string `json:"file"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// maxManifest bounds what Verify reads of manifest.json.
const maxManifest = 64 << 20

// IsTable reports whether dir is a directory holding a table's manifest
// (schema tracehop-parquet/…) rather than a report bundle's or evidence.
// It opens nothing but a regular manifest.json: a named pipe in its place
// would block the open.
func IsTable(dir string) bool {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false
	}
	b, err := readBounded(dir, FileManifest)
	if err != nil {
		return false
	}
	var head struct {
		Schema string `json:"schema"`
	}
	return json.Unmarshal(b, &head) == nil && head.Schema == ManifestSchema
}

func readBounded(dir, name string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := openRegular(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err == nil && len(b) > maxManifest {
		err = fmt.Errorf("%s is larger than %d bytes", name, maxManifest)
	}
	return b, err
}

// Verify checks the table in dir: manifest.json is well-formed; every file
// it lists has the listed size, SHA-256 and row count and is a readable
// Parquet file; the rows add up; SHA256SUMS says the same; and no
// unlisted file sits in the directory. Failures are checks, not errors;
// the error is for a directory that cannot be read at all.
func Verify(dir string) ([]Check, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: open table: %w", err)
	}
	defer root.Close()
	var checks []Check
	add := func(file string, ok bool, format string, args ...any) {
		checks = append(checks, Check{File: file, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	b, err := readBounded(dir, FileManifest)
	if err != nil {
		add(FileManifest, false, "unreadable: %v", err)
		return checks, nil
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Schema != ManifestSchema {
		add(FileManifest, false, "not a table manifest (%s): %v", ManifestSchema, err)
		return checks, nil
	}
	add(FileManifest, true, "%s table, %d rows in %d files, %d inputs", m.Table, m.Rows, len(m.Files), len(m.Inputs))

	listed := map[string]bool{FileManifest: true, FileSums: true}
	var rows int64
	var sums bytes.Buffer
	for _, f := range m.Files {
		listed[f.Path] = true
		sums.WriteString(f.SHA256 + "  " + f.Path + "\n")
		n, sum, got, err, perr := checkFile(root, f.Path)
		switch {
		case err != nil:
			add(f.Path, false, "%v", err)
		case n != f.Size || sum != f.SHA256:
			add(f.Path, false, "changed: %d bytes, SHA-256 %s; the manifest says %d bytes, %s", n, sum, f.Size, f.SHA256)
		case perr != nil:
			add(f.Path, false, "not a readable Parquet file: %v", perr)
		case got != f.Rows:
			add(f.Path, false, "%d rows; the manifest says %d", got, f.Rows)
		default:
			add(f.Path, true, "%d rows, SHA-256 matches", got)
		}
		rows += f.Rows
	}
	add(FileManifest, rows == m.Rows, "files hold %d rows; the manifest says %d", rows, m.Rows)
	if s, err := readBounded(dir, FileSums); err != nil {
		add(FileSums, false, "unreadable: %v", err)
	} else {
		if bytes.Equal(s, sums.Bytes()) {
			add(FileSums, true, "agrees with manifest.json")
		} else {
			add(FileSums, false, "differs from the files manifest.json lists")
		}
	}
	var extra []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !listed[p] {
			extra = append(extra, p)
		}
		return nil
	})
	if err != nil {
		add(".", false, "walk: %v", err)
	} else {
		slices.Sort(extra)
		if len(extra) == 0 {
			add(".", true, "no file beside the listed ones")
		} else {
			add(".", false, "%d file(s) not in the manifest: %q", len(extra), extra)
		}
	}
	return checks, nil
}

// checkFile hashes one file of the table (err: it cannot be read) and
// reads its row count from the Parquet footer (perr: it is not a readable
// Parquet file; a tampered file may make the reader panic, which is
// caught and reported).
func checkFile(root *os.Root, name string) (size int64, sum string, rows int64, err, perr error) {
	f, err := openRegular(root, name)
	if err != nil {
		return 0, "", 0, err, nil
	}
	defer f.Close()
	h := sha256.New()
	if size, err = io.Copy(h, f); err != nil {
		return 0, "", 0, err, nil
	}
	sum = hex.EncodeToString(h.Sum(nil))
	defer func() {
		if r := recover(); r != nil {
			perr = fmt.Errorf("the Parquet reader failed: %v", r)
		}
	}()
	pf, perr := parquet.OpenFile(f, size)
	if perr != nil {
		return size, sum, 0, nil, perr
	}
	return size, sum, pf.NumRows(), nil, nil
}

// openRegular opens name in root only if it is a regular file (not
// followed through a symlink): opening a named pipe or a device planted
// in a table would block or read forever.
func openRegular(root *os.Root, name string) (*os.File, error) {
	st, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", name, st.Mode().Type())
	}
	return root.Open(name)
}
