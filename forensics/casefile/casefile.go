package casefile

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/tracehop/tracehop/forensics"
)

// Ext is the file name extension of case files.
const Ext = ".thcase"

// ApplicationID is written in the SQLite header (PRAGMA application_id) so
// that another program's SQLite database is never taken for a case: "THC1".
const ApplicationID = 0x54484331

// Errors callers can test for with errors.Is.
var (
	// ErrNotCase: the file is not a tracehop case (not SQLite, or SQLite
	// with another application's data).
	ErrNotCase = errors.New("not a tracehop case file")
	// ErrTruncated: the file is shorter than its own header says.
	ErrTruncated = errors.New("case file is truncated")
	// ErrNewerSchema: the file was written by a newer tracehop.
	ErrNewerSchema = errors.New("case file has a newer schema than this tracehop understands")
	// ErrExists: Create was asked to overwrite a file.
	ErrExists = errors.New("case file already exists")
	// ErrReadOnly: a write was attempted on a case opened for reading.
	ErrReadOnly = errors.New("case opened read-only")
)

// Meta is the case-level information set by `case new`.
type Meta struct {
	CaseID   string `json:"case_id,omitempty"`
	Examiner string `json:"examiner,omitempty"`
	// Home is the investigator's country (ISO 3166 alpha-2).
	Home string `json:"home,omitempty"`
	// TZ is the time zone assumed for log timestamps without an offset.
	TZ      string             `json:"tz,omitempty"`
	Params  map[string]string  `json:"parameters,omitempty"`
	Created forensics.Time     `json:"created,omitzero"`
	Tool    forensics.ToolInfo `json:"tool"`
	// Caps are the limits the latest correlation of the whole case
	// reached (those of no one input, such as trace.max_chains): stored
	// with the derived records they shaped, and replaced with them.
	Caps []forensics.CapHit `json:"caps_hit,omitempty"`
	// DerivedFrom identifies what the derived records were computed from
	// (analyze's derivedKey): a case add that would compute them from the
	// same leaves them as they are.
	DerivedFrom string `json:"derived_from,omitempty"`
}

// File is an open case file. It is safe for use by one goroutine at a time.
type File struct {
	path     string
	db       *sql.DB
	lock     *lockFile // nil for readers
	readOnly bool
	// chunk is RecordWriter's chunk (0: streamChunk); tests set it small.
	chunk int

	zdec *zstd.Decoder // made on first use
	zbuf []byte        // decompressed block JSON
	kbuf []byte        // decompressed block keys
}

// Path returns the path the case was opened with.
func (f *File) Path() string { return f.path }

// ReadOnly reports whether the case was opened without the writer lock.
// A reader may still append custody entries (AppendCustody), which take
// SQLite's write lock for a moment.
func (f *File) ReadOnly() bool { return f.readOnly }

// Close releases the database and the writer lock.
func (f *File) Close() error {
	err := f.db.Close()
	if f.zdec != nil {
		f.zdec.Close()
	}
	if f.lock != nil {
		err = errors.Join(err, f.lock.release())
	}
	return err
}

// Create makes a new case file at path with meta and the first custody
// entry (action "case new" if entry.Action is empty). It refuses to
// overwrite an existing file. The case is returned open for writing.
func Create(ctx context.Context, path string, meta Meta, entry forensics.CustodyEntry) (*File, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("create case %s: %w", path, ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("create case %s: %w", path, err)
	}
	lk, err := acquireLock(path)
	if err != nil {
		return nil, err
	}
	// O_EXCL: two `case new` racing for one name never share a file.
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		lk.release()
		return nil, fmt.Errorf("create case %s: %w", path, err)
	}
	fh.Close()
	db, err := openDB(path, false)
	if err != nil {
		lk.release()
		os.Remove(path)
		return nil, err
	}
	f := &File{path: path, db: db, lock: lk}
	if err := f.init(ctx, meta, entry); err != nil {
		f.Close()
		removeCaseFiles(path)
		return nil, fmt.Errorf("create case %s: %w", path, err)
	}
	return f, nil
}

