package logs

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// fuzzRead runs one parser over data and checks the invariants every
// parser keeps on hostile input: no panic (the per-record recover would
// hide one, so its reason is checked), counts add up, positions are in
// range, caps hold.
func fuzzRead(t *testing.T, data []byte, format string, opts Options) {
	opts.MaxLine = 4096
	opts.MaxField = 512
	var n int64
	st, err := Read(context.Background(), bytes.NewReader(data), "fuzz", format, opts,
		func(e forensics.Event) {
			n++
			if e.Evidence.Line == 0 || e.Evidence.Offset < 0 || e.Evidence.Offset >= int64(len(data)) {
				t.Fatalf("bad evidence %+v for %d bytes", e.Evidence, len(data))
			}
			for _, s := range []string{e.Path, e.UserAgent, e.Referrer, e.User, e.Credential, e.Host, e.Method} {
				if len(s) > opts.MaxField {
					t.Fatalf("field over cap: %d bytes", len(s))
				}
			}
			if len(e.ProxyChain) > DefaultMaxChain {
				t.Fatalf("chain over cap: %d", len(e.ProxyChain))
			}
		},
		func(f forensics.Flow) {
			n++
			if f.Evidence.Line == 0 {
				t.Fatalf("bad evidence %+v", f.Evidence)
			}
		})
	if err != nil {
		if format == FormatNginx || format == FormatApache {
			return // a hostile format string is refused up front
		}
		t.Fatalf("Read: %v", err)
	}
	for _, p := range st.Problems {
		if strings.HasPrefix(p.Reason, "parser panic") {
			t.Fatalf("line %d: %s", p.Line, p.Reason)
		}
	}
	if st.Bytes != int64(len(data)) {
		t.Fatalf("bytes %d, want %d", st.Bytes, len(data))
	}
	if st.Events+st.Flows != n || n+st.Ignored+st.Malformed != st.Lines {
		t.Fatalf("counts: %+v emitted %d", st, n)
	}
}

// seeds adds the samples and, when present, the corpus logs (first lines).
func seeds(f *testing.F, names ...string) {
	for _, n := range names {
		var b []byte
		var err error
		if strings.HasPrefix(n, "corpus:") {
			b, err = os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", strings.TrimPrefix(n, "corpus:")))
		} else {
			b, err = os.ReadFile(filepath.Join("testdata", "samples", n))
		}
		if err != nil {
			continue
		}
		if len(b) > 8<<10 {
			b = b[:8<<10]
		}
		f.Add(b)
		// and each line alone
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i > 16 {
				break
			}
			f.Add(l)
		}
	}
}

func FuzzCombined(f *testing.F) {
	seeds(f, "apache-vhost.log", "corpus:logs/apache/elastic-examples-apache_logs.log", "corpus:logs/nginx/beats-nginx-access-test.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatCombined, DefaultOptions())
		fuzzRead(t, data, FormatVhostCombined, DefaultOptions())
	})
}

func FuzzCustomFormat(f *testing.F) {
	f.Add(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`,
		[]byte(`203.0.113.7 - alice [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 512 "-" "ua \x22q\x22" "1.2.3.4, 10.0.0.1"`))
	f.Add(`%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"`,
		[]byte(`203.0.113.7 - - [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 - "-" "ua \"q\""`))
	f.Fuzz(func(t *testing.T, spec string, data []byte) {
		opts := DefaultOptions()
		opts.LogFormat = spec
		opts.TrustProxy = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
		fuzzRead(t, data, FormatNginx, opts)
		fuzzRead(t, data, FormatApache, opts)
	})
}

func FuzzW3C(f *testing.F) {
	seeds(f, "iis.log", "cloudfront.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatW3C, DefaultOptions())
		fuzzRead(t, data, FormatCloudFront, DefaultOptions())
	})
}

func FuzzALB(f *testing.F) {
	seeds(f, "alb.log", "elb.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatALB, DefaultOptions())
	})
}

func FuzzJSONL(f *testing.F) {
	seeds(f, "ecs.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := DefaultOptions()
		opts.Fields = map[string]string{"credential": "a.b", "indicators.x": "c"}
		opts.TrustProxy = []netip.Prefix{netip.MustParsePrefix("::/0"), netip.MustParsePrefix("0.0.0.0/0")}
		fuzzRead(t, data, FormatJSONL, opts)
	})
}

func FuzzSSHD(f *testing.F) {
	seeds(f, "syslog.log", "corpus:logs/sshd/loghub-OpenSSH_2k.log", "corpus:logs/sshd/beats-system-auth-test.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := DefaultOptions()
		opts.Year = 2024
		fuzzRead(t, data, FormatSSHD, opts)
	})
}

func FuzzZeekTSV(f *testing.F) {
	seeds(f, "corpus:expected/zeek/q-in-q.conn.log", "corpus:expected/zeek/wikipedia.conn-mac.log", "corpus:expected/zeek/pcapng-multi-interface.conn.log")
	f.Add([]byte("#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1.0\t141.142.228.5\t59856\t192.150.187.43\t80\ttcp\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatZeekTSV, DefaultOptions())
	})
}

func FuzzZeekJSON(f *testing.F) {
	seeds(f, "conn.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatZeekJSON, DefaultOptions())
	})
}

func FuzzEVE(f *testing.F) {
	seeds(f, "eve.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatSuricataEVE, DefaultOptions())
	})
}

func FuzzFlowCSV(f *testing.F) {
	seeds(f, "nfdump.csv", "argus.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatNfdumpCSV, DefaultOptions())
		fuzzRead(t, data, FormatArgusCSV, DefaultOptions())
	})
}

// FuzzDetect: Detect never panics, and whatever it names Read accepts.
func FuzzDetect(f *testing.F) {
	seeds(f, "ecs.jsonl", "iis.log", "cloudfront.log", "alb.log", "elb.log", "nfdump.csv", "argus.csv", "eve.json", "conn.json", "syslog.log", "apache-vhost.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		if name := Detect(data); name != "" {
			fuzzRead(t, data, name, DefaultOptions())
		}
	})
}

// FuzzProxyChain: any header value resolves without panic, within caps,
// and the client is either unknown or an address of the chain.
func FuzzProxyChain(f *testing.F) {
	f.Add("10.0.0.2", "198.51.100.1, [2001:db8::1]:443, unknown, _hidden", `for="[2001:db8:cafe::17]:4711";proto=https, for=unknown`)
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		p, _ := parseAddr(peer)
		trust := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
		for _, claims := range [][]string{splitXFF(xff), splitForwarded(fwd)} {
			client, chain, _ := ResolveChain(p, claims, trust, 8)
			if len(claims) == 0 {
				continue
			}
			if len(chain) > 8 {
				t.Fatalf("chain %d over cap", len(chain))
			}
			if client.IsValid() && client != p {
				found := false
				for _, h := range chain {
					if h.IP == client.String() {
						found = true
					}
				}
				if !found {
					t.Fatalf("client %v not in chain %+v", client, chain)
				}
			}
		}
	})
}
