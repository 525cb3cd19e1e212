package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

var update = flag.Bool("update", false, "rewrite golden files")

// readAll parses s and returns what came out.
func readAll(t *testing.T, s, format string, opts Options) ([]forensics.Event, []forensics.Flow, Stats) {
	t.Helper()
	var evs []forensics.Event
	var fls []forensics.Flow
	st, err := Read(context.Background(), strings.NewReader(s), "test.log", format, opts,
		func(e forensics.Event) { evs = append(evs, e) }, func(f forensics.Flow) { fls = append(fls, f) })
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return evs, fls, st
}

func one(t *testing.T, line, format string, opts Options) forensics.Event {
	t.Helper()
	evs, _, st := readAll(t, line+"\n", format, opts)
	if len(evs) != 1 {
		t.Fatalf("got %d events, stats %+v", len(evs), st)
	}
	return evs[0]
}

func hasFlag(e forensics.Event, f string) bool {
	for _, x := range e.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// corpusDir is ../shared/corpus from the repository root.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared corpus not present")
	}
	return dir
}

func TestCorpusLogs(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct {
		file                    string
		format                  string
		lines, records, ignored int64
		malformed               int64
	}{
		{"logs/apache/elastic-examples-apache_logs.log", FormatCombined, 10000, 10000, 0, 0},
		{"logs/nginx/beats-nginx-access-test.log", FormatCombined, 7, 7, 0, 0},
		// sudo, groupadd, useradd lines are not sshd: ignored, not bad.
		{"logs/sshd/beats-system-auth-test.log", FormatSSHD, 10, 5, 5, 0},
		{"logs/sshd/loghub-OpenSSH_2k.log", FormatSSHD, 2000, 1739, 261, 0},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := Detect(b); got != c.format {
				t.Fatalf("Detect = %q, want %q", got, c.format)
			}
			evs, _, st := readAll(t, string(b), "", DefaultOptions())
			if st.Lines != c.lines || int64(len(evs)) != c.records || st.Ignored != c.ignored || st.Malformed != c.malformed {
				t.Fatalf("lines %d records %d ignored %d malformed %d (%v), want %d %d %d %d",
					st.Lines, len(evs), st.Ignored, st.Malformed, st.Problems, c.lines, c.records, c.ignored, c.malformed)
			}
			if st.Bytes != int64(len(b)) {
				t.Errorf("bytes %d, want %d", st.Bytes, len(b))
			}
			for _, e := range evs {
				if !e.SrcIP.IsValid() && e.Indicators["src_host"] == "" {
					t.Fatalf("event without source or time: %+v", e)
				}
				if e.Evidence.Line == 0 || e.Evidence.File != "test.log" {
					t.Fatalf("bad evidence %+v", e.Evidence)
				}
				// The offset points at the line's first byte.
				if !bytes.HasPrefix(b[e.Evidence.Offset:], []byte(e.TimeRaw[:0])) || (e.Evidence.Offset > 0 && b[e.Evidence.Offset-1] != '\n') {
					t.Fatalf("offset %d is not a line start", e.Evidence.Offset)
				}
			}
		})
	}
}

// TestApacheCutLine: line 8899 of the elastic sample ends inside the user
// agent (the evidence is cut); the event is kept and flagged.
func TestApacheCutLine(t *testing.T) {
	dir := corpusDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "logs/apache/elastic-examples-apache_logs.log"))
	if err != nil {
		t.Fatal(err)
	}
	evs, _, _ := readAll(t, string(b), "", DefaultOptions())
	e := evs[8898]
	if e.Evidence.Line != 8899 || !hasFlag(e, "unterminated_quote") || !strings.HasPrefix(e.UserAgent, "Mozilla/5.0 (compatible; Googlebot/2.1") {
		t.Fatalf("line 8899: %+v", e)
	}
}