func removeCaseFiles(path string) {
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + s)
	}
}

func (f *File) init(ctx context.Context, meta Meta, entry forensics.CustodyEntry) error {
	if _, err := f.db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
		return err
	}
	if err := f.migrate(ctx, 0); err != nil {
		return err
	}
	if meta.Created.IsZero() {
		meta.Created = entry.Time
	}
	if entry.Action == "" {
		entry.Action = "case new"
	}
	err := f.tx(ctx, func(tx *sql.Tx) error {
		if err := putMeta(ctx, tx, meta); err != nil {
			return err
		}
		return appendCustody(ctx, tx, &entry)
	})
	if err != nil {
		return err
	}
	// Move everything into the main file so its header (application_id,
	// user_version) is what the next Open checks.
	_, err = f.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// OpenOptions say how a case is opened.
type OpenOptions struct {
	// Write takes the writer lock and allows adding evidence and replacing
	// derived records. Without it the case is read through a read-only
	// connection, concurrently with a writer.
	Write bool
}

// Open opens an existing case. The file is checked first without SQLite
// (header magic, application ID, schema version, length): a file that fails
// is refused with ErrNotCase, ErrTruncated or ErrNewerSchema and is not
// modified. A writer then takes the lock (*LockedError if another process
// has it) and migrates an older schema.
func Open(ctx context.Context, path string, opts OpenOptions) (*File, error) {
	version, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	if !opts.Write {
		db, err := openDB(path, true)
		if err != nil {
			return nil, err
		}
		f := &File{path: path, db: db, readOnly: true}
		if err := f.checkSchema(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return f, nil
	}
	lk, err := acquireLock(path)
	if err != nil {
		return nil, err
	}
	db, err := openDB(path, false)
	if err != nil {
		lk.release()
		return nil, err
	}
	f := &File{path: path, db: db, lock: lk}
	if err := f.checkSchema(ctx); err != nil {
		f.Close()
		return nil, err
	}
	if version < SchemaVersion {
		if err := f.migrate(ctx, version); err != nil {
			f.Close()
			return nil, fmt.Errorf("migrate case %s from schema %d: %w", path, version, err)
		}
	}
	return f, nil
}

// checkSchema asks SQLite what the header check read from the file, since a
// write-ahead log left by a crashed writer may hold newer pages.
func (f *File) checkSchema(ctx context.Context) error {
	var app, ver int64
	if err := f.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return fmt.Errorf("open case %s: %w: %v", f.path, ErrNotCase, err)
	}
	if app != ApplicationID {
		return fmt.Errorf("open case %s: %w (application id %#x)", f.path, ErrNotCase, app)
	}
	if err := f.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&ver); err != nil {
		return fmt.Errorf("open case %s: %w", f.path, err)
	}
	if ver > SchemaVersion {
		return fmt.Errorf("open case %s: %w (schema %d, this build reads up to %d)", f.path, ErrNewerSchema, ver, SchemaVersion)
	}
	return nil
}

