package hive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/tracehop/tracehop/forensics"
)

// ReadSessions reads a sessions table back, file by file in manifest
// order, and calls each with every session: campaign building on session
// tables made elsewhere or earlier (DESIGN §9). The table is verified
// first (Verify); one that fails any check is refused, so what is read
// is what the manifest and its input hashes describe. Memory holds one
// batch of rows.
func ReadSessions(dir string, each func(*forensics.Session) error) (*Manifest, error) {
	checks, err := Verify(dir)
	if err != nil {
		return nil, err
	}
	for _, c := range checks {
		if !c.OK {
			return nil, fmt.Errorf("table %s fails verification: %s: %s", dir, c.File, c.Detail)
		}
	}
	b, err := readBounded(dir, FileManifest)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("table %s: %w", dir, err)
	}
	if m.Table != "sessions" {
		return nil, fmt.Errorf("table %s holds %s, not sessions", dir, m.Table)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, f := range m.Files {
		if err := readSessionFile(root, f.Path, each); err != nil {
			return nil, fmt.Errorf("table %s: %s: %w", dir, f.Path, err)
		}
	}
	return &m, nil
}

func readSessionFile(root *os.Root, name string, each func(*forensics.Session) error) (err error) {
	f, err := openRegular(root, name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// The file matched its manifest hash, but the manifest can be forged
	// along with it: a reader panic is an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the Parquet reader failed: %v", r)
		}
	}()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	r := parquet.NewGenericReader[sessionRow](pf)
	defer r.Close()
	rows := make([]sessionRow, 256)
	for {
		clear(rows)
		n, rerr := r.Read(rows)
		for i := range rows[:n] {
			s := sessionFrom(&rows[i])
			if err := each(&s); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
