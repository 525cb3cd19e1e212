package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/casefile"
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

const caseCrashEnv = "TRACEHOP_CASE_ADD_CRASH"

// TestCaseAddCrashChild is the child of TestCaseAddCrash: it runs
// `tracehop case add` in-process when the environment says so.
func TestCaseAddCrashChild(t *testing.T) {
	spec := os.Getenv(caseCrashEnv)
	if spec == "" {
		t.Skip("child of TestCaseAddCrash")
	}
	args := strings.Split(spec, "\n")
	_, errOut, code := runCLI(t, append([]string{"case", "add", "--no-enrich", "-q"}, args...)...)
	if code != 0 {
		t.Fatalf("case add: exit %d\n%s", code, errOut)
	}
}

// TestCaseAddCrash kills `case add` of large logs with SIGKILL at random
// points: after each kill the case opens, passes PRAGMA integrity_check,
// holds whole inputs only (as many events as the log has lines) and none
// twice; a re-run of the same command completes the rest.
func TestCaseAddCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	if _, err := exec.LookPath(os.Args[0]); err != nil && !filepath.IsAbs(os.Args[0]) {
		t.Skip("cannot re-run the test binary")
	}
	dir := t.TempDir()
	cf := filepath.Join(dir, "crash.thcase")
	if _, errOut, code := runCLI(t, "case", "new", cf, "-q"); code != 0 {
		t.Fatal(errOut)
	}
	const files, lines = 5, 10000
	var inputs []string
	for i := range files {
		var b strings.Builder
		for j := range lines {
			fmt.Fprintf(&b, "198.51.%d.%d - - [08/Jul/2025:%02d:%02d:%02d +0900] \"GET /api/v1/items/%d HTTP/1.1\" 200 %d \"-\" \"crash-test/%d\"\n",
				i, j%250, j/3600%24, j/60%60, j%60, j, 100+j%900, i)
		}
		p := filepath.Join(dir, fmt.Sprintf("access-%d.log", i))
		if err := os.WriteFile(p, []byte(b.String()), 0o444); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	kills := 0
	// scale shrinks the delays when a fast machine finishes the whole add
	// before the first kill: the case starts over, killed sooner.
	scale := 1.0
	for round := 0; round < 10; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCaseAddCrashChild$")
		cmd.Env = append(os.Environ(), caseCrashEnv+"="+strings.Join(append([]string{cf}, inputs...), "\n"))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Later rounds wait longer, so kills land at every stage however
		// fast the machine is: start-up, parsing, storing, correlating.
		delay := time.Duration(float64(time.Duration(200+rng.IntN(800))*time.Millisecond*time.Duration(round+1)) * scale)
		timer := time.AfterFunc(delay, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		killed := !timer.Stop()
		n := checkCrashedCase(t, cf, inputs, lines)
		t.Logf("round %d: killed=%v, %d inputs in the case", round, killed, n)
		if !killed {
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out.String())
			}
			if n != files {
				t.Fatalf("finished run left %d of %d inputs", n, files)
			}
			if kills == 0 && scale > 1.0/64 {
				if err := os.Remove(cf); err != nil {
					t.Fatal(err)
				}
				if _, errOut, code := runCLI(t, "case", "new", cf, "-q"); code != 0 {
					t.Fatal(errOut)
				}
				scale /= 4
				round = -1
				continue
			}
			break
		}
		kills++
	}
	if kills == 0 {
		t.Error("the child was never killed: the test tested nothing")
	}
	// The same command completes whatever is left, and the sessions cover
	// every input.
	if _, errOut, code := runCLI(t, append([]string{"case", "add", "--no-enrich", "-q", cf}, inputs...)...); code != 0 {
		t.Fatalf("re-run: %d %s", code, errOut)
	}
	if n := checkCrashedCase(t, cf, inputs, lines); n != files {
		t.Fatalf("after the re-run: %d of %d inputs", n, files)
	}
	out, _, _ := runCLI(t, "case", "show", cf, "--format", "json", "-q")
	var sum struct {
		Events   int `json:"events"`
		Sessions int `json:"sessions"`
	}
	json.Unmarshal([]byte(out), &sum)
	if sum.Events != files*lines || sum.Sessions == 0 {
		t.Errorf("after the re-run: %d events, %d sessions", sum.Events, sum.Sessions)
	}
}

// checkCrashedCase checks a case after a kill and returns how many inputs
// it holds.
func checkCrashedCase(t *testing.T, cf string, inputs []string, lines int) int {
	t.Helper()
	ctx := context.Background()
	f, err := casefile.Open(ctx, cf, casefile.OpenOptions{})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer f.Close()
	if err := f.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := f.Evidence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.SHA256] {
			t.Fatalf("%s stored twice", it.Path)
		}
		seen[it.SHA256] = true
		if !slices.Contains(inputs, it.Path) || it.Events != int64(lines) {
			t.Fatalf("evidence %s with %d events (want one of the inputs, %d events)", it.Path, it.Events, lines)
		}
	}
	sum, err := f.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != int64(len(items)*lines) {
		t.Fatalf("%d inputs but %d events", len(items), sum.Events)
	}
	if _, err := f.VerifyCustody(ctx); err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestCaseAnalyze covers caseAnalyze (`analyze --case FILE`): the case is
// created on first use, inputs are added once, and the returned Case is
// the whole case.
func TestCaseAnalyze(t *testing.T) {
	in := demoInputs(t)
	var buf bytes.Buffer
	g := &globalOptions{io: &ioStreams{In: strings.NewReader(""), Out: &buf, ErrOut: &buf}, TZ: "UTC", Home: "KR", Quiet: true, NoEnrich: true}
	path := filepath.Join(t.TempDir(), "a.thcase")
	for run, inputs := range [][]string{in[2:3], in[2:]} {
		aopts, _, err := g.analyzeOptions(inputs, analyze.StageAll)
		if err != nil {
			t.Fatal(err)
		}
		c, err := caseAnalyze(context.Background(), &analyzeOptions{g: g, Case: path, bundleOptions: bundleOptions{CaseID: "A-1", Examiner: "Lee"}}, aopts)
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		if c.ID != "A-1" || c.Examiner != "Lee" || len(c.Inputs) != len(inputs) || c.NumSessions() == 0 {
			t.Errorf("run %d: case %q by %q with %d inputs, %d sessions", run+1, c.ID, c.Examiner, len(c.Inputs), c.NumSessions())
		}
		if err := analyze.Release(c); err != nil {
			t.Error(err)
		}
	}
}
