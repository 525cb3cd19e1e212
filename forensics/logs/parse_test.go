package logs

import (
	"github.com/tracehop/tracehop/forensics"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCombinedFields(t *testing.T) {
	cases := []struct {
		name   string
		line   string
		check  func(t *testing.T, e eventView)
		format string
	}{
		{
			name: "IPv6 client, dash fields",
			line: `2001:db8::1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 - "-" "-"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "src", e.SrcIP.String(), "2001:db8::1")
				e.eq(t, "time", e.Time.UTC().Format(time.RFC3339), "2000-10-10T20:55:36Z")
				e.eq(t, "raw", e.TimeRaw, "10/Oct/2000:13:55:36 -0700")
				e.eq(t, "user", e.User, "")
				e.eq(t, "ref", e.Referrer, "")
				e.eq(t, "ua", e.UserAgent, "")
				e.eq(t, "bytes", itoa(int(e.Bytes)), "0")
				e.eq(t, "version", e.Indicators["http_version"], "HTTP/1.0")
			},
		},
		{
			name: "escaped quotes in the user agent stay raw",
			line: `192.0.2.1 - frank [10/Oct/2000:13:55:36 +0000] "GET /a?b=\"c\" HTTP/1.1" 404 7 "http://x/\"y\"" "Mozilla \"evil\" \\ agent"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "ua", e.UserAgent, `Mozilla \"evil\" \\ agent`)
				e.eq(t, "path", e.Path, `/a?b=\"c\"`)
				e.eq(t, "ref", e.Referrer, `http://x/\"y\"`)
				e.eq(t, "user", e.User, "frank")
				e.eq(t, "status", itoa(e.Status), "404")
			},
		},
		{
			name: "scanner garbage request line",
			line: `198.51.100.7 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "method", e.Method, "")
				e.eq(t, "path", e.Path, "")
				e.eq(t, "request", e.Indicators["request"], `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03`)
				e.eq(t, "flag", strings.Join(e.Flags, ","), "request_not_http")
			},
		},
		{
			name: "empty request",
			line: `127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "method", e.Method, "")
				e.eq(t, "status", itoa(e.Status), "400")
			},
		},
		{
			name: "request with spaces in the target is not HTTP",
			line: `192.0.2.9 - - [10/Oct/2000:13:55:36 +0000] "GET /a b c" 400 0 "-" "-"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "flag", strings.Join(e.Flags, ","), "request_not_http")
			},
		},
		{
			name: "common log format",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "bytes", itoa(int(e.Bytes)), "2326")
				e.eq(t, "ua", e.UserAgent, "")
			},
			format: FormatCommon,
		},
		{
			name: "host name instead of address",
			line: `crawl-66-249-66-1.googlebot.com - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "Googlebot"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "src", e.SrcIP.String(), "invalid IP")
				e.eq(t, "host", e.Indicators["src_host"], "crawl-66-249-66-1.googlebot.com")
			},
		},
		{
			name: "absolute-form proxy probe keeps the raw target",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "CONNECT example.com:443 HTTP/1.1" 405 0 "-" "-"`,
			check: func(t *testing.T, e eventView) {
				e.eq(t, "method", e.Method, "CONNECT")
				e.eq(t, "path", e.Path, "example.com:443")
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.format
			if f == "" {
				f = FormatCombined
			}
			if got := Detect([]byte(c.line + "\n")); got != f {
				t.Errorf("Detect = %q, want %q", got, f)
			}
			c.check(t, eventView{one(t, c.line, f, DefaultOptions())})
		})
	}
}

func TestCLFMalformed(t *testing.T) {
	cases := []struct{ name, line, reason string }{
		{"no time", `192.0.2.1 - - "GET / HTTP/1.1" 200 1`, "no [time]"},
		{"bad time", `192.0.2.1 - - [32/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1`, "bad [time]"},
		{"no request", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] GET / 200 1`, "no quoted request"},
		{"bad status", `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1`, "bad status"},
		{"no ident", `192.0.2.1 [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1`, "ident"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, _, st := readAll(t, c.line+"\n", FormatCombined, DefaultOptions())
			if len(evs) != 0 || st.Malformed != 1 || !strings.Contains(st.Problems[0].Reason, c.reason) || st.Problems[0].Line != 1 {
				t.Fatalf("events %d stats %+v", len(evs), st)
			}
		})
	}
}

