package capture

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// Flow records of a few corpus captures, byte for byte. Refresh with
// `go test ./forensics/capture -run Golden -update` after an intended
// change, and review the diff.
func TestGolden(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{
		"zeek/http-vlan-0.pcap", "zeek/q-in-q.pcap", "zeek/gre-within-gre.pcap", "zeek/dns53.pcap",
		"zeek/pcapng-multi-interface.pcapng", "zeek/fragmented-1.pcap", "tcpdump/dns_tcp.pcap",
		"suricata-verify/decode-sll2-01.pcap", "ja4/ssh.pcapng", "zeek/tls13_wolfssl.pcap",
		"gopacket/test_loopback.pcap", "tcpdump/nflog.pcap", "community-id/zeek-icmp6.pcap",
		"suricata-verify/frag-eth-vlan-ip-tcp-syn.pcap", "suricata-verify/frag-eth-vlan-ipv6-tcp.pcap",
	} {
		t.Run(name, func(t *testing.T) {
			flows, st, err := readCorpusFile(t, filepath.Join(dir, "pcap", name), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			for _, f := range flows {
				if err := enc.Encode(f); err != nil {
					t.Fatal(err)
				}
			}
			st.Problems, st.Caps = nil, nil
			if err := enc.Encode(st); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(name, "/", "_")+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("flows differ from %s (run with -update and review the diff):\n%s", golden, buf.String())
			}
		})
	}
}
