package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/tracehop/tracehop/forensics"
)

// WriteRecords writes records as JSON Lines ("jsonl", the evidential form:
// strings stay raw but for JSON's escapes and those of
// forensics.EscapeInvisibles) or CSV ("csv": nested objects flattened with
// ".", arrays joined with "|", cells neutralized against formula injection
// and control characters, see CSVCell). The CSV
// header is the sorted union of all columns, so output is deterministic.
func WriteRecords[T any](w io.Writer, format string, records []T) error {
	switch format {
	case "", "jsonl", "json":
		bw := bufio.NewWriter(w)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for i := range records {
			buf.Reset()
			if err := enc.Encode(&records[i]); err != nil {
				return fmt.Errorf("write record %d: %w", i, err)
			}
			if _, err := bw.Write(forensics.EscapeInvisibles(buf.Bytes())); err != nil {
				return err
			}
		}
		return bw.Flush()
	case "csv":
		return writeCSVEach(w, func(fn func(any) error) error {
			for i := range records {
				if err := fn(&records[i]); err != nil {
					return err
				}
			}
			return nil
		})
	default:
		return fmt.Errorf("unknown output format %q (want jsonl or csv)", format)
	}
}

// writeCSVEach writes the records each yields as a CSV table whose
// header is the sorted union of their columns: each is called twice,
// for the columns and for the rows, so the records need not be held.
func writeCSVEach(w io.Writer, each func(fn func(any) error) error) error {
	cols := NewCSVColumns()
	n := 0
	err := each(func(v any) error {
		if err := cols.Add(v); err != nil {
			return fmt.Errorf("flatten record %d: %w", n, err)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	rows, err := NewCSVRows(w, cols.Header())
	if err != nil {
		return err
	}
	n = 0
	err = each(func(v any) error {
		if err := rows.Write(v); err != nil {
			return fmt.Errorf("flatten record %d: %w", n, err)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	return rows.Flush()
}

// WriteCSV writes rows under header, neutralizing every cell.
func WriteCSV(w io.Writer, header []string, rows []map[string]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	line := make([]string, len(header))
	for _, row := range rows {
		for i, h := range header {
			line[i] = CSVCell(row[h])
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVCell neutralizes a value for spreadsheets and terminals: control and
// invisible format characters are written as \x.. and \u.... escapes, as
// TerminalSafe writes them (the JSON keeps the exact text), and a cell that
// then starts with = + - or @ is prefixed with ' so it is never a formula
// (OWASP CSV injection). Numbers keep their sign: "-3" stays a number.
func CSVCell(s string) string {
	s = TerminalSafe(s)
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', 0:
		if s[0] == '-' || s[0] == '+' {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return s
			}
		}
		return "'" + s
	}
	return s
}

// Flatten turns one record into column → value via its JSON form, so CSV
// columns are exactly the JSON names joined with ".".
func Flatten(v any) (map[string]string, error) {
	js, err := newRecordEncoder().encode(v)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var val []byte
	err = flatWalk(js, nil, func(key, raw []byte) {
		val = cell(val[:0], raw)
		out[string(key)] = string(val)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CSVColumns collects the columns of records: the first of the two
// passes of a CSV table whose header is the sorted union of its rows'
// columns, written without holding the rows.
type CSVColumns struct {
	enc    *recordEncoder
	cols   map[string]struct{}
	key    []byte
	shapes flatShapes // a record of a known layout adds no column
}

// NewCSVColumns returns an empty column set.
func NewCSVColumns() *CSVColumns {
	return &CSVColumns{enc: newRecordEncoder(), cols: map[string]struct{}{}}
}

// Add adds the columns of record v.
func (c *CSVColumns) Add(v any) error {
	js, err := c.enc.encode(v)
	if err != nil {
		return err
	}
	if _, ok := c.shapes.match(js); ok {
		return nil
	}
	rec := c.shapes.recording()
	c.shapes.begin()
	err = flatWalk(js, c.key[:0], func(key, raw []byte) {
		if _, ok := c.cols[string(key)]; !ok {
			c.cols[string(key)] = struct{}{}
		}
		if rec {
			c.shapes.leaf(js, raw, -1)
		}
	})
	if err == nil && rec {
		c.shapes.record(js)
	}
	return err
}

// Header is the sorted list of columns.
func (c *CSVColumns) Header() []string {
	h := make([]string, 0, len(c.cols))
	for k := range c.cols {
		h = append(h, k)
	}
	slices.Sort(h)
	return h
}

// CSVRows writes records as rows under a header, every cell neutralized
// (CSVCell): the second pass. Rows are built as bytes and written as
// encoding/csv's Writer writes them (appendCSVField), without a string
// per cell.
type CSVRows struct {
	enc    *recordEncoder
	bw     *bufio.Writer
	index  map[string]int
	cells  [][]byte
	set    []bool
	row    []byte
	key    []byte
	shapes flatShapes // layouts of recent records with their columns
	memo   cellMemo
}

// NewCSVRows writes header to w and returns the row writer.
func NewCSVRows(w io.Writer, header []string) (*CSVRows, error) {
	r := &CSVRows{enc: newRecordEncoder(), bw: bufio.NewWriter(w), index: make(map[string]int, len(header)),
		cells: make([][]byte, len(header)), set: make([]bool, len(header))}
	for i, h := range header {
		r.index[h] = i
		if i > 0 {
			r.row = append(r.row, ',')
		}
		r.row = appendCSVField(r.row, []byte(h))
	}
	r.row = append(r.row, '\n')
	_, err := r.bw.Write(r.row)
	return r, err
}

// Write writes the row of record v; a column not in the header is left
// out.
func (r *CSVRows) Write(v any) error {
	js, err := r.enc.encode(v)
	if err != nil {
		return err
	}
	clear(r.set)
	if sh, ok := r.shapes.match(js); ok {
		for k, sp := range r.shapes.spans {
			if i := sh.cols[k]; i >= 0 {
				r.cells[i] = r.memo.cell(r.cells[i][:0], js[sp.start:sp.end])
				r.set[i] = true
			}
		}
	} else {
		rec := r.shapes.recording()
		r.shapes.begin()
		err = flatWalk(js, r.key[:0], func(key, raw []byte) {
			i, ok := r.index[string(key)]
			if ok {
				r.cells[i] = r.memo.cell(r.cells[i][:0], raw)
				r.set[i] = true
			} else {
				i = -1
			}
			if rec {
				r.shapes.leaf(js, raw, int32(i))
			}
		})
		if err != nil {
			return err
		}
		if rec {
			r.shapes.record(js)
		}
	}
	b := r.row[:0]
	for i := range r.cells {
		if i > 0 {
			b = append(b, ',')
		}
		if r.set[i] {
			b = appendCSVCell(b, r.cells[i])
		}
	}
	r.row = append(b, '\n')
	_, err = r.bw.Write(r.row)
	return err
}

// appendCSVCell appends CSVCell(string(v)) as a CSV field.
func appendCSVCell(dst, v []byte) []byte {
	if len(v) > 0 {
		switch v[0] {
		case '=', '+', '-', '@':
			return appendCSVField(dst, []byte(CSVCell(string(v))))
		}
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f {
			// Maybe a control or format character: CSVCell's escapes.
			return appendCSVField(dst, []byte(CSVCell(string(v))))
		}
	}
	return appendCSVField(dst, v)
}

// appendCSVField appends field as encoding/csv's Writer (comma ',', no
// CRLF) writes it: quoted, with quotes doubled, when it holds a comma,
// quote, CR or LF, begins with a space, or is \. (TestCSVFieldMatchesWriter).
func appendCSVField(dst, field []byte) []byte {
	if !csvNeedsQuotes(field) {
		return append(dst, field...)
	}
	dst = append(dst, '"')
	for {
		i := bytes.IndexByte(field, '"')
		if i < 0 {
			dst = append(dst, field...)
			break
		}
		dst = append(append(dst, field[:i+1]...), '"')
		field = field[i+1:]
	}
	return append(dst, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for the comma ','.
func csvNeedsQuotes(field []byte) bool {
	if len(field) == 0 {
		return false
	}
	if string(field) == `\.` {
		return true
	}
	for _, c := range field {
		if c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r1, _ := utf8.DecodeRune(field)
	return unicode.IsSpace(r1)
}

// Flush writes out buffered rows.
func (r *CSVRows) Flush() error {
	return r.bw.Flush()
}
