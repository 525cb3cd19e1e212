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
	"strings"
)

// WriteRecords writes records as JSON Lines ("jsonl", the evidential form:
// strings stay raw) or CSV ("csv": nested objects flattened with ".", arrays
// joined with "|", cells neutralized against formula injection). The CSV
// header is the sorted union of all columns, so output is deterministic.
func WriteRecords[T any](w io.Writer, format string, records []T) error {
	switch format {
	case "", "jsonl", "json":
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range records {
			if err := enc.Encode(&records[i]); err != nil {
				return fmt.Errorf("write record %d: %w", i, err)
			}
		}
		return bw.Flush()
	case "csv":
		rows := make([]map[string]string, 0, len(records))
		cols := map[string]struct{}{}
		for i := range records {
			row, err := Flatten(&records[i])
			if err != nil {
				return fmt.Errorf("flatten record %d: %w", i, err)
			}
			for k := range row {
				cols[k] = struct{}{}
			}
			rows = append(rows, row)
		}
		header := make([]string, 0, len(cols))
		for k := range cols {
			header = append(header, k)
		}
		slices.Sort(header)
		return WriteCSV(w, header, rows)
	default:
		return fmt.Errorf("unknown output format %q (want jsonl or csv)", format)
	}
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

// CSVCell neutralizes a value for spreadsheets: a cell that starts with
// = + - @, tab, CR or NUL is prefixed with ' so it is never a formula
// (OWASP CSV injection). Numbers keep their sign: "-3" stays a number.
func CSVCell(s string) string {
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
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	out := map[string]string{}
	flattenInto(out, "", tree)
	return out, nil
}

func flattenInto(out map[string]string, prefix string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, sub := range t {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flattenInto(out, key, sub)
		}
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(e)
				parts = append(parts, string(b))
			default:
				parts = append(parts, scalar(e))
			}
		}
		out[prefix] = strings.Join(parts, "|")
	default:
		out[prefix] = scalar(t)
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}