type eventView struct{ forensics.Event }

func (eventView) eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestJSONFieldMapping(t *testing.T) {
	opts := DefaultOptions()
	opts.Fields = map[string]string{
		"credential":        "auth.key_id",
		"user":              "ctx.principal.name",
		"src_ip":            "edge.client",
		"time":              "meta.when",
		"indicators.tenant": "ctx.tenant",
	}
	line := `{"meta":{"when":"2025-06-24T00:00:01Z"},"@timestamp":"2000-01-01T00:00:00Z","edge":{"client":"[2001:db8::5]:443"},"source":{"ip":"10.0.0.1"},"auth":{"key_id":"AK-77","token":"not-a-jwt"},"ctx":{"principal":{"name":"mallory"},"tenant":"t-9"},"http":{"request":{"method":"PUT"}}}`
	e := one(t, line, FormatJSONL, opts)
	v := eventView{e}
	v.eq(t, "time", e.Time.UTC().Format(time.RFC3339), "2025-06-24T00:00:01Z")
	v.eq(t, "src", e.SrcIP.String(), "2001:db8::5")
	v.eq(t, "port", itoa(int(e.SrcPort)), "443")
	v.eq(t, "credential", e.Credential, "AK-77")
	v.eq(t, "user", e.User, "mallory")
	v.eq(t, "tenant", e.Indicators["tenant"], "t-9")
	v.eq(t, "method", e.Method, "PUT")
	v.eq(t, "kind", e.SourceKind, "web")

	// A JWT in a mapped credential field is decoded, never stored raw.
	jwt := strings.Split(mustRead(t, "testdata/samples/jwt.txt"), "\n")[0]
	opts.Fields = map[string]string{"credential": "session"}
	e = one(t, `{"ts":1750723415,"ip":"192.0.2.1","session":"`+jwt+`"}`, FormatJSONL, opts)
	if e.Credential != "jwt-kid:key-2025" || e.Indicators["jwt_sub"] != "user-7" || strings.Contains(e.Credential, jwt) {
		t.Errorf("credential %q indicators %v", e.Credential, e.Indicators)
	}
	for k, val := range e.Indicators {
		if strings.Contains(val, jwt) {
			t.Errorf("raw token kept in %s", k)
		}
	}
	// Basic auth: user kept, password never.
	e = one(t, `{"ts":1750723415,"ip":"192.0.2.1","authorization":"Basic YWxpY2U6czNjcjN0"}`, FormatJSONL, DefaultOptions())
	if e.User != "alice" || !strings.HasPrefix(e.Credential, "sha256:") || strings.Contains(e.Credential, "s3cr3t") {
		t.Errorf("basic: user %q credential %q", e.User, e.Credential)
	}
}

func TestJSONMalformed(t *testing.T) {
	cases := []struct{ name, line, reason string }{
		{"not json", `{"a":`, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"trailing", `{"a":1} x`, "not a JSON object"},
		{"bad time", `{"time":"yesterday","ip":"192.0.2.1"}`, "bad timestamp"},
		{"deep", strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), "too deep"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, st := readAll(t, c.line+"\n", FormatJSONL, DefaultOptions())
			if st.Malformed != 1 || !strings.Contains(st.Problems[0].Reason, c.reason) {
				t.Fatalf("%+v", st)
			}
		})
	}
}

