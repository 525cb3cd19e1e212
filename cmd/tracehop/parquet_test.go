package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics/hive"
)

// treeSums is the SHA-256 of every file under dir, by relative path.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readManifest(t *testing.T, dir string) hive.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, hive.FileManifest))
	if err != nil {
		t.Fatal(err)
	}
	var m hive.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func countLines(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// TestParquetCommands: flows, events and sessions with --format parquet
// on the sample evidence write as many rows as their JSON lines, cite
// every input's SHA-256, and give the same bytes on a second run. (The
// row contents are checked column by column in forensics/hive.)
func TestParquetCommands(t *testing.T) {
	demo := repoFile("testdata/demo")
	logs := []string{filepath.Join(demo, "access.log"), filepath.Join(demo, "access.log.1.gz"), filepath.Join(demo, "api.jsonl")}
	for _, c := range []struct {
		cmd    string
		inputs []string
	}{
		{"flows", []string{filepath.Join(demo, "edge.pcap")}},
		{"events", logs},
		{"sessions", logs},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			jsonl, _, code := runCLI(t, append([]string{c.cmd, "-q"}, c.inputs...)...)
			if code != 0 {
				t.Fatalf("%s jsonl: exit %d", c.cmd, code)
			}
			var sums []map[string]string
			for i := range 2 {
				dir := filepath.Join(t.TempDir(), "table")
				_, errOut, code := runCLI(t, append([]string{c.cmd, "--format", "parquet", "--out", dir}, c.inputs...)...)
				if code != 0 {
					t.Fatalf("run %d: exit %d: %s", i, code, errOut)
				}
				m := readManifest(t, dir)
				if m.Table != c.cmd || m.Rows != countLines(t, jsonl) || m.Rows == 0 {
					t.Errorf("manifest: table %q, %d rows; jsonl has %d", m.Table, m.Rows, countLines(t, jsonl))
				}
				if len(m.Inputs) != len(c.inputs) {
					t.Errorf("manifest lists %d inputs, want %d", len(m.Inputs), len(c.inputs))
				}
				for _, in := range m.Inputs {
					if len(in.SHA256) != 64 {
						t.Errorf("input %s without SHA-256", in.Path)
					}
				}
				if !strings.Contains(errOut, fmt.Sprintf("%d rows", m.Rows)) {
					t.Errorf("stderr %q does not report the rows", errOut)
				}
				sums = append(sums, treeSums(t, dir))
			}
			if fmt.Sprint(sums[0]) != fmt.Sprint(sums[1]) {
				t.Errorf("two runs differ:\n%v\n%v", sums[0], sums[1])
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		data, err := os.ReadFile(logs[0])
		if err != nil {
			t.Fatal(err)
		}
		// The evidence layer reads "-" from os.Stdin itself.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(data); w.Close() }()
		stdin := os.Stdin
		os.Stdin = r
		defer func() { os.Stdin = stdin; r.Close() }()
		dir := filepath.Join(t.TempDir(), "table")
		_, errOut, code := runCLI(t, "events", "-q", "--no-enrich", "--format", "parquet", "--out", dir, "-")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if m := readManifest(t, dir); m.Rows != countLines(t, string(data)) {
			t.Errorf("%d rows from %d lines", m.Rows, countLines(t, string(data)))
		}
	})
}

// TestParquetOutChecks: --format parquet needs --out, --out needs
// parquet, the directory must be empty and outside the inputs.
func TestParquetOutChecks(t *testing.T) {
	log := repoFile("testdata/demo/access.log")
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "old.parquet"), []byte("x"), 0o644)
	inputDir := t.TempDir()
	os.WriteFile(filepath.Join(inputDir, "a.log"), []byte("x"), 0o444)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"events", "--format", "parquet", log}, "give it with --out"},
		{[]string{"sessions", "--out", t.TempDir(), log}, "--out is for --format parquet"},
		{[]string{"flows", "--format", "parquet", "--out", full, log}, "not empty"},
		{[]string{"events", "--format", "parquet", "--out", filepath.Join(inputDir, "t"), inputDir}, "inside the input directory"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(inputDir, "t")); err == nil {
		t.Error("wrote into the input directory")
	}
}

// TestVerifyTable: `tracehop verify` recognises a table, passes it intact
// and fails it (exit 2) once a file changes; --key is refused.
func TestVerifyTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "table")
	if _, errOut, code := runCLI(t, "events", "--no-enrich", "--format", "parquet", "--out", dir, repoFile("testdata/demo/access.log")); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "verify", dir)
	if code != 0 || !strings.Contains(out, "events table") || !strings.Contains(errOut, "checks passed") {
		t.Fatalf("intact: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "verify", "--key", "x.pub", dir); code != exitUsage {
		t.Errorf("--key on a table: exit %d", code)
	}
	m := readManifest(t, dir)
	p := filepath.Join(dir, filepath.FromSlash(m.Files[0].Path))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runCLI(t, "verify", dir); code != exitInput || !strings.Contains(out, "FAIL") {
		t.Errorf("tampered: exit %d\n%s", code, out)
	}
}

