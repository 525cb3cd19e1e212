package enrich

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Verify checks a database file completely: it must open as a MaxMind
// DB, its metadata must make sense, the search tree and data section must
// pass maxminddb's full walk, and every record the tree points to must
// decode in the layout its database_type implies. A broken or truncated
// file yields an error naming the file, never a panic.
func Verify(path string) (info DatabaseInfo, err error) {
	db, err := openFile(path, DefaultMappings())
	if err != nil {
		return DatabaseInfo{}, err
	}
	defer db.close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("verify %s: %w: %v", path, ErrNotDatabase, r)
		}
	}()
	md := db.reader.Metadata
	var problems []string
	if md.BinaryFormatMajorVersion != 2 {
		problems = append(problems, fmt.Sprintf("binary format %d.%d (want 2.x)", md.BinaryFormatMajorVersion, md.BinaryFormatMinorVersion))
	}
	if md.DatabaseType == "" {
		problems = append(problems, "empty database_type")
	}
	if md.BuildEpoch == 0 {
		problems = append(problems, "build_epoch is 0")
	}
	if md.NodeCount == 0 {
		problems = append(problems, "node_count is 0")
	}
	if len(problems) > 0 {
		return db.info, fmt.Errorf("verify %s: metadata: %s", path, strings.Join(problems, "; "))
	}
	if err := db.reader.Verify(); err != nil {
		return db.info, fmt.Errorf("verify %s: %w", path, err)
	}
	seen := map[uintptr]bool{}
	n := 0
	for res := range db.reader.Networks() {
		if err := res.Err(); err != nil {
			return db.info, fmt.Errorf("verify %s: walk after %d networks: %w", path, n, err)
		}
		n++
		if seen[res.Offset()] {
			continue
		}
		seen[res.Offset()] = true
		if _, err := db.decode(res); err != nil {
			return db.info, fmt.Errorf("verify %s: network %s: %w", path, res.Prefix(), err)
		}
	}
	return db.info, nil
}

// ErrExists is returned by Import when the data dir already holds the
// database (same content hash); the existing file is left as it is.
var ErrExists = errors.New("already imported")

// Import verifies a database and copies it into dir under its content
// hash (SHA256.mmdb), with its metadata beside it (SHA256.json). It never
// overwrites: a database imported twice returns ErrExists and the path of
// the copy already there.
func Import(path, dir string) (DatabaseInfo, string, error) {
	info, err := Verify(path)
	if err != nil {
		return info, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	dest := filepath.Join(dir, info.SHA256+".mmdb")
	meta := info
	meta.Path = ""
	meta.Origin = cmpOr(meta.Origin, "imported from "+filepath.Base(path))
	src, err := os.Open(path)
	if err != nil {
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".import-*")
	if err != nil {
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	// os.Link fails if dest exists: no overwrite, even under a race.
	if err := os.Link(tmp.Name(), dest); err != nil {
		if _, statErr := os.Stat(dest); statErr == nil {
			return info, dest, fmt.Errorf("import %s: %w as %s", path, ErrExists, dest)
		}
		return info, "", fmt.Errorf("import %s: %w", path, err)
	}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	mf, err := os.OpenFile(filepath.Join(dir, info.SHA256+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		_, err = mf.Write(append(mb, '\n'))
		err = errors.Join(err, mf.Close())
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return info, dest, fmt.Errorf("import %s: metadata: %w", path, err)
	}
	return info, dest, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