func TestSSHDMessages(t *testing.T) {
	opts := DefaultOptions()
	opts.Year = 2024
	cases := []struct {
		name, msg, action, src, user string
		port                         uint16
	}{
		{"accepted key", "Accepted publickey for git from 2001:db8::2 port 60022 ssh2: RSA SHA256:x1", "accepted", "2001:db8::2", "git", 60022},
		{"failed invalid", "Failed password for invalid user  from 192.0.2.5 port 22 ssh2", "failed", "192.0.2.5", " ", 22},
		{"invalid user with port", "Invalid user oracle from 192.0.2.6 port 4444", "invalid_user", "192.0.2.6", "oracle", 4444},
		{"connection closed plain", "Connection closed by 192.0.2.7 port 5555 [preauth]", "closed", "192.0.2.7", "", 5555},
		{"disconnected invalid user", "Disconnected from invalid user admin 192.0.2.8 port 6666 [preauth]", "disconnected", "192.0.2.8", "admin", 6666},
		{"reset", "Connection reset by 192.0.2.9 port 7777 [preauth]", "reset", "192.0.2.9", "", 7777},
		{"max auth", "error: maximum authentication attempts exceeded for root from 192.0.2.10 port 1 ssh2 [preauth]", "max_auth_exceeded", "192.0.2.10", "root", 1},
		{"negotiate", "Unable to negotiate with 192.0.2.11 port 2222: no matching key exchange method found.", "negotiation_failed", "192.0.2.11", "", 2222},
		{"bad protocol", "Bad protocol version identification 'GET / HTTP/1.1' from 192.0.2.12 port 3333", "bad_protocol", "192.0.2.12", "", 3333},
		{"connection from", "Connection from 192.0.2.13 port 4444 on 10.0.0.1 port 22 rdomain \"\"", "connect", "192.0.2.13", "", 4444},
		{"received disconnect ipv6 old", "Received disconnect from 2001:db8::9: 11: Bye Bye [preauth]", "disconnected", "2001:db8::9", "", 0},
		{"pam rhost", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.14  user=root", "auth_failure", "192.0.2.14", "root", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line := "Mar  3 01:02:03 host sshd[1]: " + c.msg
			e := one(t, line, FormatSSHD, opts)
			v := eventView{e}
			v.eq(t, "action", e.Action, c.action)
			v.eq(t, "src", e.SrcIP.String(), c.src)
			if c.user != " " {
				v.eq(t, "user", e.User, c.user)
			}
			v.eq(t, "port", itoa(int(e.SrcPort)), itoa(int(c.port)))
			v.eq(t, "time", e.Time.UTC().Format(time.RFC3339), "2024-03-03T01:02:03Z")
		})
	}
}

func TestSyslogYearRollover(t *testing.T) {
	opts := DefaultOptions()
	opts.Year = 2024
	in := "Dec 31 23:59:59 h sshd[1]: Invalid user a from 192.0.2.1\nJan  1 00:00:01 h sshd[1]: Invalid user b from 192.0.2.1\n"
	evs, _, _ := readAll(t, in, FormatSSHD, opts)
	if len(evs) != 2 || evs[1].Time.Year() != 2025 || evs[0].Time.Year() != 2024 {
		t.Fatalf("%v", evs)
	}
	// Without a year the events say so.
	evs, _, _ = readAll(t, in, FormatSSHD, DefaultOptions())
	if !hasFlag(evs[0], "year_unknown") {
		t.Errorf("flags %v", evs[0].Flags)
	}
}

// TestZeekCorpus reads the Zeek conn.logs of the corpus. Their timestamps
// are masked by btest ("XXXXXXXXXX.XXXXXX"): read as they are, each record
// is malformed with that reason; with a real timestamp substituted every
// record is a flow with a Community ID.
func TestZeekCorpus(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"q-in-q.conn.log", "pcapng-multi-interface.conn.log", "wikipedia.conn-mac.log"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "expected", "zeek", name))
			if err != nil {
				t.Fatal(err)
			}
			if Detect(b) != FormatZeekTSV {
				t.Fatalf("Detect = %q", Detect(b))
			}
			records := int64(0)
			for _, l := range strings.Split(string(b), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					records++
				}
			}
			_, fls, st := readAll(t, string(b), "", DefaultOptions())
			if len(fls) != 0 || st.Malformed != records || !strings.Contains(st.Problems[0].Reason, "XXXXXXXXXX.XXXXXX") {
				t.Fatalf("masked: flows %d %+v", len(fls), st)
			}
			fixed := strings.ReplaceAll(string(b), "XXXXXXXXXX.XXXXXX", "1300000000.000000")
			_, fls, st = readAll(t, fixed, "", DefaultOptions())
			if int64(len(fls)) != records || st.Malformed != 0 {
				t.Fatalf("fixed: flows %d %+v", len(fls), st)
			}
			for _, f := range fls {
				if !f.SrcIP.IsValid() || !strings.HasPrefix(f.CommunityID, "1:") || f.Start.Unix() != 1300000000 {
					t.Fatalf("flow %+v", f)
				}
			}
		})
	}
	// The Community ID matches Zeek's own for the get.pcap connection.
	in := "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1.0\t141.142.228.5\t59856\t192.150.187.43\t80\ttcp\n"
	_, fls, _ := readAll(t, in, FormatZeekTSV, DefaultOptions())
	cut, err := os.ReadFile(filepath.Join(dir, "expected", "zeek", "get.community-id.conn.log.cut"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fls) != 1 || !strings.Contains(string(cut), "\t"+fls[0].CommunityID) {
		t.Fatalf("community id %+v", fls)
	}
}