// TestCampaignsFromSessionsTable: the sample case's campaigns built from
// its sessions table are the ones built from the evidence, byte for byte
// (its sessions have whole-second times and no hop chains), from one
// table or from the same sessions split in two; a mix of tables and
// evidence is refused.
func TestCampaignsFromSessionsTable(t *testing.T) {
	demo := repoFile("testdata/demo")
	direct, errOut, code := runCLI(t, "campaigns", "-q", "--home", "KR", demo)
	if code != 0 || countLines(t, direct) < 2 {
		t.Fatalf("direct: exit %d, %d campaigns: %s", code, countLines(t, direct), errOut)
	}
	table := filepath.Join(t.TempDir(), "sessions")
	if _, errOut, code := runCLI(t, "sessions", "-q", "--home", "KR", "--format", "parquet", "--out", table, demo); code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errOut)
	}
	fromTable, errOut, code := runCLI(t, "campaigns", "--home", "KR", table)
	if code != 0 {
		t.Fatalf("from table: exit %d: %s", code, errOut)
	}
	if fromTable != direct {
		t.Errorf("campaigns from the sessions table differ from the direct ones:\n%.600s\n---\n%.600s", fromTable, direct)
	}
	if !strings.Contains(errOut, "citing 4 evidence input(s)") {
		t.Errorf("stderr %q", errOut)
	}
	// Two tables: the logs' sessions and the capture's.
	logsT, pcapT := filepath.Join(t.TempDir(), "logs"), filepath.Join(t.TempDir(), "pcap")
	for dir, inputs := range map[string][]string{
		logsT: {filepath.Join(demo, "access.log"), filepath.Join(demo, "access.log.1.gz"), filepath.Join(demo, "api.jsonl")},
		pcapT: {filepath.Join(demo, "edge.pcap")},
	} {
		if _, errOut, code := runCLI(t, append([]string{"sessions", "-q", "--home", "KR", "--format", "parquet", "--out", dir}, inputs...)...); code != 0 {
			t.Fatalf("sessions: exit %d: %s", code, errOut)
		}
	}
	split, errOut, code := runCLI(t, "campaigns", "-q", "--home", "KR", logsT, pcapT)
	if code != 0 || split != direct {
		t.Errorf("two tables: exit %d, same as direct: %v: %s", code, split == direct, errOut)
	}
	if _, errOut, code := runCLI(t, "campaigns", "-q", table, demo); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Errorf("mixed inputs: exit %d: %s", code, errOut)
	}
}

// TestTableIsNotEvidence: a table given to a command that reads evidence
// is refused with one clear message, not a list of unknown kinds.
func TestTableIsNotEvidence(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	if _, errOut, code := runCLI(t, "sessions", "-q", "--no-enrich", "--format", "parquet", "--out", table, repoFile("testdata/demo/access.log")); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, cmd := range []string{"events", "flows", "sessions", "analyze"} {
		args := []string{cmd, "-q", table}
		if cmd == "analyze" {
			args = append(args, "--out", filepath.Join(t.TempDir(), "r"))
		}
		_, errOut, code := runCLI(t, args...)
		if code != exitInput || !strings.Contains(errOut, "is a tracehop Parquet table") || strings.Contains(errOut, "unknown input kind") {
			t.Errorf("%s: exit %d: %s", cmd, code, errOut)
		}
	}
}

// TestCaseQueryParquet: a case file's records of each kind come out as a
// table with as many rows as the jsonl query, the case's inputs as its
// provenance, the same bytes twice, and the files named in the custody
// log.
func TestCaseQueryParquet(t *testing.T) {
	cf := filepath.Join(t.TempDir(), "c.thcase")
	for _, args := range [][]string{
		{"case", "new", cf, "--home", "KR", "-q"},
		{"case", "add", cf, repoFile("testdata/demo"), "-q"},
	} {
		if _, errOut, code := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	for _, kind := range []string{"events", "flows", "sessions"} {
		jsonl, _, code := runCLI(t, "case", "query", cf, "--kind", kind, "-q")
		if code != 0 {
			t.Fatalf("%s jsonl: exit %d", kind, code)
		}
		var sums []map[string]string
		for range 2 {
			dir := filepath.Join(t.TempDir(), "t")
			if _, errOut, code := runCLI(t, "case", "query", cf, "--kind", kind, "--format", "parquet", "--out", dir, "-q"); code != 0 {
				t.Fatalf("%s parquet: exit %d: %s", kind, code, errOut)
			}
			m := readManifest(t, dir)
			if m.Table != kind || m.Rows == 0 || m.Rows != countLines(t, jsonl) || len(m.Inputs) != 4 || m.Params["case_query.kind"] != kind {
				t.Errorf("%s: table %q, %d rows (jsonl %d), %d inputs, params %v", kind, m.Table, m.Rows, countLines(t, jsonl), len(m.Inputs), m.Params)
			}
			if out, _, code := runCLI(t, "verify", dir); code != 0 {
				t.Errorf("%s: verify: exit %d\n%s", kind, code, out)
			}
			sums = append(sums, treeSums(t, dir))
		}
		if fmt.Sprint(sums[0]) != fmt.Sprint(sums[1]) {
			t.Errorf("%s: two queries differ", kind)
		}
	}
	log, _, code := runCLI(t, "case", "log", cf, "--format", "jsonl")
	if code != 0 || !strings.Contains(log, "part-00000.parquet") {
		t.Errorf("custody log does not name the table files (exit %d)", code)
	}
}
