package casefile

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// TestSecondWriterIsRefused: a second writer is told who holds the case;
// readers still read, also in the middle of the writer's transaction, and
// see only what was committed.
func TestSecondWriterIsRefused(t *testing.T) {
	ctx := context.Background()
	path, w := newTestCase(t)
	defer w.Close()
	if _, err := w.AddEvidence(ctx, testBatch(1, 100, 10)); err != nil {
		t.Fatal(err)
	}

	_, err := Open(ctx, path, OpenOptions{Write: true})
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), "is open by PID") {
		t.Fatalf("second writer: %v, want LockedError with PID %d", err, os.Getpid())
	}

	// The writer is half-way through an input.
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := testBatch(2, 100, 10)
	if err := w.insertBatch(ctx, tx, b); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatalf("reader while a writer adds: %v", err)
	}
	n := 0
	if err := r.Query(ctx, KindEvents, Filter{}, func([]byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Errorf("reader sees %d events during the writer's transaction, want the 100 committed", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	n = 0
	if err := r.Query(ctx, KindEvents, Filter{}, func([]byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 200 {
		t.Errorf("reader sees %d events after the commit, want 200", n)
	}
	r.Close()

	// Once the writer is gone the lock is free again.
	w.Close()
	w2, err := Open(ctx, path, OpenOptions{Write: true})
	if err != nil {
		t.Fatalf("writer after the first closed: %v", err)
	}
	w2.Close()
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left behind: %v", err)
	}
}

// TestBadCaseFiles: damaged and foreign files give a clear error and stay
// byte for byte as they were, with no WAL, shm or lock file created.
func TestBadCaseFiles(t *testing.T) {
	ctx := context.Background()
	goodPath, f := newTestCase(t)
	if _, err := f.AddEvidence(ctx, testBatch(1, 2000, 0)); err != nil {
		t.Fatal(err)
	}
	f.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	f.Close()
	good, err := os.ReadFile(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(good[16:18]))

	newer := bytes.Clone(good)
	binary.BigEndian.PutUint32(newer[60:64], SchemaVersion+1)
	otherApp := bytes.Clone(good)
	binary.BigEndian.PutUint32(otherApp[68:72], 0)

	// A valid SQLite database of someone else's.
	foreignPath := filepath.Join(t.TempDir(), "foreign.db")
	db, err := sql.Open("sqlite", foreignPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	foreign, _ := os.ReadFile(foreignPath)

	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotCase},
		{"text", []byte("this is a log file, not a case\n"), ErrNotCase},
		{"header only", good[:60], ErrTruncated},
		{"truncated to one page", good[:pageSize], ErrTruncated},
		{"truncated mid-page", good[:len(good)-pageSize/2], ErrTruncated},
		{"truncated by a page", good[:len(good)-pageSize], ErrTruncated},
		{"newer schema", newer, ErrNewerSchema},
		{"other application id", otherApp, ErrNotCase},
		{"foreign sqlite", foreign, ErrNotCase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bad"+Ext)
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, write := range []bool{false, true} {
				cf, err := Open(ctx, p, OpenOptions{Write: write})
				if err == nil {
					cf.Close()
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("Open(write=%v) = %v, want %v", write, err, tc.want)
				}
				if err != nil && !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the file", err)
				}
			}
			after, _ := os.ReadFile(p)
			if !bytes.Equal(after, tc.data) {
				t.Error("the file was modified")
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("files created next to it: %v", ents)
			}
		})
	}
}

// TestCustodyTamperDetected edits, removes and reorders entries with plain
// SQL, as someone with the file could, and checks verification fails.
func TestCustodyTamperDetected(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sql  string
		want string
	}{
		{"intact", "", ""},
		{"edit action in json", `UPDATE custody SET json = replace(json, '"action":"query"', '"action":"qvery"') WHERE seq = 3`, "hash does not recompute"},
		{"edit column only", `UPDATE custody SET action = 'nothing' WHERE seq = 2`, "row columns"},
		{"remove middle", `DELETE FROM custody WHERE seq = 3`, "sequence number"},
		{"remove first", `DELETE FROM custody WHERE seq = 1`, "sequence number"},
		{"remove last", `DELETE FROM custody WHERE seq = 5`, "entries removed from the end"},
		{"garbage json", `UPDATE custody SET json = '{' WHERE seq = 4`, "custody entry 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, f := newTestCase(t)
			for _, a := range []string{"case add", "query", "case show", "report"} {
				if _, err := f.AppendCustody(ctx, testEntry(a)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sql != "" {
				if _, err := f.db.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
			r, err := Open(ctx, path, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			entries, err := r.VerifyCustody(ctx)
			if tc.want == "" {
				if err != nil || len(entries) != 5 {
					t.Errorf("intact log: %d entries, %v", len(entries), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("VerifyCustody = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestReaderCustodyEntry: a read-only open still logs, chained after the
// writer's entries.
func TestReaderCustodyEntry(t *testing.T) {
	ctx := context.Background()
	path, f := newTestCase(t)
	b := testBatch(3, 10, 0)
	e := testEntry("ingest")
	e.Inputs = []forensics.FileHash{{Path: b.Input.Path, SHA256: b.Input.SHA256}}
	b.Custody = &e
	if _, err := f.AddEvidence(ctx, b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.AppendCustody(ctx, testEntry("case query"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 3 || got.PrevHash != e.Hash {
		t.Errorf("reader entry seq %d prev %s, want 3 after %s", got.Seq, got.PrevHash, e.Hash)
	}
	entries, err := r.VerifyCustody(ctx)
	if err != nil || len(entries) != 3 || entries[1].Inputs[0].SHA256 != b.Input.SHA256 {
		t.Errorf("log: %+v, %v", entries, err)
	}
	r.Close()
	// Everything is in the .thcase itself once nobody has it open.
	for _, s := range []string{"-wal", "-shm", ".lock"} {
		if _, err := os.Stat(path + s); err == nil {
			t.Errorf("%s left behind", s)
		}
	}
}
