package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/enrich"
)

func TestIPFlags(t *testing.T) {
	g := &globalOptions{io: &ioStreams{}}
	var got *ipOptions
	cmd := newIPCmd(g, func(o *ipOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"8.8.8.8", "::1", "--at", "2025-07-14"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.At != "2025-07-14" || len(got.Addrs) != 2 || got.Addrs[1] != "::1" {
		t.Errorf("options %+v", got)
	}
}

// TestIPAcceptance is the command, offline, with only the
// embedded data.
func TestIPAcceptance(t *testing.T) {
	t.Setenv("TRACEHOP_GEOIP", "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	out, errOut, code := runCLI(t, "ip", "8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:1.1.1.1", "2002:c000:0204::1", "100.64.1.1", "10.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var recs []enrich.Record
	for line := range strings.Lines(out) {
		var r enrich.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, r)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records", len(recs))
	}
	want := []struct {
		class    string
		asn      uint32
		country  string
		embedded string
	}{
		{"public", 15169, "US", ""},
		{"public", 13335, "", ""},
		{"public", 15169, "", ""},
		{"public", 13335, "", "1.1.1.1"},
		{"documentation", 0, "", "192.0.2.4"},
		{"cgnat", 0, "", ""},
		{"private", 0, "", ""},
	}
	for i, w := range want {
		r := recs[i]
		if r.Class != w.class || r.ASN != w.asn || (w.country != "" && r.Country != w.country) ||
			(w.embedded != "" && r.EmbeddedIPv4.String() != w.embedded) {
			t.Errorf("%s: %+v, want %+v", r.IP, r, w)
		}
		if w.asn != 0 && (r.Country == "" || r.Sources.Len() < 3) {
			t.Errorf("%s: no country or sources: %+v", r.IP, r)
		}
	}
}

func TestIPAtSnapshots(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	out, errOut, code := runCLI(t, "ip", "1.2.3.4", "--at", "2025-07-14", "--geoip", repoFile("testdata/enrich/snapshots"), "--format", "text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"JP Japan", "Tokyo", "built 29 days before the event", "city-20250615.mmdb"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIPErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"bad address", []string{"ip", "999.1.1.1"}, exitInput},
		{"bad time", []string{"ip", "8.8.8.8", "--at", "yesterday"}, exitUsage},
		{"bad format", []string{"ip", "8.8.8.8", "--format", "xml"}, exitUsage},
		{"missing database", []string{"ip", "8.8.8.8", "--geoip", "/nonexistent/x.mmdb"}, exitInput},
		{"no address", []string{"ip"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
		})
	}
}

// TestIPJSONKeepsHTMLCharacters: `ip` writes JSON as every other output
// does, "AT&T" and not "AT\u0026T" (12.0.0.0/8 is AT&T's in the embedded
// ASN data).
func TestIPJSONKeepsHTMLCharacters(t *testing.T) {
	t.Setenv("TRACEHOP_GEOIP", "")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	out, errOut, code := runCLI(t, "ip", "12.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"as_org":"AT&T`) || strings.Contains(out, `\u0026`) {
		t.Errorf("ip JSON: %s", out)
	}
}
