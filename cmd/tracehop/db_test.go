package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
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

// TestDatabaseTextTerminalSafe: strings from a database file (its type in
// the metadata, an organisation name, its file name) cannot reach the
// terminal raw through `ip --format text`, `db list`, `db import` or `db
// verify`: escape sequences, BEL and bidirectional overrides are shown
// escaped.
func TestDatabaseTextTerminalSafe(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("TRACEHOP_GEOIP", "")
	hostile := "\x1b[31mEvil\x07Org\u202e"
	dir := t.TempDir()
	db := filepath.Join(dir, "asn\x1b[2J.mmdb")
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN" + hostile, RecordSize: 24,
		IPVersion: 4, BuildEpoch: 1_750_000_000, Description: map[string]string{"en": hostile}})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("1.2.3.0/24")
	if err := tree.Insert(n, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500),
		"autonomous_system_organization": mmdbtype.String(hostile)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{
		{"ip", "--format", "text", "--geoip", db, "1.2.3.4"},
		{"db", "list", "--geoip", db},
		{"db", "verify", db},
		{"db", "import", db},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if strings.ContainsAny(out+errOut, "\x1b\x07\u202e") {
			t.Errorf("%v: raw control characters in\n%q", args, out+errOut)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%v: the hostile text is not shown escaped:\n%s", args, out)
		}
	}
}
