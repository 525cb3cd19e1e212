package hive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Names of the files beside the partitions. Partition and file names are
// built from the date only: nothing from evidence ever becomes a path, and
// all writes go through an os.Root.
const (
	FileManifest = "manifest.json"
	FileSums     = "SHA256SUMS"
	// NullPartition is Hive's name for rows whose key is null (a record
	// without a time).
	NullPartition = "__HIVE_DEFAULT_PARTITION__"
	// ManifestSchema is Manifest.Schema of this version.
	ManifestSchema = "tracehop-parquet/1"
)

// rowGroupRows bounds the rows buffered before a row group is written, so
// memory stays flat however large a partition grows.
const rowGroupRows = 64 << 10

// Meta is what every file of a table states about where its rows came
// from: the tool, the inputs with their SHA-256 and the database builds.
// It goes into each Parquet file's key-value metadata and the manifest.
type Meta struct {
	Tool      forensics.ToolInfo
	Inputs    []forensics.Input
	Databases []enrich.DatabaseInfo
	Params    map[string]string
}

// Manifest is the table's manifest.json: what was written and from what.
// It holds no wall-clock time, so the same inputs and flags give the same
// bytes.
type Manifest struct {
	Schema       string                `json:"schema"`
	Table        string                `json:"table"`
	Partitioning string                `json:"partitioning"`
	Tool         forensics.ToolInfo    `json:"tool"`
	Inputs       []forensics.Input     `json:"inputs"`
	Databases    []enrich.DatabaseInfo `json:"databases,omitempty"`
	Params       map[string]string     `json:"parameters,omitempty"`
	Rows         int64                 `json:"rows"`
	Files        []File                `json:"files"`
}

