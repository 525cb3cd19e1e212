package casefile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// readerCustodyWait is how long a reader's custody entry waits for a
// writer's transaction (one input) to end. The reader's results are out
// by then; the wait only delays its exit.
const readerCustodyWait = 10 * time.Minute

// AppendCustody chains entry after the last entry of the case's custody log
// (forensics.ChainCustody) and stores it. Readers may call it too: every
// command that touches a case leaves an entry. A reader's entry waits for
// a writer's transaction in progress (up to readerCustodyWait).
func (f *File) AppendCustody(ctx context.Context, entry forensics.CustodyEntry) (forensics.CustodyEntry, error) {
	db := f.db
	if f.readOnly {
		// The reader's connection is read-only; a short-lived writable
		// connection appends the entry (SQLite serializes it with any
		// writer, the lock file is not needed for one row).
		w, err := openDBTimeout(f.path, false, readerCustodyWait)
		if err != nil {
			return entry, err
		}
		defer w.Close()
		db = w
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return entry, fmt.Errorf("append custody entry to %s: %w", f.path, err)
	}
	if err := appendCustody(ctx, tx, &entry); err != nil {
		tx.Rollback()
		return entry, fmt.Errorf("append custody entry to %s: %w", f.path, err)
	}
	if err := tx.Commit(); err != nil {
		return entry, fmt.Errorf("append custody entry to %s: %w", f.path, err)
	}
	return entry, nil
}

// appendCustody chains and inserts entry inside tx, and keeps the head
// (seq and hash of the last entry) in meta so that removing the newest
// entries is noticed too.
func appendCustody(ctx context.Context, tx *sql.Tx, entry *forensics.CustodyEntry) error {
	var prev []forensics.CustodyEntry
	var seq int
	var hash string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		prev = []forensics.CustodyEntry{{Seq: seq, Hash: hash}}
	}
	*entry = forensics.ChainCustody(prev, *entry)[0]
	b, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO custody(seq, time, action, prev_hash, hash, json) VALUES(?, ?, ?, ?, ?, ?)`,
		entry.Seq, entry.Time.UnixNano(), entry.Action, entry.PrevHash, entry.Hash, string(b)); err != nil {
		return err
	}
	head := strconv.Itoa(entry.Seq) + " " + entry.Hash
	_, err = tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('custody_head', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, head)
	return err
}

// Custody returns the custody log as stored, in sequence order. Entries
// are decoded from their stored JSON; a row whose JSON does not decode is
// returned as an entry with its Seq and Hash columns so VerifyCustody can
// name it.
func (f *File) Custody(ctx context.Context) ([]forensics.CustodyEntry, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT seq, hash, json FROM custody ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read custody log of %s: %w", f.path, err)
	}
	defer rows.Close()
	var out []forensics.CustodyEntry
	for rows.Next() {
		var seq int
		var hash, js string
		if err := rows.Scan(&seq, &hash, &js); err != nil {
			return nil, fmt.Errorf("read custody log of %s: %w", f.path, err)
		}
		var e forensics.CustodyEntry
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			e = forensics.CustodyEntry{Seq: seq, Action: "(unreadable entry)", PrevHash: "?", Hash: hash}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyCustody checks the case's custody log: the hash chain of every
// entry (forensics.VerifyCustody), that each row's indexed columns agree
// with its entry, and that the last entry is the head recorded in meta
// (so dropping the newest entries is detected as well).
func (f *File) VerifyCustody(ctx context.Context) ([]forensics.CustodyEntry, error) {
	entries, err := f.Custody(ctx)
	if err != nil {
		return nil, err
	}
	if err := forensics.VerifyCustody(entries); err != nil {
		return entries, fmt.Errorf("custody log of %s: %w", f.path, err)
	}
	rows, err := f.db.QueryContext(ctx, `SELECT seq, hash, prev_hash, action FROM custody ORDER BY seq`)
	if err != nil {
		return entries, err
	}
	i := 0
	for rows.Next() {
		var seq int
		var hash, prev, action string
		if err := rows.Scan(&seq, &hash, &prev, &action); err != nil {
			rows.Close()
			return entries, err
		}
		if i < len(entries) {
			e := entries[i]
			if e.Seq != seq || e.Hash != hash || e.PrevHash != prev || e.Action != action {
				rows.Close()
				return entries, fmt.Errorf("custody log of %s: %w", f.path, &forensics.CustodyError{Index: i, Seq: seq, Reason: "row columns do not match the entry (row edited)"})
			}
		}
		i++
	}
	rows.Close()
	var head string
	err = f.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'custody_head'`).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return entries, err
	}
	want := ""
	if n := len(entries); n > 0 {
		want = strconv.Itoa(entries[n-1].Seq) + " " + entries[n-1].Hash
	}
	if head != want {
		seq, _, _ := strings.Cut(head, " ")
		return entries, fmt.Errorf("custody log of %s: last entry is seq %d but the case records seq %s as its last (entries removed from the end, or the head edited)", f.path, len(entries), seq)
	}
	return entries, nil
}
