package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/capture"
)

// The benchmark capture is deterministic, about the size asked for, and
// reads back as the traffic it claims: mixed sessions from every client,
// or a scan of distinct 5-tuples.
func TestWriteBenchPCAP(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		clients int
		check   func(t *testing.T, flows []forensics.Flow)
	}{
		{"mixed", 4 << 20, 200, func(t *testing.T, flows []forensics.Flow) {
			clients := map[string]bool{}
			var ja4, dns, ssh, http int
			for _, f := range flows {
				clients[f.SrcIP.String()] = true
				if f.TLS != nil && f.TLS.JA4 != "" {
					ja4++
				}
				if f.DNS != nil {
					dns++
				}
				if f.SSH != nil && f.SSH.HASSH != "" {
					ssh++
				}
				if f.HTTP != nil {
					http++
				}
			}
			if len(clients) < 200 || ja4 == 0 || dns == 0 || ssh == 0 || http == 0 {
				t.Errorf("clients %d ja4 %d dns %d ssh %d http %d", len(clients), ja4, dns, ssh, http)
			}
		}},
		{"scan", 2 << 20, 10000, func(t *testing.T, flows []forensics.Flow) {
			if len(flows) < 20000 {
				t.Errorf("%d flows: not a scan", len(flows))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
			for _, p := range []string{a, b} {
				if err := writeBenchPCAP(p, tt.size, tt.clients); err != nil {
					t.Fatal(err)
				}
			}
			da, _ := os.ReadFile(a)
			db, _ := os.ReadFile(b)
			if !bytes.Equal(da, db) {
				t.Fatal("two runs differ")
			}
			if n := int64(len(da)); n < tt.size || n > tt.size+70000 {
				t.Errorf("size %d, asked %d", n, tt.size)
			}
			var flows []forensics.Flow
			st, err := capture.Read(context.Background(), bytes.NewReader(da), "bench", capture.DefaultOptions(), func(f forensics.Flow) { flows = append(flows, f) })
			if err != nil || st.Malformed != 0 {
				t.Fatalf("read: %v, %d malformed", err, st.Malformed)
			}
			tt.check(t, flows)
		})
	}
}