// TestLoghubSSHD checks every line of the loghub OpenSSH sample against
// its ground-truth template: each template maps to one action, or to
// "ignored" when the message names no address.
func TestLoghubSSHD(t *testing.T) {
	dir := corpusDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "logs/sshd/loghub-OpenSSH_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	truth, err := os.ReadFile(filepath.Join(dir, "expected/loghub/OpenSSH_2k.log_structured.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Received disconnect from <*>: <*>: Bye Bye [preauth]":                                                     "disconnected",
		"pam_unix(sshd:auth): authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*> user=<*>": "auth_failure",
		"Failed password for <*> from <*> port <*> ssh2":                                                           "failed",
		"pam_unix(sshd:auth): check pass; user unknown":                                                            "",
		"Failed password for invalid user <*> from <*> port <*> ssh2":                                              "failed",
		"Invalid user <*> from <*>":                                                                                "invalid_user",
		"input_userauth_request: invalid user <*> [preauth]":                                                       "",
		"pam_unix(sshd:auth): authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>":          "auth_failure",
		"reverse mapping checking getaddrinfo for <*> [<*>] failed - POSSIBLE BREAK-IN ATTEMPT!":                   "reverse_mapping_failed",
		"error: Received disconnect from <*>: <*>: No more user authentication methods available. [preauth]":       "disconnected",
		"Connection closed by <*> [preauth]":                                                                       "closed",
		"Did not receive identification string from <*>":                                                           "no_identification",
		"PAM service(sshd) ignoring max retries; <*> > <*>":                                                        "",
		"Received disconnect from <*>: <*>: Closed due to user request. [preauth]":                                 "disconnected",
		"PAM <*> more authentication failures; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>":                 "auth_failure",
		"Failed none for invalid user <*> from <*> port <*> ssh2":                                                  "failed",
		"message repeated <*> times: [ Failed password for root from <*> port <*>]":                                "failed",
		"Disconnecting: Too many authentication failures for root [preauth]":                                       "",
		"PAM <*> more authentication failures; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>  user=root":      "auth_failure",
		"error: Received disconnect from <*>: <*>: com.jcraft.jsch.JSchException: Auth fail [preauth]":             "disconnected",
		"PAM <*> more authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>":                  "auth_failure",
		"Accepted password for <*> from <*> port <*> ssh2":                                                         "accepted",
		"pam_unix(sshd:session): session opened for user <*> by (uid=<*>)":                                         "",
		"Received disconnect from <*>: <*>: disconnected by user":                                                  "disconnected",
		"pam_unix(sshd:session): session closed for user <*>":                                                      "",
		"Disconnecting: Too many authentication failures for admin [preauth]":                                      "",
		"fatal: Write failed: Connection reset by peer [preauth]":                                                  "",
	}
	evs, _, _ := readAll(t, string(b), FormatSSHD, DefaultOptions())
	byLine := map[uint64]forensics.Event{}
	for _, e := range evs {
		byLine[e.Evidence.Line] = e
	}
	rows := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(truth), "\r\n", "\n")), "\n")[1:]
	for i, row := range rows {
		line := uint64(i + 1)
		var tmpl string
		for k := range want {
			if strings.HasSuffix(row, ","+k) || strings.HasSuffix(row, ",\""+k+"\"") {
				if len(k) > len(tmpl) {
					tmpl = k
				}
			}
		}
		if tmpl == "" {
			t.Fatalf("line %d: no template matched %q", line, row)
		}
		e, ok := byLine[line]
		switch {
		case want[tmpl] == "" && ok:
			t.Errorf("line %d (%s): unexpected event %s", line, tmpl, e.Action)
		case want[tmpl] != "" && !ok:
			t.Errorf("line %d (%s): no event", line, tmpl)
		case ok && e.Action != want[tmpl]:
			t.Errorf("line %d (%s): action %q, want %q", line, tmpl, e.Action, want[tmpl])
		case ok && !e.SrcIP.IsValid() && e.Indicators["src_host"] == "":
			t.Errorf("line %d: no source address", line)
		}
	}
}

