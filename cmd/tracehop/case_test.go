package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// demoInputs are the sample case's inputs, skipping the test without them.
func demoInputs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"access.log", "access.log.1.gz", "api.jsonl", "edge.pcap"} {
		p := repoFile("testdata/demo/" + name)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("sample case not available: %v", err)
		}
		out = append(out, p)
	}
	return out
}

// TestCaseBatchesMatchAnalyze: adding the demo inputs to a case in three
// batches (one of them repeated) gives the same campaigns and the same
// report.json as one analyze over all of them.
func TestCaseBatchesMatchAnalyze(t *testing.T) {
	in := demoInputs(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "demo.thcase")
	pin := "--report-time=2025-08-01T00:00:00Z"

	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		return out
	}
	run("case", "new", cf, "--home", "KR", "--case-id", "DEMO-1", "--examiner", "Kim", "-q")
	run("case", "add", cf, in[0], "-q")
	run("case", "add", cf, in[1], in[2], "-q")
	_, errOut, code := runCLI(t, "case", "add", cf, in[3], in[0])
	if code != 0 || !strings.Contains(errOut, "already in the case: "+in[0]) || !strings.Contains(errOut, "1 added, 1 already present") {
		t.Errorf("third batch: exit %d\n%s", code, errOut)
	}
	caseOut := filepath.Join(dir, "from-case")
	run("report", cf, "--out", caseOut, "--formats", "json", pin, "-q")
	oneOut := filepath.Join(dir, "one-shot")
	run("analyze", repoFile("testdata/demo"), "--home", "KR", "--case-id", "DEMO-1", "--examiner", "Kim", "--out", oneOut, "--formats", "json", pin, "-q")

	a, err := os.ReadFile(filepath.Join(caseOut, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(oneOut, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ca, cb struct {
		Campaigns []forensics.Campaign `json:"campaigns"`
	}
	if err := json.Unmarshal(a, &ca); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &cb)
	ja, _ := json.Marshal(ca.Campaigns)
	jb, _ := json.Marshal(cb.Campaigns)
	if !bytes.Equal(ja, jb) {
		t.Errorf("campaigns differ: case %d, analyze %d", len(ca.Campaigns), len(cb.Campaigns))
	}
	if !bytes.Equal(a, b) {
		t.Error("report.json from the case differs from analyze's")
	}
	// The bundle carries the case's history before the report's own entry.
	cust, err := os.ReadFile(filepath.Join(caseOut, "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []forensics.CustodyEntry
	for _, line := range strings.Split(strings.TrimSpace(string(cust)), "\n") {
		var e forensics.CustodyEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if len(entries) < 8 || entries[0].Action != "case new" || entries[len(entries)-1].Action != "report" {
		t.Errorf("bundle custody log: %d entries", len(entries))
	}
	if err := forensics.VerifyCustody(entries); err != nil {
		t.Errorf("bundle custody log: %v", err)
	}
	// And the case recorded the report.
	out := run("case", "log", cf, "--format", "jsonl", "-q")
	if !strings.Contains(out, `"action":"report"`) || !strings.Contains(out, "report.json") {
		t.Errorf("case log does not record the report:\n%s", out)
	}
}

// TestCaseCommands walks through the commands an analyst uses.
func TestCaseCommands(t *testing.T) {
	in := demoInputs(t)
	cf := filepath.Join(t.TempDir(), "c.thcase")
	if _, errOut, code := runCLI(t, "case", "new", cf, "--home", "kr", "--tz", "Asia/Seoul", "--case-id", "C-7"); code != 0 {
		t.Fatalf("case new: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "case", "new", cf); code != exitInput || !strings.Contains(errOut, "already exists") {
		t.Errorf("case new over an existing case: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "case", "add", cf, in[2], "-q"); code != 0 {
		t.Fatalf("case add: %d %s", code, errOut)
	}

	out, _, code := runCLI(t, "case", "show", cf)
	if code != 0 || !strings.Contains(out, "C-7") || !strings.Contains(out, "Asia/Seoul") || !strings.Contains(out, "api.jsonl") || !strings.Contains(out, "campaigns (") {
		t.Errorf("case show: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "case", "show", cf, "--format", "json")
	var sum struct {
		Events int `json:"events"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Events == 0 {
		t.Errorf("case show --format json: exit %d\n%.300s", code, out)
	}

	// Query: the credential of the sample case, in each format.
	out, errOut, code := runCLI(t, "case", "query", cf, "--credential", "k2019-legacy")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) == 0 || !strings.Contains(lines[0], `"credential":"k2019-legacy"`) {
		t.Fatalf("query jsonl: exit %d %s\n%.300s", code, errOut, out)
	}
	out, _, code = runCLI(t, "case", "query", cf, "--credential", "k2019-legacy", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != len(lines)+1 {
		t.Errorf("query csv: exit %d, %d rows for %d records, %v", code, len(rows), len(lines), err)
	}
	out, _, code = runCLI(t, "case", "query", cf, "--kind", "sessions", "--credential", "k2019-legacy", "--format", "table")
	if code != 0 || !strings.HasPrefix(out, "id") || !strings.Contains(out, "k2019-legacy") {
		t.Errorf("query table: exit %d\n%.300s", code, out)
	}
	for _, bad := range [][]string{
		{"--kind", "packets"}, {"--asn", "ASX"}, {"--cidr", "10.0.0.0/33"}, {"--from", "yesterday"},
		{"--from", "2025-08-01", "--to", "2025-07-01"}, {"--country", "KOR"}, {"--format", "xml"},
	} {
		if _, errOut, code := runCLI(t, append([]string{"case", "query", cf}, bad...)...); code != exitUsage {
			t.Errorf("query %v: exit %d %s, want usage error", bad, code, errOut)
		}
	}

	// The log verifies, and then does not once an entry is edited.
	out, _, code = runCLI(t, "case", "log", cf, "--verify")
	if code != 0 || !strings.Contains(out, "hash chain intact") {
		t.Errorf("case log --verify: exit %d %s", code, out)
	}
	db, err := sql.Open("sqlite", cf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE custody SET json = replace(json, '"case add"', '"case edd"') WHERE action = 'case add'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, errOut, code = runCLI(t, "case", "log", cf, "--verify")
	if code != exitInput || !strings.Contains(errOut, "does not verify") || !strings.Contains(errOut, "hash does not recompute") {
		t.Errorf("tampered log: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCaseBadFile: a file that is not a case is refused with exit 2,
// a message naming it, and left as it was.
func TestCaseBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.thcase")
	data := []byte("not a case\n")
	os.WriteFile(p, data, 0o644)
	for _, args := range [][]string{
		{"case", "show", p}, {"case", "log", p}, {"case", "query", p}, {"report", p, "--out", filepath.Join(t.TempDir(), "r")},
		{"case", "add", p, repoFile("testdata/demo/api.jsonl")},
	} {
		_, errOut, code := runCLI(t, args...)
		if code != exitInput || !strings.Contains(errOut, p) || !strings.Contains(errOut, "not a tracehop case") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(after, data) {
		t.Error("the file was modified")
	}
}