// CheckFile reads the SQLite header of path without opening it through
// SQLite, so a bad file is diagnosed without being touched. It returns the
// schema version (PRAGMA user_version) recorded in the header.
func CheckFile(path string) (int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open case %s: %w", path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return 0, fmt.Errorf("open case %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("open case %s: %w (not a regular file)", path, ErrNotCase)
	}
	var h [100]byte
	n, err := io.ReadFull(fh, h[:])
	const magic = "SQLite format 3\x00"
	if n < len(magic) || string(h[:len(magic)]) != magic {
		return 0, fmt.Errorf("open case %s: %w (no SQLite header)", path, ErrNotCase)
	}
	if err != nil {
		return 0, fmt.Errorf("open case %s: %w (%d-byte file, header is 100 bytes)", path, ErrTruncated, st.Size())
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return 0, fmt.Errorf("open case %s: %w (page size %d)", path, ErrNotCase, pageSize)
	}
	if st.Size()%pageSize != 0 {
		return 0, fmt.Errorf("open case %s: %w (%d bytes is not a whole number of %d-byte pages)", path, ErrTruncated, st.Size(), pageSize)
	}
	changeCounter := binary.BigEndian.Uint32(h[24:28])
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	validFor := binary.BigEndian.Uint32(h[92:96])
	// A writer killed during a checkpoint leaves page 1 (with the new size)
	// written and the file not yet extended; the write-ahead log still
	// holds every page then, so the size is only checked without one.
	if changeCounter == validFor && pages*pageSize > st.Size() && !hasWAL(path) {
		return 0, fmt.Errorf("open case %s: %w (header says %d pages of %d bytes, file has %d bytes)", path, ErrTruncated, pages, pageSize, st.Size())
	}
	if app := binary.BigEndian.Uint32(h[68:72]); app != ApplicationID {
		return 0, fmt.Errorf("open case %s: %w (a SQLite database with application id %#x)", path, ErrNotCase, app)
	}
	version := int(int32(binary.BigEndian.Uint32(h[60:64])))
	if version > SchemaVersion {
		return 0, fmt.Errorf("open case %s: %w (schema %d, this build reads up to %d)", path, ErrNewerSchema, version, SchemaVersion)
	}
	if version < 1 {
		return 0, fmt.Errorf("open case %s: %w (schema version %d)", path, ErrNotCase, version)
	}
	return version, nil
}

func hasWAL(path string) bool {
	st, err := os.Stat(path + "-wal")
	return err == nil && st.Size() > 0
}

// openDB opens path through the sqlite driver. Writers use WAL with full
// syncs (a committed input survives power loss) and BEGIN IMMEDIATE, so a
// write transaction never has to be retried halfway; readers use a
// query-only connection.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	return openDBTimeout(path, readOnly, 10*time.Second)
}

func openDBTimeout(path string, readOnly bool, busy time.Duration) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	q := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busy.Milliseconds())
	if readOnly {
		// query_only rather than mode=ro: the connection cannot change
		// the case, yet as the last one to close it can fold the
		// write-ahead log back into the file, so the .thcase alone holds
		// everything once nobody has it open. (On a write-protected file
		// SQLite opens it read-only by itself.)
		q += "&_pragma=query_only(1)"
	} else {
		q += "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	}
	db, err := sql.Open("sqlite", fileURI(abs)+q)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	// One connection: every statement of this process sees the same
	// transaction and there is never a second writer inside the process.
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	return db, nil
}

// fileURI turns an absolute path into an SQLite URI filename, escaping the
// characters URIs give meaning to.
func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x → /C:/x
	}
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file://" + r.Replace(p)
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE for writers).
func (f *File) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func putMeta(ctx context.Context, tx *sql.Tx, meta Meta) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('case', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, string(b))
	return err
}

// Meta returns the case metadata.
func (f *File) Meta(ctx context.Context) (Meta, error) {
	var m Meta
	var s string
	if err := f.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'case'`).Scan(&s); err != nil {
		return m, fmt.Errorf("read case %s metadata: %w", f.path, err)
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("read case %s metadata: %w", f.path, err)
	}
	return m, nil
}

// SetMeta replaces the case metadata (writers only).
func (f *File) SetMeta(ctx context.Context, meta Meta) error {
	if f.readOnly {
		return ErrReadOnly
	}
	return f.tx(ctx, func(tx *sql.Tx) error { return putMeta(ctx, tx, meta) })
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error listing
// what SQLite found unless it answers "ok".
func (f *File) IntegrityCheck(ctx context.Context) error {
	rows, err := f.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("case %s integrity check: %s", f.path, strings.Join(msgs, "; "))
}
