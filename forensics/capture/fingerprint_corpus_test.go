package capture

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// Every capture in the corpus is read without a panic or error.
func TestCorpusReadsEveryCapture(t *testing.T) {
	for _, p := range corpusCaptures(t) {
		name := strings.TrimPrefix(p, corpusDir(t)+"/pcap/")
		t.Run(name, func(t *testing.T) {
			flows, st, err := readCorpusFile(t, p, DefaultOptions())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if st.Packets > 0 && st.Format == "" {
				t.Errorf("format not set")
			}
			for _, f := range flows {
				if f.CommunityID == "" || f.ID == "" || f.Evidence.Packet == 0 {
					t.Errorf("flow without community id, id or packet: %+v", f)
				}
			}
		})
	}
}

var zeekTuple = regexp.MustCompile(`orig_h=([^,]+), orig_p=(\d+)/\w+, resp_h=([^,]+), resp_p=(\d+)/\w+, proto=(\d+), ctx=\[\]\], (\S+)`)

// Flows of the Zeek community-id pcaps carry the Community IDs Zeek's
// baseline lists for them.
func TestCorpusCommunityID(t *testing.T) {
	dir := corpusDir(t)
	outs, _ := filepath.Glob(filepath.Join(dir, "expected", "community-id", "zeek-run-pcaps-*.pcap.out"))
	if len(outs) == 0 {
		t.Skip("no community-id baselines")
	}
	checked := 0
	for _, out := range outs {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(out), "zeek-run-pcaps-"), ".out")
		pcap := filepath.Join(dir, "pcap", "community-id", "zeek-"+name)
		flows, _, err := readCorpusFile(t, pcap, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			m := zeekTuple.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			orig, resp := netip.MustParseAddr(m[1]), netip.MustParseAddr(m[3])
			op, _ := strconv.Atoi(m[2])
			rp, _ := strconv.Atoi(m[4])
			proto, _ := strconv.Atoi(m[5])
			want := m[6]
			var found []forensics.Flow
			for _, fl := range flows {
				if fl.SrcIP != orig || fl.DstIP != resp || int(fl.SrcPort) != op {
					continue
				}
				if (proto == 6 || proto == 17) && int(fl.DstPort) != rp {
					continue
				}
				found = append(found, fl)
			}
			if len(found) == 0 {
				t.Errorf("%s: no flow %s:%d -> %s:%d", name, orig, op, resp, rp)
				continue
			}
			for _, fl := range found {
				checked++
				if fl.CommunityID != want {
					t.Errorf("%s: flow %s:%d -> %s:%d community_id %s, want %s", name, orig, op, resp, rp, fl.CommunityID, want)
				}
			}
		}
		f.Close()
	}
	if checked < 15 {
		t.Errorf("only %d flows checked", checked)
	}
	// Zeek's conn.log for get.pcap carries the community_id column.
	flows, _, err := readCorpusFile(t, filepath.Join(dir, "pcap", "zeek", "get.pcap"), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	cut, err := os.ReadFile(filepath.Join(dir, "expected", "zeek", "get.community-id.conn.log.cut"))
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(cut), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 7 || !strings.HasPrefix(f[6], "1:") {
			continue
		}
		found := false
		for _, fl := range flows {
			if fl.SrcIP.String() == f[0] && strconv.Itoa(int(fl.SrcPort)) == f[1] && fl.DstIP.String() == f[2] && strconv.Itoa(int(fl.DstPort)) == f[3] {
				found = true
				if fl.CommunityID != f[6] {
					t.Errorf("get.pcap %s: community_id %s, want %s", line, fl.CommunityID, f[6])
				}
			}
		}
		if !found {
			t.Errorf("get.pcap: no flow for %s", line)
		}
	}
}

// Fingerprints the corpus's expected outputs list (FoxIO JA4 python and
// Rust results, Suricata-verify EVE filters) are reproduced for their flow.
func TestCorpusFingerprints(t *testing.T) {
	dir := corpusDir(t)
	type want struct {
		file      string
		src       string
		sport     uint16
		ja4, sni  string
		version   string
		hassh     string
		hasshSrv  string
		sshClient string
		sshServer string
	}
	tests := []want{
		{file: "ja4/tls-alpn-h2.pcap", src: "2001:4998:ef83:14:8000::100d", sport: 64034, ja4: "t12d4605h2_85626a9a5f7f_aaf95bb78ec9", sni: "www.cloudflare.com"},
		{file: "ja4/ipv6.pcapng", src: "2001:4998:ef83:14:8000::100d", sport: 64034, ja4: "t12d4605h2_85626a9a5f7f_aaf95bb78ec9", sni: "www.cloudflare.com"},
		{file: "ja4/tls12.pcap", src: "192.168.133.129", sport: 36372, ja4: "t13d1715h2_5b57614c22b0_3d5424432f57", sni: "contile.services.mozilla.com"},
		{file: "ja4/ssh.pcapng", src: "172.16.225.48", sport: 57377, hassh: "06046964c022c6407d15a27b12a6a4fb", hasshSrv: "699519fdcc30cbcd093d5cd01e4b1d56",
			sshClient: "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.5", sshServer: "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1"},
		{file: "suricata-verify/ja4-tls.pcap", ja4: "t12i1810s1_27d4652c4487_06a4338d0495"},
		{file: "suricata-verify/tls-sni-github.pcap", src: "192.168.0.253", sport: 49584, sni: "raw.githubusercontent.com", version: "TLS 1.2"},
		{file: "suricata-verify/tls-client-hello-frag-mtu300.pcap", sni: "www.google.com"},
		{file: "suricata-verify/ssh-banner-only.pcap", sshClient: "SSH-2.0-OpenSSH_for_Windows_7.7", sshServer: "SSH-2.0-OpenSSH_7.4"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			flows, _, err := readCorpusFile(t, filepath.Join(dir, "pcap", tt.file), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var got *forensics.Flow
			for i := range flows {
				f := &flows[i]
				if tt.src != "" && (f.SrcIP.String() != tt.src || f.SrcPort != tt.sport) {
					continue
				}
				if (tt.ja4 != "" || tt.sni != "") && f.TLS == nil || (tt.sshClient != "" && f.SSH == nil) {
					continue
				}
				got = f
				break
			}
			if got == nil {
				t.Fatalf("no matching flow among %d", len(flows))
			}
			check := func(field, g, w string) {
				if w != "" && g != w {
					t.Errorf("%s = %q, want %q", field, g, w)
				}
			}
			if got.TLS != nil {
				check("ja4", got.TLS.JA4, tt.ja4)
				check("sni", got.TLS.SNI, tt.sni)
				check("version", got.TLS.Version, tt.version)
			}
			if got.SSH != nil {
				check("hassh", got.SSH.HASSH, tt.hassh)
				check("hassh_server", got.SSH.HASSHServer, tt.hasshSrv)
				check("ssh client", got.SSH.Client, tt.sshClient)
				check("ssh server", got.SSH.Server, tt.sshServer)
			}
		})
	}
}