// TestGolden parses every sample under testdata/samples and compares the
// records with testdata/golden/NAME.jsonl (go test -update rewrites them).
func TestGolden(t *testing.T) {
	samples := []struct {
		file   string
		format string
		opts   func(*Options)
	}{
		{"ecs.jsonl", FormatJSONL, nil},
		{"iis.log", FormatW3C, nil},
		{"cloudfront.log", FormatCloudFront, nil},
		{"alb.log", FormatALB, nil},
		{"elb.log", FormatELB, nil},
		{"nfdump.csv", FormatNfdumpCSV, nil},
		{"argus.csv", FormatArgusCSV, nil},
		{"eve.json", FormatSuricataEVE, nil},
		{"conn.json", FormatZeekJSON, nil},
		{"syslog.log", FormatSSHD, func(o *Options) { o.Year = 2025 }},
		{"apache-vhost.log", FormatVhostCombined, nil},
		{"nginx-custom.log", FormatNginx, func(o *Options) {
			o.LogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_addr $ssl_protocol`
		}},
	}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "samples", s.file))
			if err != nil {
				t.Fatal(err)
			}
			if s.format != FormatNginx {
				if got := Detect(b); got != s.format {
					t.Errorf("Detect = %q, want %q", got, s.format)
				}
			}
			opts := DefaultOptions()
			if s.opts != nil {
				s.opts(&opts)
			}
			evs, fls, st := readAll(t, string(b), s.format, opts)
			if st.Malformed != 0 {
				t.Errorf("malformed: %v", st.Problems)
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			for _, e := range evs {
				enc.Encode(e)
			}
			for _, f := range fls {
				enc.Encode(f)
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(s.file, filepath.Ext(s.file))+".jsonl")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (go test -update to accept):\n%s", golden, out.String())
			}
		})
	}
}

func TestTimeZoneAndClockOffset(t *testing.T) {
	opts := DefaultOptions()
	tz, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no tzdata")
	}
	opts.TZ = tz
	opts.ClockOffset = -90 * time.Second
	e := one(t, `{"timestamp":"2025-06-24 09:00:00","ip":"192.0.2.1"}`, FormatJSONL, opts)
	if got := e.Time.UTC().Format(time.RFC3339); got != "2025-06-23T23:58:30Z" {
		t.Errorf("time %s", got)
	}
	if e.TimeRaw != "2025-06-24 09:00:00" || !hasFlag(e, "tz_assumed:Asia/Seoul") || !hasFlag(e, "clock_offset:-1m30s") {
		t.Errorf("raw %q flags %v", e.TimeRaw, e.Flags)
	}
	// An explicit offset wins over --tz and is not flagged as assumed.
	e = one(t, `{"timestamp":"2025-06-24T09:00:00+09:00","ip":"192.0.2.1"}`, FormatJSONL, opts)
	if hasFlag(e, "tz_assumed:Asia/Seoul") || e.Time.UTC().Hour() != 23 {
		t.Errorf("flags %v time %v", e.Flags, e.Time)
	}
}

func TestCaps(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxLine = 1024
	opts.MaxField = 100
	ua := strings.Repeat("A", 5000)
	line := `192.0.2.1 - - [24/Jun/2025:00:03:35 +0000] "GET /x HTTP/1.1" 200 5 "-" "` + ua + `"`
	bad := "192.0.2.1 - - [24/Jun/2025:00:03:35 +0000] GET"
	evs, _, st := readAll(t, line+"\n"+bad+"\n", FormatCombined, opts)
	if len(evs) != 1 || st.Malformed != 1 {
		t.Fatalf("events %d malformed %d %v", len(evs), st.Malformed, st.Problems)
	}
	e := evs[0]
	if len(e.UserAgent) != 100 || !hasFlag(e, "line_truncated") || !hasFlag(e, "field_truncated:user_agent") {
		t.Errorf("ua %d flags %v", len(e.UserAgent), e.Flags)
	}
	if st.Lines != 2 || st.Bytes != int64(len(line)+1+len(bad)+1) {
		t.Errorf("lines %d bytes %d", st.Lines, st.Bytes)
	}
	caps := map[string]int64{}
	for _, c := range st.Caps {
		caps[c.Cap] = c.Count
	}
	if caps["line_bytes"] != 1 || caps["field_bytes"] != 1 {
		t.Errorf("caps %+v", st.Caps)
	}
	if evs[0].Evidence.Line != 1 || st.Problems[0].Line != 2 || st.Problems[0].Offset != int64(len(line)+1) {
		t.Errorf("positions %+v %+v", evs[0].Evidence, st.Problems[0])
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := Read(context.Background(), strings.NewReader("hello world\n"), "x", "", DefaultOptions(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "unknown log format") {
		t.Fatalf("err %v", err)
	}
	opts := DefaultOptions()
	opts.Fields = map[string]string{"nonsense": "a.b"}
	_, err = Read(context.Background(), strings.NewReader("{}\n"), "x", FormatJSONL, opts, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "unknown field name") {
		t.Fatalf("err %v", err)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Read(ctx, strings.NewReader("{}\n"), "x", FormatJSONL, DefaultOptions(), nil, nil)
	if err == nil {
		t.Fatal("no error after cancel")
	}
}