// File is one Parquet file of the table.
type File struct {
	Path   string `json:"path"`
	Date   string `json:"date"`
	Rows   int64  `json:"rows"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// table writes rows of type R into dir, one partition directory per UTC
// day (date=YYYY-MM-DD), each holding part-NNNNN.parquet files. Rows
// normally come in time order, so each partition is written once; a day
// seen again after another gets its next part file.
type table[R any] struct {
	name    string
	root    *os.Root
	meta    Meta
	options []parquet.WriterOption
	parts   map[string]int // files written per partition

	date string
	f    *os.File
	h    hash.Hash
	n    int64 // bytes written to f
	w    *parquet.GenericWriter[R]
	rows int64 // rows in the open file
	buf  []R

	files []File
	total int64
}

// CheckDir reports whether dir can receive a table: missing, or an empty
// directory. Rows of an earlier run must never mix with a new run's, so
// commands check before they start reading evidence.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if !st.IsDir() {
		// Not opened: a named pipe would block the open.
		return fmt.Errorf("output directory %s is not a directory", dir)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open output directory: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read output directory %s: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("output directory %s is not empty: parquet tables are written into a new or empty directory", dir)
	}
	return nil
}

// newTable prepares dir (see CheckDir) for a table.
func newTable[R any](dir, name string, meta Meta) (*table[R], error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open output directory: %w", err)
	}
	kv, err := keyValues(name, meta)
	if err != nil {
		root.Close()
		return nil, err
	}
	opts := []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy("tracehop", meta.Tool.Version, meta.Tool.Commit),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
	}
	for _, p := range kv {
		opts = append(opts, parquet.KeyValueMetadata(p[0], p[1]))
	}
	return &table[R]{name: name, root: root, meta: meta, options: opts, parts: map[string]int{}}, nil
}

// keyValues is the provenance stored in every file's footer.
func keyValues(name string, m Meta) ([][2]string, error) {
	type input struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	type database struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Build  string `json:"build"`
		SHA256 string `json:"sha256"`
	}
	ins := make([]input, 0, len(m.Inputs))
	for _, in := range m.Inputs {
		ins = append(ins, input{in.Path, in.Size, in.SHA256})
	}
	dbs := make([]database, 0, len(m.Databases))
	for _, d := range m.Databases {
		dbs = append(dbs, database{d.Name, d.Type, d.Build, d.SHA256})
	}
	inJSON, err := json.Marshal(ins)
	if err != nil {
		return nil, err
	}
	dbJSON, err := json.Marshal(dbs)
	if err != nil {
		return nil, err
	}
	inJSON, dbJSON = forensics.EscapeInvisibles(inJSON), forensics.EscapeInvisibles(dbJSON)
	tool := m.Tool.Name + " " + m.Tool.Version
	if m.Tool.Commit != "" {
		tool += " (" + m.Tool.Commit + ")"
	}
	return [][2]string{
		{"tracehop.table", name},
		{"tracehop.tool", tool},
		{"tracehop.inputs", string(inJSON)},
		{"tracehop.databases", string(dbJSON)},
	}, nil
}

// partition is the Hive partition of a record time.
func partition(t time.Time) string {
	if t.IsZero() {
		return NullPartition
	}
	return t.UTC().Format(time.DateOnly)
}

func (t *table[R]) add(date string, row R) error {
	if date != t.date || t.w == nil {
		if err := t.closeFile(); err != nil {
			return err
		}
		if err := t.openFile(date); err != nil {
			return err
		}
	}
	t.buf = append(t.buf, row)
	t.rows++
	if len(t.buf) == cap(t.buf) && len(t.buf) >= 1024 {
		return t.flushRows()
	}
	return nil
}

func (t *table[R]) flushRows() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return fmt.Errorf("write %s: %w", t.fileName(), err)
	}
	clear(t.buf)
	t.buf = t.buf[:0]
	return nil
}

func (t *table[R]) fileName() string {
	key := "date=" + t.date
	return key + fmt.Sprintf("/part-%05d.parquet", t.parts[t.date])
}

func (t *table[R]) openFile(date string) error {
	t.date = date
	if err := t.root.MkdirAll("date="+date, 0o755); err != nil {
		return fmt.Errorf("create partition %s: %w", date, err)
	}
	f, err := t.root.OpenFile(t.fileName(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.fileName(), err)
	}
	t.f, t.h, t.n, t.rows = f, sha256.New(), 0, 0
	t.w = parquet.NewGenericWriter[R]((*hashingWriter[R])(t), t.options...)
	if t.buf == nil {
		t.buf = make([]R, 0, 1024)
	}
	return nil
}

// hashingWriter is the table seen as the io.Writer of its open file: it
// writes and hashes in one pass.
type hashingWriter[R any] table[R]

func (w *hashingWriter[R]) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (t *table[R]) closeFile() error {
	if t.w == nil {
		return nil
	}
	name := t.fileName()
	err := t.flushRows()
	if err == nil {
		err = t.w.Close()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.w = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	t.files = append(t.files, File{Path: name, Date: t.date, Rows: t.rows, Size: t.n, SHA256: hex.EncodeToString(t.h.Sum(nil))})
	t.total += t.rows
	t.parts[t.date]++
	return nil
}

// close finishes the last file and writes SHA256SUMS (for `sha256sum -c`)
// and manifest.json, last: a table cut short has no manifest.
func (t *table[R]) close() (*Manifest, error) {
	defer t.root.Close()
	if err := t.closeFile(); err != nil {
		return nil, err
	}
	files := slices.Clone(t.files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	m := &Manifest{
		Schema: ManifestSchema, Table: t.name,
		Partitioning: "date: the UTC day of each row's " + timeColumn(t.name) + " (" + NullPartition + " when it has none)",
		Tool:         t.meta.Tool, Inputs: t.meta.Inputs, Databases: t.meta.Databases, Params: t.meta.Params,
		Rows: t.total, Files: files,
	}
	if m.Inputs == nil {
		m.Inputs = []forensics.Input{}
	}
	if m.Files == nil {
		m.Files = []File{}
	}
	var sums bytes.Buffer
	for _, f := range files {
		sums.WriteString(f.SHA256 + "  " + f.Path + "\n")
	}
	if err := t.writeFile(FileSums, sums.Bytes()); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", FileManifest, err)
	}
	if err := t.writeFile(FileManifest, append(forensics.EscapeInvisibles(js), '\n')); err != nil {
		return nil, err
	}
	return m, nil
}

// abort closes what is open after an error; the directory keeps the
// files written so far but no manifest.
func (t *table[R]) abort() {
	if t.f != nil {
		t.f.Close()
	}
	t.root.Close()
}

func (t *table[R]) writeFile(name string, data []byte) error {
	f, err := t.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func timeColumn(table string) string {
	if table == "events" {
		return "time"
	}
	return "start"
}

// Events writes event rows. Add them in output order (time, then ID).
type Events struct {
	t    *table[eventRow]
	memo map[*enrich.Record]*geoRow
}

// NewEvents starts an events table in dir (missing or empty).
func NewEvents(dir string, meta Meta) (*Events, error) {
	t, err := newTable[eventRow](dir, "events", meta)
	if err != nil {
		return nil, err
	}
	return &Events{t: t, memo: map[*enrich.Record]*geoRow{}}, nil
}

// Add writes one event. Its src_geo is converted once per record pointer:
// records shared from the enricher's cache convert once.
func (w *Events) Add(e *forensics.Event) error {
	return w.t.add(partition(e.Time.Time), eventOf(e, w.memo))
}

// Close writes the last file, SHA256SUMS and manifest.json.
func (w *Events) Close() (*Manifest, error) { return w.t.close() }

// Abort gives up after an error: no manifest is written.
func (w *Events) Abort() { w.t.abort() }

// Flows writes flow rows. Add them in output order (start, then ID).
type Flows struct {
	t    *table[flowRow]
	memo map[*enrich.Record]*geoRow
}

// NewFlows starts a flows table in dir (missing or empty).
func NewFlows(dir string, meta Meta) (*Flows, error) {
	t, err := newTable[flowRow](dir, "flows", meta)
	if err != nil {
		return nil, err
	}
	return &Flows{t: t, memo: map[*enrich.Record]*geoRow{}}, nil
}

// Add writes one flow.
func (w *Flows) Add(f *forensics.Flow) error {
	return w.t.add(partition(f.Start.Time), flowOf(f, w.memo))
}

// Close writes the last file, SHA256SUMS and manifest.json.
func (w *Flows) Close() (*Manifest, error) { return w.t.close() }

// Abort gives up after an error: no manifest is written.
func (w *Flows) Abort() { w.t.abort() }

// Sessions writes session rows, partitioned by start day.
type Sessions struct {
	t    *table[sessionRow]
	memo map[*enrich.Record]*geoRow
}

// NewSessions starts a sessions table in dir (missing or empty).
func NewSessions(dir string, meta Meta) (*Sessions, error) {
	t, err := newTable[sessionRow](dir, "sessions", meta)
	if err != nil {
		return nil, err
	}
	return &Sessions{t: t, memo: map[*enrich.Record]*geoRow{}}, nil
}

// Add writes one session.
func (w *Sessions) Add(s *forensics.Session) error {
	return w.t.add(partition(s.Start.Time), sessionOf(s, w.memo))
}

// Close writes the last file, SHA256SUMS and manifest.json.
func (w *Sessions) Close() (*Manifest, error) { return w.t.close() }

// Abort gives up after an error: no manifest is written.
func (w *Sessions) Abort() { w.t.abort() }
