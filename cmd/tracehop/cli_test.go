package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tracehop/tracehop/forensics"
)

// runCLI runs tracehop in-process and returns stdout, stderr and the exit
// code main would have used.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// repoFile is a path inside the repository from this package's directory.
func repoFile(rel string) string { return filepath.Join("..", "..", rel) }

// TestHelpEverywhere: every command says what it is for in one line, has
// an example, and --help works.
func TestHelpEverywhere(t *testing.T) {
	root := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || (c.Parent() != nil && c.Parent().Name() == "completion") {
			return
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" || strings.Contains(c.Short, "\n") {
				t.Errorf("Short = %q: want a one-line purpose", c.Short)
			}
			// The command list reads as one table: every purpose starts
			// with a capital, as cobra's own help and completion do.
			if r, _ := utf8.DecodeRuneInString(c.Short); !unicode.IsUpper(r) {
				t.Errorf("Short = %q: start with a capital", c.Short)
			}
			if c.Runnable() && c.Example == "" {
				t.Errorf("no Example")
			}
			args := append(strings.Fields(c.CommandPath())[1:], "--help")
			out, _, code := runCLI(t, args...)
			purpose := c.Short
			if c.Long != "" {
				purpose = c.Long // cobra shows Long in place of Short
			}
			if code != 0 || !strings.Contains(out, purpose) || (c.Runnable() && !strings.Contains(out, "Flags")) {
				t.Errorf("--help: code %d, output:\n%s", code, out)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "tracehop ") || !strings.Contains(out, "go ") {
		t.Errorf("version: code %d\n%s", code, out)
	}
}

func TestUsageErrorExitCode(t *testing.T) {
	_, errOut, code := runCLI(t, "analyze", "--no-such-flag", "x")
	if code != exitUsage || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

// TestAnalyzeDemoDeterministic runs the main job twice on the sample case:
// report.json must be byte-identical, the manifest must hash every input.
func TestAnalyzeDemoDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline twice")
	}
	var reports [2][]byte
	for i := range reports {
		out := filepath.Join(t.TempDir(), "bundle")
		_, errOut, code := runCLI(t, "analyze", repoFile("testdata/demo"), "--home", "KR", "--out", out, "--quiet", "--formats", "json,csv")
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, errOut)
		}
		b, err := os.ReadFile(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		reports[i] = b
		m, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"access.log", "access.log.1.gz", "api.jsonl", "edge.pcap"} {
			if !bytes.Contains(m, []byte(name)) {
				t.Errorf("manifest does not list input %s", name)
			}
		}
	}
	if !bytes.Equal(reports[0], reports[1]) {
		t.Error("two runs on the same inputs gave different report.json")
	}
}

// TestAnalyzeUnreadableInput: an unknown input gives exit 2 and a message
// naming it, while the other inputs are still processed and the bundle
// lists the failed one.
func TestAnalyzeUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "mystery.bin")
	os.WriteFile(bad, []byte{0, 1, 2, 3, 0xff, 0, 7}, 0o444)
	out := filepath.Join(t.TempDir(), "bundle")
	_, errOut, code := runCLI(t, "analyze", bad, repoFile("testdata/demo/api.jsonl"), "--home", "KR", "--out", out, "--quiet", "--formats", "json")
	if code != exitInput || !strings.Contains(errOut, "mystery.bin") {
		t.Fatalf("exit %d, stderr %q: want 2 naming mystery.bin", code, errOut)
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("no bundle written: %v", err)
	}
	if !bytes.Contains(rep, []byte("mystery.bin")) || !bytes.Contains(rep, []byte("k2019-legacy")) {
		t.Error("report.json should list the failed input and hold the good input's events")
	}
}

func TestAnalyzeRefusesOutputInsideInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("x"), 0o444)
	_, errOut, code := runCLI(t, "analyze", dir, "--out", filepath.Join(dir, "report"), "--quiet")
	if code == 0 || !strings.Contains(errOut, "inside the input directory") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "report")); err == nil {
		t.Error("wrote into the input directory")
	}
}

// TestEventsGeoRawAmpersand: streamed events write enrichment exactly as
// the case file and CSV paths do (no HTML escaping): AS "AT&T", not
// "AT\u0026T".
func TestEventsGeoRawAmpersand(t *testing.T) {
	in := filepath.Join(t.TempDir(), "one.jsonl")
	os.WriteFile(in, []byte(`{"@timestamp":"2025-07-01T00:00:00Z","source":{"ip":"12.0.0.1"},"url":{"path":"/"}}`+"\n"), 0o444)
	out, errOut, code := runCLI(t, "events", in)
	if code != 0 || !strings.Contains(out, `"as_org":"AT&T`) || strings.Contains(out, `\u0026`) {
		t.Errorf("exit %d, stderr %q, out %s", code, errOut, out)
	}
}

