package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignedBundleReproducibleAndVerified is the acceptance scenario of
// the report issue end to end: keygen, two signed analyze runs with a
// pinned --report-time give byte-identical bundles, verify passes with the
// public key, and fails naming the file after one changed byte.
func TestSignedBundleReproducibleAndVerified(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline twice")
	}
	demo, err := filepath.Abs(repoFile("testdata/demo"))
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	out, errOut, code := runCLI(t, "keygen", "--out", filepath.Join(keys, "examiner"))
	if code != 0 || !strings.Contains(out, "fingerprint SHA256:") {
		t.Fatalf("keygen: exit %d %s %s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "keygen", "--out", filepath.Join(keys, "examiner")); code == 0 {
		t.Errorf("keygen overwrote an existing key")
	}
	var bundles [2]string
	for i := range bundles {
		// Same working-directory-relative --out, so the custody arguments
		// are the same too.
		t.Chdir(t.TempDir())
		_, errOut, code := runCLI(t, "analyze", demo, "--home", "KR", "--out", "bundle", "--quiet",
			"--sign", filepath.Join(keys, "examiner.key"), "--report-time", "2025-07-15T09:00:00Z", "--case-id", "DEMO-1")
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, errOut)
		}
		bundles[i], _ = filepath.Abs("bundle")
	}
	entries, err := os.ReadDir(bundles[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 12 {
		t.Errorf("bundle has %d files", len(entries))
	}
	for _, e := range entries {
		a, _ := os.ReadFile(filepath.Join(bundles[0], e.Name()))
		b, err := os.ReadFile(filepath.Join(bundles[1], e.Name()))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs (%v)", e.Name(), err)
		}
	}

	pub := filepath.Join(keys, "examiner.pub")
	out, errOut, code = runCLI(t, "verify", bundles[0], "--key", pub)
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("verify fresh bundle: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"report.html", "manifest.json", "manifest.sig", "custody.jsonl", "stix.json"} {
		t.Run("tamper "+name, func(t *testing.T) {
			path := filepath.Join(bundles[0], name)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o644)
			mod := bytes.Clone(orig)
			mod[len(mod)/3] ^= 0x20
			os.WriteFile(path, mod, 0o644)
			out, errOut, code := runCLI(t, "verify", bundles[0], "--key", pub)
			if code != exitInput {
				t.Errorf("exit %d, want %d", code, exitInput)
			}
			if !strings.Contains(out, "FAIL  "+name) || !strings.Contains(errOut, name) {
				t.Errorf("failure does not name %s:\n%s%s", name, out, errOut)
			}
		})
	}
}

func TestVerifyFlags(t *testing.T) {
	var got *verifyOptions
	cmd := newVerifyCmd(&globalOptions{io: &ioStreams{}}, func(o *verifyOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"dir", "--key", "k.pub"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Dir != "dir" || got.Key != "k.pub" {
		t.Errorf("options %+v", got)
	}
	if _, _, code := runCLI(t, "verify"); code != exitUsage {
		t.Errorf("verify without DIR: exit %d", code)
	}
	if _, _, code := runCLI(t, "verify", filepath.Join(t.TempDir(), "missing")); code != exitInput {
		t.Errorf("verify missing dir: exit %d", code)
	}
}