func TestDetect(t *testing.T) {
	cases := []struct{ name, head, want string }{
		{"combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"`, FormatCombined},
		{"common", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1`, FormatCommon},
		{"vhost", `www.example.com:443 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"`, FormatVhostCombined},
		{"ecs", `{"@timestamp":"2025-01-01T00:00:00Z","source":{"ip":"1.2.3.4"}}`, FormatJSONL},
		{"eve", `{"timestamp":"2017-05-29T15:03:02.123456+0000","event_type":"flow"}`, FormatSuricataEVE},
		{"zeek json", `{"ts":1.0,"uid":"C1","id.orig_h":"1.2.3.4"}`, FormatZeekJSON},
		{"zeek tsv", "#separator \\x09\n#set_separator\t,\n", FormatZeekTSV},
		{"w3c", "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time c-ip\n", FormatW3C},
		{"cloudfront", "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip\n", FormatCloudFront},
		{"rfc3164", "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", FormatSSHD},
		{"rfc5424", "<38>1 2025-06-24T00:03:35Z host sshd 1 - - Accepted", FormatSSHD},
		{"short-iso", "2025-06-24T00:03:35+0200 host sshd[1]: Accepted", FormatSSHD},
		{"alb", `https 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:2817 10.0.0.1:80 0 0 0 200 200 0 57 "GET https://x:443/ HTTP/1.1" "ua" - -`, FormatALB},
		{"elb", `2015-05-13T23:39:43.945958Z lb 1.2.3.4:2817 10.0.0.1:80 0 0 0 200 200 0 29 "GET http://x:80/ HTTP/1.1" "ua" - -`, FormatELB},
		{"nfdump", "ts,te,td,sa,da,sp,dp,pr,flg\n", FormatNfdumpCSV},
		{"argus", "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport\n", FormatArgusCSV},
		{"unknown", "hello world\n", ""},
		{"empty", "", ""},
		{"binary", "\x00\x01\x02\xff", ""},
		// fuzz crasher: a zone-less ISO time used to reach time.Date with a nil Location
		{"bare iso time", "0000-01-01T00:00:00", ""},
		// fuzz crasher: an ALB type word alone on a line sliced past its end
		{"alb type alone", "http", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Detect([]byte(c.head)); got != c.want {
				t.Errorf("Detect = %q, want %q", got, c.want)
			}
		})
	}
}

