package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDBList(t *testing.T) {
	t.Setenv("TRACEHOP_GEOIP", "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	out, errOut, code := runCLI(t, "db", "list", "--geoip", repoFile("testdata/enrich/snapshots"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"city-20250115.mmdb", "city-20251115.mmdb", "dbip-country.mmdb", "asn.mmdb", "hosting-asns.txt", "embedded", "CC-BY-4.0", "DB-IP"} {
		if !strings.Contains(out, want) {
			t.Errorf("db list lacks %q:\n%s", want, out)
		}
	}
	// Lookup order: the --geoip snapshots before the embedded data.
	if strings.Index(out, "city-20250115") > strings.Index(out, "dbip-country") {
		t.Errorf("not in lookup order:\n%s", out)
	}
}

func TestDBImportVerify(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("TRACEHOP_GEOIP", "")
	src := repoFile("testdata/enrich/snapshots/city-20250115.mmdb")
	out, errOut, code := runCLI(t, "db", "import", src)
	if code != 0 || !strings.Contains(out, "imported") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	out, _, code = runCLI(t, "db", "import", src)
	if code != 0 || !strings.Contains(out, "exists") {
		t.Errorf("second import: exit %d: %s", code, out)
	}
	m, _ := filepath.Glob(filepath.Join(data, "tracehop", "geoip", "*.mmdb"))
	if len(m) != 1 {
		t.Errorf("imported files: %v", m)
	}
	out, _, code = runCLI(t, "ip", "1.2.3.4")
	if code != 0 || !strings.Contains(out, `"country":"CN"`) && !strings.Contains(out, `"country":"KR"`) {
		t.Errorf("imported database not used: %s", out)
	}

	out, _, code = runCLI(t, "db", "verify", src)
	if code != 0 || !strings.HasPrefix(out, "ok") {
		t.Errorf("verify good file: exit %d: %s", code, out)
	}
	junk := filepath.Join(t.TempDir(), "junk.mmdb")
	os.WriteFile(junk, []byte("\xab\xcd\xefMaxMind.com truncated"), 0o644)
	out, _, code = runCLI(t, "db", "verify", junk)
	if code != exitInput || !strings.Contains(out, "BROKEN") || !strings.Contains(out, junk) {
		t.Errorf("verify junk: exit %d: %s", code, out)
	}
	_, _, code = runCLI(t, "db", "import", junk)
	if code != exitInput {
		t.Errorf("import junk: exit %d", code)
	}
}