// A file name from an evidence directory is attacker-chosen: the final
// error line shows its escape sequence as text, and joined errors keep
// one line each.
func TestErrorMessagesTerminalSafe(t *testing.T) {
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil\x1b[31mred\u202e.log")
	if err := os.WriteFile(evil, []byte("no known format\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other\x07.log")
	if err := os.WriteFile(other, []byte("no known format either\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "events", "--no-enrich", evil, other)
	if code != exitInput {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\x07\u202e") {
		t.Errorf("raw control characters on stderr: %q", errOut)
	}
	if !strings.Contains(errOut, `evil\x1b[31mred\u202e.log`) || !strings.Contains(errOut, `other\x07.log`) {
		t.Errorf("names not shown escaped: %q", errOut)
	}
}

// An empty file (a rotated log with nothing in it) is evidence of
// nothing: listed with its hash, kind "empty" and zero records, and the
// run succeeds.
func TestEmptyInputIsNotAnError(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "access.log.3")
	if err := os.WriteFile(empty, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundle")
	_, errOut, code := runCLI(t, "analyze", "--no-enrich", empty, repoFile("testdata/demo/api.jsonl"), "--out", out, "--quiet", "--formats", "json")
	if code != exitOK {
		t.Fatalf("analyze: exit %d, stderr %q", code, errOut)
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rep, []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")) ||
		!bytes.Contains(rep, []byte(`"kind": "empty"`)) {
		t.Errorf("report.json does not list the empty input with its hash and kind")
	}
	for _, cmd := range []string{"flows", "events"} {
		stdout, errOut, code := runCLI(t, cmd, "--no-enrich", empty)
		if code != exitOK || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", cmd, code, stdout, errOut)
		}
	}
}

// Ctrl-C cancels the context: the run says it was interrupted and exits
// 130, however deep the cancellation came from.
func TestInterruptedExitCode(t *testing.T) {
	var errOut bytes.Buffer
	err := inputError(fmt.Errorf("read a.log: %w", context.Canceled))
	if code := exitCode(err, &errOut); code != exitInterrupted || !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// --year is an input flag of every command: sshd lines in RFC 3164 carry
// no year, and analyze must place them in time as events does; the bundle
// records the year assumed.
func TestYearForEveryCommand(t *testing.T) {
	in := filepath.Join(t.TempDir(), "auth.log")
	line := "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 173.234.31.186 port 38926 ssh2\n"
	if err := os.WriteFile(in, []byte(line), 0o444); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "events", "--no-enrich", "--year", "2024", in)
	if code != exitOK || !strings.Contains(out, `"time":"2024-12-10T06:55:46`) || strings.Contains(out, "year_unknown") {
		t.Fatalf("events: exit %d, stderr %q, out %s", code, errOut, out)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, errOut, code := runCLI(t, "analyze", "--no-enrich", "--year", "2024", in, "--out", dir, "--quiet", "--formats", "json"); code != exitOK {
		t.Fatalf("analyze: exit %d, stderr %q", code, errOut)
	}
	rep, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"2024-12-10T06:55:46`, `"syslog_year": "2024"`} {
		if !bytes.Contains(rep, []byte(want)) {
			t.Errorf("report.json lacks %s", want)
		}
	}
	if _, _, code := runCLI(t, "sessions", "--year", "-1", in); code != exitUsage {
		t.Errorf("--year -1: exit %d, want usage error", code)
	}
}

// TestAnalyzeSummary: the table analyze prints at the end counts the
// records and sessions it kept on disk (they are not in the Case's
// slices).
func TestAnalyzeSummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bundle")
	_, errOut, code := runCLI(t, "analyze", repoFile("testdata/demo"), "--home", "KR", "--no-enrich", "--out", out, "--formats", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, re := range []string{`(?m)^records\s+[1-9]\d*\s+\([1-9]\d* flows, [1-9]\d* events\)`, `(?m)^sessions\s+[1-9]\d*`, `(?m)^campaigns\s+[1-9]\d*`} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("summary lacks %s:\n%s", re, errOut)
		}
	}
}

// TestAnalyzeMaxChains: analyze takes the hop-chain flags; paths past
// --max-chains are reported as a cap hit, and the flags are refused with
// --case (case add rebuilds the case's chains with the defaults).
func TestAnalyzeMaxChains(t *testing.T) {
	in := filepath.Join(t.TempDir(), "edge.log")
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "10.0.0.5 - - [24/Jun/2025:00:00:0%d +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" \"198.51.100.%d\"\n", i, i+1)
	}
	os.WriteFile(in, []byte(b.String()), 0o444)
	lf := `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`
	out := filepath.Join(t.TempDir(), "bundle")
	_, errOut, code := runCLI(t, "analyze", in, "--log-format", lf, "--no-enrich", "--max-chains", "2", "--out", out, "--formats", "json")
	rep, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	var doc struct {
		Case struct {
			Caps []forensics.CapHit `json:"caps_hit"`
		} `json:"case"`
	}
	if err := json.Unmarshal(rep, &doc); err != nil {
		t.Fatal(err)
	}
	if want := []forensics.CapHit{{Cap: "trace.max_chains", Count: 1}}; !slices.Equal(doc.Case.Caps, want) || !strings.Contains(errOut, "cap hit: trace.max_chains: 1") {
		t.Errorf("exit %d, stderr %q: no trace.max_chains cap hit of 1 in report.json", code, errOut)
	}
	_, errOut, code = runCLI(t, "analyze", in, "--case", filepath.Join(t.TempDir(), "c.thcase"), "--max-chains", "2", "--out", filepath.Join(t.TempDir(), "b2"))
	if code == 0 || !strings.Contains(errOut, "--max-chains cannot be used with --case") {
		t.Errorf("with --case: exit %d, stderr %q", code, errOut)
	}
}