func TestApacheLogFormat(t *testing.T) {
	opts := DefaultOptions()
	opts.LogFormat = `%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" \"%{X-Forwarded-For}i\" %D`
	opts.TrustProxy = prefixes("10.0.0.0/8")
	line := `shop.example:443 10.0.0.2 - - [24/Jun/2025:00:03:35 +0000] "GET /x HTTP/1.1" 200 99 "-" "curl/8 \"x\"" "198.51.100.4" 1234`
	e := one(t, line, FormatApache, opts)
	v := eventView{e}
	v.eq(t, "host", e.Host, "shop.example")
	v.eq(t, "dport", itoa(int(e.DstPort)), "443")
	v.eq(t, "client", e.ClientIP.String(), "198.51.100.4")
	v.eq(t, "ua", e.UserAgent, `curl/8 \"x\"`)
	v.eq(t, "rt", e.Indicators["request_time_us"], "1234")
	if _, err := compileCustom(FormatNginx, "$remote_addr$remote_user"); err == nil {
		t.Error("adjacent variables accepted")
	}
	if _, err := compileCustom(FormatApache, "%h %Z"); err == nil {
		t.Error("unknown directive accepted")
	}
	_, _, st := readAll(t, "garbage line\n", FormatApache, opts)
	if st.Malformed != 1 || !strings.Contains(st.Problems[0].Reason, "after $server_name") {
		t.Errorf("%+v", st)
	}
	_ = netip.Addr{}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogFormatOverridesSniffing: with --log-format a file that sniffs as
// combined is read with the given layout.
func TestLogFormatOverridesSniffing(t *testing.T) {
	opts := DefaultOptions()
	opts.LogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time`
	line := `192.0.2.1 - - [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" 0.250`
	e := one(t, line, FormatCombined, opts)
	if e.Indicators["request_time"] != "0.250" {
		t.Fatalf("indicators %v", e.Indicators)
	}
}

// TestVhostReadAsCombined: a vhost_combined file read as plain combined
// (sniffed by another layer) still splits the virtual host.
func TestVhostReadAsCombined(t *testing.T) {
	e := one(t, `shop.example:8443 203.0.113.7 - - [24/Jun/2025:00:03:35 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"`, FormatCombined, DefaultOptions())
	if e.Host != "shop.example" || e.DstPort != 8443 || e.SrcIP.String() != "203.0.113.7" || len(e.ProxyChain) != 0 {
		t.Fatalf("%+v", e)
	}
}

func TestIndexTimeOpen(t *testing.T) {
	for _, s := range []string{"", "[", " [", "a [b", "[a [b", "a[b [c", "x[[ [", "a b c", "[[[", "a  [", " [x", "ab[ [", "a["} {
		if got, want := indexTimeOpen(s), strings.Index(s, " ["); got != want {
			t.Errorf("indexTimeOpen(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestISOCache: the cached second gives what parseAnyTime gives, along a
// stream of times that share or change their second, fraction and zone.
func TestISOCache(t *testing.T) {
	var c isoCache
	tz := time.FixedZone("x", -5*3600)
	for _, s := range []string{
		"2025-06-24T00:00:00.010Z", "2025-06-24T00:00:00.015Z", "2025-06-24T00:00:00Z", "2025-06-24T00:00:00.5+02:00",
		"2025-06-24T00:00:00.5", "2025-06-24T00:00:00.", "2025-06-24T00:00:00.123456789123Z", "2025-06-24T00:00:00,25Z",
		"2025-06-24 00:00:00.1 +0100", "2025-06-24T00:00:00.1 ", "2025-06-24T00:00:00.1Zjunk", "2025-06-24T00:00:60.5Z",
		"2025-06-24T00:00:01.010Z", "2025-06-24T00:00:01.010z", "[2025-06-24T00:00:01.010Z]", " 2025-06-24T00:00:01.010Z",
		"2025-02-29T00:00:01.010Z", "2024-02-29T00:00:01.010Z", "1750723200.5", "24/Jun/2025:00:00:00 +0000",
	} {
		for range 2 {
			gt, ga, gok := c.parse(s, tz)
			wt, wa, wok := parseAnyTime(s, tz)
			if gok != wok || ga != wa || !gt.Equal(wt) || (gok && gt.UTC().String() != wt.UTC().String()) {
				t.Fatalf("%q: cache %v %v %v, parseAnyTime %v %v %v", s, gt, ga, gok, wt, wa, wok)
			}
		}
	}
}

// A load balancer line cut at the line cap keeps its leading fields as an
// event (flagged); one overlong token cut at the cap is malformed, not an
// event with nothing in it.
func TestALBCutLine(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxLine = 200
	real := `https 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:2817 10.0.0.1:80 0 0 0 200 200 0 57 "GET https://x:443/ HTTP/1.1" "` + strings.Repeat("u", 300) + `" - -` + "\n"
	junk := strings.Repeat("X", 300) + "\n"
	evs, _, st := readAll(t, real+junk, FormatALB, opts)
	if len(evs) != 1 || st.Malformed != 1 {
		t.Fatalf("%d events, %d malformed; want the real line kept and the junk counted", len(evs), st.Malformed)
	}
	if e := evs[0]; e.SrcIP.String() != "1.2.3.4" || !hasFlag(e, "line_truncated") {
		t.Errorf("cut line: src %s flags %v", e.SrcIP, e.Flags)
	}
}
